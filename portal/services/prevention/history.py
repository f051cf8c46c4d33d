"""A complaint's matter as it stood when the complaint was received: what the firm had on file
at `Complaint.received_at`, read from the history by the moment each entry was recorded
(`recorded_at`, `ticked_at`), never by a date an entry claims and never from today's values.

- **Expectations.** An item was on file when the latest entry for it recorded at or before
  receipt has content (a text or, for the complaints procedure, the day it was given).
- **Progress reports.** The days without a report before the complaint: from the latest day
  reported among the reports recorded at or before receipt (else from the matter's opening)
  to the day the complaint was received (the firm's local day), or to the matter's closing
  day when it closed before that. Overdue when that is more than the reporting interval. The
  interval is the matter's own, else its type's (30 days by default): it has no history, so
  today's is used.
- **Checklist.** The steps due from engagement (reception, conflict check, engagement,
  strategy) that were not ticked at receipt. Progress, closing and archiving steps are not
  judged: the report cadence covers the first, and the others are not due on an open matter.
- **Recorded late.** Expectation entries and ticks recorded after the complaint arrived, and
  reports recorded after it that claim a day on or before the day it was received (a report
  made later is simply a later report, not a late record).

`fact_table.py` stores the same judgements per complaint for the analytics, from the SQL
pieces defined here (`interval_sql`, `reported_until_sql`, `ENGAGEMENT_STAGES`), so the case
file and the figures agree.

`for_complaint` reads everything in one statement (a UNION ALL of the matter's expectation
entries, its checklist, its cadence and its late reports), whatever the length of the history.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    case,
    cast,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.clock import LOCAL_TZ
from portal.db import UTCDateTime, db
from portal.models.complaint import Complaint
from portal.models.matter import Matter
from portal.models.prevention import (
    DEFAULT_REPORT_INTERVAL_DAYS,
    EXPECTATION_LABELS,
    REPORT_CHANNEL_LABELS,
    Expectation,
    ExpectationEntry,
    MatterChecklistItem,
    MatterType,
    ProgressReport,
    Stage,
)
from portal.models.user import User

ENGAGEMENT_STAGES = tuple(s.value for s in (Stage.RECEPTION, Stage.CONFLICT_CHECK,
                                             Stage.ENGAGEMENT, Stage.STRATEGY))
LATE_REPORTS_SHOWN = 20  # late reports listed; a matter rarely has more than a few


# -- the SQL both the case file and the stored facts use ---------------------------------------

def interval_sql(matter) -> ColumnElement[int]:
    """The reporting interval of `matter` (the Matter entity or an alias of it): its own, else
    its type's, else the default."""
    by_type = (select(MatterType.report_interval_days)
               .where(MatterType.code == matter.matter_type_code).scalar_subquery())
    return func.coalesce(matter.report_interval_days, by_type, DEFAULT_REPORT_INTERVAL_DAYS)


def reported_until_sql(matter_id: ColumnElement, moment: ColumnElement) -> ColumnElement[date]:
    """The latest day reported among the matter's reports recorded at or before `moment`."""
    return (select(func.max(ProgressReport.reported_on))
            .where(ProgressReport.matter_id == matter_id, ProgressReport.recorded_at <= moment)
            .scalar_subquery())


def has_content_sql() -> ColumnElement[bool]:
    """Whether an expectation entry records something (a text, or a day given)."""
    return or_(ExpectationEntry.text.is_not(None), ExpectationEntry.given_on.is_not(None))


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


# -- the record ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExpectationAtReceipt:
    item: str  # an Expectation
    label: str
    present: bool
    recorded_at: datetime | None = None  # of the entry on file at receipt
    recorded_by: str | None = None


@dataclass(frozen=True)
class Cadence:
    interval: int  # days
    since: date | None  # the last day reported before receipt, else the opening day
    since_report: bool  # `since` is a report's day (not the opening)
    until: date  # the day received, or the closing day when the matter closed before it
    closed_before: bool

    @property
    def days(self) -> int | None:
        return None if self.since is None else max(0, (self.until - self.since).days)

    @property
    def overdue(self) -> bool:
        return self.days is not None and self.days > self.interval


@dataclass(frozen=True)
class LateEntry:
    kind: str  # expectation | report | checklist
    label: str
    recorded_at: datetime
    claimed: date | None = None  # the day the entry claims (a report's, a procedure given)
    recorded_by: str | None = None


@dataclass
class PreventionRecord:
    matter_reference: str
    received_at: datetime
    expectations: list[ExpectationAtReceipt] = field(default_factory=list)
    cadence: Cadence | None = None
    unticked: list[str] = field(default_factory=list)  # engagement steps not ticked
    checklist_size: int = 0
    late: list[LateEntry] = field(default_factory=list)

    @property
    def missing(self) -> list[ExpectationAtReceipt]:
        return [e for e in self.expectations if not e.present]

    @property
    def has_gaps(self) -> bool:
        return bool(self.missing or self.unticked or (self.cadence and self.cadence.overdue))

    def sentences(self) -> list[str]:
        """What was missing, one translated phrase each (e.g. "no progress report for 75 days
        before the complaint", "Fee arrangement and estimate not recorded")."""
        found = []
        cadence = self.cadence
        if cadence is not None and cadence.overdue:
            if cadence.closed_before:
                found.append(_("No progress report for %(days)d days before the matter "
                               "closed (the interval is %(interval)d days)",
                               days=cadence.days, interval=cadence.interval))
            else:
                found.append(_("No progress report for %(days)d days before the complaint "
                               "(the interval is %(interval)d days)",
                               days=cadence.days, interval=cadence.interval))
        for entry in self.missing:
            found.append(_("%(item)s not recorded", item=entry.label))
        if len(self.unticked) == 1:
            found.append(_("Checklist step not done: %(step)s", step=self.unticked[0]))
        elif self.unticked:
            found.append(_("%(num)d engagement checklist steps not done",
                           num=len(self.unticked)))
        return found

    def summary(self) -> str:
        """The sentences as one ("No progress report for 75 days before the complaint (...);
        fee arrangement and estimate not recorded")."""
        parts = self.sentences()
        if _language() == "en":
            return "; ".join([*parts[:1], *(p[:1].lower() + p[1:] for p in parts[1:])])
        return "；".join(parts)


