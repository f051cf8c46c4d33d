"""`flask retention run`: complaints finished more than COMPLAINT_RETENTION_YEARS ago are
anonymised with the redaction engine, their files deleted, and the analytics unchanged.

One world is built at today's time and the clock moved 11 years on: a complaint taken through
follow-up to closing (with evidence, a posted acknowledgement, a received email, a statement,
personal details everywhere), a withdrawn complaint whose client also has a complaint closed
only 9 years before the new "now", a discarded draft without a client, and a few dozen demo
complaints with their outcomes.
"""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.demo_complaints import seed_complaints
from portal.models import (
    AuditEvent,
    Ballot,
    BallotMember,
    BallotProposal,
    Client,
    ClockPause,
    Complaint,
    ComplaintFact,
    Evidence,
    InboundMail,
    InterviewNote,
    Notice,
    OutboxMessage,
    ProposedRemedy,
    State,
    Statement,
    Vote,
)
from portal.services import audit, notices, retention
from portal.services import evidence as evidence_service
from portal.services.analytics import calendar_table, figures, filters
from portal.services.analytics import prevention as prevention_figures
from portal.services.followup.callbacks import Call
from tests.followup_support import in_follow_up, person, record_call, root_cause
from tests.triage_support import registered

NAME, PHONE, EMAIL = "欧阳雪梅", "13912345678", "xuemei.ouyang@example.com"
ID_NUMBER, ADDRESS = "110101199003077777", "北京市海淀区中关村大街27号"
WITNESS = "赵雅琴"  # a third party the narrative names
OLD_NAME, OLD_EMAIL = "李明", "li.ming@example.com"  # the helpers' client, in the mails sent
SECRETS = (NAME, PHONE, EMAIL, ID_NUMBER, ADDRESS, WITNESS)
KEPT_NAME, KEPT_PHONE = "孙立新", "13700001111"  # the client of the complaint not yet due
ELEVEN_YEARS = timedelta(days=365 * 11 + 3)


def _close(app, complaint_id: int) -> None:
    from portal.services.followup import closing

    record_call(app, complaint_id, Call(reached=True, satisfaction=4,
                                        notes=f"{NAME}表示满意，{WITNESS}已把原件退回。"))
    causes = {root_cause(app, "missed_deadline"): "",
              root_cause(app, "other"): f"助理{WITNESS}离职未交接。"}
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        closing.close(person("partner2"), complaint, closing.Choice(tuple(causes), causes),
                      expected_version=complaint.version)


