"""Helpers for the decision tests: a complaint awaiting its decision after a closed ballot
(built directly in the database: the ballot's own services have their tests), the recourse
texts, the decision recorded through the service, a client's dispute.

The complaint is about matter M-2025-0142 (its supervising partner 陈志远 is kept out); the
acting partner is partner2 (刘慧敏).
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import (
    Ballot,
    BallotProposal,
    ClientAnswer,
    Complaint,
    NegotiationRound,
    ProposedRemedy,
    RecourseText,
    State,
    User,
)
from portal.services.resolution import decisions, outcome
from tests.findings_factory import make_investigation

REFERENCE = "TS-2026-00077"
RECOURSE = {
    "zh": "如您仍不满意，可以向上海市律师协会投诉，电话 021-6418 8000；也可以拨打 12348 热线。",
    "en": "If you are still not satisfied, you may complain to the Shanghai Bar Association "
          "(+86 21 6418 8000) or call the 12348 public legal services hotline.",
}
SUMMARY = "经核查，王律师确有多次未按约定时间回复您询问的情况，本所对此深表歉意。"
# Internal measures, worded so that they would give themselves away in a client document.
INTERNAL = [("internal_criticism", None, "内部批评 internal criticism of 王磊", None),
            ("disciplinary", None, "纪律处分 disciplinary warning", "warning")]
REMEDIES = [("written_apology", None, None, None), ("partial_refund", "3000", None, None),
            ("free_follow_up", None, "二审阶段的证据整理", None), *INTERNAL]


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def awaiting(app, *, reference: str = REFERENCE, remedies=REMEDIES,
             fees_paid: str | None = "10000", max_refund: str | None = None,
             client_email: str | None = "li.ming@example.com", address: str | None = None,
             ballot_open: bool = False, outcome_code: str = "adopted") -> int:
    """A complaint awaiting its decision, its last ballot closed with proposal 1 adopted."""
    with app.app_context():
        complaint_id = make_investigation(reference=reference, client_email=client_email,
                                          state=State.AWAITING_DECISION)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.findings_submitted_at = clock.now()
            complaint.complainant.address = address
            if fees_paid is not None:
                complaint.matter.fees_paid = Decimal(fees_paid)
            now = clock.now()
            adopted = outcome_code == "adopted" and not ballot_open
            ballot = Ballot(
                complaint_id=complaint.id, opened_by_id=person("partner2").id,
                opened_at=now - timedelta(days=3),
                closes_at=now + timedelta(days=1) if ballot_open else now - timedelta(hours=1),
                closed_at=None if ballot_open else now - timedelta(hours=1),
                closed_reason=None if ballot_open else "deadline",
                outcome=None if ballot_open else outcome_code,
                max_refund=Decimal(max_refund) if max_refund else None,
                revision_note="最多可退还 5000 元" if max_refund else None)
            ballot.proposals = [BallotProposal(
                number=1, rationale="律师迟延答复，应予致歉并部分退费。", adopted=adopted,
                remedies=[ProposedRemedy(kind=kind, amount=Decimal(amount) if amount else None,
                                         currency="CNY", scope=scope, level=level)
                          for kind, amount, scope, level in remedies])]
            db.session.add(ballot)
        return complaint_id


def set_recourse(app, jurisdiction: str = "PRC", zh: str = RECOURSE["zh"],
                 en: str = RECOURSE["en"]) -> None:
    with app.app_context(), write_transaction():
        row = db.session.get(RecourseText, jurisdiction)
        if row is None:
            db.session.add(RecourseText(jurisdiction=jurisdiction, text_zh=zh, text_en=en))
        else:
            row.text_zh, row.text_en = zh, en


def due_dates(complaint: Complaint, days: int = 20) -> dict[int, date]:
    proposal = decisions.basis(complaint)[1]
    return {r.id: clock.today() + timedelta(days=days + i)
            for i, r in enumerate(proposal.remedies)}


def decide(app, complaint_id: int, by: str = "partner2") -> int:
    """Record the decision through the service; its id."""
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        proposal = decisions.basis(complaint)[1]
        return decisions.record(person(by), complaint, proposal_id=proposal.id,
                                due=due_dates(complaint), client_summary=SUMMARY,
                                expected_version=complaint.version).id


def issue(app, complaint_id: int, by: str = "partner2"):
    """Issue the outcome notice as the route does (read, render, write); the notice id."""
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        complaint = db.session.get(Complaint, complaint_id)
        read = outcome.prepare(person(by), complaint)
        db.session.commit()
        prepared = outcome.render_notice(read, app.config)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            return outcome.issue(person(by), complaint, prepared,
                                 expected_version=complaint.version).id


def dispute(app, complaint_id: int, reason: str = "退费金额太少。") -> int:
    """The client disputes the current decision: answer, round n+1, state disputed."""
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        answer = ClientAnswer(complaint_id=complaint.id,
                              decision_id=complaint.current_decision.id,
                              kind="disputed", method="link", reason=reason)
        db.session.add(answer)
        db.session.flush()
        number = len(decisions.rounds(complaint)) + 1
        db.session.add(NegotiationRound(complaint_id=complaint.id, number=number,
                                        answer_id=answer.id))
        complaint.state = State.DISPUTED
        db.session.flush()
        return number
