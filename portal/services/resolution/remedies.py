"""Carrying the decision out: accepted -> remedies_in_progress -> follow_up.

A partner starts the remedies once the client accepted the outcome (or did not answer in
time): one RemedyTask per remedy of the current decision, each with an owner and a due date
(by default the complaint's handler or lead, and the day the decision set; internal measures
default to the partner starting them). An owner is an active staff account that may see the
complaint; internal criticism and disciplinary measures are recorded confidentially and are
owned by partners only. Partners reassign an open task's owner and due date.

Completing a task is `completion.py`'s; when the last client-facing task is done the client
gets the completion notice and the complaint moves to `follow_up`. Internal measures never
hold it back: they may still be open in `follow_up`.

An open task past its due date is overdue: its owner sees it first on their home page, the
partners on theirs, and the worker reminds its owner once (`tick`, beside the deadline tick;
the claim is a conditional UPDATE, so two workers send one reminder).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.links import email_link
from portal.models.complaint import Complaint, Evidence, State
from portal.models.resolution import (
    INTERNAL_REMEDIES,
    REFUNDS,
    REMEDY_KIND_LABELS,
    DecidedRemedy,
    RemedyKind,
    RemedyTask,
)
from portal.models.user import Role, User, UserRole
from portal.services import audit, outbox, periodic, staff_mail
from portal.services.intake.errors import ConflictError, FieldErrors
from portal.services.resolution.common import ResolutionError, check_version

log = logging.getLogger("portal.remedies")

EVIDENCE_RESOLUTION = "resolution"  # Evidence.phase of a refund's receipt
REMINDER_KIND = "remedy_reminder"
TICK_LIMIT = 200  # tasks per tick; the next tick takes the rest
SHOWN = 10  # tasks per home-page section
# Where tasks are worked on: client-facing ones until the completion notice, internal ones on.
OPEN_STATES = (State.REMEDIES_IN_PROGRESS, State.FOLLOW_UP)


class PaymentMethod(StrEnum):
    BANK_TRANSFER = "bank_transfer"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    CASH = "cash"
    CHEQUE = "cheque"
    OTHER = "other"


PAYMENT_METHOD_LABELS = {
    PaymentMethod.BANK_TRANSFER: _l("Bank transfer"),
    PaymentMethod.ALIPAY: _l("Alipay"),
    PaymentMethod.WECHAT_PAY: _l("WeChat Pay"),
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.CHEQUE: _l("Cheque"),
    PaymentMethod.OTHER: _l("Other"),
}


class Form(StrEnum):
    """What completing a task asks for, by the remedy's kind."""

    REFUND = "refund"  # amount paid, the day, the method, the receipt
    APOLOGY = "apology"  # the letter's text (a PDF notice to the client)
    NOTES = "notes"  # explanation, follow-up service: what was done
    INTERNAL = "internal"  # internal criticism, disciplinary measure: confidential notes


def form_of(kind: str) -> Form:
    if kind in REFUNDS:
        return Form.REFUND
    if kind == RemedyKind.WRITTEN_APOLOGY:
        return Form.APOLOGY
    if kind in INTERNAL_REMEDIES:
        return Form.INTERNAL
    return Form.NOTES


class TaskChanged(ConflictError):
    """The task was changed (completed, reassigned) after the page was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this remedy task after you opened the page, "
                           "so nothing was saved. What you typed is still on screen: reload "
                           "the page to see the task as it is now, then try again."))


@dataclass(frozen=True)
class Plan:
    """A task's owner and due date as a form sends them."""

    owner_id: int | None
    due: date | None


# -- reading -------------------------------------------------------------------------------

def tasks(complaint: Complaint) -> list[RemedyTask]:
    """The complaint's tasks in the decision's order, with their remedies and owners."""
    return list(db.session.scalars(
        select(RemedyTask).where(RemedyTask.complaint_id == complaint.id)
        .options(joinedload(RemedyTask.remedy), joinedload(RemedyTask.owner))
        .order_by(RemedyTask.remedy_id)).unique())


def is_internal(task: RemedyTask) -> bool:
    return task.remedy.kind in INTERNAL_REMEDIES


def shown_to(complaint: Complaint, user: User, rows: list[RemedyTask]) -> list[RemedyTask]:
    """Internal measures for partners only."""
    if complaint.can_see_internal_measures(user):
        return rows
    return [t for t in rows if not is_internal(t)]


def find(complaint: Complaint, task_id: int) -> RemedyTask | None:
    task = db.session.get(RemedyTask, task_id)
    return task if task is not None and task.complaint_id == complaint.id else None