def _personal_details(app, complaint_id: int) -> None:
    """What a real record holds: the client's details, a narrative naming people, the form as
    sent, evidence, a posted acknowledgement, an email received with its original, a
    statement."""
    with app.app_context():
        received = evidence_service.receive(
            io.BytesIO(f"{NAME}的委托合同，电话{PHONE}\n".encode()), f"{NAME}-合同.txt")
        original = evidence_service.receive(io.BytesIO(
            f"From: {NAME} <{EMAIL}>\nTo: complaints@firm.example\nSubject: 投诉\n"
            f"Date: Mon, 2 Mar 2026 10:00:00 +0800\n\n{WITNESS}可以作证。\n".encode()),
            "original.eml")
        pdf = b"%PDF-1.4\n% acknowledgement printed for post\n"
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            client = complaint.complainant
            client.name, client.phone, client.email = NAME, PHONE, EMAIL
            client.id_number, client.address = ID_NUMBER, ADDRESS
            complaint.narrative = (f"我叫{NAME}，电话{PHONE}，住{ADDRESS}。王律师多次未按约定"
                                   f"时间回复我的询问，律所前台{WITNESS}说他出差了。")
            complaint.occurred_place = f"{WITNESS}的办公室"
            complaint.remedy_details = f"请退还费用，联系{PHONE}。"
            complaint.submitted_payload = {
                "name": OLD_NAME, "phone": PHONE, "email": EMAIL, "language": "zh",
                "lawyers": "王律师", "matter": f"{OLD_NAME}的房屋买卖案",
                "narrative": complaint.narrative, "occurred_on": "2026-01-05",
                "place": complaint.occurred_place, "remedies": ["explanation"],
                "remedy_details": complaint.remedy_details, "consent": True}
            item = evidence_service.record_received(None, complaint, received,
                                                    category="engagement_contract")
            eml = evidence_service.record_received(None, complaint, original,
                                                   category="communications")
            notice = notices.store(complaint, "acknowledgement", pdf, delivery="post")
            notice.posted_on = complaint.received_at.date() + timedelta(days=1)
            db.session.add(InboundMail(
                mailbox="complaints@firm.example", folder="INBOX", uidvalidity=1, uid=7,
                message_id="<retention-test@example.com>", received_at=complaint.received_at,
                sender=EMAIL, sender_name=NAME, subject=f"{NAME}的投诉补充",
                body=f"{WITNESS}可以作证，请打{PHONE}。", outcome="correspondence",
                complaint_id=complaint.id, original_id=eml.id,
                problems=[{"code": "attachment_refused", "name": f"{NAME}.html",
                           "reason": "markup"}]))
            db.session.add(Statement(complaint_id=complaint.id, party="complainant",
                                     given_on=date(2026, 3, 3), method="phone",
                                     text=f"{NAME}在电话中说{WITNESS}可以作证。"))
            db.session.add(InterviewNote(complaint_id=complaint.id, held_on=date(2026, 3, 4),
                                         participants=f"{NAME}、周建国",
                                         text=f"{NAME}补充：{WITNESS}当时在场。"))
            db.session.add(ClockPause(complaint_id=complaint.id,
                                      reason=f"等待{NAME}提供收据（{PHONE}）。",
                                      resumed_at=complaint.received_at))
            complaint.decisions[0].client_summary = f"{NAME}女士：经核查，律师确有迟延答复。"
            _ballot(complaint)
            db.session.flush()
            paths = [evidence_service.path_of(item), evidence_service.path_of(eml),
                     notices.path_of(notice)]
    assert all(path.is_file() for path in paths)
    return paths


def _ballot(complaint: Complaint) -> None:
    partner = person("partner")
    ballot = Ballot(complaint_id=complaint.id, opened_by_id=partner.id,
                    closes_at=complaint.received_at + timedelta(days=10),
                    closed_at=complaint.received_at + timedelta(days=10),
                    revision_note=f"{NAME}可接受的范围。")
    proposal = BallotProposal(number=1, rationale=f"{NAME}的诉求部分成立。", adopted=True)
    proposal.remedies = [ProposedRemedy(kind="free_follow_up", currency="CNY",
                                        scope=f"为{NAME}整理证据")]
    ballot.proposals = [proposal]
    ballot.members = [BallotMember(user_id=partner.id),
                      BallotMember(user_id=person("committee1").id, recusal_reason="self",
                                   recused_at=complaint.received_at,
                                   recusal_note=f"我认识{NAME}。")]
    db.session.add(ballot)
    db.session.flush()
    db.session.add(Vote(ballot_id=ballot.id, proposal_id=proposal.id, user_id=partner.id,
                        choice="approve", comment=f"同意，{WITNESS}的证言可信。"))


def _world(app, now: datetime) -> dict:
    closed = in_follow_up(app)
    _close(app, closed)
    files = _personal_details(app, closed)
    withdrawn = registered(app, "TS-2026-00102", client=KEPT_NAME, email=None)
    kept = registered(app, "TS-2026-00103", client=KEPT_NAME, email=None)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, withdrawn)
        complaint.complainant.phone = KEPT_PHONE
        complaint.state, complaint.withdrawn_at = State.WITHDRAWN, now
        complaint.withdrawal_reason = f"{KEPT_NAME}说已与律师和解，电话{KEPT_PHONE}。"
        complaint = db.session.get(Complaint, kept)
        # closed two years from now: nine years before the clock's new day
        complaint.state, complaint.closed_at = State.CLOSED, now + timedelta(days=365 * 2)
        complaint.closure_reason = f"{KEPT_NAME}的投诉已解决。"
        draft = Complaint(state=State.DISCARDED, discarded_at=now, channel="phone",
                          narrative="周丽华来电，说要投诉，后来挂断了。",
                          discard_reason="周丽华重复来电，与另一份草稿相同。",
                          created_by_id=person("reception").id)
        db.session.add(draft)
        db.session.flush()
        discarded = draft.id
    with app.app_context():
        seed_complaints(24)
    return {"closed": closed, "withdrawn": withdrawn, "kept": kept, "discarded": discarded,
            "files": files}


