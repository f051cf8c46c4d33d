"""The client's page (/c/<token>): the status in plain words, the next date, the decision as
the client may see it, the notices as PDF downloads and the answer form, in the client's
language; answering it (accept, dispute with a reason), refused answers that keep the text,
two answers at once; and the case file's "client's answer" area for staff."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent
from tests.client_support import (
    ACK_PDF,
    OUTCOME_PDF,
    REFERENCE,
    SUMMARY,
    answers_of,
    decision_id,
    notice_id,
    outcome_sent,
    page_url,
    revise,
    rounds_of,
    state_of,
)
from tests.conftest import AuthActions
from tests.web.test_intake_support import HX

CASE = f"/complaints/{REFERENCE}"


def answer(client, url, kind, reason=None, decision=None, **kwargs):
    data = {"kind": kind, "decision": str(decision)}
    if reason is not None:
        data["reason"] = reason
    return client.post(f"{url}/answer", data=data, **kwargs)


def viewed(app) -> list[dict]:
    with app.app_context():
        return [e.details for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "complaint.viewed").order_by(AuditEvent.id))]


def test_the_page_shows_status_next_date_decision_notices_and_the_form(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    response = client.get(url)
    assert response.status_code == 200
    html = response.text
    assert "Waiting for your answer" in html and "Please answer by" in html
    assert SUMMARY in html
    assert "Written apology" in html and "Partial fee refund: CNY 3,000.00" in html
    assert "Acknowledgement of your complaint" in html and "Outcome notice" in html
    assert 'action="' + url + '/answer"' in html and 'name="reason"' in html
    assert html.count('name="csrf_token"') >= 2
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "default-src" in response.headers["Content-Security-Policy"]
    assert viewed(app)[-1] == {"view": "client_page"}


def test_the_page_speaks_the_clients_language_and_switches(app, client):
    cid = outcome_sent(app, language="zh")
    url = page_url(app, cid)
    html = client.get(url).text  # the browser asks for English; the client's is Chinese
    assert '<html lang="zh-CN">' in html
    switched = client.post("/language", data={"locale": "en", "next": url})
    assert switched.status_code == 303 and switched.headers["Location"].endswith(url)
    assert '<html lang="en">' in client.get(url).text


def test_notices_download_as_pdf_and_each_download_is_audited(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    for kind, data in (("outcome", OUTCOME_PDF), ("acknowledgement", ACK_PDF)):
        nid = notice_id(app, cid, kind)
        response = client.get(f"{url}/notices/{nid}")
        assert response.status_code == 200
        assert response.data == data
        assert response.headers["Content-Type"] == "application/pdf"
        assert f"{REFERENCE}-{kind}-v1.pdf" in response.headers["Content-Disposition"]
        assert response.headers["Cache-Control"] == "no-store"
        assert viewed(app)[-1] == {"view": "client_notice", "notice_id": nid, "kind": kind}


def test_accepting_records_the_answer_and_the_page_says_so(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    response = answer(client, url, "accepted", decision=decision_id(app, cid))
    assert response.status_code == 303 and response.headers["Location"] == url
    assert state_of(app, cid) == "accepted"
    assert answers_of(app, cid) == [("accepted", "link", None, None)]
    html = client.get(url).text
    assert "Thank you: your answer is recorded." in html
    assert "you accepted it on" in html and 'name="reason"' not in html
    assert "We will now carry out what it says." in html


def test_disputing_opens_a_round_and_the_revised_decision_can_be_answered(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    first = decision_id(app, cid)
    response = answer(client, url, "disputed", "The refund is far too small.", first)
    assert response.status_code == 303
    assert state_of(app, cid) == "disputed" and [n for n, _ in rounds_of(app, cid)] == [1]
    html = client.get(url).text
    assert "not satisfied" in html and "The refund is far too small." in html
    revise(app, cid)
    html = client.get(url).text
    assert "Our revised decision" in html and "Full fee refund: CNY 10,000.00" in html
    assert "Outcome notice (version 2)" in html
    assert answer(client, url, "accepted", decision=decision_id(app, cid)).status_code == 303
    assert state_of(app, cid) == "accepted"
    assert [a[0] for a in answers_of(app, cid)] == ["disputed", "accepted"]


def test_a_dispute_without_a_reason_is_refused(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    response = answer(client, url, "disputed", "   ", decision_id(app, cid))
    assert response.status_code == 422
    assert "Say why the decision is not satisfactory" in response.text
    assert 'aria-invalid="true"' in response.text
    assert answers_of(app, cid) == [] and state_of(app, cid) == "outcome_sent"


def test_a_refused_dispute_keeps_the_text(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    long_reason = "Not enough & <unfair>. " * 200  # over the limit
    response = answer(client, url, "disputed", long_reason, decision_id(app, cid))
    assert response.status_code == 422
    assert "At most 4000 characters." in response.text
    assert "Not enough &amp; &lt;unfair&gt;." in response.text
    # the form expired (CSRF): refused, the text still on screen
    client.send_csrf = False
    response = answer(client, url, "disputed", "My reasons, typed at length.",
                      decision_id(app, cid))
    assert response.status_code == 400
    assert "did not come from this site" in response.text
    assert "My reasons, typed at length." in response.text
    assert answers_of(app, cid) == []


def test_an_answer_to_an_answered_outcome_is_refused_keeping_the_text(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    did = decision_id(app, cid)
    assert answer(client, url, "accepted", decision=did).status_code == 303
    response = answer(client, url, "disputed", "Second thoughts, written out.", did)
    assert response.status_code == 409
    assert "already been answered" in response.text
    assert "Second thoughts, written out." in response.text
    assert answers_of(app, cid) == [("accepted", "link", None, None)]


def test_two_answers_at_the_same_instant_leave_one(app):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    did = decision_id(app, cid)
    barrier = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def post(kind: str, reason: str | None) -> None:
        try:
            client = app.test_client()
            client.get(url)  # the page, as the client's browser loads it
            barrier.wait(30)
            statuses.append(answer(client, url, kind, reason, did).status_code)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=post, args=args)
               for args in (("accepted", None), ("disputed", "too small"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert sorted(statuses) == [303, 409]
    assert len(answers_of(app, cid)) == 1


# -- the case file ---------------------------------------------------------------------------

def _area(html: str) -> str:
    match = re.search(r'<section id="area-client-answer".*?</section>', html, re.S)
    assert match, "no client answer area"
    return match.group(0)


def test_reception_records_an_answer_taken_by_phone(app, client, auth):
    cid = outcome_sent(app)
    auth.login_as("receptionist")
    area = _area(client.get(CASE).text)
    assert "Record the client&#39;s answer" in area or "Record the client's answer" in area
    assert "Record “no answer”" not in area
    version = re.search(r'name="version" value="(\d+)"', area).group(1)
    data = {"kind": "disputed", "method": "phone", "reason": "", "version": version,
            "decision": str(decision_id(app, cid))}
    refused = client.post(f"{CASE}/client-answer", data=data, headers=HX)
    assert refused.status_code == 422 and "Say why" in refused.text
    assert 'id="area-client-answer"' in refused.text
    data["reason"] = "Called on Monday: wants the whole fee back."
    done = client.post(f"{CASE}/client-answer", data=data, headers=HX)
    assert done.status_code == 200, done.text
    assert "negotiation round is open" in done.text
    assert "Called on Monday" in done.text and "Round 1" in done.text
    assert "Reception" in done.text or "By phone" in done.text
    assert state_of(app, cid) == "disputed"
    stale = client.post(f"{CASE}/client-answer", data=data, headers=HX)
    assert stale.status_code == 409


def test_a_partner_records_no_answer_once_the_day_has_passed(app, client, auth, clock):
    cid = outcome_sent(app, answer_in_days=3)
    auth.login_as("partner")
    assert "Record “no answer”" not in _area(client.get(CASE).text)
    clock.advance(timedelta(days=4))
    client = app.test_client()  # the clock jump ended the session
    AuthActions(client).login_as("partner")
    area = _area(client.get(CASE).text)
    assert "Record “no answer”" in area and "No answer, overdue" in area
    version = re.search(r'action="[^"]*/client-answer/none".*?name="version" value="(\d+)"',
                        area, re.S).group(1)
    response = client.post(f"{CASE}/client-answer/none", headers=HX, data={
        "version": version, "decision": str(decision_id(app, cid))})
    assert response.status_code == 200, response.text
    assert state_of(app, cid) == "accepted"
    html = client.get(page_url(app, cid)).text
    assert "we did not receive your answer by" in html
    assert "We did not hear from you by" in html


def test_reception_cannot_record_no_answer_and_others_cannot_record_at_all(app, client, auth,
                                                                           clock):
    cid = outcome_sent(app, answer_in_days=1)
    clock.advance(timedelta(days=2))
    auth.login_as("receptionist")
    data = {"version": "1", "decision": str(decision_id(app, cid))}
    assert client.post(f"{CASE}/client-answer/none", data=data).status_code == 403
    auth.logout()
    auth.login_as("investigator")  # the lead: sees the area, records nothing
    assert "Record the client" not in _area(client.get(CASE).text)
    assert client.post(f"{CASE}/client-answer", data={**data, "kind": "accepted",
                                                      "method": "phone"}).status_code == 403
    assert answers_of(app, cid) == []


def test_an_answer_on_the_page_is_emailed_to_the_deciding_partner_and_the_handler(app, client):
    from portal.models.outbox import OutboxMessage

    cid = outcome_sent(app)
    with app.app_context():
        before = db.session.scalar(select(OutboxMessage.id).order_by(
            OutboxMessage.id.desc()).limit(1)) or 0
    url = page_url(app, cid)
    reason = "退费太少，律师的拖延让我多付了差旅费。"
    assert answer(client, url, "disputed", reason, decision_id(app, cid)).status_code == 303
    with app.app_context():
        sent = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.id > before, OutboxMessage.kind == "client_answered")))
        recipients = sorted(m.recipient for m in sent)
        assert recipients == sorted({"liu.huimin@firm.example", "zhou.jianguo@firm.example"})
        assert all(REFERENCE in m.subject and m.complaint_id == cid for m in sent)
        assert all(reason not in m.body_text for m in sent)  # the reason stays in the portal
