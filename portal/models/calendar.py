"""Firm overrides of the PRC working-day calendar, and confirmed yearly schedules."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.db import UTCDateTime, db


class CalendarOverride(db.Model):
    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    note: Mapped[str | None] = mapped_column(String(200))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ConfirmedYear(db.Model):
    """A partner checked this year's schedule (with overrides) against the State Council's."""

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