def _language() -> str:
    return "en" if str(get_locale() or "").startswith("en") else "zh"


def _statement(complaint: Complaint, matter_id: int):
    """One UNION ALL: (kind, code, label_zh, label_en, number, day, moment, by_name, content)."""
    received = complaint.received_at
    entry_by, tick_by, report_by = (aliased(User, name=n) for n in ("e_by", "t_by", "r_by"))
    text, moment = cast(null(), String), cast(null(), UTCDateTime)
    entries = (select(literal("expectation", String).label("kind"),
                      ExpectationEntry.item.label("code"), text.label("label_zh"),
                      text.label("label_en"), ExpectationEntry.id.label("number"),
                      ExpectationEntry.given_on.label("day"),
                      ExpectationEntry.recorded_at.label("moment"),
                      entry_by.name.label("by_name"),
                      case((has_content_sql(), 1), else_=0).label("content"))
               .outerjoin(entry_by, entry_by.id == ExpectationEntry.recorded_by_id)
               .where(ExpectationEntry.matter_id == matter_id))
    item = MatterChecklistItem
    steps = (select(literal("checklist", String), item.stage, item.label_zh, item.label_en,
                    item.position, cast(null(), Date), item.ticked_at, tick_by.name,
                    literal(1, Integer))
             .outerjoin(tick_by, tick_by.id == item.ticked_by_id)
             .where(item.matter_id == matter_id))
    cadence = (select(literal("cadence", String), text, text, text, interval_sql(Matter),
                      reported_until_sql(Matter.id, literal(received, UTCDateTime)), moment,
                      text, literal(1, Integer))
               .where(Matter.id == matter_id))
    report = ProgressReport
    late_reports = (select(literal("report", String).label("kind"), report.channel,
                           text.label("label_zh"), text.label("label_en"), report.id,
                           report.reported_on, report.recorded_at, report_by.name,
                           literal(1, Integer).label("content"))
                    .outerjoin(report_by, report_by.id == report.recorded_by_id)
                    .where(report.matter_id == matter_id, report.recorded_at > received,
                           report.reported_on <= local_day(received))
                    .order_by(report.recorded_at, report.id).limit(LATE_REPORTS_SHOWN)
                    .subquery("late_reports"))
    return union_all(entries, steps, cadence, select(late_reports))


def for_complaint(complaint: Complaint, language: str | None = None) -> PreventionRecord | None:
    """The prevention record of the complaint's matter at receipt; None when it has no matter
    or no moment of receipt. One statement (the matter is the complaint's, usually loaded)."""
    matter = complaint.matter
    if matter is None or complaint.received_at is None:
        return None
    language = language or _language()
    received = complaint.received_at
    record = PreventionRecord(matter_reference=matter.reference, received_at=received)
    entries: dict[str, list] = {}
    interval, reported = DEFAULT_REPORT_INTERVAL_DAYS, None
    for row in db.session.execute(_statement(complaint, matter.id)):
        if row.kind == "expectation":
            entries.setdefault(row.code, []).append(row)
        elif row.kind == "checklist":
            record.checklist_size += 1
            label = row.label_en if language == "en" else row.label_zh
            ticked_in_time = row.moment is not None and row.moment <= received
            if row.code in ENGAGEMENT_STAGES and not ticked_in_time:
                record.unticked.append((row.number, label))
            if row.moment is not None and row.moment > received:
                record.late.append(LateEntry("checklist", label, row.moment, None, row.by_name))
        elif row.kind == "cadence":
            interval, reported = row.number, _as_date(row.day)
        else:  # a report recorded after the complaint, claiming a day before it
            channel = REPORT_CHANNEL_LABELS.get(row.code, row.code)
            record.late.append(LateEntry("report", _("Progress report (%(channel)s)",
                                                     channel=str(channel)),
                                         row.moment, _as_date(row.day), row.by_name))
    record.unticked = [label for _position, label in sorted(record.unticked)]
    for expectation in Expectation:
        label = str(EXPECTATION_LABELS[expectation])
        rows = sorted(entries.get(expectation.value, []), key=lambda r: (r.moment, r.number))
        on_file = [r for r in rows if r.moment <= received]
        latest = on_file[-1] if on_file else None
        record.expectations.append(ExpectationAtReceipt(
            expectation.value, label, bool(latest and latest.content),
            latest.moment if latest else None, latest.by_name if latest else None))
        record.late += [LateEntry("expectation", label, r.moment, _as_date(r.day), r.by_name)
                        for r in rows if r.moment > received]
    until = local_day(received)
    closed_before = matter.closed_on is not None and matter.closed_on < until
    if closed_before:
        until = matter.closed_on
    since = reported or matter.opened_on
    record.cadence = Cadence(interval=interval, since=since, since_report=reported is not None,
                             until=until, closed_before=closed_before)
    record.late.sort(key=lambda entry: entry.recorded_at)
    return record


def _as_date(value: date | str | None) -> date | None:
    """SQLite answers an aggregate's date as text."""
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])
