"""The satisfaction call-back: scheduled when a complaint reaches follow_up, settled by a phone
call or by the client's survey (survey.py).

- `schedule` (called where the state becomes follow_up: remedies.start, completion) creates a
  `Callback` owned by the handler (else the lead, else whoever moved the complaint on), due
  FOLLOW_UP_CALLBACK_DAYS calendar days later, and emails the client the survey link.
- A call is a `CallAttempt`. Reached: satisfaction 1-5, any open issue, notes. Three
  unanswered calls make the call-back `not_reached`: a partner may then close the complaint.
- An answer (phone or survey) with an open issue sets `open_issue` and sends the complaint back
  to remedies_in_progress with a new remedy task (an explanation of the issue, owned by the
  handler, due ISSUE_TASK_DAYS later); when that task is done the completion logic moves the
  complaint to follow_up again and a NEW call-back is scheduled. No open issue: `satisfied`,
  the complaint is ready to close (closing.py).
- The worker's tick: one survey reminder (survey.py), and once the call-back is due and still
  open, one email to its owner to call the client. Each claims its row with a conditional
  UPDATE, so two workers never double a mail.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.links import email_link
from portal.models.complaint import Complaint, State
from portal.models.followup import CallAttempt, Callback, CallbackStatus
from portal.models.resolution import DecidedRemedy, RemedyKind, RemedyTask
from portal.models.user import Role, User, UserRole
from portal.services import audit, outbox, periodic, staff_mail
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError
from portal.services.resolution import remedies

log = logging.getLogger("portal.followup")

CALL_ATTEMPTS = 3  # unanswered calls before the call-back is "not reached"
ISSUE_TASK_DAYS = 10  # an open issue's new task is due this many days later
TEXT_MAX = 4000
REMINDER_KIND = "callback_due"
TICK_LIMIT = 200
SHOWN = 10  # call-backs on the home page
SYSTEM = "follow-up"  # the audit's actor label for the worker and the client


class Method(StrEnum):
    PHONE = "phone"
    SURVEY = "survey"


class FollowUpError(IntakeError):
    """A rule of the follow-up said no (422); the message is translated, `errors` maps form
    fields to messages."""


class CallbackChanged(ConflictError):
    """The call-back changed after the page was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else recorded something on this call-back after you "
                           "opened the page, so nothing was saved. What you typed is still on "
                           "screen: reload the page to see the call-back as it is now, then "
                           "try again."))


@dataclass(frozen=True)
class Call:
    """A phone call as the form sends it. `reached` None: not said."""

    reached: bool | None
    satisfaction: int | None = None
    open_issue: str = ""
    notes: str = ""


# -- reading --------------------------------------------------------------------------------

def history(complaint: Complaint) -> list[Callback]:
    """The complaint's call-backs, oldest first, with their attempts and owners."""
    return list(db.session.scalars(
        select(Callback).where(Callback.complaint_id == complaint.id)
        .options(selectinload(Callback.attempts).selectinload(CallAttempt.by),
                 selectinload(Callback.owner))
        .order_by(Callback.id)))


def current(complaint: Complaint) -> Callback | None:
    """The call-back of the complaint's latest pass through follow-up."""
    return db.session.scalar(select(Callback).where(Callback.complaint_id == complaint.id)
                             .order_by(Callback.id.desc()).limit(1))


# -- who may do what -----------------------------------------------------------------------

def may_see(complaint: Complaint, user: User, rows: list[Callback]) -> bool:
    """Whoever sees the decision materials, the handler and the call-backs' owners."""
    if not complaint.can_view(user):
        return False
    return (complaint.can_see_decision_materials(user) or complaint.handles(user)
            or any(c.owner_id == user.id for c in rows))


def may_record(complaint: Complaint, callback: Callback, user: User) -> bool:
    """The owner, the handler or a partner, while the call-back is open in follow_up."""
    if complaint.state != State.FOLLOW_UP or not callback.is_open:
        return False
    if callback.complaint_id != complaint.id or not complaint.can_view(user):
        return False
    return (callback.owner_id == user.id or complaint.handles(user)
            or user.has_role(Role.PARTNER))


# -- scheduling -----------------------------------------------------------------------------

