"""The working-day table: every calendar day numbered by the working days up to it, so that a
span in working days is a difference of two numbers in SQL (`WorkingDay`).

`number(day)` counts the working days from the table's first day up to and including `day`;
so number(b) - number(a) is how many working days lie in (a, b], as
`services.calendar.working_days_between(a, b)` counts them, and a weekend or holiday has the
number of the working day before it.

Which day is a working day is the firm's calendar (`services/calendar.py`: the firm's
overrides, then the State Council schedule, then the statutory holidays). The table follows
it: a change to a `CalendarOverride` deletes the rows from the changed day on, in the same
transaction (the flush hook below), and the next `ensure()` numbers them again from there.
`ensure()` also compares the overrides with the rows it holds, which catches an override
written without the ORM.

`ensure(first, last)` is one small query when the table already covers the days; otherwise
it fills the table in its own short write transaction (call it before a read starts, or
between reads: it ends the current read). Filling five years takes a few thousand rows.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import delete, event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal.db import db, write_transaction
from portal.models.calendar import CalendarOverride
from portal.models.followup import WorkingDay
from portal.services import calendar

TABLE = WorkingDay.__table__


def _state() -> tuple[date | None, date | None, int, date | None]:
    """(first day, last day, rows, first day whose row disagrees with an override)."""
    mismatch = (select(func.min(CalendarOverride.day))
                .join(WorkingDay, WorkingDay.day == CalendarOverride.day)
                .where(WorkingDay.is_workday != CalendarOverride.is_workday)
                .scalar_subquery())
    row = db.session.execute(select(func.min(WorkingDay.day), func.max(WorkingDay.day),
                                    func.count(), mismatch)).one()
    return row[0], row[1], int(row[2] or 0), row[3]


def _covers(state: tuple, first: date, last: date) -> bool:
    low, high, rows, mismatch = state
    if low is None or high is None or mismatch is not None:
        return False
    contiguous = rows == (high - low).days + 1
    return contiguous and low <= first and high >= last


def clamp(day: date) -> date:
    """A day inside the years the calendar accepts (2000-2100)."""
    return min(max(day, date(calendar.MIN_YEAR, 1, 1)), date(calendar.MAX_YEAR, 12, 31))


def ensure(first: date, last: date) -> bool:
    """Make the table cover [first, last] (clamped to the calendar's years); True when it had
    to write. Ends the current read transaction when it writes."""
    first, last = clamp(first), clamp(last)
    if first > last or _covers(_state(), first, last):
        return False
    try:
        with write_transaction():
            _fill(first, last)
    except IntegrityError:  # another process filled the same days meanwhile
        db.session.rollback()
    return True


def _fill(first: date, last: date) -> None:
    """In a write: number the days again from where the table stops being right."""
    low, high, rows, mismatch = _state()
    if mismatch is not None:
        db.session.execute(delete(TABLE).where(TABLE.c.day >= mismatch))
        low, high, rows, _mismatch = _state()
    contiguous = low is not None and high is not None and rows == (high - low).days + 1
    if not contiguous or first < low:
        # Empty, gapped or starting too late: number everything again from `first`.
        start = min(first, low) if contiguous else first
        end = max(last, high) if contiguous else last
        db.session.execute(delete(TABLE))
        _insert(start, end, 0)
        return
    if last > high:
        before = db.session.scalar(select(WorkingDay.number).where(WorkingDay.day == high))
        _insert(high + timedelta(days=1), last, int(before or 0))


def _insert(start: date, end: date, number: int) -> None:
    overrides = calendar._Overrides()  # the calendar's own rule, one query per year
    rows = []
    day = start
    while day <= end:
        workday = calendar._is_workday(day, overrides)
        number += 1 if workday else 0
        rows.append({"day": day, "number": number, "is_workday": workday})
        day += timedelta(days=1)
    for offset in range(0, len(rows), 1000):
        db.session.execute(insert(TABLE), rows[offset:offset + 1000])


def span_days(first: date, last: date) -> int:
    """Working days in (first, last] read from the table (for checks; SQL joins it)."""
    numbers = dict(db.session.execute(
        select(WorkingDay.day, WorkingDay.number).where(WorkingDay.day.in_([first, last]))).all())
    return numbers[last] - numbers[first]


# -- the hook: an override changes, the rows from its day on go -------------------------------

@event.listens_for(Session, "after_flush")
def _forget_changed_days(session: Session, _context: object) -> None:
    days = [obj.day for obj in (*session.new, *session.dirty, *session.deleted)
            if isinstance(obj, CalendarOverride) and obj.day is not None]
    if days:
        session.connection().execute(delete(TABLE).where(TABLE.c.day >= min(days)))
