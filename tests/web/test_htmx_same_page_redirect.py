"""An htmx action that sends the browser back to the page it was posted from, plus a
#fragment (the triage area after triage, assignment, closure or withdrawal), must also ask
htmx to reload: setting location.href to the same page with a fragment only scrolls, and the
partner would go on looking at the triage form that was just recorded."""

from __future__ import annotations

from tests.triage_support import HX, registered
from tests.web.test_triage_web import URL, _triage_form


def test_a_redirect_to_the_same_page_with_a_fragment_reloads_it(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", data=_triage_form(app, cid),
                            headers={**HX, "HX-Current-URL": f"http://localhost{URL}"})
    assert response.status_code == 200, response.text
    assert response.headers["HX-Redirect"].endswith(f"{URL}#area-triage")
    assert response.headers.get("HX-Refresh") == "true"


def test_a_redirect_to_another_page_does_not_reload_the_old_one(app, partner):
    cid = registered(app)
    response = partner.post(f"{URL}/triage", data=_triage_form(app, cid),
                            headers={**HX, "HX-Current-URL": "http://localhost/complaints"})
    assert response.status_code == 200, response.text
    assert "HX-Refresh" not in response.headers
