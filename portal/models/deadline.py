"""Deadline clocks: one row per deadline of a complaint, and the pauses that move them."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import User


class DeadlineKind(StrEnum):
    FIRST_RESPONSE = "first_response"  # working days; a promise: never pauses
    INVESTIGATION = "investigation"  # working days; pauses while waiting for the client
    FINAL_RESPONSE = "final_response"  # working days; pauses while waiting for the client
    REGULATORY = "regulatory"  # calendar days; never pauses


DEADLINE_LABELS = {
    DeadlineKind.FIRST_RESPONSE: _l("First response"),
    DeadlineKind.INVESTIGATION: _l("Investigation complete"),
    DeadlineKind.FINAL_RESPONSE: _l("Final response"),
    DeadlineKind.REGULATORY: _l("Regulatory deadline"),
}

PAUSABLE = frozenset({DeadlineKind.INVESTIGATION, DeadlineKind.FINAL_RESPONSE})


class Deadline(db.Model):
    __tablename__ = "complaint_deadline"
    __table_args__ = (
        UniqueConstraint("complaint_id", "kind"),
        # The lists and `flask sla tick` read open deadlines in due order.
        Index("ix_deadline_open_due", "kind", "stopped_at", "due", "complaint_id"),
        # The lists' "due" order (the first response, met or not) read in order, never sorted.
        Index("ix_deadline_kind_due", "kind", "due", "complaint_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20))
    due: Mapped[date]
    # Computed from a year whose holiday schedule a partner has not confirmed yet.
    provisional: Mapped[bool] = mapped_column(default=False)
    # Met (the first response given, the findings submitted) or no longer running
    # (withdrawn, closed): the clock stops and says whether it stopped late.
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stopped_late: Mapped[bool] = mapped_column(default=False)
    # `flask sla tick` marks what it sent, in the same write that queues the email.
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    @property
    def is_running(self) -> bool:
        return self.stopped_at is None

    @property
    def pausable(self) -> bool:
        return self.kind in PAUSABLE


class ClockPause(db.Model):
    """The investigation and final-response clocks paused while waiting for the client."""

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    paused_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resumed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # How many working days began during the pause: each paused clock moved by this much.
    working_days_added: Mapped[int | None]

    paused_by: Mapped[User | None] = relationship(foreign_keys=[paused_by_id])
    resumed_by: Mapped[User | None] = relationship(foreign_keys=[resumed_by_id])


class RegulatoryPeriod(db.Model):
    """The regulatory clock per jurisdiction, in calendar days from receipt."""

    jurisdiction: Mapped[str] = mapped_column(String(20), primary_key=True)
    days: Mapped[int] = mapped_column(default=56)
