"""The decision area of the case file, the outcome notice reaching a real SMTP server, notices
by post (outcome and acknowledgement), the negotiation round's revision, the matter's fees and
the recourse texts: who may act, 409 for a stale form with what was typed kept, 422 refusals
that say why, and internal measures shown to partners only."""

from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import AuditEvent, Complaint, Notice, State
from portal.services import outbox
from portal.services.resolution import client_link, decisions
from tests.decision_support import (
    RECOURSE,
    REFERENCE,
    SUMMARY,
    awaiting,
    decide,
    dispute,
    due_dates,
    issue,
    person,
    set_recourse,
)
from tests.findings_factory import make_investigation
from tests.smtp_fixture import smtp_server  # noqa: F401  (fixture)
from tests.web.test_intake_support import HX

PAGE = f"/complaints/{REFERENCE}"
ADDRESS = "上海市徐汇区漕溪北路 88 号 5 楼 502 室"


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def version_of(html: str, action: str) -> str:
    form = html[html.index(f'action="{action}"'):]
    return re.search(r'name="version" value="(-?\d+)"', form).group(1)


def decision_form(app, complaint_id: int, version: str, summary: str = SUMMARY) -> dict:
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        proposal = decisions.basis(complaint)[1]
        data = {f"due-{rid}": day.isoformat() for rid, day in due_dates(complaint).items()}
    return {**data, "proposal_id": str(proposal.id), "client_summary": summary,
            "version": version}


def login(auth, username: str):
    response = auth.login(username)
    assert response.status_code == 303, response.text


