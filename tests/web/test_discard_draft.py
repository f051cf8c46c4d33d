"""Issue 7 §2: a draft can be discarded with a reason, deliberately, and is then kept read-only
for the audit trail and gone from the worklists."""

from __future__ import annotations

from portal.models import State
from tests.web.test_intake_support import (
    HX,
    complete_draft,
    confirm_in_person,
    events,
    get,
    new_draft,
    version,
)


def _discard(client, app, key: str, reason: str = "重复录入，见 D1", *, confirm: bool = True,
             stale: int | None = None, htmx: bool = True):
    data = {"version": stale if stale is not None else version(app, key),
            "discard-reason": reason}
    if confirm:
        data["discard-confirm"] = "y"
    return client.post(f"/complaints/{key}/discard", data=data, headers=HX if htmx else {})


def test_a_discarded_draft_is_kept_read_only_with_who_when_and_why(reception, app):
    key = new_draft(reception)
    controls = ('id="complainant-name"', 'id="incident-narrative"', 'id="evidence-file"',
                'id="respondents-q"', f'action="/complaints/{key}/discard"',
                f'action="/complaints/{key}/register"')
    before = reception.get(f"/complaints/{key}").text
    assert all(control in before for control in controls)
    response = _discard(reception, app, key, "Test call, not a complaint")
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(f"/{key}")
    complaint = get(app, key)
    assert complaint.state == State.DISCARDED
    assert complaint.discard_reason == "Test call, not a complaint"
    [event] = events(app, "complaint.discarded", complaint.id)
    assert "Test call" not in str(event.details)

    page = reception.get(f"/complaints/{key}", headers={"Accept-Language": "en"}).text
    assert "This draft was discarded." in page
    assert "Test call, not a complaint" in page
    assert "Discarded by</dt><dd>林晓雯" in page
    # No edit forms left: no fields to type in, no upload, no discard, no register.
    assert not any(control in page for control in controls)


def test_the_discarded_draft_leaves_the_home_page_and_the_open_list(reception, app):
    key = new_draft(reception)
    assert f">{key}<" in reception.get("/").text
    assert _discard(reception, app, key).status_code == 200
    assert f">{key}<" not in reception.get("/").text
    assert f">{key}<" not in reception.get("/complaints?state=open").text
    assert f">{key}<" not in reception.get("/complaints?state=draft").text


def test_an_empty_reason_is_refused_and_what_was_typed_is_kept(reception, app):
    key = new_draft(reception)
    response = _discard(reception, app, key, "   ")
    assert response.status_code == 422
    assert "Say why this draft is discarded" in response.text
    assert 'aria-invalid="true"' in response.text
    assert get(app, key).state == State.DRAFT
    # Without the confirmation box ticked, the reason typed comes back in the textarea.
    response = _discard(reception, app, key, "客户改主意了", confirm=False)
    assert response.status_code == 422
    assert "Tick the box to confirm" in response.text
    assert "客户改主意了" in response.text
    assert get(app, key).state == State.DRAFT and not events(app, "complaint.discarded")


def test_a_stale_page_cannot_discard(reception, app):
    key = new_draft(reception)
    stale = version(app, key) - 1
    response = _discard(reception, app, key, "duplicate of D1", stale=stale)
    assert response.status_code == 409
    assert "Someone else changed this draft" in response.text
    assert "duplicate of D1" in response.text
    assert f'value="{stale}"' in response.text  # deciding again needs a reload
    assert get(app, key).state == State.DRAFT


def test_a_registered_complaint_cannot_be_discarded(reception, app):
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    key = reception.post(f"/complaints/{key}/register", headers=HX).headers["HX-Redirect"]
    key = key.rsplit("/", 1)[-1]
    response = _discard(reception, app, key)
    assert response.status_code == 422
    assert "Only a draft can be discarded" in response.text


def test_without_javascript_the_discard_redirects_to_the_record(reception, app):
    key = new_draft(reception)
    response = _discard(reception, app, key, htmx=False)
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/{key}")
    assert get(app, key).state == State.DISCARDED


def test_a_partner_who_cannot_see_the_draft_cannot_discard_it(reception, app, client, auth):
    key = new_draft(reception)  # unsorted (no respondents): not the partner's to see
    auth.login_as("partner")
    response = _discard(client, app, key)
    assert response.status_code == 404
    assert get(app, key).state == State.DRAFT


def test_discarding_an_unsorted_draft_shows_it_to_nobody_new(reception, app, client, auth):
    key = new_draft(reception)  # no respondents yet: partners do not see it
    assert _discard(reception, app, key).status_code == 200
    auth.login_as("partner")
    assert client.get(f"/complaints/{key}").status_code == 404
    assert f">{key}<" not in client.get("/complaints?state=all").text