def _fit(complaint: Complaint, person: User | None) -> bool:
    return person is not None and remedies.owner_problem(complaint, person, False) is None


def owner_for(complaint: Complaint, *people: User | None) -> User | None:
    """The handler, else the lead, else the first of `people` who may own the complaint's
    work (an active account that may see it)."""
    return next((p for p in (complaint.handler, complaint.lead, *people) if _fit(complaint, p)),
                None)


def schedule(complaint: Complaint, actor: User | None = None) -> Callback:
    """The call-back of this pass through follow-up (the open one if there is one already),
    and the survey emailed to the client. Call it in the write that moves the complaint to
    follow_up; flushes, never commits."""
    from portal.services.followup import survey

    existing = current(complaint)
    if existing is not None and existing.is_open:
        return existing
    owner = owner_for(complaint, actor)
    now = clock.now()
    days = int(current_app.config["FOLLOW_UP_CALLBACK_DAYS"])
    callback = Callback(complaint_id=complaint.id, owner_id=owner.id if owner else None,
                        due=clock.today() + timedelta(days=days), status=CallbackStatus.OPEN,
                        created_at=now, survey_nonce=secrets.token_urlsafe(32),
                        survey_expires_at=now + survey.max_age())
    db.session.add(callback)
    db.session.flush()
    audit.record("callback.scheduled", actor=actor, actor_label=None if actor else SYSTEM,
                 obj=complaint, details={"callback_id": callback.id, "owner_id": callback.owner_id,
                                         "due": callback.due.isoformat()})
    survey.invite(actor, complaint, callback)
    return callback


# -- recording a result -------------------------------------------------------------------------

def bounded(value: str | None, name: str, errors: FieldErrors) -> str:
    text = (value or "").replace("\x00", "").strip()
    if len(text) > TEXT_MAX:
        errors.add(name, _("At most %(max)d characters (this has %(count)d).",
                           max=TEXT_MAX, count=len(text)))
    return text


def refuse(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise FollowUpError(first, errors=errors.errors)


def valid_satisfaction(value: int | None) -> bool:
    return isinstance(value, int) and 1 <= value <= 5


def lock(complaint: Complaint) -> None:
    """The complaint's row first (PostgreSQL), then the call-back's: one order for every
    writer here, so a call and a survey at the same moment wait for each other."""
    remedies.lock(complaint)


def locked(complaint: Complaint, callback_id: int, expected_version: int | None) -> Callback:
    callback = db.session.get(Callback, callback_id, with_for_update=True,
                              populate_existing=True)
    if callback is None or callback.complaint_id != complaint.id:
        raise ConflictError(_("This call-back no longer exists: reload the page."))
    if expected_version is not None and callback.version != expected_version:
        raise CallbackChanged()
    return callback


def _issue_owner(complaint: Complaint, callback: Callback, actor: User | None) -> User:
    owner = owner_for(complaint, callback.owner, actor)
    if owner is not None:
        return owner
    partners = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True)).order_by(User.id))
    owner = next((p for p in partners if _fit(complaint, p)), None)
    if owner is None:
        raise FollowUpError(_("Nobody who may see this complaint can carry out the new task: "
                              "name a handler first."))
    return owner


def _reopen(actor: User | None, complaint: Complaint, callback: Callback, issue: str
            ) -> RemedyTask:
    """Back to remedies_in_progress with one new task: explain (deal with) the issue."""
    decision = complaint.current_decision
    if decision is None:
        raise FollowUpError(_("This complaint has no decision whose remedies could continue."))
    due = clock.today() + timedelta(days=ISSUE_TASK_DAYS)
    owner = _issue_owner(complaint, callback, actor)
    remedy = DecidedRemedy(kind=RemedyKind.EXPLANATION.value, scope=issue, due=due)
    decision.remedies.append(remedy)
    task = RemedyTask(complaint_id=complaint.id, remedy=remedy, owner=owner, due=due)
    db.session.add(task)
    from_state = complaint.state
    complaint.state = State.REMEDIES_IN_PROGRESS
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("callback.issue_reopened", actor=actor, actor_label=None if actor else SYSTEM,
                 obj=complaint, details={
                     "callback_id": callback.id, "reason": CallbackStatus.OPEN_ISSUE.value,
                     "method": callback.method, "task_id": task.id, "remedy_id": remedy.id,
                     "kind": remedy.kind, "owner_id": owner.id, "due": due.isoformat(),
                     "from_state": from_state, "to_state": complaint.state})
    return task