def test_the_outcome_email_reaches_the_client_with_the_notice_and_the_link(
        client, auth, app, smtp_server):  # noqa: F811
    cid = awaiting(app)
    set_recourse(app)
    login(auth, "partner2")
    page = client.get(PAGE)
    assert "Record the decision" in page.text and "Internal criticism" in page.text
    action = f"/complaints/{REFERENCE}/decision"
    response = client.post(action, data=decision_form(app, cid, version_of(page.text, action)),
                           headers=HX)
    assert response.status_code == 200, response.text
    assert "The decision is recorded" in response.text and 'id="area-decision"' in response.text
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/outcome"
    response = client.post(action, data={"version": version_of(page.text, action)})
    assert response.status_code == 303, response.text
    with app.app_context():
        assert db.session.get(Complaint, cid).state == State.OUTCOME_SENT
        assert outbox.deliver_due() == 1
    message = smtp_server.wait_for(1)[0]
    assert message["To"].addresses[0].addr_spec == "li.ming@example.com"
    assert "投诉处理结果通知" in message["Subject"] and "Outcome of your complaint" in \
        message["Subject"]
    pdfs = [part for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1 and pdfs[0].get_filename().endswith("-outcome-v1.pdf")
    text = flat(pdftotext(pdfs[0].get_content()))
    for expected in ("投诉处理结果通知书", "OutcomeofYourComplaint", flat(RECOURSE["zh"]),
                     flat(RECOURSE["en"]), flat(SUMMARY)):
        assert expected in text
    for internal in ("内部批评", "纪律处分", "Internalcriticism", "isciplinary"):
        assert internal not in text
    body = message.get_body(("plain",)).get_content()
    links = re.findall(r"https?://[^\s<>\"。]+", body)
    with app.app_context():
        valid = [link for link in links
                 if client_link.check(link.rsplit("/", 1)[1]) == ("valid", db.session.get(
                     Complaint, cid))]
    assert valid, body  # the client's page, in both languages' paragraphs
    assert valid[0] in message.get_body(("html",)).get_content()
    # the case file lists the notice with its PDF
    page = client.get(PAGE)
    assert "Outcome notices" in page.text and "email sent" in page.text
    notice_link = re.search(r'href="(/complaints/[^"]+/notices/\d+\.pdf)"', page.text).group(1)
    download = client.get(notice_link)
    assert download.status_code == 200 and download.data.startswith(b"%PDF")


def test_a_stale_decision_form_answers_409_and_keeps_the_summary(client, auth, app):
    cid = awaiting(app)
    login(auth, "partner2")
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/decision"
    version = version_of(page.text, action)
    with app.app_context(), write_transaction():
        db.session.get(Complaint, cid).complainant.name = "李明"  # someone else saved
        db.session.get(Complaint, cid).updated_at = clock.now()
    typed = "我们认真核查了您反映的问题——这是刚刚输入的文字。"
    response = client.post(action, data=decision_form(app, cid, version, typed), headers=HX)
    assert response.status_code == 409
    assert typed in response.text and "Reload the latest version" in response.text
    with app.app_context():
        assert db.session.get(Complaint, cid).state == State.AWAITING_DECISION


def test_bad_input_is_422_beside_its_field(client, auth, app):
    cid = awaiting(app)
    login(auth, "partner2")
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/decision"
    data = decision_form(app, cid, version_of(page.text, action), summary="")
    first_due = next(k for k in data if k.startswith("due-"))
    data[first_due] = "next week"
    response = client.post(action, data=data, headers=HX)
    assert response.status_code == 422
    assert "is not a date" in response.text
    response = client.post(action, data={**data, first_due: "2000-01-01"}, headers=HX)
    assert response.status_code == 422
    assert "The date is in the past." in response.text
    assert "Write the summary of the findings for the client" in response.text


def test_a_refund_above_the_fees_paid_is_refused_and_says_why(client, auth, app):
    cid = awaiting(app, fees_paid="1000")
    login(auth, "partner2")
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/decision"
    response = client.post(action, data=decision_form(app, cid, version_of(page.text, action)),
                           headers=HX)
    assert response.status_code == 422
    assert "more than can be refunded on the matter" in response.text
    with app.app_context():
        assert not db.session.get(Complaint, cid).decisions


def test_a_notice_without_recourse_text_is_refused_with_the_reason(client, auth, app):
    set_recourse(app, zh="", en="")  # as a database whose seeded texts were never filled in
    cid = awaiting(app)
    decide(app, cid)
    login(auth, "partner2")
    page = client.get(PAGE)
    assert "the notice will be refused" in page.text
    action = f"/complaints/{REFERENCE}/outcome"
    response = client.post(action, data={"version": version_of(page.text, action)}, headers=HX)
    assert response.status_code == 422
    assert "routes of further recourse for PRC are empty in Chinese and English" in \
        response.text
    with app.app_context():
        assert db.session.get(Complaint, cid).state == State.DECIDED
        assert db.session.scalar(select(Notice)) is None


def test_a_client_without_email_gets_the_outcome_by_post(client, auth, app):
    cid = awaiting(app, client_email=None, address=ADDRESS)
    set_recourse(app)
    decide(app, cid)
    login(auth, "partner2")
    page = client.get(PAGE)
    assert "printed for post" in page.text
    action = f"/complaints/{REFERENCE}/outcome"
    response = client.post(action, data={"version": version_of(page.text, action)})
    assert response.status_code == 303
    login(auth, "reception")
    page = client.get(PAGE)
    assert 'id="area-post"' in page.text and "Print-ready PDF" in page.text
    assert "Record the posting date" in page.text
    pdf_url = re.search(r'href="(/complaints/[^"]+/notices/(\d+)\.pdf)"', page.text)
    download = client.get(pdf_url.group(1))
    assert download.status_code == 200
    assert flat(ADDRESS) in flat(pdftotext(download.data))  # in the envelope's window
    posted = f"/complaints/{REFERENCE}/notices/{pdf_url.group(2)}/posted"
    response = client.post(posted, data={"posted_on": clock.today().isoformat(),
                                         "expected": ""}, headers=HX)
    assert response.status_code == 200 and "The posting date is recorded." in response.text
    response = client.post(posted, data={"posted_on": clock.today().isoformat(),
                                         "expected": ""}, headers=HX)
    assert response.status_code == 409  # someone recorded it meanwhile
    with app.app_context():
        assert db.session.get(Notice, int(pdf_url.group(2))).posted_on == clock.today()
        assert db.session.get(Complaint, cid).state == State.OUTCOME_SENT


def test_the_acknowledgement_is_printed_for_post_from_the_case_file(client, auth, app):
    with app.app_context():
        cid = make_investigation(client_email=None, state=State.REGISTERED)
        with write_transaction():
            db.session.get(Complaint, cid).complainant.address = ADDRESS
    login(auth, "reception")
    page = client.get(PAGE)
    assert "The acknowledgement has not been sent yet." in page.text
    action = f"/complaints/{REFERENCE}/acknowledgement/print"
    response = client.post(action, data={"version": version_of(page.text, action)}, headers=HX)
    assert response.status_code == 200, response.text
    assert "Print-ready PDF" in response.text and "Record the posting date" in response.text
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.complaint_id == cid))
        assert (notice.kind, notice.delivery) == ("acknowledgement", "post")
    download = client.get(f"/complaints/{REFERENCE}/notices/{notice.id}.pdf")
    text = flat(pdftotext(download.data))
    assert "投诉受理通知书" in text and flat(ADDRESS) in text
    assert client.post(action, data={"version": version_of(page.text, action)},
                       headers=HX).status_code == 409  # printed already
    login(auth, "investigator")  # the lead: not one who posts
    assert client.get(f"/complaints/{REFERENCE}/notices/{notice.id}.pdf").status_code == 404


@pytest.mark.parametrize("username", ["committee1", "investigator"])
def test_internal_measures_are_shown_to_partners_only(client, auth, app, username):
    cid = awaiting(app)
    decide(app, cid)
    login(auth, username)
    page = client.get(PAGE)
    assert page.status_code == 200 and "Decision 1" in page.text
    assert "Written apology" in page.text
    for internal in ("Internal criticism", "Disciplinary", "内部批评", "纪律处分"):
        assert internal not in page.text
    assert "Record the fees" not in page.text
    login(auth, "partner2")
    page = client.get(PAGE)
    assert "Internal criticism" in page.text and "Internal: partners only" in page.text


