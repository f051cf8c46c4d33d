"""The analytics filters (period, department, severity) read from a query string, and the
facets the complaints list gains so that each figure links to the complaints behind it.

A period is `from`/`to` months (YYYY-MM), or `period`: a quarter (2026Q3), a year (2026) or a
month (2026-07). Without one, the last twelve months up to the current one. Bad input raises
`FilterError` with a translated message naming what was wrong (the route answers 422).

The conditions are SQL on `Complaint`, the same for the figures and the list.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import ColumnElement, exists, literal, select

from portal.clock import LOCAL_TZ
from portal.db import db
from portal.models.complaint import CHANNEL_LABELS, Complaint
from portal.models.followup import ComplaintRootCause, RootCause
from portal.models.investigation import CATEGORY_LABELS, SEVERITY_LABELS
from portal.models.user import Department, User
from portal.services import calendar
from portal.services.analytics import facts
from portal.services.analytics.sql import json_elements

MONTH = re.compile(r"(\d{4})-(\d{2})")
QUARTER = re.compile(r"(\d{4})-?[Qq]([1-4])")
YEAR = re.compile(r"\d{4}")
DEFAULT_MONTHS = 12
SHOWN_MAX = 40  # characters of a rejected value repeated in a message


@dataclass(frozen=True)
class Catalogue:
    """The departments and root causes the filters and labels name (two small queries)."""

    departments: tuple[tuple[int, str, str], ...]  # id, name_zh, name_en
    causes: tuple[tuple[int, str, str, str], ...]  # id, code, label_zh, label_en

    @property
    def department_ids(self) -> set[int]:
        return {row[0] for row in self.departments}

    def cause_code(self, cause_id: str) -> str | None:
        return next((code for id_, code, _zh, _en in self.causes if str(id_) == cause_id), None)


def catalogue() -> Catalogue:
    departments = db.session.execute(select(Department.id, Department.name_zh,
                                            Department.name_en).order_by(Department.id)).all()
    causes = db.session.execute(select(RootCause.id, RootCause.code, RootCause.label_zh,
                                       RootCause.label_en)
                                .order_by(RootCause.position, RootCause.id)).all()
    return Catalogue(tuple(tuple(r) for r in departments), tuple(tuple(r) for r in causes))


class FilterError(ValueError):
    """A filter the portal cannot apply; the message is translated and names the value."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


def _shown(value: str) -> str:
    return value[:SHOWN_MAX]


def month_start(text: str) -> date | None:
    """The first day of a YYYY-MM month within the calendar's years, else None."""
    match = MONTH.fullmatch(text.strip())
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (calendar.MIN_YEAR <= year <= calendar.MAX_YEAR and 1 <= month <= 12):
        return None
    return date(year, month, 1)


def month_end(first: date) -> date:
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return following - timedelta(days=1)