def receipt_of(task: RemedyTask) -> Evidence | None:
    return db.session.get(Evidence, task.receipt_evidence_id) if task.receipt_evidence_id \
        else None


# -- who may do what -----------------------------------------------------------------------

def _partner_sees(complaint: Complaint, user: User) -> bool:
    return user.has_role(Role.PARTNER) and complaint.can_view(user)


def may_start(complaint: Complaint, user: User) -> bool:
    return (complaint.state == State.ACCEPTED and complaint.can_manage_remedies(user)
            and complaint.current_decision is not None)


def may_reassign(complaint: Complaint, task: RemedyTask, user: User) -> bool:
    """A partner, while the task is open (an internal one also in `follow_up`)."""
    if task.is_done or not _partner_sees(complaint, user):
        return False
    return complaint.state == State.REMEDIES_IN_PROGRESS or (
        is_internal(task) and complaint.state == State.FOLLOW_UP)


def may_complete(complaint: Complaint, task: RemedyTask, user: User) -> bool:
    """Its owner or a partner; an internal measure only a partner (its owner is one)."""
    if task.is_done or not complaint.can_view(user):
        return False
    if is_internal(task):
        return complaint.state in OPEN_STATES and complaint.can_see_internal_measures(user)
    return complaint.state == State.REMEDIES_IN_PROGRESS and (
        task.owner_id == user.id or user.has_role(Role.PARTNER))


def owner_problem(complaint: Complaint, user: User | None, internal: bool) -> str | None:
    """Why `user` may not own a task on `complaint`, or None."""
    if user is None:
        return _("Choose who carries this out.")
    if not user.active or not user.can_log_in or not user.roles:
        return _("%(name)s has no active account in the portal.", name=user.name)
    if not complaint.can_view(user):
        return _("%(name)s may not see this complaint (a conflict, or not involved in it), "
                 "so cannot carry out its remedies.", name=user.name)
    if internal and not user.has_role(Role.PARTNER):
        return _("Internal measures are recorded by partners only: choose a partner.")
    return None


def staff() -> list[User]:
    """Every active account holding a role, by name."""
    holders = select(UserRole.user_id)
    return list(db.session.scalars(
        select(User).where(User.active.is_(True), User.password_hash.is_not(None),
                           User.id.in_(holders)).order_by(User.name, User.id)))


def candidates(complaint: Complaint, internal: bool, people: list[User] | None = None
               ) -> list[User]:
    return [u for u in (people if people is not None else staff())
            if owner_problem(complaint, u, internal) is None]


def default_owner(complaint: Complaint, remedy: DecidedRemedy, actor: User) -> User:
    """The handler or the lead for a client-facing remedy, the partner starting otherwise."""
    if remedy.kind not in INTERNAL_REMEDIES:
        for person in (complaint.handler, complaint.lead):
            if person is not None and owner_problem(complaint, person, False) is None:
                return person
    return actor


def default_due(remedy: DecidedRemedy) -> date:
    """The day the decision set, or today when that has passed meanwhile."""
    return max(remedy.due, clock.today())


# -- starting and reassigning ---------------------------------------------------------------

def lock(complaint: Complaint) -> None:
    """Reload the complaint in the write, its row locked on PostgreSQL (SQLite's writers are
    one at a time already): tasks of one complaint are changed one write after another."""
    db.session.refresh(complaint, with_for_update=True)


def _checked(complaint: Complaint, remedy_kind: str, plan: Plan, suffix: str,
             errors: FieldErrors) -> tuple[User | None, date | None]:
    """The owner and the day, each refused beside its field (`owner<suffix>`, `due<suffix>`).
    """
    owner = db.session.get(User, plan.owner_id) if plan.owner_id else None
    problem = owner_problem(complaint, owner, remedy_kind in INTERNAL_REMEDIES)
    if problem:
        errors.add(f"owner{suffix}", problem)
    if plan.due is None:
        errors.add(f"due{suffix}", _("Enter the day by which it is carried out."))
    elif plan.due < clock.today():
        errors.add(f"due{suffix}", _("The day cannot be in the past."))
    return owner, plan.due


