"""Follow-up and learning: the satisfaction call-back, root causes, improvement actions, and the
working-day table the analytics count spans with.

- A `Callback` is created when a complaint reaches follow_up, due FOLLOW_UP_CALLBACK_DAYS
  after. The handler phones (each try a `CallAttempt`) or the client answers a short survey
  through a signed, single-use link. An open issue sends the complaint back to
  remedies_in_progress; a satisfied answer makes it ready to close; after three unanswered
  calls a partner may close it as not reached.
- Closing (follow_up -> closed) needs one or more `RootCause` from the catalogue partners
  edit, kept as `ComplaintRootCause` rows (with the text of "other").
- An `ImprovementAction` has an owner, a due date and a status, and links the complaints and
  root causes that prompted it.
- `WorkingDay` numbers the firm's working days, so that a span in working days is the
  difference of two numbers in SQL (services/analytics).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import User


class RootCause(db.Model):
    """An entry of the root-cause catalogue (partners edit it; seeded by the migration)."""

    __tablename__ = "root_cause"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    needs_text: Mapped[bool] = mapped_column(default=False)  # "other": the partner says what
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh


class ComplaintRootCause(db.Model):
    __tablename__ = "complaint_root_cause"
    __table_args__ = (UniqueConstraint("complaint_id", "root_cause_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    root_cause_id: Mapped[int] = mapped_column(ForeignKey("root_cause.id"), index=True)
    text: Mapped[str | None] = mapped_column(Text)  # for a cause that needs one ("other")
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    root_cause: Mapped[RootCause] = relationship()


class CallbackStatus(StrEnum):
    OPEN = "open"  # waiting for the call or the survey
    SATISFIED = "satisfied"  # reached, nothing open: the complaint may be closed
    OPEN_ISSUE = "open_issue"  # reached, something left: back to the remedies
    NOT_REACHED = "not_reached"  # three calls unanswered: a partner may close


CALLBACK_STATUS_LABELS = {
    CallbackStatus.OPEN: _l("Waiting for the call-back"),
    CallbackStatus.SATISFIED: _l("Satisfied"),
    CallbackStatus.OPEN_ISSUE: _l("Issue left open"),
    CallbackStatus.NOT_REACHED: _l("Not reached"),
}


class Callback(db.Model):
    """The satisfaction call-back of one pass through follow-up (a complaint sent back to the
    remedies gets a new one when it returns)."""

    __tablename__ = "callback"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    due: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default=CallbackStatus.OPEN, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # The survey: one signed link, usable once.
    survey_nonce: Mapped[str | None] = mapped_column(String(64))
    survey_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    survey_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The result (by phone or survey).
    method: Mapped[str | None] = mapped_column(String(20))  # phone | survey
    satisfaction: Mapped[int | None]  # 1..5
    open_issue: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the owner's reminder
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    attempts: Mapped[list[CallAttempt]] = relationship(
        order_by="CallAttempt.id", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status == CallbackStatus.OPEN

    @property
    def unanswered_calls(self) -> int:
        return sum(1 for a in self.attempts if not a.reached)


class CallAttempt(db.Model):
    __tablename__ = "call_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    callback_id: Mapped[int] = mapped_column(
        ForeignKey("callback.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    reached: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None] = mapped_column(Text)

    by: Mapped[User | None] = relationship()


class ActionKind(StrEnum):
    PROCEDURE = "procedure"
    TRAINING = "training"
    TOOL = "tool"
    OTHER = "other"


ACTION_KIND_LABELS = {
    ActionKind.PROCEDURE: _l("Procedure change"),
    ActionKind.TRAINING: _l("Training"),
    ActionKind.TOOL: _l("Tool"),
    ActionKind.OTHER: _l("Other action"),
}


class ActionStatus(StrEnum):
    PLANNED = "planned"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DROPPED = "dropped"


ACTION_STATUS_LABELS = {
    ActionStatus.PLANNED: _l("Planned"),
    ActionStatus.IN_PROGRESS: _l("In progress"),
    ActionStatus.DONE: _l("Done"),
    ActionStatus.DROPPED: _l("Dropped"),
}
OPEN_ACTION_STATUSES = (ActionStatus.PLANNED, ActionStatus.IN_PROGRESS)

action_complaint = Table(
    "improvement_action_complaint", db.Model.metadata,
    Column("action_id", ForeignKey("improvement_action.id", ondelete="CASCADE"),
           primary_key=True),
    Column("complaint_id", ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True,
           index=True),
)
action_root_cause = Table(
    "improvement_action_root_cause", db.Model.metadata,
    Column("action_id", ForeignKey("improvement_action.id", ondelete="CASCADE"),
           primary_key=True),
    Column("root_cause_id", ForeignKey("root_cause.id"), primary_key=True, index=True),
)


class ImprovementAction(db.Model):
    __tablename__ = "improvement_action"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20))
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due: Mapped[date] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20), default=ActionStatus.PLANNED, index=True)
    status_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    complaints = relationship("Complaint", secondary=action_complaint)
    root_causes: Mapped[list[RootCause]] = relationship(secondary=action_root_cause)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ACTION_STATUSES

    def is_overdue(self, today: date) -> bool:
        return self.is_open and self.due < today


class WorkingDay(db.Model):
    """Every calendar day with the number of working days up to it (inclusive), on the firm's
    calendar: the working days from a to b are number(b) - number(a). Kept by
    services/analytics/calendar_table.py for the years the data covers."""

    __tablename__ = "working_day"

    day: Mapped[date] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(index=True)
    is_workday: Mapped[bool]
