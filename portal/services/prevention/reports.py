"""Progress reports to the client: what happened, what came up, what comes next.

Whoever may record on a matter logs a report: the day it was made (not in the future, not
before the matter opened), the channel, a summary and optionally the text sent. The matter's
next report day (`Matter.report_due_on`) is then the latest report's day plus the interval
(core.reschedule), in the same write; a report logged late for an earlier day does not move it
back past a later one. Reports are never edited: a correction is a new report.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import db
from portal.models.matter import Matter
from portal.models.prevention import ProgressReport, ReportChannel
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import FieldErrors
from portal.services.prevention import core
from portal.services.prevention.matters import checked_day, locked, refuse_if_any

SUMMARY_MAX, TEXT_MAX = 4000, 20000


@dataclass(frozen=True)
class ReportInput:
    reported_on: date | None
    channel: str
    summary: str
    text_sent: str = ""


def is_overdue(matter: Matter, today: date | None = None) -> bool:
    """The next report's day has passed (only an open matter has one)."""
    return matter.report_due_on is not None and matter.report_due_on < (today or clock.today())


def for_matter(matter: Matter) -> list[ProgressReport]:
    """The matter's reports, the latest day first (one query)."""
    return list(db.session.scalars(
        select(ProgressReport).where(ProgressReport.matter_id == matter.id)
        .options(joinedload(ProgressReport.recorded_by))
        .order_by(ProgressReport.reported_on.desc(), ProgressReport.id.desc())))


def log(actor: User, matter_id: int, data: ReportInput) -> ProgressReport:
    matter = locked(matter_id, actor)
    errors = FieldErrors()
    if data.reported_on is None:
        errors.add("reported_on", _("Enter the day the client was told."))
    elif data.reported_on > clock.today():
        errors.add("reported_on", _("A report cannot be dated in the future: log it on the "
                                    "day it is made."))
    elif matter.opened_on is not None and data.reported_on < matter.opened_on:
        errors.add("reported_on", _("The matter opened on %(day)s: a report cannot be dated "
                                    "before that.", day=matter.opened_on.isoformat()))
    else:
        checked_day(data.reported_on, "reported_on", errors)
    if data.channel not in {c.value for c in ReportChannel}:
        errors.add("channel", _("Choose how the client was told."))
    summary, text = (data.summary or "").strip(), (data.text_sent or "").strip()
    if not summary:
        errors.add("summary", _("Summarise what the client was told: what happened, what "
                                "came up, what comes next."))
    elif len(summary) > SUMMARY_MAX:
        errors.add("summary", _("At most %(max)d characters.", max=SUMMARY_MAX))
    if len(text) > TEXT_MAX:
        errors.add("text_sent", _("At most %(max)d characters.", max=TEXT_MAX))
    refuse_if_any(errors)
    report = ProgressReport(matter_id=matter.id, reported_on=data.reported_on,
                            channel=data.channel, summary=summary, text_sent=text or None,
                            recorded_at=clock.now(), recorded_by_id=actor.id)
    db.session.add(report)
    db.session.flush()
    previous_due = matter.report_due_on
    core.reschedule(matter)
    db.session.flush()
    audit.record("matter.report_logged", actor=actor, obj=matter, details={
        "matter_id": matter.id, "report_id": report.id, "channel": report.channel,
        "reported_on": report.reported_on.isoformat(), "text_sent": bool(text),
        "due_before": previous_due.isoformat() if previous_due else None,
        "due": matter.report_due_on.isoformat() if matter.report_due_on else None})
    return report
