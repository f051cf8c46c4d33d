"""The client's answer to the outcome: outcome_sent -> accepted | disputed.

An answer given on the page is emailed to the partner who decided and to the handler
(answer_mail.py).

The client answers on their page (method "link"); intake staff or a partner record an answer
the client gave by phone, by post or in person, with who recorded it; a partner records "no
answer" once the day the answer was due has passed, and the remedies then proceed (state
accepted, answer kind no_answer). A dispute opens the next negotiation round.

One answer per decision. Every verb locks the complaint's row first, so a second answer that
arrives at the same instant waits for the first and is then refused ("already answered"); the
unique key on client_answer.decision_id refuses it all the same should anything get past.
"""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.db import db
from portal.formatting import format_day
from portal.models.complaint import Complaint, State
from portal.models.resolution import (
    AnswerKind,
    AnswerMethod,
    ClientAnswer,
    Decision,
    NegotiationRound,
)
from portal.models.user import Role, User
from portal.services import audit
from portal.services.intake.errors import ConflictError
from portal.services.resolution import answer_mail
from portal.services.resolution.common import ResolutionError, check_version, text_of

REASON_MAX = 4000
GIVEN = (AnswerKind.ACCEPTED, AnswerKind.DISPUTED)  # what a client answers
STAFF_METHODS = (AnswerMethod.PHONE, AnswerMethod.POST, AnswerMethod.IN_PERSON)


class AlreadyAnswered(ConflictError):
    """The decision has its answer already (409)."""

    def __init__(self) -> None:
        super().__init__(_("This decision has already been answered, so nothing was saved. "
                           "Reload the page to see the answer on record."))


def waiting_decision(complaint: Complaint) -> Decision | None:
    """The decision whose outcome notice went out and which waits for the client's answer."""
    decision = complaint.current_decision
    if (complaint.state != State.OUTCOME_SENT or decision is None or decision.notice_id is None
            or decision.answer is not None):
        return None
    return decision


def no_answer_due(complaint: Complaint, today: date) -> bool:
    """Whether the day the client's answer was due has passed without one."""
    decision = waiting_decision(complaint)
    return (decision is not None and decision.answer_due is not None
            and today > decision.answer_due)


def may_record_no_answer(user: User, complaint: Complaint, today: date) -> bool:
    return (user.has_role(Role.PARTNER) and complaint.can_view(user)
            and no_answer_due(complaint, today))


def answers(complaint: Complaint) -> list[ClientAnswer]:
    """Every answer on record, oldest first (one per decision)."""
    return list(db.session.scalars(
        select(ClientAnswer).where(ClientAnswer.complaint_id == complaint.id)
        .order_by(ClientAnswer.answered_at, ClientAnswer.id)))


def rounds_by_answer(complaint: Complaint) -> dict[int, NegotiationRound]:
    return {r.answer_id: r for r in db.session.scalars(
        select(NegotiationRound).where(NegotiationRound.complaint_id == complaint.id))}


# -- checks --------------------------------------------------------------------------------

def _lock(complaint: Complaint) -> None:
    db.session.refresh(complaint, with_for_update=True)


def _decision(complaint: Complaint, decision_id: int | None) -> Decision:
    """The decision the page showed, if it is still the one waiting for an answer."""
    seen = db.session.get(Decision, decision_id) if decision_id else None
    if seen is None or seen.complaint_id != complaint.id:
        raise ConflictError(_("The decision shown on the page is not current any more, so "
                              "nothing was saved. Reload the page to see where the complaint "
                              "stands."))
    if seen.answer is not None:
        raise AlreadyAnswered()
    if waiting_decision(complaint) is not seen:
        raise ConflictError(_("This decision is not waiting for an answer any more, so "
                              "nothing was saved. Reload the page to see where the complaint "
                              "stands."))
    return seen


def _kind(kind: str | None) -> AnswerKind:
    if kind not in GIVEN:
        raise ResolutionError(_("Choose whether the decision is accepted or not."),
                              field="kind")
    return AnswerKind(kind)