def settle(actor: User | None, complaint: Complaint, callback: Callback, *, method: str,
           satisfaction: int, open_issue: str, notes: str) -> RemedyTask | None:
    """Record the client's answer on an open call-back (locked by the caller): satisfied, or
    an open issue that sends the complaint back to the remedies (the new task returned)."""
    callback.method, callback.satisfaction = method, satisfaction
    callback.open_issue, callback.notes = open_issue or None, notes or None
    callback.answered_at = clock.now()
    callback.recorded_by_id = actor.id if actor else None
    callback.status = CallbackStatus.OPEN_ISSUE if open_issue else CallbackStatus.SATISFIED
    db.session.flush()
    audit.record("callback.answered", actor=actor, actor_label=None if actor else SYSTEM,
                 obj=complaint, details={"callback_id": callback.id, "method": method,
                                         "status": callback.status})
    return _reopen(actor, complaint, callback, open_issue) if open_issue else None


def record_call(actor: User, complaint: Complaint, callback_id: int, call: Call, *,
                expected_version: int) -> Callback:
    """One call to the client: reached (with the result) or not; the third unanswered call
    makes the call-back `not_reached`."""
    lock(complaint)
    callback = locked(complaint, callback_id, expected_version)
    if not may_record(complaint, callback, actor):
        raise ConflictError(_("This call-back is settled already, or you may no longer record "
                              "it: reload the page."))
    errors = FieldErrors()
    if call.reached is None:
        errors.add("reached", _("Say whether you reached the client."))
    notes = bounded(call.notes, "notes", errors)
    issue = ""
    if call.reached:
        if not valid_satisfaction(call.satisfaction):
            errors.add("satisfaction", _("Choose how satisfied the client is, from 1 (not at "
                                         "all) to 5 (very)."))
        issue = bounded(call.open_issue, "open_issue", errors)
    refuse(errors)
    attempt = CallAttempt(at=clock.now(), by_id=actor.id, reached=bool(call.reached),
                          notes=notes or None)
    callback.attempts.append(attempt)
    flag_modified(callback, "status")  # the call-back's version moves with every call
    db.session.flush()
    audit.record("callback.call_recorded", actor=actor, obj=complaint, details={
        "callback_id": callback.id, "attempt_id": attempt.id, "reached": attempt.reached,
        "unanswered": callback.unanswered_calls})
    if call.reached:
        settle(actor, complaint, callback, method=Method.PHONE, satisfaction=call.satisfaction,
               open_issue=issue, notes=notes)
    elif callback.unanswered_calls >= CALL_ATTEMPTS:
        callback.status = CallbackStatus.NOT_REACHED
        db.session.flush()
        audit.record("callback.not_reached", actor=actor, obj=complaint, details={
            "callback_id": callback.id, "unanswered": callback.unanswered_calls})
    return callback


# -- the home page ----------------------------------------------------------------------------

@dataclass(frozen=True)
class CallbackItem:
    reference: str
    due: date
    is_due: bool


@dataclass
class CallbackSection:
    items: list[CallbackItem]
    total: int

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def my_callbacks(user: User) -> CallbackSection:
    """The open call-backs `user` owns on complaints in follow-up, the earliest due first."""
    query = (select(Complaint.reference, Callback.due).select_from(Callback)
             .join(Complaint, Complaint.id == Callback.complaint_id)
             .where(Callback.owner_id == user.id, Callback.status == CallbackStatus.OPEN.value,
                    Complaint.state == State.FOLLOW_UP.value, Complaint.visible_to(user)))
    rows = db.session.execute(query.order_by(Callback.due, Callback.id).limit(SHOWN)).all()
    total = len(rows)
    if total == SHOWN:  # perhaps more: count them (one query only for a long list)
        total = db.session.scalar(select(func.count()).select_from(
            query.with_only_columns(Callback.id).subquery())) or 0
    today = clock.today()
    return CallbackSection([CallbackItem(r.reference or "", r.due, r.due <= today)
                            for r in rows], total)


