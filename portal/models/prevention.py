"""Prevention (phase 0): what the firm does on every matter so that a client need not complain.

- A matter type carries the default progress-report interval and the checklist template of
  the standard procedure (reception, conflict check, engagement contract, strategy, progress
  reports, closing, archiving).
- Engagement expectations are an append-only history per matter: each entry says which item
  (scope, fees, risks, ...), what was recorded, by whom and when. The current value of an item
  is its latest entry; what was on file when a complaint arrived is the latest entry recorded
  before it (`recorded_at`, never a date the entry claims).
- Each matter's checklist is copied from its type's template when the matter is created, so
  that editing the template later does not rewrite a matter's history; a tick records who and
  when, and may hold a document.
- Progress reports to the client are logged; the matter stores the day the next one is due
  (`Matter.report_due_on`, services/prevention/reports.py keeps it), so that overdue matters
  are one indexed comparison.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.matter import Matter
from portal.models.user import User

DEFAULT_REPORT_INTERVAL_DAYS = 30


class MatterStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    ARCHIVED = "archived"


MATTER_STATUS_LABELS = {
    MatterStatus.OPEN: lazy_pgettext("matter status", "Open"),  # 在办, not "open a file"
    MatterStatus.CLOSED: _l("Closed"),
    MatterStatus.ARCHIVED: _l("Archived"),
}


class Expectation(StrEnum):
    """What is set and written down at engagement (the guidance's list)."""

    SCOPE = "scope"
    FEES = "fees"  # the fee arrangement and estimate
    RISKS = "risks"
    OUTCOMES = "outcomes"  # the realistic range of outcomes
    TIMETABLE = "timetable"
    COMPLAINTS_PROCEDURE = "complaints_procedure"  # the day the client was given it


EXPECTATION_LABELS = {
    Expectation.SCOPE: _l("Scope of service"),
    Expectation.FEES: _l("Fee arrangement and estimate"),
    Expectation.RISKS: _l("Main risks"),
    Expectation.OUTCOMES: _l("Realistic range of outcomes"),
    Expectation.TIMETABLE: _l("Expected timetable"),
    Expectation.COMPLAINTS_PROCEDURE: _l("Complaints procedure given to the client"),
}


class Stage(StrEnum):
    RECEPTION = "reception"
    CONFLICT_CHECK = "conflict_check"
    ENGAGEMENT = "engagement"
    STRATEGY = "strategy"
    PROGRESS = "progress"
    CLOSING = "closing"
    ARCHIVING = "archiving"


STAGE_LABELS = {
    Stage.RECEPTION: _l("Reception"),
    Stage.CONFLICT_CHECK: _l("Conflict check"),
    Stage.ENGAGEMENT: _l("Engagement contract"),
    Stage.STRATEGY: _l("Strategy discussed with the client"),
    Stage.PROGRESS: _l("Progress reports"),
    Stage.CLOSING: _l("Closing"),
    Stage.ARCHIVING: _l("Archiving"),
}


class ReportChannel(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    MEETING = "meeting"
    LETTER = "letter"
    MESSAGE = "message"  # WeChat and the like


REPORT_CHANNEL_LABELS = {
    ReportChannel.EMAIL: _l("Email"),
    ReportChannel.PHONE: _l("Phone call"),
    ReportChannel.MEETING: _l("Meeting"),
    ReportChannel.LETTER: _l("Letter"),
    ReportChannel.MESSAGE: _l("Instant message"),
}


class MatterType(db.Model):
    __tablename__ = "matter_type"

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label_zh: Mapped[str] = mapped_column(String(100))
    label_en: Mapped[str] = mapped_column(String(100))
    report_interval_days: Mapped[int] = mapped_column(default=DEFAULT_REPORT_INTERVAL_DAYS)
    active: Mapped[bool] = mapped_column(default=True)
    position: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    items: Mapped[list[ChecklistTemplateItem]] = relationship(
        order_by="(ChecklistTemplateItem.position, ChecklistTemplateItem.id)",
        back_populates="matter_type")

    __mapper_args__ = {"version_id_col": version}

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh


class ChecklistTemplateItem(db.Model):
    """One step of a matter type's standard procedure; partners edit them in the browser."""

    __tablename__ = "checklist_template_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_type_code: Mapped[str] = mapped_column(ForeignKey("matter_type.code"), index=True)
    stage: Mapped[str] = mapped_column(String(20))
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    needs_document: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    matter_type: Mapped[MatterType] = relationship(back_populates="items")

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh


class ExpectationEntry(db.Model):
    """One recording of an engagement expectation; the latest per item is the current one."""

    __tablename__ = "expectation_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"),
                                           index=True)
    item: Mapped[str] = mapped_column(String(30))  # an Expectation
    text: Mapped[str | None] = mapped_column(Text)
    given_on: Mapped[date | None]  # the complaints procedure: the day it was given
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recorded_by: Mapped[User | None] = relationship()


class MatterChecklistItem(db.Model):
    """A step of one matter's checklist (copied from the template), ticked or not."""

    __tablename__ = "matter_checklist_item"
    __table_args__ = (UniqueConstraint("matter_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"),
                                           index=True)
    template_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("checklist_template_item.id", ondelete="SET NULL"))
    stage: Mapped[str] = mapped_column(String(20))
    label_zh: Mapped[str] = mapped_column(String(200))
    label_en: Mapped[str] = mapped_column(String(200))
    needs_document: Mapped[bool] = mapped_column(default=False)
    position: Mapped[int]
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ticked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The document kept with the tick (the signed engagement contract, ...), stored like
    # evidence: under a random name, with its hash.
    document_name: Mapped[str | None] = mapped_column(String(200))  # as uploaded
    document_stored: Mapped[str | None] = mapped_column(String(120), unique=True)
    document_type: Mapped[str | None] = mapped_column(String(100))
    document_size: Mapped[int | None]
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(default=1)

    ticked_by: Mapped[User | None] = relationship()
    matter: Mapped[Matter] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_ticked(self) -> bool:
        return self.ticked_at is not None

    def label(self, language: str) -> str:
        return self.label_en if language == "en" else self.label_zh


class ProgressReport(db.Model):
    """A report to the client on the matter: what happened, what came up, what comes next."""

    __tablename__ = "progress_report"

    id: Mapped[int] = mapped_column(primary_key=True)
    matter_id: Mapped[int] = mapped_column(ForeignKey("matter.id", ondelete="CASCADE"),
                                           index=True)
    reported_on: Mapped[date]
    channel: Mapped[str] = mapped_column(String(20))  # a ReportChannel
    summary: Mapped[str] = mapped_column(Text)
    text_sent: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    recorded_by: Mapped[User | None] = relationship()
