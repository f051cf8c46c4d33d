"""The findings and first-response areas of the case file: who sees and who may post, 404 for
whoever may not see the decision materials, 409 for a stale form and 422 for bad input, both
with what was typed kept; the report downloads once submitted."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from flask import render_template
from flask_login import login_user
from pypdf import PdfReader
from sqlalchemy import event, select

from portal import clock as portal_clock
from portal.db import db, writes_by_default
from portal.models import Allegation, Assignment, AuditEvent, Complaint, State
from portal.services import findings
from portal.web.findings.answers import findings_area
from portal.web.intake_forms import local_input
from tests.findings_factory import answer_all, make_investigation, rule, user
from tests.web.test_intake_support import HX

KEY = "TS-2026-00077"


@pytest.fixture
def investigation(app):
    with app.app_context():
        return make_investigation(allegations=2)


def _complaint(app, complaint_id: int) -> Complaint:
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        db.session.expunge_all()
        return complaint


def _allegation_ids(app, complaint_id: int) -> list[int]:
    with app.app_context():
        return [a.id for a in db.session.get(Complaint, complaint_id).allegations]


def _finding(allegation_id: int, version: int = 0, **changes) -> dict:
    prefix = f"allegation-{allegation_id}"
    data = {"version": version, f"{prefix}-finding": "established",
            f"{prefix}-reasoning": "委托合同与往来邮件证实律师迟延答复。",
            f"{prefix}-nature_found": "communication", f"{prefix}-severity_found": "general",
            f"{prefix}-responsibility": "individual", f"{prefix}-remedies": ["apology"],
            f"{prefix}-remedy_notes": "书面致歉"}
    data.update({f"{prefix}-{k}": v for k, v in changes.items()})
    return data


def _rule_id(app, source: str, article: str) -> int:
    with app.app_context():
        return rule(source, article).id


def test_the_lead_saves_a_draft_and_gets_the_allegation_back(client, auth, app, investigation):
    auth.login_as("investigator")  # 周建国 leads this one
    first, _second = _allegation_ids(app, investigation)
    data = _finding(first, **{"rule_ids": [str(_rule_id(app, "acla_rules", "37"))]})
    response = client.post(f"/complaints/{KEY}/findings/{first}", data=data, headers=HX)
    assert response.status_code == 200, response.text
    assert f'id="finding-{first}"' in response.text and "Saved." in response.text
    assert 'id="findings-submit" class="findings-submit" data-hx-swap-oob="true"' in response.text
    assert "Still to answer: 2." in response.text
    with app.app_context():
        saved = db.session.get(Complaint, investigation).allegations[0]
        assert (saved.finding, saved.findings_version) == ("established", 1)
        assert [r.article for r in saved.rules] == ["37"]


def test_a_stale_draft_answers_409_and_keeps_what_was_typed(client, auth, app, investigation):
    auth.login_as("partner")
    first, _ = _allegation_ids(app, investigation)
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first),
                       headers=HX).status_code == 200
    response = client.post(f"/complaints/{KEY}/findings/{first}",
                           data=_finding(first, reasoning="另一位合伙人的不同意见"), headers=HX)
    assert response.status_code == 409
    assert "另一位合伙人的不同意见" in response.text and "Someone else saved" in response.text
    assert 'name="version" value="0"' in response.text  # still stale until a reload


def test_bad_codes_answer_422_beside_the_fields_and_keep_the_text(client, auth, app,
                                                                  investigation):
    auth.login_as("partner")
    first, _ = _allegation_ids(app, investigation)
    response = client.post(f"/complaints/{KEY}/findings/{first}",
                           data=_finding(first, finding="proven", rule_ids=["abc"],
                                         reasoning="我写的理由"), headers=HX)
    assert response.status_code == 422
    assert "Choose one of the options shown." in response.text
    assert "Choose rules from the catalogue" in response.text
    assert "我写的理由" in response.text
    with app.app_context():
        assert db.session.get(Complaint, investigation).allegations[0].finding is None


@pytest.mark.parametrize("role, status", [("investigator", 404), ("committee", 404),
                                          ("receptionist", 404)])
def test_who_may_not_see_the_findings_gets_404(client, auth, app, role, status):
    with app.app_context():
        complaint_id = make_investigation(lead="investigator2")
    first, _ = _allegation_ids(app, complaint_id)
    auth.login_as(role)
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first),
                       headers=HX).status_code == status
    assert client.post(f"/complaints/{KEY}/findings/submit", data={},
                       headers=HX).status_code == status
    assert client.get(f"/complaints/{KEY}/findings/report.pdf").status_code == 404


def test_the_matters_partner_is_kept_out(client, auth, app, investigation):
    auth.login("partner")  # 陈志远 supervises the matter complained of
    first, _ = _allegation_ids(app, investigation)
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first),
                       headers=HX).status_code == 404


def test_an_investigator_who_does_not_lead_reads_but_may_not_post(client, auth, app):
    with app.app_context():
        complaint_id = make_investigation(lead="investigator")
        with writes_by_default():
            db.session.add(Assignment(complaint_id=complaint_id, user_id=user("investigator2").id,
                                      role="investigator"))
            db.session.commit()
    first, _ = _allegation_ids(app, complaint_id)
    auth.login_as("investigator2")
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first),
                       headers=HX).status_code == 403


def test_submitting_with_an_unanswered_allegation_answers_422_listing_it(client, auth, app,
                                                                         investigation):
    auth.login_as("partner")
    first, second = _allegation_ids(app, investigation)
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first),
                       headers=HX).status_code == 200
    complaint = _complaint(app, investigation)
    with app.app_context():
        fingerprint = findings.fingerprint(db.session.get(Complaint, investigation))
    response = client.post(f"/complaints/{KEY}/findings/submit", headers=HX, data={
        "version": complaint.version, "fingerprint": fingerprint})
    assert response.status_code == 422
    assert "Still to answer: allegation 2." in response.text
    assert f'id="finding-{second}" class="finding has-error"' in response.text
    assert _complaint(app, investigation).state == State.INVESTIGATING


def _submit_form(client) -> dict:
    page = client.get(f"/complaints/{KEY}").text
    version = page.split('<div id="findings-submit"', 1)[1]
    values = {}
    for name in ("version", "fingerprint"):
        values[name] = version.split(f'name="{name}" value="', 1)[1].split('"', 1)[0]
    return values


def test_submitting_moves_to_the_committee_and_the_report_is_theirs_to_read(client, auth, app,
                                                                           investigation):
    with app.app_context():
        answer_all(investigation)
    auth.login_as("partner")
    form = _submit_form(client)
    response = client.post(f"/complaints/{KEY}/findings/submit", data=form, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(KEY)
    assert _complaint(app, investigation).state == State.AWAITING_DECISION
    again = client.post(f"/complaints/{KEY}/findings/submit", data=form, headers=HX)
    assert again.status_code == 409 and "can no longer be changed" in again.text

    page = client.get(f"/complaints/{KEY}").text
    assert "Download the investigation report" in page and 'id="findings-submit"' not in page
    assert "by 刘慧敏." in page
    report = client.get(f"/complaints/{KEY}/findings/report.pdf")
    assert report.status_code == 200 and report.mimetype == "application/pdf"
    assert "attachment" in report.headers["Content-Disposition"]
    text = PdfReader(io.BytesIO(report.data)).pages[0].extract_text()
    assert "CONFIDENTIAL" in text and "投诉调查报告" in text
    auth.logout()

    auth.login_as("committee")
    assert client.get(f"/complaints/{KEY}/findings/report.pdf").status_code == 200
    auth.logout()
    auth.login_as("receptionist")  # sees the complaint, not its decision materials
    assert client.get(f"/complaints/{KEY}/findings/report.pdf").status_code == 404
    assert "Download the investigation report" not in client.get(f"/complaints/{KEY}").text
    with app.app_context():
        downloads = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "findings.report_downloaded")).all()
        assert len(downloads) == 2


def test_a_submission_from_a_page_older_than_a_saved_draft_is_stale(client, auth, app,
                                                                    investigation):
    with app.app_context():
        answer_all(investigation)
    auth.login_as("partner")
    form = _submit_form(client)
    first, _ = _allegation_ids(app, investigation)
    assert client.post(f"/complaints/{KEY}/findings/{first}", data=_finding(first, version=1),
                       headers=HX).status_code == 200
    response = client.post(f"/complaints/{KEY}/findings/submit", data=form, headers=HX)
    assert response.status_code == 409 and "changed after you opened this page" in response.text
    assert _complaint(app, investigation).state == State.INVESTIGATING


def test_the_case_file_shows_the_form_to_partners_and_the_seeded_rules_to_verify(
        client, auth, app, investigation):
    auth.login_as("partner")
    page = client.get(f"/complaints/{KEY}").text
    assert 'id="area-findings"' in page and 'id="area-first_response"' in page
    assert "To be verified by the firm" in page and "Art. 37" in page
    auth.logout()
    auth.login_as("receptionist")
    page = client.get(f"/complaints/{KEY}").text
    assert 'id="area-first_response"' in page and 'id="area-findings"' not in page


# -- the first response ---------------------------------------------------------------------

def _first_response(client, **fields):
    data = {"first-response-method": "call", "first-response-responded_at": "",
            "first-response-summary": "电话告知调查安排。"}
    data.update({f"first-response-{k}": v for k, v in fields.items()})
    return client.post(f"/complaints/{KEY}/first-response", data=data, headers=HX)


def test_the_handler_records_a_call_once(client, auth, app, investigation):
    auth.login_as("investigator")
    moment = local_input(portal_clock.now()).strftime("%Y-%m-%dT%H:%M")
    response = _first_response(client, responded_at=moment)
    assert response.status_code == 200, response.text
    assert "Given on time" in response.text and "电话告知调查安排。" in response.text
    assert response.headers["HX-Trigger"] == "complaint-changed"
    again = _first_response(client, responded_at=moment, summary="第二次")
    assert again.status_code == 409 and "already recorded" in again.text
    assert "第二次" in again.text


def test_a_late_first_response_stays_visible_as_late(client, auth, app, clock):
    with app.app_context():
        complaint_id = make_investigation(received_at=clock.now() - timedelta(days=10),
                                          first_response_due=None)
    auth.login_as("partner")
    response = _first_response(client, responded_at=local_input(clock.now()).strftime(
        "%Y-%m-%dT%H:%M"))
    assert response.status_code == 200, response.text
    assert "Given late" in response.text
    page = client.get(f"/complaints/{KEY}").text
    assert "Given late" in page and "after the promised day" in page
    assert "Given after the day promised in the acknowledgement." in page  # the timeline
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).first_response.late is True


def test_bad_first_response_input_answers_422_and_keeps_it(client, auth, app, investigation):
    auth.login_as("partner")
    response = _first_response(client, method="notice", summary="", next_steps="",
                               next_contact_on="2026-13-40")
    assert response.status_code == 422
    assert "is not a date" in response.text
    response = _first_response(client, method="notice", next_steps="", next_contact_on="")
    assert response.status_code == 422
    assert "Say what happens next" in response.text
    assert "Enter when the client will next hear from the firm." in response.text
    with app.app_context():
        assert db.session.get(Complaint, investigation).first_response is None


def test_who_may_not_record_the_first_response(client, auth, app, investigation):
    auth.login_as("receptionist")  # sees the complaint, does not handle it
    assert _first_response(client).status_code == 403
    auth.logout()
    auth.login_as("investigator2")  # does not see it at all
    assert _first_response(client).status_code == 404


def _add_answered_allegations(app, complaint_id: int, count: int) -> None:
    with app.app_context(), writes_by_default():
        complaint = db.session.get(Complaint, complaint_id)
        start = len(complaint.allegations)
        for n in range(start + 1, start + count + 1):
            complaint.allegations.append(Allegation(
                number=n, text=f"第{n}项", category="fees", respondent_id=user("王磊").id))
        db.session.commit()
    with app.app_context():
        answer_all(complaint_id)


def _area_queries(app, complaint_id: int) -> tuple[int, str]:
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    with app.test_request_context("/"):
        login_user(user("partner2"))
        complaint = db.session.get(Complaint, complaint_id)
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            html = render_template("findings/_area.html", complaint=complaint,
                                   area=findings_area(complaint, user("partner2")))
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        db.session.remove()
    return len(statements), html


def test_the_findings_area_costs_the_same_queries_for_5_and_50_allegations(app, client):
    with app.app_context():
        complaint_id = make_investigation(allegations=0)
    _add_answered_allegations(app, complaint_id, 5)
    small, html = _area_queries(app, complaint_id)
    assert html.count('class="finding"') == 5
    _add_answered_allegations(app, complaint_id, 45)
    large, html = _area_queries(app, complaint_id)
    assert html.count('class="finding"') == 50
    assert large == small, (small, large)