def _figures(app) -> tuple:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        today = date.today() + ELEVEN_YEARS
        criteria = filters.parse({"from": "2018-01", "to": f"{today.year}-12"}, today)
        calendar_table.ensure(criteria.start, criteria.end)
        result = figures.compute(None, criteria, today)
        assert result.prevention == prevention_figures.counts(None, criteria)
        facts = sorted(tuple(row) for row in db.session.execute(
            select(*ComplaintFact.__table__.c)))
        db.session.rollback()
        return result, facts


def _texts(app, complaint_id: int) -> str:
    """Every value of every row that carries the complaint's id, and of its client."""
    with app.app_context():
        found = []
        for table in db.metadata.sorted_tables:
            column = table.c.get("complaint_id")
            if column is not None:
                found += db.session.execute(select(table).where(column == complaint_id)).all()
        complaint = db.session.get(Complaint, complaint_id)
        found.append(db.session.execute(select(Complaint.__table__).where(
            Complaint.id == complaint_id)).one())
        found.append(db.session.execute(select(Client.__table__).where(
            Client.id == complaint.complainant_id)).one())
        return "\n".join(str(tuple(row)) for row in found)


def _everything(app) -> str:
    with app.app_context():
        return "\n".join(str(tuple(row)) for table in db.metadata.sorted_tables
                         for row in db.session.execute(select(table)).all())


def _anonymized(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == retention.ACTION))


