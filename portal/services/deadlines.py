"""Deadline clocks: starting, moving, pausing and stopping a complaint's deadlines.

A complaint has at most one row per kind (portal/models/deadline.py):

- **first_response**: working days from receipt, set at registration; a promise made in the
  acknowledgement, so it never pauses and never moves;
- **investigation** and **final_response**: working days from receipt per the severity's
  routing (`routing.rule_for`), set at triage and recomputed when the severity changes; they
  pause while the firm waits for the client;
- **regulatory**: calendar days from receipt (`RegulatoryPeriod` of the matter's jurisdiction,
  default 56); it never pauses.

Receipt counts from the local (Asia/Shanghai) day the complaint was received, which does not
count itself (`calendar.add_working_days`).

**How a pause moves the clocks.** A working day *begins* at local midnight. On resume, every
running pausable clock moves later by the number of working days whose midnight fell after
the pause began and no later than the resume: the working days d with
local_day(paused_at) < d <= local_day(resumed_at). A pause within one day moves nothing; a
pause from Friday evening to Monday morning moves one working day (Monday), and a pause over
a holiday counts neither the holiday nor the weekend, but does count a make-up working
Saturday. The count is kept in `ClockPause.working_days_added`. A pausable clock stopped
while paused (findings submitted during a pause) first takes the working days begun so far.

When a clock's due day moves, its reminder and escalation are forgotten, so that
`flask sla tick` speaks again about the new day.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, ScalarSelect, and_, func, or_, select
from sqlalchemy.orm.attributes import flag_modified

from portal import clock
from portal.db import db
from portal.models.complaint import INVESTIGATION_STATES, Complaint
from portal.models.deadline import ClockPause, Deadline, DeadlineKind, RegulatoryPeriod
from portal.models.investigation import Assignment
from portal.models.user import Role, User
from portal.services import audit, calendar, routing
from portal.services.intake.errors import ConflictError, IntakeError

DEFAULT_JURISDICTION = "PRC"
REGULATORY_DEFAULT_DAYS = 56
REASON_MAX = 2000
SOON_WORKING_DAYS = 2  # "due soon": due today or within this many working days


class ClockError(IntakeError):
    """A pause or resume the rules refuse; the message is translated (422)."""


class Status(StrEnum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"
    OK = "ok"
    PAUSED = "paused"  # a pausable clock while the complaint's clocks are paused
    MET = "met"
    LATE = "late"  # stopped after its due day


STATUS_LABELS = {
    Status.OVERDUE: _l("Overdue"),
    Status.DUE_SOON: _l("Due soon"),
    Status.OK: _l("On track"),
    Status.PAUSED: _l("Paused"),
    Status.MET: _l("Met"),
    Status.LATE: _l("Met late"),
}


# -- starting and recomputing ----------------------------------------------------------

def _received(complaint: Complaint) -> date:
    if complaint.received_at is None:
        raise ValueError("a complaint's clocks start from its receipt")
    return calendar.local_day(complaint.received_at)


def _provisional(complaint: Complaint, due: date) -> bool:
    start = _received(complaint).year
    return any(calendar.year_needs_confirmation(y) for y in range(start, due.year + 1))


def _set(complaint: Complaint, kind: str, due: date, provisional: bool) -> Deadline:
    """Create the clock, or move a running one (a stopped clock keeps its day)."""
    row = complaint.deadline(kind)
    if row is None:
        row = Deadline(kind=kind, due=due, provisional=provisional)
        complaint.deadlines.append(row)
    elif row.is_running and row.due != due:
        row.due, row.provisional = due, provisional
        row.reminded_at = row.escalated_at = None
    return row


def start_first_response_clock(complaint: Complaint, working_days: int) -> Deadline:
    """At registration: the first response is due `working_days` after receipt."""
    computed = calendar.first_response_due(complaint.received_at, working_days)
    return _set(complaint, DeadlineKind.FIRST_RESPONSE, computed.due, computed.provisional)


def regulatory_days(complaint: Complaint) -> int:
    jurisdiction = (complaint.matter.jurisdiction if complaint.matter is not None
                    else None) or DEFAULT_JURISDICTION
    period = db.session.get(RegulatoryPeriod, jurisdiction)
    return period.days if period is not None else REGULATORY_DEFAULT_DAYS


def _pause_shift(complaint: Complaint) -> int:
    """Working days the finished pauses have added to the running pausable clocks."""
    return sum(p.working_days_added or 0 for p in complaint.pauses if p.resumed_at is not None)


def _set_pausable_clocks(complaint: Complaint) -> None:
    rule = routing.rule_for(complaint.severity)
    received, shift = _received(complaint), _pause_shift(complaint)
    for kind, days in ((DeadlineKind.INVESTIGATION, rule.investigation_days),
                       (DeadlineKind.FINAL_RESPONSE, rule.final_response_days)):
        due = calendar.add_working_days(received, days + shift)
        _set(complaint, kind, due, _provisional(complaint, due))


def start_investigation_clocks(complaint: Complaint) -> list[Deadline]:
    """At triage (the severity is set): the investigation, final-response and regulatory
    clocks. Calling it again recomputes the running ones."""
    if not complaint.severity:
        raise ValueError("the clocks of an investigation follow its severity")
    _set_pausable_clocks(complaint)
    due = _received(complaint) + timedelta(days=regulatory_days(complaint))
    _set(complaint, DeadlineKind.REGULATORY, due, False)
    db.session.flush()
    return [d for d in complaint.deadlines if d.kind != DeadlineKind.FIRST_RESPONSE]


def severity_changed(complaint: Complaint) -> None:
    """The severity changed: the pausable clocks are recomputed from receipt for the new
    severity, plus every working day the finished pauses added. Stopped clocks keep theirs."""
    _set_pausable_clocks(complaint)
    db.session.flush()


# -- stopping ---------------------------------------------------------------------------

def stop(complaint: Complaint, kind: str, at: datetime | None = None) -> Deadline | None:
    """The clock is met (or no longer runs): late when stopped after its due day (local
    date). Stopping a stopped or missing clock changes nothing."""
    row = complaint.deadline(kind)
    if row is None or not row.is_running:
        return row
    at = at or clock.now()
    pause = complaint.open_pause
    if row.pausable and pause is not None:
        _move(complaint, row, working_days_begun(pause.paused_at, at))
    row.stopped_at = at
    row.stopped_late = calendar.local_day(at) > row.due
    if pause is not None and not _running_pausable(complaint):
        # Nothing is left to resume: the pause ends with the last clock it held.
        pause.resumed_at, pause.working_days_added = at, 0
    db.session.flush()
    return row


def stop_all(complaint: Complaint, at: datetime | None = None) -> list[Deadline]:
    """Withdrawn or closed: every running clock stops (and an open pause ends)."""
    at = at or clock.now()
    stopped = [stop(complaint, d.kind, at) for d in list(complaint.deadlines) if d.is_running]
    pause = complaint.open_pause
    if pause is not None:
        pause.resumed_at, pause.working_days_added = at, 0
        db.session.flush()
    return [d for d in stopped if d is not None]


# -- pausing ----------------------------------------------------------------------------

def working_days_begun(start: datetime, end: datetime) -> int:
    """Working days whose local midnight fell in (start, end] (see the module's comment)."""
    return calendar.working_days_between(calendar.local_day(start), calendar.local_day(end))


def _running_pausable(complaint: Complaint) -> list[Deadline]:
    return [d for d in complaint.deadlines if d.pausable and d.is_running]


def _move(complaint: Complaint, row: Deadline, working_days: int) -> None:
    if working_days > 0:
        due = calendar.add_working_days(row.due, working_days)
        _set(complaint, row.kind, due, _provisional(complaint, due))


def may_pause(complaint: Complaint, user: User) -> bool:
    """The current lead or a partner may pause and resume the clocks."""
    lead = complaint.lead
    return user.has_role(Role.PARTNER) or (lead is not None and lead.id == user.id)


def _check(actor: User, complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise ConflictError(_("Someone else changed this complaint after you opened it, so "
                              "the clocks were not changed. Reload the page to see them."))
    if not may_pause(complaint, actor):
        raise ClockError(_("Only the investigation's lead or a partner may pause or resume "
                           "the clocks."))


def _touch(complaint: Complaint, now: datetime) -> None:
    """A new version of the complaint, so that a pause or resume from an older page is
    stale (409); flagged, since the same instant (a frozen clock) would change nothing."""
    complaint.updated_at = now
    flag_modified(complaint, "updated_at")


def pause(actor: User, complaint: Complaint, reason: str | None, *,
          expected_version: int | None = None) -> ClockPause:
    """Pause the investigation and final-response clocks while waiting for the client."""
    _check(actor, complaint, expected_version)
    if complaint.state not in INVESTIGATION_STATES:
        raise ClockError(_("The clocks can be paused only while the complaint is being "
                           "investigated."))
    if complaint.open_pause is not None:
        raise ClockError(_("The clocks are already paused."))
    running = _running_pausable(complaint)
    if not running:
        raise ClockError(_("No clock that can be paused is running."))
    reason = " ".join((reason or "").split())
    if not reason:
        raise ClockError(_("Say why the clocks are paused (for example: waiting for the "
                           "client's fee receipts)."), field="reason")
    if len(reason) > REASON_MAX:
        raise ClockError(_("The reason has at most %(max)d characters.", max=REASON_MAX),
                         field="reason")
    now = clock.now()
    row = ClockPause(reason=reason, paused_at=now, paused_by_id=actor.id)
    complaint.pauses.append(row)
    _touch(complaint, now)
    db.session.flush()
    # The reason is free text that may name people: it stays on the record, not in the trail.
    audit.record("clock.paused", actor=actor, obj=complaint, details={
        "pause_id": row.id, "reason_length": len(reason),
        "clocks": sorted(d.kind for d in running)})
    return row


def resume(actor: User, complaint: Complaint, *,
           expected_version: int | None = None) -> ClockPause:
    """Resume the paused clocks: each running one moves by the working days begun."""
    _check(actor, complaint, expected_version)
    row = complaint.open_pause
    if row is None:
        raise ClockError(_("The clocks are not paused."))
    now = clock.now()
    added = working_days_begun(row.paused_at, now)
    moved = _running_pausable(complaint)
    for deadline in moved:
        _move(complaint, deadline, added)
    row.resumed_at, row.resumed_by_id, row.working_days_added = now, actor.id, added
    _touch(complaint, now)
    db.session.flush()
    audit.record("clock.resumed", actor=actor, obj=complaint, details={
        "pause_id": row.id, "working_days_added": added,
        "clocks": sorted(d.kind for d in moved)})
    return row


# -- how a clock stands -----------------------------------------------------------------

def soon_limit(today: date) -> date:
    """The last day that is "due soon" seen from `today` (today counts as well)."""
    return calendar.add_working_days(today, SOON_WORKING_DAYS)


def status(deadline: Deadline, today: date, *, paused: bool = False,
           soon: date | None = None) -> Status:
    """overdue / due_soon (due today or within two working days) / ok, or met / late once
    stopped; `paused` (the complaint's clocks are paused) makes a pausable clock "paused".
    Pass `soon` (soon_limit(today)) when asking about many clocks: it costs a query."""
    if not deadline.is_running:
        return Status.LATE if deadline.stopped_late else Status.MET
    if paused and deadline.pausable:
        return Status.PAUSED
    if deadline.due < today:
        return Status.OVERDUE
    if deadline.due <= (soon or soon_limit(today)):
        return Status.DUE_SOON
    return Status.OK


# -- what the lists ask (SQL) -----------------------------------------------------------

NEVER_PAUSED = (DeadlineKind.FIRST_RESPONSE.value, DeadlineKind.REGULATORY.value)
ALL_KINDS = tuple(k.value for k in DeadlineKind)


def clock_due_sql(*, before: date | None = None, start: date | None = None,
                  end: date | None = None) -> ColumnElement[bool]:
    """On a deadline row: running, not held by a pause, and due before `before` or from
    `start` to `end`."""
    paused = select(ClockPause.complaint_id).where(ClockPause.resumed_at.is_(None))
    conditions = [Deadline.stopped_at.is_(None),
                  or_(Deadline.kind.in_(NEVER_PAUSED), Deadline.complaint_id.not_in(paused))]
    if before is not None:
        conditions.append(Deadline.due < before)
    if start is not None:
        conditions.append(Deadline.due >= start)
    if end is not None:
        conditions.append(Deadline.due <= end)
    return and_(*conditions)


def _has_clock(which: ColumnElement[bool]) -> ColumnElement[bool]:
    # Naming every kind lets the database read ix_deadline_open_due (kind, stopped_at, due)
    # as ranges instead of scanning the table.
    return Complaint.id.in_(select(Deadline.complaint_id)
                            .where(Deadline.kind.in_(ALL_KINDS), which))


def overdue_sql(today: date) -> ColumnElement[bool]:
    """Complaints with a running clock (not paused) whose due day has passed."""
    return _has_clock(clock_due_sql(before=today))


def due_soon_sql(today: date, soon: date) -> ColumnElement[bool]:
    """Complaints with a running clock (not paused) due today or by `soon`."""
    return _has_clock(clock_due_sql(start=today, end=soon))


def own_work_sql(user: User) -> ColumnElement[bool]:
    """The user's own work: they handle the complaint, lead it or investigate it."""
    assigned = select(Assignment.complaint_id).where(Assignment.user_id == user.id,
                                                     Assignment.ended_at.is_(None))
    return or_(Complaint.handler_id == user.id, Complaint.id.in_(assigned))


def next_due_sql() -> ScalarSelect:
    """The earliest due day among a complaint's running clocks (correlated: for ordering a
    filtered list, not a whole table)."""
    return (select(func.min(Deadline.due))
            .where(Deadline.complaint_id == Complaint.id, Deadline.stopped_at.is_(None))
            .correlate(Complaint).scalar_subquery())


def next_running(complaint: Complaint) -> Deadline | None:
    """The running clock due first (what a list shows for the complaint)."""
    running = [d for d in complaint.deadlines if d.is_running]
    return min(running, key=lambda d: (d.due, d.id or 0)) if running else None


# -- the regulatory periods (`flask sla period`) --------------------------------------------

def set_regulatory_period(jurisdiction: str, days: int) -> RegulatoryPeriod:
    """The regulatory clock of complaints triaged from now on, for one jurisdiction; clocks
    already running keep their day."""
    jurisdiction = jurisdiction.strip().upper()
    if not jurisdiction or len(jurisdiction) > 20 or not 1 <= days <= 3650:
        raise ValueError("a jurisdiction of 1-20 characters and 1-3650 days")
    row = db.session.get(RegulatoryPeriod, jurisdiction)
    before = row.days if row is not None else None
    if row is None:
        row = RegulatoryPeriod(jurisdiction=jurisdiction)
        db.session.add(row)
    row.days = days
    db.session.flush()
    audit.record("regulatory_period.set", actor_label="cli", object_type="regulatory_period",
                 object_id=jurisdiction, details={"days": days, "before": before})
    return row
