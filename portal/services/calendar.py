"""Working days: the PRC calendar, provisional years, and the firm's own overrides.

Which calendar decides whether a day is a working day, in order:

1. a firm override (`CalendarOverride`), edited by partners in the browser;
2. for years the State Council schedule is published for (what `chinese_calendar` covers,
   2004–2026 in version 1.11), that schedule, including the make-up working weekends (调休);
3. for later years, the statutory holidays from `holidays.China` with weekends off and no
   make-up days. Dates computed from such a year are *provisional* until a partner confirms
   that year's schedule (`ConfirmedYear`), usually after entering its make-up days as overrides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache

import chinese_calendar
import holidays as holidays_lib
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models.calendar import CalendarOverride, ConfirmedYear
from portal.models.user import User
from portal.services import audit

LOCAL_TZ = clock.LOCAL_TZ
MIN_YEAR, MAX_YEAR = 2000, 2100  # what the portal accepts at all
_CHINESE_NAMES = {h.value: h.chinese for h in chinese_calendar.Holiday}


class CalendarError(ValueError):
    """A request the calendar cannot honour (date out of range, nothing to remove...)."""


# -- the official and the statutory calendars ------------------------------------------

@lru_cache(maxsize=1)
def official_years() -> range:
    """The years the State Council schedule bundled with chinese_calendar covers."""
    years = [d.year for d in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


def year_is_official(year: int) -> bool:
    return year in official_years()


@lru_cache(maxsize=32)
def _statutory(year: int) -> dict[date, str]:
    return dict(holidays_lib.China(years=year, language="en_US"))


@lru_cache(maxsize=32)
def _statutory_zh(year: int) -> dict[date, str]:
    return dict(holidays_lib.China(years=year, language="zh_CN"))


def _base_is_workday(day: date) -> bool:
    if year_is_official(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and day not in _statutory(day.year)


# -- overrides, loaded per year so that a loop over days costs one query per year -------

class _Overrides:
    def __init__(self) -> None:
        self._years: dict[int, dict[date, bool]] = {}

    def get(self, day: date) -> bool | None:
        if day.year not in self._years:
            rows = db.session.execute(
                select(CalendarOverride.day, CalendarOverride.is_workday).where(
                    CalendarOverride.day >= date(day.year, 1, 1),
                    CalendarOverride.day <= date(day.year, 12, 31),
                )
            ).all()
            self._years[day.year] = {d: w for d, w in rows}
        return self._years[day.year].get(day)


def _is_workday(day: date, overrides: _Overrides) -> bool:
    _check_range(day)
    forced = overrides.get(day)
    return _base_is_workday(day) if forced is None else forced


def is_workday(day: date) -> bool:
    return _is_workday(day, _Overrides())


def year_needs_confirmation(year: int) -> bool:
    """Not covered by the official schedule and not confirmed by a partner yet."""
    if year_is_official(year):
        return False
    return db.session.get(ConfirmedYear, year) is None


def add_working_days(start: date, n: int) -> date:
    """The n-th working day after `start` (the day of start itself is not counted)."""
    if n < 0:
        raise CalendarError("n must not be negative")
    overrides = _Overrides()
    day, counted = start, 0
    while counted < n:
        day += timedelta(days=1)
        if _is_workday(day, overrides):
            counted += 1
    return day


def working_days_between(after: date, through: date) -> int:
    """How many working days lie in (after, through]: after itself is not counted."""
    overrides = _Overrides()
    day, counted = after, 0
    while day < through:
        day += timedelta(days=1)
        if _is_workday(day, overrides):
            counted += 1
    return counted


@dataclass(frozen=True)
class Deadline:
    due: date
    provisional: bool


def local_day(moment: datetime) -> date:
    if moment.tzinfo is None:
        raise CalendarError("received_at must be timezone-aware")
    return moment.astimezone(LOCAL_TZ).date()


def first_response_due(received_at: datetime, working_days: int) -> Deadline:
    """The committed first-response date: `working_days` working days after the local
    (Asia/Shanghai) day of receipt, which does not count itself."""
    received = local_day(received_at)
    due = add_working_days(received, working_days)
    provisional = any(year_needs_confirmation(y) for y in range(received.year, due.year + 1))
    return Deadline(due=due, provisional=provisional)


def _check_range(day: date) -> None:
    check_year(day.year)


# -- changes (partners only; the route checks the role) ---------------------------------

def set_override(actor: User | None, day: date, is_workday: bool, note: str | None
                 ) -> CalendarOverride:
    """Create or replace the firm's decision for one day."""
    _check_range(day)
    note = (note or "").strip() or None
    row = db.session.get(CalendarOverride, day)
    previous = None if row is None else row.is_workday
    if row is None:
        row = CalendarOverride(day=day)
        db.session.add(row)
    row.is_workday = is_workday
    row.note = note
    row.updated_by_id = actor.id if actor else None
    row.updated_at = clock.now()
    db.session.flush()
    audit.record(
        "calendar.override_set", actor=actor, object_type="calendar_override",
        object_id=day.isoformat(),
        details={"day": day.isoformat(), "is_workday": is_workday, "note": note,
                 "previous": previous, "default": _base_is_workday(day)},
    )
    return row