def test_only_partners_decide(client, auth, app):
    cid = awaiting(app)
    login(auth, "committee1")
    response = client.post(f"/complaints/{REFERENCE}/decision",
                           data=decision_form(app, cid, "1"), headers=HX)
    assert response.status_code == 403
    login(auth, "partner")  # 陈志远 supervises the matter: the complaint is hidden from him
    assert client.post(f"/complaints/{REFERENCE}/decision", data=decision_form(app, cid, "1"),
                       headers=HX).status_code == 404


def test_a_revision_above_the_ballots_maximum_is_refused(client, auth, app):
    cid = awaiting(app, max_refund="5000")
    set_recourse(app)
    decide(app, cid)
    issue(app, cid)
    dispute(app, cid)
    login(auth, "partner2")
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/negotiation/discussion"
    response = client.post(action, data={"version": version_of(page.text, action),
                                         "discussion": "电话沟通，客户要求多退费用。"},
                           headers=HX)
    assert response.status_code == 200, response.text
    assert "Revise the decision" in response.text and "5,000.00" in response.text
    with app.app_context():
        decision = db.session.get(Complaint, cid).current_decision
        remedies = decision.client_remedies
    action = f"/complaints/{REFERENCE}/negotiation/revision"
    later = clock.today().replace(year=clock.today().year + 1).isoformat()
    data = {"version": version_of(response.text, action),
            "remedy_id": [str(r.id) for r in remedies],
            "reason": "客户补充了付款凭证。", "client_summary": SUMMARY}
    for r in remedies:
        data.update({f"remedy-{r.id}-keep": "1", f"remedy-{r.id}-due": later,
                     f"remedy-{r.id}-amount": "6000", f"remedy-{r.id}-scope": r.scope or ""})
    refused = client.post(action, data=data, headers=HX)
    assert refused.status_code == 422
    assert "above the most the committee allowed" in refused.text
    assert "客户补充了付款凭证。" in refused.text  # kept
    data.update({f"remedy-{r.id}-amount": "4800" for r in remedies})
    data = {k: ("4800" if k.endswith("-amount") else v) for k, v in data.items()}
    revised = client.post(action, data=data, headers=HX)
    assert revised.status_code == 200, revised.text
    assert "Decision 2" in revised.text and "Issue the revised outcome notice" in revised.text
    with app.app_context():
        assert db.session.get(Complaint, cid).state == State.DECIDED


def test_partners_record_the_fees_audited(client, auth, app):
    cid = awaiting(app)
    login(auth, "committee1")
    assert client.post(f"/complaints/{REFERENCE}/matter-fees", data={},
                       headers=HX).status_code == 403
    login(auth, "partner2")
    page = client.get(PAGE)
    action = f"/complaints/{REFERENCE}/matter-fees"
    version = version_of(page.text, action)
    response = client.post(action, data={"version": version, "fees_agreed": "30000",
                                         "fees_paid": "15,000", "currency": "CNY"}, headers=HX)
    assert response.status_code == 200 and "CNY 15,000.00" in response.text
    stale = client.post(action, data={"version": version, "fees_agreed": "1",
                                      "fees_paid": "77777", "currency": "CNY"}, headers=HX)
    assert stale.status_code == 409 and 'value="77777"' in stale.text
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "matter.fees_set"))
        assert event.details["new"]["fees_paid"] == "15000.00"
        assert db.session.get(Complaint, cid).matter.fees_paid == 15000


def test_partners_keep_the_recourse_texts(client, auth, app):
    set_recourse(app)
    login(auth, "committee1")
    assert client.get("/admin/recourse").status_code == 403
    login(auth, "partner2")
    page = client.get("/admin/recourse")
    assert page.status_code == 200 and RECOURSE["en"] in page.text
    action = "/admin/recourse/PRC"
    version = version_of(page.text, action)
    saved = client.post(action, data={"version": version, "text_zh": "新的途径",
                                      "text_en": "New routes"})
    assert saved.status_code == 303
    stale = client.post(action, data={"version": version, "text_zh": "我刚写的",
                                      "text_en": "Typed just now"}, headers=HX)
    assert stale.status_code == 409 and "Typed just now" in stale.text
    added = client.post("/admin/recourse", data={"jurisdiction": "hk", "text_zh": "香港律师会",
                                                 "text_en": ""}, headers=HX)
    assert added.status_code == 422 and "both languages" in added.text
    assert client.post("/admin/recourse/NOPE", data={"version": "1"},
                       headers=HX).status_code == 404
    with app.app_context():
        assert person("partner2").id == db.session.scalar(select(AuditEvent.actor_id).where(
            AuditEvent.action == "recourse.updated"))

