"""The follow-up on the case file and the client's survey page: the call form (422 with what was
typed, 409 when stale), closing with root causes (422 and 409 keeping the input), who sees and
uses the area, the survey at /s/<token> in the client's language (single use: 410 after, 404
forged, 410 expired), the survey link on the client's page, the owner's home page, and the
worker's reminder delivered once even when the worker runs twice."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.models import Complaint, OutboxMessage, State
from portal.models.followup import CallAttempt, ComplaintRootCause
from portal.services.followup.callbacks import Call
from portal.services.resolution import client_link
from tests.followup_support import (
    REFERENCE,
    callback_ids,
    in_follow_up,
    latest,
    record_call,
    root_cause,
    survey_token,
)
from tests.smtp_fixture import smtp_server  # noqa: F401  (fixture)
from tests.web.test_intake_support import HX

CASE = f"/complaints/{REFERENCE}"


@pytest.fixture
def complaint_id(app) -> int:
    return in_follow_up(app)


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _complaint(app, complaint_id: int) -> Complaint:
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        db.session.expunge(complaint)
        return complaint


def _call_url(app, complaint_id: int) -> str:
    return f"{CASE}/follow-up/{callback_ids(app, complaint_id)[-1]}/call"


def _answered(app, complaint_id: int) -> None:
    record_call(app, complaint_id, Call(reached=True, satisfaction=5))


# -- the area ------------------------------------------------------------------------------------

def test_the_handler_sees_the_call_back_and_the_call_form(app, client, auth, complaint_id):
    auth.login_as("investigator")
    page = client.get(CASE)
    assert page.status_code == 200
    area = page.text[page.text.index('id="area-followup"'):]
    assert "Satisfaction call-back" in area and 'id="followup-call"' in area
    assert "The survey was emailed" in area and 'id="followup-close"' not in area


def test_a_receptionist_neither_sees_the_area_nor_records_a_call(app, client, auth,
                                                                 complaint_id):
    auth.login_as("receptionist")
    assert 'id="area-followup"' not in client.get(CASE).text
    response = client.post(_call_url(app, complaint_id),
                           data={"version": latest(app, complaint_id)["version"],
                                 "reached": "no"})
    assert response.status_code == 404
    assert _count(app, CallAttempt) == 0


def test_a_call_without_a_satisfaction_is_refused_with_the_text_kept(app, client, auth,
                                                                     complaint_id):
    auth.login_as("investigator")
    response = client.post(_call_url(app, complaint_id), headers=HX, data={
        "version": latest(app, complaint_id)["version"], "reached": "yes",
        "open_issue": "", "notes": "客户说还要想一想"})
    assert response.status_code == 422
    assert 'id="area-followup"' in response.text and "客户说还要想一想" in response.text
    assert "Choose how satisfied the client is" in response.text
    assert _count(app, CallAttempt) == 0


def test_a_stale_call_form_is_refused_with_409_and_the_input_kept(app, client, auth,
                                                                  complaint_id):
    auth.login_as("investigator")
    version = latest(app, complaint_id)["version"]
    record_call(app, complaint_id, Call(reached=False))  # someone else, meanwhile
    response = client.post(_call_url(app, complaint_id), headers=HX, data={
        "version": version, "reached": "no", "notes": "第二次拨打，无人接听"})
    assert response.status_code == 409
    assert "Someone else recorded something" in response.text
    assert "第二次拨打，无人接听" in response.text
    assert _count(app, CallAttempt) == 1


def test_an_unanswered_call_is_recorded_on_the_area(app, client, auth, complaint_id):
    auth.login_as("investigator")
    response = client.post(_call_url(app, complaint_id), headers=HX, data={
        "version": latest(app, complaint_id)["version"], "reached": "no", "notes": "关机"})
    assert response.status_code == 200
    assert "The unanswered call is recorded" in response.text and "关机" in response.text
    assert latest(app, complaint_id)["unanswered_calls"] == 1


def test_an_open_issue_by_phone_reloads_the_case_file_in_remedies(app, client, auth,
                                                                   complaint_id):
    auth.login_as("investigator")
    response = client.post(_call_url(app, complaint_id), headers=HX, data={
        "version": latest(app, complaint_id)["version"], "reached": "yes",
        "satisfaction": "2", "open_issue": "收据没有收到"})
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(
        "#area-followup")
    assert _complaint(app, complaint_id).state == State.REMEDIES_IN_PROGRESS
    page = client.get(CASE)
    assert "收据没有收到" in page.text  # the new task's scope and the call-back's issue


# -- closing ---------------------------------------------------------------------------------------

def test_a_partner_is_told_why_it_cannot_close_yet(app, client, auth, complaint_id):
    auth.login_as("partner")
    page = client.get(CASE)
    assert 'id="followup-close-blocked"' in page.text and 'id="followup-close"' not in page.text
    response = client.post(f"{CASE}/follow-up/close", headers=HX, data={
        "version": _complaint(app, complaint_id).version,
        "cause": str(root_cause(app, "staff_attitude"))})
    assert response.status_code == 422 and "call-back is still open" in response.text


def test_closing_without_a_cause_or_the_text_of_other_is_refused_with_the_input_kept(
        app, client, auth, complaint_id):
    _answered(app, complaint_id)
    auth.login_as("partner")
    page = client.get(CASE)
    assert 'id="followup-close"' in page.text
    version = _complaint(app, complaint_id).version
    response = client.post(f"{CASE}/follow-up/close", headers=HX, data={"version": version})
    assert response.status_code == 422 and "Choose at least one root cause" in response.text
    staff, other = root_cause(app, "staff_attitude"), root_cause(app, "other")
    response = client.post(f"{CASE}/follow-up/close", headers=HX, data={
        "version": version, "cause": [str(staff), str(other)], f"text-{other}": ""})
    assert response.status_code == 422 and "Say what the cause" in response.text
    assert re.search(rf'value="{staff}" checked', response.text)  # still ticked
    assert _count(app, ComplaintRootCause) == 0
    assert _complaint(app, complaint_id).state == State.FOLLOW_UP


def test_a_stale_closing_is_refused_with_409_keeping_the_input(app, client, auth,
                                                               complaint_id):
    _answered(app, complaint_id)
    auth.login_as("partner")
    other = root_cause(app, "other")
    response = client.post(f"{CASE}/follow-up/close", headers=HX, data={
        "version": 1, "cause": str(other), f"text-{other}": "前台未转达留言"})
    assert response.status_code == 409
    assert "前台未转达留言" in response.text and re.search(rf'value="{other}" checked',
                                                         response.text)
    assert _complaint(app, complaint_id).state == State.FOLLOW_UP


def test_a_partner_closes_it_with_root_causes(app, client, auth, complaint_id):
    _answered(app, complaint_id)
    auth.login_as("partner")
    other = root_cause(app, "other")
    response = client.post(f"{CASE}/follow-up/close", headers=HX, data={
        "version": _complaint(app, complaint_id).version,
        "cause": [str(root_cause(app, "missed_deadline")), str(other)],
        f"text-{other}": "前台未转达留言"})
    assert response.status_code == 200 and "HX-Redirect" in response.headers
    complaint = _complaint(app, complaint_id)
    assert complaint.state == State.CLOSED and complaint.closure_kind == "resolved"
    page = client.get(CASE)
    causes = page.text[page.text.index('id="followup-root-causes"'):]
    assert "Missed deadline" in causes and "前台未转达留言" in causes


def test_only_partners_may_post_the_closing(app, client, auth, complaint_id):
    _answered(app, complaint_id)
    auth.login_as("investigator")
    response = client.post(f"{CASE}/follow-up/close", data={
        "version": _complaint(app, complaint_id).version,
        "cause": str(root_cause(app, "staff_attitude"))})
    assert response.status_code == 403


# -- the survey page -------------------------------------------------------------------------------

def test_the_survey_is_in_the_clients_language_and_works_once(app, client, complaint_id):
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    page = client.get(f"/s/{token}")  # the client wrote in Chinese
    assert page.status_code == 200 and '<html lang="zh-CN">' in page.text
    assert app.config["FIRM_NAME_ZH"] in page.text and 'name="satisfaction"' in page.text
    response = client.post(f"/s/{token}", data={"open_issue": "还有一张发票没开",
                                                "comments": ""})
    assert response.status_code == 422
    assert "还有一张发票没开" in response.text and 'id="survey-satisfaction-error"' in \
        response.text
    assert latest(app, complaint_id)["answered_at"] is None
    response = client.post(f"/s/{token}", data={"satisfaction": "5", "open_issue": "",
                                                "comments": "谢谢"})
    assert response.status_code == 200 and 'id="survey-done"' in response.text
    row = latest(app, complaint_id)
    assert (row["status"], row["satisfaction"], row["notes"]) == ("satisfied", 5, "谢谢")
    again = client.post(f"/s/{token}", data={"satisfaction": "1", "open_issue": "改主意"})
    assert again.status_code == 410
    assert client.get(f"/s/{token}").status_code == 410
    assert latest(app, complaint_id)["satisfaction"] == 5


def test_the_survey_in_english_for_an_english_client(app, client, complaint_id):
    with app.app_context(), write_transaction():
        db.session.get(Complaint, complaint_id).language = "en"
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    page = client.get(f"/s/{token}")
    assert page.status_code == 200 and '<html lang="en">' in page.text
    assert "How satisfied are you with how we handled your complaint?" in page.text
    assert app.config["FIRM_NAME_EN"] in page.text


def test_forged_and_expired_survey_links(app, client, clock, complaint_id):
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    assert client.get(f"/s/{token[:-3]}abc").status_code == 404
    assert client.post(f"/s/{token[:-3]}abc", data={"satisfaction": "3"}).status_code == 404
    clock.advance(app.config["SURVEY_LINK_MAX_AGE"] + timedelta(hours=1))
    expired = client.get(f"/s/{token}")
    assert expired.status_code == 410 and "expired" in expired.text
    assert client.post(f"/s/{token}", data={"satisfaction": "3"}).status_code == 410
    assert latest(app, complaint_id)["answered_at"] is None


def test_an_open_issue_in_the_survey_goes_back_to_the_remedies(app, client, complaint_id):
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    response = client.post(f"/s/{token}", data={"satisfaction": "2",
                                                "open_issue": "退费收据还没有寄给我"})
    assert response.status_code == 200
    assert _complaint(app, complaint_id).state == State.REMEDIES_IN_PROGRESS


def test_the_clients_page_shows_the_survey_while_it_is_open(app, client, complaint_id):
    with app.app_context():
        page_token = client_link.token_for(db.session.get(Complaint, complaint_id))
    page = client.get(f"/c/{page_token}")
    link = re.search(r'href="(/s/[^"]+)"', page.text)
    assert page.status_code == 200 and 'id="client-survey"' in page.text and link
    assert client.post(link.group(1), data={"satisfaction": "4"}).status_code == 200
    assert 'id="client-survey"' not in client.get(f"/c/{page_token}").text


# -- the home page and the worker ----------------------------------------------------------------

def test_the_owner_sees_the_call_back_on_the_home_page(app, client, auth, complaint_id):
    auth.login_as("investigator")
    home = client.get("/")
    assert 'id="my-callbacks"' in home.text and f"{REFERENCE}#area-followup" in home.text


def test_the_worker_reminds_an_unanswered_survey_once_even_run_twice(
        app, runner, clock, complaint_id, smtp_server):  # noqa: F811
    app.config["PUBLIC_BASE_URL"] = "https://complaints.example.com"
    clock.advance(timedelta(days=app.config["SURVEY_REMINDER_DAYS"], hours=1))
    for _ in range(2):
        result = runner.invoke(args=["outbox", "work", "--once"])
        assert result.exit_code == 0, result.output
    kinds = [m["Subject"] for m in smtp_server.wait_for(2)]
    reminders = [s for s in kinds if "Reminder" in s]
    assert len(reminders) == 1, kinds
    assert _count(app, OutboxMessage, OutboxMessage.kind == "survey_reminder") == 1
    body = [m for m in smtp_server.messages if "Reminder" in m["Subject"]][0]
    assert "https://complaints.example.com/s/" in body.get_body(("plain",)).get_content()