def add_months(first: date, months: int) -> date:
    index = first.year * 12 + first.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def month_key(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_bounds(text: str) -> tuple[date, date] | None:
    match = QUARTER.fullmatch(text.strip())
    if not match or not calendar.MIN_YEAR <= int(match[1]) <= calendar.MAX_YEAR:
        return None
    first = date(int(match[1]), 3 * int(match[2]) - 2, 1)
    return first, month_end(add_months(first, 2))


def quarter_of(day: date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def previous_quarter(text: str) -> str:
    bounds = quarter_bounds(text)
    if bounds is None:
        raise ValueError(text)
    return quarter_of(add_months(bounds[0], -3))


def period_bounds(text: str) -> tuple[date, date]:
    """A quarter, a year or a month; FilterError naming the text otherwise."""
    text = text.strip()
    quarter = quarter_bounds(text)
    if quarter is not None:
        return quarter
    if YEAR.fullmatch(text) and calendar.MIN_YEAR <= int(text) <= calendar.MAX_YEAR:
        return date(int(text), 1, 1), date(int(text), 12, 31)
    first = month_start(text)
    if first is not None:
        return first, month_end(first)
    raise FilterError("period", _(
        "“%(value)s” is not a period: use a quarter such as 2026Q3, a year such as 2026 or a "
        "month such as 2026-07.", value=_shown(text)))


def _month_arg(args: Mapping[str, str], name: str) -> date | None:
    text = (args.get(name) or "").strip()
    if not text:
        return None
    first = month_start(text)
    if first is None:
        raise FilterError(name, _("“%(value)s” is not a month: use the form YYYY-MM, "
                                  "between 2000 and 2100.", value=_shown(text)))
    return first


def _department_arg(args: Mapping[str, str], departments: set[int] | None) -> int | None:
    text = (args.get("department") or "").strip()
    if not text:
        return None
    if not text.isdigit() or (departments is not None and int(text) not in departments):
        raise FilterError("department", _("There is no department “%(value)s”.",
                                          value=_shown(text)))
    return int(text)


def _severity_arg(args: Mapping[str, str]) -> str | None:
    text = (args.get("severity") or "").strip()
    if not text:
        return None
    if text not in SEVERITY_LABELS:
        raise FilterError("severity", _("“%(value)s” is not a severity.", value=_shown(text)))
    return text


@dataclass(frozen=True)
class Criteria:
    """What /analytics shows: the complaints received in [start, end] (whole months), of one
    department and one severity when they are given."""

    start: date
    end: date
    department_id: int | None = None
    severity: str | None = None

    @property
    def months(self) -> list[str]:
        keys, month = [], self.start
        while month <= self.end:
            keys.append(month_key(month))
            month = add_months(month, 1)
        return keys

    def query_args(self) -> dict[str, str]:
        args = {"from": month_key(self.start), "to": month_key(self.end)}
        if self.department_id is not None:
            args["department"] = str(self.department_id)
        if self.severity:
            args["severity"] = self.severity
        return args

    def conditions(self) -> list[ColumnElement[bool]]:
        return Facets(start=self.start, end=self.end, department_id=self.department_id,
                      severity=self.severity).conditions(None, None)

    def label(self) -> str:
        first, last = month_key(self.start), month_key(self.end)
        return first if first == last else f"{first} – {last}"


def parse(args: Mapping[str, str], today: date, departments: set[int] | None = None
          ) -> Criteria:
    """The criteria a query string asks for (see the module's docstring)."""
    period = (args.get("period") or "").strip()
    if period:
        start, end = period_bounds(period)
    else:
        first, last = _month_arg(args, "from"), _month_arg(args, "to")
        current = today.replace(day=1)
        if first is None and last is None:
            first, last = add_months(current, 1 - DEFAULT_MONTHS), current
        elif first is None:
            first = add_months(last, 1 - DEFAULT_MONTHS)
        elif last is None:
            last = max(current, first)
        if last < first:
            raise FilterError("to", _("The period ends in %(end)s, before it starts in "
                                      "%(start)s.", end=month_key(last), start=month_key(first)))
        start, end = first, month_end(last)
    return Criteria(start=start, end=end, department_id=_department_arg(args, departments),
                    severity=_severity_arg(args))


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ)


# -- the complaints list's facets -------------------------------------------------------------

FACET_STATUSES = (facts.ON_TIME, facts.LATE, facts.PENDING)


@dataclass(frozen=True)
class Facets:
    """Filters of the complaints list that the analytics link to. Any of them keeps only
    registered complaints (what the figures count)."""

    start: date | None = None
    end: date | None = None
    department_id: int | None = None
    severity: str | None = None
    channel: str | None = None
    category: str | None = None
    root_cause: str | None = None  # a RootCause code
    ack: str | None = None  # on_time | late | pending
    response: str | None = None
    today: date | None = field(default=None, compare=False)

    @property
    def active(self) -> bool:
        return bool(self.query_args())

    def query_args(self) -> dict[str, str]:
        args: dict[str, str] = {}
        if self.start and self.end:
            first, last = self.start.replace(day=1), self.end.replace(day=1)
            if first == last:
                args["month"] = month_key(first)
            else:
                args["from"], args["to"] = month_key(first), month_key(last)
        for name in ("department_id", "severity", "channel", "category", "root_cause", "ack",
                     "response"):
            value = getattr(self, name)
            if value is not None:
                args[name.removesuffix("_id")] = str(value)
        return args

    def without(self, name: str) -> dict[str, str]:
        """The query string of these facets but one (`month` drops the period)."""
        args = self.query_args()
        for key in (("month", "from", "to") if name == "month" else (name,)):
            args.pop(key, None)
        return args

    def conditions(self, viewer: User | None, today: date | None) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.start is not None:
            found.append(Complaint.received_at >= local_midnight(self.start))
        if self.end is not None:
            found.append(Complaint.received_at < local_midnight(self.end + timedelta(days=1)))
        if self.department_id is not None:
            found.append(facts.in_department(self.department_id))
        if self.severity:
            found.append(Complaint.severity == self.severity)
        if self.channel:
            found.append(Complaint.channel == self.channel)
        if self.category:
            element = json_elements(Complaint.categories, "category")
            found.append(exists(select(literal(1)).select_from(element)
                                .where(element.c.value == self.category)))
        if self.root_cause:
            found.append(Complaint.id.in_(
                select(ComplaintRootCause.complaint_id)
                .join(RootCause, RootCause.id == ComplaintRootCause.root_cause_id)
                .where(RootCause.code == self.root_cause)))
        for name, column in (("ack", "ack_status"), ("response", "response_status")):
            value = getattr(self, name)
            if value:
                found.append(facts.status_in(column, value, viewer, today or self.today))
        if found:
            found.insert(0, Complaint.registered_at.is_not(None))
        return found


def facets_from(args: Mapping[str, str], today: date) -> Facets:
    """The list's facets; a value that is not one of the known ones is left out (the list
    shows which facets apply, so nothing is filtered silently)."""
    month = month_start(args.get("month") or "")
    first, last = month_start(args.get("from") or ""), month_start(args.get("to") or "")
    start = end = None
    if month is not None:
        start, end = month, month_end(month)
    elif first is not None or last is not None:
        start = first
        end = month_end(last) if last is not None else None
        if start is not None and end is not None and end < start:
            start = end = None
    department = (args.get("department") or "").strip()
    facets = Facets(
        start=start, end=end,
        department_id=int(department) if department.isdigit() and len(department) < 10
        else None,
        severity=_known(args.get("severity"), SEVERITY_LABELS),
        channel=_known(args.get("channel"), CHANNEL_LABELS),
        category=_known(args.get("category"), CATEGORY_LABELS),
        root_cause=(args.get("root_cause") or "").strip()[:40] or None,
        ack=_known(args.get("ack"), FACET_STATUSES),
        response=_known(args.get("response"), FACET_STATUSES),
        today=today,
    )
    return facets


def describe(facets: Facets, language: str) -> list[tuple[str, str]]:
    """(facet name, "What: value") for each facet in use, for the list to show (at most two
    small queries: a department's and a root cause's name)."""
    english = language == "en"
    found: list[tuple[str, str]] = []
    args = facets.query_args()
    if "month" in args:
        found.append(("month", _("Received in %(month)s", month=args["month"])))
    elif facets.start or facets.end:
        found.append(("month", _("Received %(start)s – %(end)s",
                                 start=month_key(facets.start) if facets.start else "…",
                                 end=month_key(facets.end) if facets.end else "…")))
    if facets.department_id is not None:
        name = db.session.execute(select(Department.name_zh, Department.name_en)
                                  .where(Department.id == facets.department_id)).first()
        shown = (name[1] if english else name[0]) if name else str(facets.department_id)
        found.append(("department", _("Department: %(name)s", name=shown)))
    for key, labels, what in (("severity", SEVERITY_LABELS, _("Severity")),
                              ("channel", CHANNEL_LABELS, _("Channel")),
                              ("category", CATEGORY_LABELS, _("Category"))):
        value = getattr(facets, key)
        if value:
            label = next((str(v) for k, v in labels.items() if k == value), value)
            found.append((key, f"{what}: {label}"))
    if facets.root_cause:
        cause = db.session.execute(select(RootCause.label_zh, RootCause.label_en)
                                   .where(RootCause.code == facets.root_cause)).first()
        shown = (cause[1] if english else cause[0]) if cause else facets.root_cause
        found.append(("root_cause", _("Root cause: %(name)s", name=shown)))
    statuses = {facts.ON_TIME: _("on time"), facts.LATE: _("late"),
                facts.PENDING: _("not due yet")}
    if facets.ack:
        found.append(("ack", _("Acknowledgement: %(status)s", status=statuses[facets.ack])))
    if facets.response:
        found.append(("response", _("First response: %(status)s",
                                    status=statuses[facets.response])))
    return found


def _known(value: str | None, allowed) -> str | None:
    value = (value or "").strip()
    return value if value and value in allowed else None


def for_drill_down(criteria: Criteria, **extra: str) -> dict[str, str]:
    """The /complaints query string behind one figure: the criteria plus one facet."""
    facets = Facets(start=criteria.start, end=criteria.end,
                    department_id=criteria.department_id, severity=criteria.severity)
    if "month" in extra:
        first = month_start(extra.pop("month"))
        if first is not None:
            facets = replace(facets, start=first, end=month_end(first))
    return {"state": "all", **facets.query_args(), **extra}