def _refuse(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise ResolutionError(first, errors=errors.errors)


def record(action: str, actor: User | None, complaint: Complaint, task: RemedyTask,
           details: dict, **who) -> None:
    """A task's audit event: on the complaint (its timeline) for a client-facing remedy; on
    the task itself for an internal measure, which the timeline, open to everyone who sees the
    case file, never shows (the audit browser is the partners')."""
    details = {"task_id": task.id, "kind": task.remedy.kind, **details}
    if is_internal(task):
        audit.record(action, actor=actor, obj=task,
                     details={"complaint_id": complaint.id, **details}, **who)
    else:
        audit.record(action, actor=actor, obj=complaint, details=details, **who)


def start(actor: User, complaint: Complaint, plans: Mapping[int, Plan], *,
          expected_version: int) -> list[RemedyTask]:
    """One task per remedy of the current decision (`plans` by DecidedRemedy id); the state
    moves to remedies_in_progress, or straight to follow_up when nothing is owed to the client.
    """
    lock(complaint)
    check_version(complaint, expected_version)
    if not may_start(complaint, actor):
        raise ConflictError(_("A partner starts the remedies once the client has accepted the "
                              "outcome, and they were started already or the complaint moved "
                              "on: reload the page."))
    decision = complaint.current_decision
    errors = FieldErrors()
    chosen = [(remedy, *_checked(complaint, remedy.kind,
                                 plans.get(remedy.id) or Plan(None, None), f"-{remedy.id}",
                                 errors))
              for remedy in decision.remedies]
    _refuse(errors)
    created = []
    for remedy, owner, due in chosen:
        task = RemedyTask(complaint_id=complaint.id, remedy=remedy, owner=owner, due=due)
        db.session.add(task)
        created.append(task)
    from_state = complaint.state
    client_facing = [t for t in created if not is_internal(t)]
    complaint.state = State.REMEDIES_IN_PROGRESS if client_facing else State.FOLLOW_UP
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("remedies.started", actor=actor, obj=complaint, details={
        "decision_id": decision.id, "number": decision.number,
        "tasks": [{"task_id": t.id, "kind": t.remedy.kind, "owner_id": t.owner_id,
                   "due": t.due.isoformat()} for t in client_facing],
        "from_state": from_state, "to_state": complaint.state})
    for task in created:
        if is_internal(task):
            record("remedy_task.created", actor, complaint, task, {
                "owner_id": task.owner_id, "due": task.due.isoformat()})
    if complaint.state == State.FOLLOW_UP:
        from portal.services.followup import callbacks  # it builds on this module

        callbacks.schedule(complaint, actor)
    return created


def locked_task(complaint: Complaint, task_id: int, expected_version: int) -> RemedyTask:
    task = db.session.get(RemedyTask, task_id, with_for_update=True, populate_existing=True)
    if task is None or task.complaint_id != complaint.id:
        raise ConflictError(_("This remedy task no longer exists: reload the page."))
    if task.version != expected_version:
        raise TaskChanged()
    return task


def reassign(actor: User, complaint: Complaint, task_id: int, plan: Plan, *,
             expected_version: int) -> RemedyTask:
    """A new owner or due date for an open task (a later day earns a new reminder)."""
    lock(complaint)
    task = locked_task(complaint, task_id, expected_version)
    if not may_reassign(complaint, task, actor):
        raise ConflictError(_("Only a partner reassigns a remedy task, and only while it is "
                              "open: reload the page."))
    errors = FieldErrors()
    owner, due = _checked(complaint, task.remedy.kind, plan, "", errors)
    _refuse(errors)
    before = {"owner_id": task.owner_id, "due": task.due.isoformat()}
    if owner.id == task.owner_id and due == task.due:
        return task
    task.owner = owner
    if due != task.due:
        task.due, task.reminded_at = due, None
    db.session.flush()
    record("remedy_task.reassigned", actor, complaint, task, {
        "owner_id": task.owner_id, "due": task.due.isoformat(),
        "previous_owner_id": before["owner_id"], "previous_due": before["due"]})
    return task


# -- the home page ----------------------------------------------------------------------------

@dataclass(frozen=True)
class TaskItem:
    reference: str
    kind: str
    due: date
    overdue: bool
    owner: str


@dataclass
class TaskSection:
    items: list[TaskItem]
    total: int

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def more(self) -> int:
        return self.total - len(self.items)


def _open_tasks(user: User):
    query = (select(Complaint.reference, DecidedRemedy.kind, RemedyTask.due, User.name)
             .select_from(RemedyTask)
             .join(Complaint, Complaint.id == RemedyTask.complaint_id)
             .join(DecidedRemedy, DecidedRemedy.id == RemedyTask.remedy_id)
             .join(User, User.id == RemedyTask.owner_id)
             .where(RemedyTask.done_at.is_(None),
                    Complaint.state.in_([s.value for s in OPEN_STATES]),
                    Complaint.visible_to(user)))
    if not user.has_role(Role.PARTNER):
        query = query.where(DecidedRemedy.kind.not_in([k.value for k in INTERNAL_REMEDIES]))
    return query


def _section(query) -> TaskSection:
    today = clock.today()
    rows = db.session.execute(query.order_by(RemedyTask.due, RemedyTask.id).limit(SHOWN)).all()
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(RemedyTask.id).subquery())) or 0
    return TaskSection([TaskItem(r.reference or "", r.kind, r.due, r.due < today, r.name)
                        for r in rows], total)


