"""Helpers for the client page and client answer tests: a complaint whose outcome notice went
out, built directly in the database (Decision, DecidedRemedy and Notice rows: the decision's
own services have their tests), and the client's link to it.

The decision holds internal measures whose wording would give them away in anything the
client sees; the complaint also holds a staff-only notice (the investigation report).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import AuditEvent, ClientAnswer, Complaint, NegotiationRound, State, User
from portal.models.resolution import DecidedRemedy, Decision
from portal.services import notices
from portal.services.resolution import client_link
from tests.findings_factory import make_investigation

REFERENCE = "TS-2026-00077"
EMAIL = "li.ming@example.com"
SUMMARY = "After checking the file we found that Mr Wang did not answer your questions in time."
INTERNAL_WORDS = ("INTERNAL-CRITICISM-OF-WANG", "DISCIPLINARY-WARNING-WANG")
REPORT_PDF = b"%PDF-1.4 investigation report STAFF-ONLY-REPORT\n%%EOF\n"
OUTCOME_PDF = b"%PDF-1.4 outcome notice OUTCOME-NOTICE-BYTES\n%%EOF\n"
ACK_PDF = b"%PDF-1.4 acknowledgement ACK-BYTES\n%%EOF\n"


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def outcome_sent(app, *, reference: str = REFERENCE, language: str = "en",
                 client_email: str | None = EMAIL, answer_in_days: int = 21) -> int:
    """A complaint in outcome_sent: decision 1 (an apology, a refund of 3000 and two internal
    measures), its outcome notice, the acknowledgement and the investigation report stored,
    the answer due `answer_in_days` days from today; its id."""
    with app.app_context():
        complaint_id = make_investigation(reference=reference, client_email=client_email,
                                          state=State.OUTCOME_SENT)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.language = language
            complaint.complainant.language = language
            complaint.findings_submitted_at = clock.now()
            partner = person("partner2")
            due = clock.today() + timedelta(days=30)
            decision = Decision(
                complaint_id=complaint.id, number=1, client_summary=SUMMARY,
                decided_by_id=partner.id,
                answer_due=clock.today() + timedelta(days=answer_in_days),
                remedies=[
                    DecidedRemedy(kind="written_apology", due=due),
                    DecidedRemedy(kind="partial_refund", amount=Decimal("3000"), due=due),
                    DecidedRemedy(kind="internal_criticism", scope=INTERNAL_WORDS[0], due=due),
                    DecidedRemedy(kind="disciplinary", level="warning",
                                  scope=INTERNAL_WORDS[1], due=due)])
            db.session.add(decision)
            db.session.flush()
            notices.store(complaint, "acknowledgement", ACK_PDF)
            notices.store(complaint, "investigation_report", REPORT_PDF, partner)
            notice = notices.store(complaint, "outcome", OUTCOME_PDF, partner)
            decision.notice_id = notice.id
            client_link.ensure_key(complaint)
        return complaint_id


def token(app, complaint_id: int) -> str:
    with app.app_context():
        return client_link.token_for(db.session.get(Complaint, complaint_id))


def page_url(app, complaint_id: int) -> str:
    return f"/c/{token(app, complaint_id)}"


def notice_id(app, complaint_id: int, kind: str) -> int:
    with app.app_context():
        from portal.models import Notice

        return db.session.scalar(select(Notice.id).where(Notice.complaint_id == complaint_id,
                                                         Notice.kind == kind))


def decision_id(app, complaint_id: int) -> int:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).current_decision.id


def state_of(app, complaint_id: int) -> str:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).state


def answers_of(app, complaint_id: int) -> list[tuple[str, str, str | None, int | None]]:
    """(kind, method, reason, recorded_by_id) of every answer, oldest first."""
    with app.app_context():
        return [(a.kind, a.method, a.reason, a.recorded_by_id) for a in db.session.scalars(
            select(ClientAnswer).where(ClientAnswer.complaint_id == complaint_id)
            .order_by(ClientAnswer.id))]


def rounds_of(app, complaint_id: int) -> list[tuple[int, int]]:
    """(number, answer_id) of every negotiation round."""
    with app.app_context():
        return [(r.number, r.answer_id) for r in db.session.scalars(
            select(NegotiationRound).where(NegotiationRound.complaint_id == complaint_id)
            .order_by(NegotiationRound.number))]


def events(app, prefix: str) -> list[AuditEvent]:
    with app.app_context():
        rows = list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id)))
        for row in rows:
            db.session.expunge(row)
        return rows


def revise(app, complaint_id: int, *, answer_due: date | None = None) -> int:
    """A revised decision 2 issued after a dispute (as the decision's services would leave
    it): its id. The complaint is back in outcome_sent."""
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        partner = person("partner2")
        due = clock.today() + timedelta(days=30)
        decision = Decision(complaint_id=complaint.id, number=2,
                            client_summary=SUMMARY + " (revised)", reason="negotiated",
                            decided_by_id=partner.id,
                            answer_due=answer_due or clock.today() + timedelta(days=21),
                            remedies=[DecidedRemedy(kind="full_refund",
                                                    amount=Decimal("10000"), due=due)])
        db.session.add(decision)
        db.session.flush()
        decision.notice_id = notices.store(complaint, "outcome", OUTCOME_PDF + b"v2",
                                           partner).id
        complaint.state = State.OUTCOME_SENT
        return decision.id