# -- the worker: the owner's reminder once the call-back is due --------------------------------

def remind_due(limit: int = TICK_LIMIT) -> int:
    """Email the owner of each open call-back that fell due, once. Call it outside a
    transaction: it reads, then commits one short write per call-back."""
    ids = list(db.session.scalars(
        select(Callback.id).join(Complaint, Complaint.id == Callback.complaint_id)
        .where(Callback.status == CallbackStatus.OPEN.value, Callback.reminded_at.is_(None),
               Callback.due <= clock.today(), Complaint.state == State.FOLLOW_UP.value)
        .order_by(Callback.due, Callback.id).limit(limit)))
    db.session.rollback()  # end the read: each call-back gets its own write
    return sum(_remind(i) for i in ids)


def _recipients(complaint: Complaint, callback: Callback) -> list[User]:
    """The owner; the partners who may see the complaint when the owner cannot be reached."""
    owner = callback.owner
    if owner is not None and owner.active and owner.email and complaint.can_view(owner):
        return [owner]
    partners = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
               User.email.is_not(None)).order_by(User.id)).unique()
    return [p for p in partners if complaint.can_view(p)]


def _remind(callback_id: int) -> bool:
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(Callback).where(Callback.id == callback_id,
                                       Callback.reminded_at.is_(None),
                                       Callback.status == CallbackStatus.OPEN.value)
                .values(reminded_at=clock.now()).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return False  # another worker reminded, or it was settled meanwhile
            callback = db.session.get(Callback, callback_id, populate_existing=True)
            complaint = db.session.get(Complaint, callback.complaint_id)
            recipients = _recipients(complaint, callback)
            for user in recipients:
                _queue_reminder(user, callback, complaint)
            audit.record("callback.reminded", actor_label=SYSTEM, obj=complaint, details={
                "callback_id": callback.id, "due": callback.due.isoformat(),
                "recipients": [u.id for u in recipients]})
        return True
    except outbox.OutboxError:  # an address the outbox refuses: logged, not retried forever
        log.exception("call-back %s: no reminder could be queued", callback_id)
        return False


def survey_words(callback: Callback) -> str:
    """Where the survey stands, in the reader's language."""
    if callback.method == Method.SURVEY:
        return _("The client answered the survey.")
    if callback.survey_reminded_at is not None:
        return _("The survey was emailed and reminded once, without an answer.")
    if callback.survey_sent_at is not None:
        return _("The survey was emailed, without an answer so far.")
    if not (callback.complaint_id and _client_email(callback)):
        return _("No survey was emailed (the client has no email address on record).")
    return _("No survey was emailed (PUBLIC_BASE_URL is not set, so no link could be made); "
             "the client can answer it from their page.")


def _client_email(callback: Callback) -> str | None:
    complaint = db.session.get(Complaint, callback.complaint_id)
    return complaint.complainant.email if complaint and complaint.complainant else None


def _queue_reminder(user: User, callback: Callback, complaint: Complaint) -> None:
    with staff_mail.in_their_language(user):
        context = {"user": user, "reference": complaint.label,
                   "due": format_day(callback.due, "full"),
                   "link": email_link("intake.show", key=complaint.label,
                                      anchor="area-followup"),
                   "survey": survey_words(callback),
                   "attempts": callback.unanswered_calls, "limit": CALL_ATTEMPTS,
                   "owner": callback.owner.name if callback.owner else "",
                   "own": callback.owner_id == user.id}
        subject = _("Call-back due: call the client of %(reference)s",
                    reference=complaint.label)
        staff_mail.queue(user, kind=REMINDER_KIND, template="callback_due", subject=subject,
                         context=context, complaint=complaint)


def tick(limit: int = TICK_LIMIT) -> int:
    """The survey reminders, then the owners' call reminders; how many mails were claimed."""
    from portal.services.followup import survey

    return survey.remind_unanswered(limit) + remind_due(limit)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: every SLA_TICK_SECONDS on the portal's clock."""
    return periodic.run_if_due(last, tick, "follow-up tick: %d reminders")