def test_retention_anonymises_old_complaints_and_keeps_the_figures(app, runner, clock, auth,
                                                                   client):
    assert app.config["COMPLAINT_RETENTION_YEARS"] == 10
    app.config["BABEL_DEFAULT_LOCALE"] = "en"  # the command's words, whatever the catalogue
    world = _world(app, clock.now())
    with app.app_context():
        reference = db.session.get(Complaint, world["closed"]).reference
    clock.advance(ELEVEN_YEARS)
    figures_before, facts_before = _figures(app)
    assert figures_before.total > 10 and figures_before.by("root_cause")
    before_texts = _texts(app, world["closed"])
    assert NAME in before_texts and WITNESS in before_texts

    # -- the dry run lists the complaints and changes nothing
    listed = runner.invoke(args=["retention", "run", "--dry-run"])
    assert listed.exit_code == 0, listed.output
    assert reference in listed.output and "TS-2026-00102" in listed.output
    assert f"D{world['discarded']}" in listed.output
    assert "TS-2026-00103" not in listed.output  # closed 9 years ago
    assert "would be anonymised" in listed.output and "\tClosed\t" in listed.output
    assert _texts(app, world["closed"]) == before_texts and _anonymized(app) == 0
    assert all(path.is_file() for path in world["files"])

    # -- the run
    result = runner.invoke(args=["retention", "run"])
    assert result.exit_code == 0, result.output
    assert "complaints anonymised" in result.output
    done = _anonymized(app)
    assert done == listed.output.count("\n") - 1

    # the analytics give the same figures, from the same facts
    figures_after, facts_after = _figures(app)
    assert figures_after == figures_before
    assert facts_after == facts_before

    # nothing personal is left in the record's rows, nor anywhere in the database
    after_texts = _texts(app, world["closed"])
    for secret in (*SECRETS, OLD_NAME, OLD_EMAIL):
        assert secret not in after_texts, secret
    everything = _everything(app)
    for secret in SECRETS:
        assert secret not in everything, secret
    with app.app_context():
        complaint = db.session.get(Complaint, world["closed"])
        assert "客户甲" in complaint.narrative and "[电话]" in complaint.narrative
        assert complaint.complainant.name == "客户甲"
        assert complaint.complainant.phone is None and complaint.complainant.email is None
        assert complaint.submitted_payload["phone"] == ""
        assert complaint.submitted_payload["remedies"] == ["explanation"]
        assert complaint.client_link_key is None
        assert complaint.state == State.CLOSED and complaint.categories
        assert db.session.scalar(select(func.count(Evidence.id)).where(
            Evidence.complaint_id == complaint.id)) == 0
        assert db.session.scalar(select(func.count(Notice.id)).where(
            Notice.complaint_id == complaint.id)) >= 1  # kept: the analytics count it
        mail = db.session.scalar(select(InboundMail).where(
            InboundMail.complaint_id == complaint.id))
        assert mail.sender is None and mail.original_id is None and "[电话]" in mail.body
        # the withdrawn complaint's client is shared with one not due: left as it was
        withdrawn = db.session.get(Complaint, world["withdrawn"])
        kept = db.session.get(Complaint, world["kept"])
        assert withdrawn.complainant_id != kept.complainant_id
        assert withdrawn.complainant.name == "客户甲" and withdrawn.complainant.phone is None
        assert KEPT_NAME not in withdrawn.withdrawal_reason
        assert kept.complainant.name == KEPT_NAME and kept.complainant.phone == KEPT_PHONE
        assert kept.closure_reason == f"{KEPT_NAME}的投诉已解决。"
        discarded = db.session.get(Complaint, world["discarded"])
        assert "周丽华" not in discarded.narrative + discarded.discard_reason
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == retention.ACTION,
            AuditEvent.object_id == str(world["closed"])))
        assert event.details["evidence_removed"] == 2 and event.details["texts"] > 5
        assert set(event.details) == {"retention_years", "texts", "evidence_removed",
                                      "notice_files_removed", "client_id", "client_replaced"}
        # the audit chain still verifies
        assert audit.verify().broken is None
    assert not any(path.exists() for path in world["files"])

    # the case file shows no name or number of the record
    auth.login_as("partner")
    page = client.get(f"/complaints/{reference}")
    assert page.status_code == 200
    for secret in (*SECRETS, OLD_EMAIL):
        assert secret not in page.text, secret
    assert "客户甲" in page.text
    for words in (NAME, WITNESS, "律所前台"):  # by name and by the narrative's own words
        found = client.get("/complaints", query_string={"q": words, "state": "all"})
        assert found.status_code == 200
        assert (reference in found.text) == (words == "律所前台"), words
    _matter_and_mail_withheld(app, client, world["closed"], reference, page.text)

    # a second run finds nothing left to do
    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0 and "nothing to anonymise" in again.output
    assert _anonymized(app) == done


def _matter_and_mail_withheld(app, client, complaint_id: int, reference: str,
                              page: str) -> None:
    """The matter names the client: an anonymized case file does not show it, and a search
    by the matter does not find the complaint. Its emails cannot be sent again."""
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        matter = complaint.matter
        assert complaint.anonymized_at is not None and matter is not None
        named = [matter.reference, matter.title, matter.client.name]
        mail = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint_id))
        assert mail is not None and mail.status in ("sent", "dead")
        mail_id = mail.id
    for words in named:
        assert words not in page, words
    assert "the matter it concerned is not named" in page or "此处不显示所涉案件" in page
    assert "Send again" not in page and "重新发送" not in page
    for words in named:
        found = client.get("/complaints", query_string={"q": words, "state": "all"})
        assert reference not in found.text, words
    refused = client.post(f"/complaints/{reference}/mail/{mail_id}/resend",
                          headers={"HX-Request": "true"}, data={})
    assert refused.status_code == 422
    assert "anonymized" in refused.text or "匿名" in refused.text
    with app.app_context():
        assert db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.complaint_id == complaint_id, OutboxMessage.status == "pending")) == 0


@pytest.mark.parametrize("day", [date(2024, 2, 29), date(2025, 6, 30)])
def test_the_period_is_counted_in_calendar_years(day):
    moment = datetime(day.year, day.month, day.day, 12, tzinfo=UTC)
    before = retention.cutoff(10, moment)
    assert (before.year, before.month) == (day.year - 10, day.month)
    assert before.day == (28 if (day.month, day.day) == (2, 29) else day.day)
