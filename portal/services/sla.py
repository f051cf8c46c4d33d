"""`flask sla tick`: a reminder before each deadline, and escalation once one has passed.

A running clock (not held by a pause) due within SLA_REMINDER_WORKING_DAYS working days
(today included) gets one reminder to whoever handles the complaint: its handler, else its
lead, else the partners who may see it. A running clock whose day has passed is escalated
once to every partner who may see the complaint.

**Each is sent once, even with two workers ticking at the same moment.** A worker first
claims the clock with a conditional UPDATE (`... SET reminded_at = now WHERE id = ? AND
reminded_at IS NULL`) inside the write transaction that also queues the emails, so the claim
and the emails commit together. Of two workers, the second's UPDATE matches no row (SQLite:
it waits for the write lock and then sees the first's commit; PostgreSQL: it waits for the row
lock and re-checks the condition), and it queues nothing. When a pause moves a clock's day, its
reminder and escalation are forgotten (services/deadlines.py), so the new day gets its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import ColumnElement, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.links import email_link
from portal.models.complaint import Complaint
from portal.models.deadline import DEADLINE_LABELS, Deadline
from portal.models.user import Role, User, UserRole
from portal.services import audit, calendar, deadlines, outbox, staff_mail

log = logging.getLogger("portal.sla")

REMINDER_KIND = "sla_reminder"
ESCALATION_KIND = "sla_escalation"
TICK_LIMIT = 500  # clocks per kind and tick; the next tick takes the rest


@dataclass(frozen=True)
class TickResult:
    reminded: int  # clocks reminded about in this tick (each once)
    escalated: int


class _Skip(Exception):
    """The clock was claimed by another worker, stopped or paused since it was read."""


def tick(limit: int = TICK_LIMIT) -> TickResult:
    """Remind and escalate what is due. Call it outside a transaction: it reads, then
    commits one short write per clock."""
    today = clock.today()
    ahead = int(current_app.config.get("SLA_REMINDER_WORKING_DAYS", 1))
    remind_until = calendar.add_working_days(today, ahead)
    to_remind = _due_ids(Deadline.reminded_at, deadlines.clock_due_sql(start=today,
                                                                        end=remind_until), limit)
    to_escalate = _due_ids(Deadline.escalated_at, deadlines.clock_due_sql(before=today), limit)
    db.session.rollback()  # end the read: each clock gets its own write
    reminded = sum(_handle(i, Deadline.reminded_at, _remind) for i in to_remind)
    escalated = sum(_handle(i, Deadline.escalated_at, _escalate) for i in to_escalate)
    return TickResult(reminded, escalated)


def _due_ids(sent: ColumnElement, which: ColumnElement[bool], limit: int) -> list[int]:
    return list(db.session.scalars(
        select(Deadline.id).where(Deadline.kind.in_(deadlines.ALL_KINDS), which,
                                  sent.is_(None))
        .order_by(Deadline.due, Deadline.id).limit(limit)))


def _handle(deadline_id: int, sent: ColumnElement, send) -> bool:
    now = clock.now()
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(Deadline).where(Deadline.id == deadline_id, sent.is_(None),
                                       Deadline.stopped_at.is_(None))
                .values({sent.key: now}).execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                raise _Skip
            deadline = db.session.get(Deadline, deadline_id, populate_existing=True)
            complaint = db.session.get(Complaint, deadline.complaint_id)
            if deadline.pausable and complaint.open_pause is not None:
                raise _Skip
            send(deadline, complaint)
        return True
    except _Skip:
        return False
    except outbox.OutboxError:  # an address the outbox refuses: logged, not retried forever
        log.exception("deadline %s: no email could be queued", deadline_id)
        return False


# -- who hears, and what -------------------------------------------------------------------

def _partners_who_see(complaint: Complaint) -> list[User]:
    partners = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
               User.email.is_not(None))
        .order_by(User.id)).unique()
    return [p for p in partners if complaint.can_view(p)]


def _reachable(user: User | None, complaint: Complaint) -> bool:
    return (user is not None and user.active and bool(user.email)
            and complaint.can_view(user))


def _handlers(complaint: Complaint) -> list[User]:
    for person in (complaint.handler, complaint.lead):
        if _reachable(person, complaint):
            return [person]
    return _partners_who_see(complaint)


def _remind(deadline: Deadline, complaint: Complaint) -> None:
    recipients = _handlers(complaint)
    for user in recipients:
        _queue(user, deadline, complaint, REMINDER_KIND)
    audit.record("clock.reminded", obj=complaint, actor_label="sla", details={
        "deadline_id": deadline.id, "kind": deadline.kind, "due": deadline.due.isoformat(),
        "recipients": [u.id for u in recipients]})


def _escalate(deadline: Deadline, complaint: Complaint) -> None:
    recipients = _partners_who_see(complaint)
    for user in recipients:
        _queue(user, deadline, complaint, ESCALATION_KIND)
    audit.record("clock.escalated", obj=complaint, actor_label="sla", details={
        "deadline_id": deadline.id, "kind": deadline.kind, "due": deadline.due.isoformat(),
        "recipients": [u.id for u in recipients]})


def case_link(reference: str) -> str | None:
    """The case file's address for an email, when the portal's address is known."""
    return email_link("intake.show", key=reference)


def _queue(user: User, deadline: Deadline, complaint: Complaint, kind: str) -> None:
    with staff_mail.in_their_language(user):
        context = {
            "user": user, "reference": complaint.label, "link": case_link(complaint.label),
            "clock": str(DEADLINE_LABELS.get(deadline.kind, deadline.kind)),
            "due": format_day(deadline.due, "full"), "days": _days_late(deadline.due),
        }
        if kind == REMINDER_KIND:
            subject = _("Reminder: %(clock)s for %(reference)s is due on %(date)s",
                        clock=context["clock"], reference=complaint.label,
                        date=format_day(deadline.due))
        else:
            subject = _("Overdue: %(clock)s for %(reference)s was due on %(date)s",
                        clock=context["clock"], reference=complaint.label,
                        date=format_day(deadline.due))
        staff_mail.queue(user, kind=kind, template=kind, subject=subject, context=context,
                         complaint=complaint)


def _days_late(due: date) -> int:
    return max(0, (clock.today() - due).days)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: tick when SLA_TICK_SECONDS have passed on the portal's clock
    since `last` (or never ran); returns when it last ran."""
    now = clock.now()
    every = int(current_app.config.get("SLA_TICK_SECONDS", 300))
    if last is not None and (now - last).total_seconds() < every:
        return last
    result = tick()
    if result.reminded or result.escalated:
        log.info("sla tick: %d reminders, %d escalations", result.reminded, result.escalated)
    return now
