"""The resolution phase in the export (format 3): ballots, decisions, the client's answers,
negotiation rounds and remedy tasks.

Two rules hold here as on every page: a ballot is sealed until it closes (while open, the
export gives how many members have voted, never who voted what), and internal measures
(internal criticism, disciplinary measures, and their tasks) go only to partners and to the
command line's full export.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, tzinfo
from decimal import Decimal

from sqlalchemy import select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.resolution import (
    Ballot,
    ClientAnswer,
    Decision,
    NegotiationRound,
    RemedyTask,
    RemedyTerms,
    Vote,
)
from portal.models.user import User


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _money(amount: Decimal | None) -> str | None:
    return f"{amount:.2f}" if amount is not None else None


def _person(user: User | None) -> dict | None:
    return {"name": user.name, "email": user.email} if user else None


def _user(user_id: int | None) -> dict | None:
    return _person(db.session.get(User, user_id)) if user_id else None


def _remedy(remedy: RemedyTerms) -> dict:
    return {"kind": remedy.kind, "amount": _money(remedy.amount), "currency": remedy.currency,
            "scope": remedy.scope, "level": remedy.level}


def _rows(model, complaint: Complaint) -> list:
    return list(db.session.scalars(select(model).where(model.complaint_id == complaint.id)
                                   .order_by(model.id)))


def _ballot(ballot: Ballot, zone: tzinfo, internal: bool) -> dict:
    proposals = ballot.proposals
    eligible = {m.user_id for m in ballot.eligible}
    votes = list(db.session.scalars(select(Vote).where(Vote.ballot_id == ballot.id)
                                    .order_by(Vote.proposal_id, Vote.user_id)))
    voted = {v.user_id for v in votes if v.user_id in eligible}
    return {
        "opened_by": _person(ballot.opened_by),
        "opened_at": _iso(ballot.opened_at, zone),
        "closes_at": _iso(ballot.closes_at, zone),
        "quorum_rule": ballot.quorum_rule,
        "max_refund": _money(ballot.max_refund),
        "revision_note": ballot.revision_note,
        "proposals": [{
            "number": p.number, "rationale": p.rationale, "adopted": p.adopted,
            "remedies": [_remedy(r) for r in p.remedies if internal or not r.is_internal],
        } for p in proposals],
        "members": [{
            "member": _person(m.user), "recused_at": _iso(m.recused_at, zone),
            "recusal_reason": m.recusal_reason, "recusal_note": m.recusal_note,
        } for m in ballot.members],
        "members_voted": sum(1 for m in ballot.eligible if m.user_id in voted),
        "closed_at": _iso(ballot.closed_at, zone),
        "closed_reason": ballot.closed_reason,
        "outcome": ballot.outcome,
        "resolved_by": _person(ballot.resolved_by),
        "resolved_at": _iso(ballot.resolved_at, zone),
        "resolution_reason": ballot.resolution_reason,
        # Sealed: nobody reads a vote before the ballot closes, here as on its page.
        "votes": None if ballot.is_open else [{
            "proposal": next(p.number for p in proposals if p.id == v.proposal_id),
            "member": _person(v.user), "choice": v.choice, "comment": v.comment,
            "cast_at": _iso(v.cast_at, zone),
        } for v in votes],
    }


def _decision(decision: Decision, zone: tzinfo, internal: bool) -> dict:
    return {
        "number": decision.number,
        "client_summary": decision.client_summary,
        "reason": decision.reason,
        "decided_by": _person(decision.decided_by),
        "decided_at": _iso(decision.decided_at, zone),
        "answer_due": _day(decision.answer_due),
        "remedies": [{**_remedy(r), "due": _day(r.due)} for r in decision.remedies
                     if internal or not r.is_internal],
    }


def _answer(answer: ClientAnswer, zone: tzinfo, decision_number: Callable) -> dict:
    return {"decision": decision_number(answer.decision_id), "kind": answer.kind,
            "method": answer.method, "reason": answer.reason,
            "recorded_by": _person(answer.recorded_by),
            "answered_at": _iso(answer.answered_at, zone)}


def _round(row: NegotiationRound, zone: tzinfo, decision_number: Callable) -> dict:
    return {"number": row.number, "opened_at": _iso(row.opened_at, zone),
            "discussion": row.discussion, "discussed_by": _person(row.discussed_by),
            "discussed_at": _iso(row.discussed_at, zone), "outcome": row.outcome,
            "revised_decision": decision_number(row.revised_decision_id),
            "closed_at": _iso(row.closed_at, zone)}


def _task(task: RemedyTask, zone: tzinfo) -> dict:
    return {"remedy": _remedy(task.remedy), "owner": _person(task.owner), "due": _day(task.due),
            "done_at": _iso(task.done_at, zone), "done_by": _person(task.done_by),
            "paid_amount": _money(task.paid_amount), "paid_on": _day(task.paid_on),
            "payment_method": task.payment_method, "letter_text": task.letter_text,
            "notes": task.notes}


def resolution(complaint: Complaint, zone: tzinfo, *, decision_materials: bool,
               internal: bool) -> dict:
    """The resolution's fields; null where a `--as` viewer may not look (the committee's
    ballots need the decision materials), internal measures only with `internal`."""
    decisions = complaint.decisions
    numbers = {d.id: d.number for d in decisions}

    def decision_number(decision_id: int | None) -> int | None:
        return numbers.get(decision_id) if decision_id else None

    matter = complaint.matter
    return {
        "matter_fees": None if matter is None else {
            "agreed": _money(matter.fees_agreed), "paid": _money(matter.fees_paid),
            "currency": matter.fees_currency},
        "ballots": [_ballot(b, zone, internal) for b in _rows(Ballot, complaint)]
        if decision_materials else None,
        "decisions": [_decision(d, zone, internal) for d in decisions],
        "client_answers": [_answer(a, zone, decision_number)
                           for a in _rows(ClientAnswer, complaint)],
        "negotiation_rounds": [_round(r, zone, decision_number)
                               for r in _rows(NegotiationRound, complaint)],
        "remedy_tasks": [_task(t, zone) for t in _rows(RemedyTask, complaint)
                         if internal or not t.remedy.is_internal],
    }