def _reason(kind: AnswerKind, value: str | None) -> str | None:
    if kind != AnswerKind.DISPUTED:
        return None
    text = text_of(value)
    if not text:
        raise ResolutionError(_("Say why the decision is not satisfactory: the firm needs "
                                "to know what to discuss."), field="reason")
    if len(text) > REASON_MAX:
        raise ResolutionError(_("At most %(max)d characters.", max=REASON_MAX), field="reason")
    return text


# -- the verbs -------------------------------------------------------------------------------

def answer_on_page(complaint: Complaint, *, decision_id: int | None, kind: str | None,
                   reason: str | None) -> ClientAnswer:
    """The client answers on their page (the link was checked by the route)."""
    _lock(complaint)
    decision = _decision(complaint, decision_id)
    given = _kind(kind)
    answer = _record(complaint, decision, given, AnswerMethod.LINK, _reason(given, reason),
                     actor=None)
    answer_mail.tell_staff(complaint, decision, answer)
    return answer


def record_for_client(actor: User, complaint: Complaint, *, decision_id: int | None,
                      kind: str | None, method: str | None, reason: str | None,
                      expected_version: int | None) -> ClientAnswer:
    """Intake staff or a partner record the answer the client gave by phone, post or in
    person."""
    _lock(complaint)
    decision = _decision(complaint, decision_id)
    if not complaint.can_record_client_answer(actor):
        raise ResolutionError(_("Intake staff and partners record the client's answer."))
    check_version(complaint, expected_version)
    given = _kind(kind)
    if method not in STAFF_METHODS:
        raise ResolutionError(_("Say how the client answered: by phone, by post or in "
                                "person."), field="method")
    return _record(complaint, decision, given, AnswerMethod(method), _reason(given, reason),
                   actor=actor)


def record_no_answer(actor: User, complaint: Complaint, *, decision_id: int | None,
                     expected_version: int | None) -> ClientAnswer:
    """A partner records that the client did not answer by the day it was due: the decision
    stands and the remedies proceed."""
    _lock(complaint)
    decision = _decision(complaint, decision_id)
    if not (actor.has_role(Role.PARTNER) and complaint.can_view(actor)):
        raise ResolutionError(_("Only a partner records that the client did not answer."))
    check_version(complaint, expected_version)
    due = decision.answer_due
    if due is None or clock.today() <= due:
        raise ResolutionError(_(
            "The client has until %(day)s to answer, so “no answer” can be recorded from the "
            "day after.", day=format_day(due)))
    return _record(complaint, decision, AnswerKind.NO_ANSWER, AnswerMethod.NONE, None,
                   actor=actor)


def _record(complaint: Complaint, decision: Decision, kind: AnswerKind, method: AnswerMethod,
            reason: str | None, *, actor: User | None) -> ClientAnswer:
    now = clock.now()
    answer = ClientAnswer(complaint_id=complaint.id, decision_id=decision.id, kind=kind.value,
                          method=method.value, reason=reason,
                          recorded_by_id=actor.id if actor else None, answered_at=now)
    try:
        with db.session.begin_nested():  # the unique key: one answer per decision
            db.session.add(answer)
    except IntegrityError:
        raise AlreadyAnswered() from None
    round_ = None
    if kind == AnswerKind.DISPUTED:
        last = db.session.scalar(select(func.max(NegotiationRound.number)).where(
            NegotiationRound.complaint_id == complaint.id))
        round_ = NegotiationRound(complaint_id=complaint.id, number=(last or 0) + 1,
                                  answer_id=answer.id, opened_at=now)
        db.session.add(round_)
    from_state = complaint.state
    complaint.state = State.DISPUTED if kind == AnswerKind.DISPUTED else State.ACCEPTED
    complaint.updated_at = now
    db.session.flush()
    audit.record(f"client_answer.{kind.value}", actor=actor,
                 actor_label=None if actor else "client", obj=complaint, details={
                     "answer_id": answer.id, "decision_id": decision.id,
                     "decision_number": decision.number, "method": method.value,
                     "round_id": round_.id if round_ else None,
                     "round_number": round_.number if round_ else None,
                     "from_state": str(from_state), "to_state": str(complaint.state)})
    return answer