def my_tasks(user: User) -> TaskSection:
    """The open tasks `user` owns, the overdue first (the earliest due first)."""
    return _section(_open_tasks(user).where(RemedyTask.owner_id == user.id))


def overdue_tasks(user: User) -> TaskSection:
    """Every overdue task on the complaints a partner may see (the partners' dashboard)."""
    if not user.has_role(Role.PARTNER):
        return TaskSection([], 0)
    return _section(_open_tasks(user).where(RemedyTask.due < clock.today()))


# -- overdue reminders ----------------------------------------------------------------------

def tick(limit: int = TICK_LIMIT) -> int:
    """Remind the owner of each overdue task once. Call it outside a transaction: it reads,
    then commits one short write per task; returns how many were reminded."""
    ids = list(db.session.scalars(
        select(RemedyTask.id).join(Complaint, Complaint.id == RemedyTask.complaint_id)
        .where(RemedyTask.done_at.is_(None), RemedyTask.reminded_at.is_(None),
               RemedyTask.due < clock.today(),
               Complaint.state.in_([s.value for s in OPEN_STATES]))
        .order_by(RemedyTask.due, RemedyTask.id).limit(limit)))
    db.session.rollback()  # end the read: each task gets its own write
    return sum(_remind(i) for i in ids)


def _remind(task_id: int) -> bool:
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(RemedyTask).where(RemedyTask.id == task_id,
                                         RemedyTask.reminded_at.is_(None),
                                         RemedyTask.done_at.is_(None))
                .values(reminded_at=clock.now()).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return False  # another worker reminded, or it was done meanwhile
            task = db.session.get(RemedyTask, task_id, populate_existing=True)
            complaint = db.session.get(Complaint, task.complaint_id)
            recipients = _recipients(complaint, task)
            for user in recipients:
                _queue_reminder(user, task, complaint)
            record("remedy_task.reminded", None, complaint, task, {
                "due": task.due.isoformat(), "recipients": [u.id for u in recipients]},
                actor_label="remedies")
        return True
    except outbox.OutboxError:  # an address the outbox refuses: logged, not retried forever
        log.exception("remedy task %s: no reminder could be queued", task_id)
        return False


def _reachable(user: User | None, complaint: Complaint) -> bool:
    return (user is not None and user.active and bool(user.email)
            and complaint.can_view(user))


def _recipients(complaint: Complaint, task: RemedyTask) -> list[User]:
    """The owner; the partners who may see the complaint when the owner cannot be reached."""
    if _reachable(task.owner, complaint) and (
            not is_internal(task) or task.owner.has_role(Role.PARTNER)):
        return [task.owner]
    partners = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
               User.email.is_not(None)).order_by(User.id)).unique()
    return [p for p in partners if complaint.can_view(p)]


def case_link(reference: str) -> str | None:
    return email_link("intake.show", key=reference, anchor="area-remedies")


def _queue_reminder(user: User, task: RemedyTask, complaint: Complaint) -> None:
    with staff_mail.in_their_language(user):
        remedy = str(REMEDY_KIND_LABELS.get(task.remedy.kind, task.remedy.kind))
        context = {"user": user, "reference": complaint.label, "remedy": remedy,
                   "due": format_day(task.due, "full"), "link": case_link(complaint.label),
                   "days": max(0, (clock.today() - task.due).days),
                   "owner": task.owner.name, "own": task.owner_id == user.id}
        subject = _("Overdue: %(remedy)s for %(reference)s was due on %(date)s",
                    remedy=remedy, reference=complaint.label, date=format_day(task.due))
        # An internal measure's reminder stays off the complaint's timeline (see `record`).
        staff_mail.queue(user, kind=REMINDER_KIND, template="remedy_reminder", subject=subject,
                         context=context, complaint=None if is_internal(task) else complaint)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: every SLA_TICK_SECONDS on the portal's clock."""
    return periodic.run_if_due(last, tick, "remedies tick: %d overdue tasks reminded")