def remove_override(actor: User | None, day: date) -> None:
    row = db.session.get(CalendarOverride, day)
    if row is None:
        raise CalendarError(f"no override on {day.isoformat()}")
    details = {"day": day.isoformat(), "is_workday": row.is_workday, "note": row.note}
    db.session.delete(row)
    db.session.flush()
    audit.record("calendar.override_removed", actor=actor, object_type="calendar_override",
                 object_id=day.isoformat(), details=details)


def confirm_year(actor: User | None, year: int) -> ConfirmedYear:
    """A partner checked the year's schedule (with the firm's overrides); idempotent."""
    check_year(year)
    row = db.session.get(ConfirmedYear, year)
    if row is not None:
        return row
    row = ConfirmedYear(year=year, confirmed_by_id=actor.id if actor else None,
                        confirmed_at=clock.now())
    db.session.add(row)
    db.session.flush()
    overrides = [d.isoformat() for d in db.session.scalars(
        select(CalendarOverride.day).where(CalendarOverride.day >= date(year, 1, 1),
                                           CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day))]
    audit.record("calendar.year_confirmed", actor=actor, object_type="confirmed_year",
                 object_id=year, details={"year": year, "official": year_is_official(year),
                                          "overrides": overrides})
    return row


def check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise CalendarError(f"{year} is outside {MIN_YEAR}–{MAX_YEAR}")


# -- the year as the calendar page shows it -------------------------------------------

@dataclass(frozen=True)
class SpecialDay:
    day: date
    kind: str  # "holiday" (a named day off) | "makeup" (a weekend day worked instead)
    name_en: str | None
    name_zh: str | None

    def name(self, language: str) -> str | None:
        return self.name_zh if language == "zh" else self.name_en


@dataclass
class YearSchedule:
    year: int
    official: bool
    confirmed: ConfirmedYear | None
    days: list[SpecialDay] = field(default_factory=list)
    overrides: list[CalendarOverride] = field(default_factory=list)

    @property
    def needs_confirmation(self) -> bool:
        return not self.official and self.confirmed is None


def _official_days(year: int) -> list[SpecialDay]:
    days = []
    start, end = date(year, 1, 1), date(year, 12, 31)
    for day, name in sorted(chinese_calendar.holidays.items()):
        if start <= day <= end:
            days.append(SpecialDay(day, "holiday", name, _CHINESE_NAMES.get(name, name)))
    for day, name in sorted(chinese_calendar.workdays.items()):
        if start <= day <= end and day.weekday() >= 5:
            days.append(SpecialDay(day, "makeup", name, _CHINESE_NAMES.get(name, name)))
    return sorted(days, key=lambda s: s.day)


def _statutory_days(year: int) -> list[SpecialDay]:
    zh = _statutory_zh(year)
    return [SpecialDay(day, "holiday", name, zh.get(day, name))
            for day, name in sorted(_statutory(year).items())]


def year_schedule(year: int) -> YearSchedule:
    check_year(year)
    official = year_is_official(year)
    overrides = list(db.session.scalars(
        select(CalendarOverride).where(CalendarOverride.day >= date(year, 1, 1),
                                       CalendarOverride.day <= date(year, 12, 31))
        .order_by(CalendarOverride.day)))
    return YearSchedule(
        year=year,
        official=official,
        confirmed=db.session.get(ConfirmedYear, year),
        days=_official_days(year) if official else _statutory_days(year),
        overrides=overrides,
    )
