"""Issue 8: the routing table partners edit in the browser (/admin/routing): severity → the
lead's level, the investigators required and the working days allowed."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent
from portal.services import routing
from tests.conftest import field_errors
from tests.triage_support import HX


def _post(client, severity="serious", **changes):
    data = {f"routing-{severity}-lead_level": "partner",
            f"routing-{severity}-investigators_required": "3",
            f"routing-{severity}-investigation_days": "20",
            f"routing-{severity}-final_response_days": "30"}
    data.update({f"routing-{severity}-{k}": v for k, v in changes.items()})
    return client.post(f"/admin/routing/{severity}", data=data, headers=HX)


def _rule(app, severity):
    with app.app_context():
        rule = routing.rule_for(severity)
        db.session.remove()
        return rule


def test_partners_see_the_table_with_the_defaults_and_the_definitions(partner):
    page = partner.get("/admin/routing")
    assert page.status_code == 200
    assert 'href="/admin" aria-current="page"' in page.text  # Settings holds the table
    for severity in ("minor", "general", "serious", "critical"):
        assert f'id="routing-{severity}-h"' in page.text
    assert re.search(r'<input[^>]*name="routing-serious-investigators_required"[^>]*value="2"',
                     page.text)  # the default: two investigators for a serious complaint
    assert "Possible misconduct" in page.text  # the critical definition


def test_only_partners_may_open_or_edit_it(client, auth):
    for role in ("receptionist", "investigator", "committee"):
        auth.login_as(role)
        assert client.get("/admin/routing").status_code == 403
        assert _post(client).status_code == 403
        assert 'href="/admin/routing"' not in client.get("/").text
        auth.logout()


def test_a_partner_changes_a_severitys_routing(app, partner):
    response = _post(partner, "serious", lead_level="committee")
    assert response.status_code == 200
    assert "is saved" in response.text
    rule = _rule(app, "serious")
    assert (rule.lead_level, rule.investigators_required, rule.investigation_days,
            rule.final_response_days) == ("committee", 3, 20, 30)
    [event] = events_for_routing(app)
    assert event.details["after"]["investigators_required"] == 3


def events_for_routing(app):
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "routing.updated")).all()
        db.session.expunge_all()
        return rows


def test_bad_numbers_are_refused_and_kept(app, partner):
    response = _post(partner, "minor", investigators_required="0", investigation_days="abc")
    assert response.status_code == 422
    assert "Between 1 and 5." in field_errors(response.text)
    assert 'value="0"' in response.text
    response = _post(partner, "minor", investigation_days="40", final_response_days="30")
    assert response.status_code == 422
    assert "The final response comes no earlier than the end of the investigation." \
        in field_errors(response.text)
    assert _rule(app, "minor").investigators_required == 1 and not events_for_routing(app)


def test_an_unknown_severity_is_not_found(partner):
    assert _post(partner, "apocalyptic").status_code == 404


def test_without_javascript_a_save_returns_to_the_table(partner):
    response = partner.post("/admin/routing/general", data={
        "routing-general-lead_level": "partner", "routing-general-investigators_required": "2",
        "routing-general-investigation_days": "20", "routing-general-final_response_days": "30"})
    assert response.status_code == 303 and response.headers["Location"].endswith(
        "/admin/routing")
