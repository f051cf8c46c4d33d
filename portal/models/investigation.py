"""The investigation phase: triage's allegations and routing, who investigates (and who may
not), both sides' statements, interview notes, the first response and the findings."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import User


class Severity(StrEnum):
    MINOR = "minor"
    GENERAL = "general"
    SERIOUS = "serious"
    CRITICAL = "critical"


SEVERITY_LABELS = {
    Severity.MINOR: _l("Minor"),
    Severity.GENERAL: _l("General"),
    Severity.SERIOUS: _l("Serious"),
    Severity.CRITICAL: _l("Critical"),
}

# Shown beside each choice in the triage form, so that two partners grade alike.
SEVERITY_DEFINITIONS = {
    Severity.MINOR: _l("A misunderstanding or a small lapse in service, with no loss to the "
                       "client; an explanation or an apology settles it."),
    Severity.GENERAL: _l("A real shortcoming in service, communication or billing that the "
                         "client noticed, with little or no financial loss."),
    Severity.SERIOUS: _l("A shortcoming that harmed the client's interests or cost them money, "
                         "or a possible breach of the profession's rules."),
    Severity.CRITICAL: _l("Possible misconduct, a breach of law, a conflict of interest or of "
                          "confidentiality, or a risk of regulatory action or litigation."),
}


class Category(StrEnum):
    COMMUNICATION = "communication"
    FEES = "fees"
    COMPETENCE = "competence"
    DELAY = "delay"
    ATTITUDE = "attitude"
    CONFLICT = "conflict"
    CONFIDENTIALITY = "confidentiality"
    OTHER = "other"


CATEGORY_LABELS = {
    Category.COMMUNICATION: _l("Communication"),
    Category.FEES: _l("Fees and billing"),
    Category.COMPETENCE: _l("Competence or diligence"),
    Category.DELAY: _l("Delay"),
    Category.ATTITUDE: _l("Attitude"),
    Category.CONFLICT: _l("Conflict of interest"),
    Category.CONFIDENTIALITY: _l("Confidentiality"),
    Category.OTHER: lazy_pgettext("category", "Other"),
}


class LeadLevel(StrEnum):
    DEPARTMENT_HEAD = "department_head"
    PARTNER = "partner"
    COMMITTEE = "committee"


LEAD_LEVEL_LABELS = {
    LeadLevel.DEPARTMENT_HEAD: _l("Department head"),
    LeadLevel.PARTNER: _l("Partner"),
    LeadLevel.COMMITTEE: _l("Complaints committee"),
}


class RoutingRule(db.Model):
    """What a severity requires: the lead's level, how many investigators, and the working
    days allowed for the investigation and the final response. Partners edit it."""

    severity: Mapped[str] = mapped_column(String(20), primary_key=True)
    lead_level: Mapped[str] = mapped_column(String(20))
    investigators_required: Mapped[int] = mapped_column(default=1)
    investigation_days: Mapped[int] = mapped_column(default=20)
    final_response_days: Mapped[int] = mapped_column(default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))


class Allegation(db.Model):
    """One numbered point of the complaint, recorded at triage; the lead's findings on it
    are stored on the same row once made."""

    __table_args__ = (UniqueConstraint("complaint_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30))
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    # The findings (see Finding below); empty until the lead records them.
    finding: Mapped[str | None] = mapped_column(String(30))
    reasoning: Mapped[str | None] = mapped_column(Text)
    nature_found: Mapped[str | None] = mapped_column(String(30))  # a Category
    severity_found: Mapped[str | None] = mapped_column(String(20))  # a Severity
    responsibility: Mapped[str | None] = mapped_column(String(20))
    remedies_recommended: Mapped[list[str]] = mapped_column(JSON, default=list)
    remedy_notes: Mapped[str | None] = mapped_column(Text)
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Moved on by every save of the findings: a form posting an older one is stale (409).
    findings_version: Mapped[int] = mapped_column(default=0)

    respondent: Mapped[User | None] = relationship(foreign_keys=[respondent_id])
    rules: Mapped[list[RuleArticle]] = relationship(secondary="allegation_rule",
                                                    order_by="RuleArticle.id")

    @property
    def is_answered(self) -> bool:
        return bool(self.finding and (self.reasoning or "").strip() and self.responsibility)


class Finding(StrEnum):
    ESTABLISHED = "established"
    PARTLY = "partly_established"
    NOT_ESTABLISHED = "not_established"


FINDING_LABELS = {
    Finding.ESTABLISHED: _l("Established"),
    Finding.PARTLY: _l("Partly established"),
    Finding.NOT_ESTABLISHED: _l("Not established"),
}


class Responsibility(StrEnum):
    INDIVIDUAL = "individual"
    TEAM = "team"
    PROCESS = "process"
    NO_FAULT = "no_fault"


RESPONSIBILITY_LABELS = {
    Responsibility.INDIVIDUAL: _l("An individual lawyer"),
    Responsibility.TEAM: _l("The team"),
    Responsibility.PROCESS: _l("A firm process"),
    Responsibility.NO_FAULT: _l("No fault"),
}


class RuleSource(StrEnum):
    LAWYERS_LAW = "lawyers_law"
    ACLA_RULES = "acla_rules"  # 《律师执业行为规范》
    ACLA_DISCIPLINE = "acla_discipline"  # 《律师协会会员违规行为处分规则》
    FIRM_PROCEDURE = "firm_procedure"


RULE_SOURCE_LABELS = {
    RuleSource.LAWYERS_LAW: _l("Lawyers Law of the PRC"),
    RuleSource.ACLA_RULES: _l("ACLA rules on lawyers' practice conduct"),
    RuleSource.ACLA_DISCIPLINE: _l("ACLA rules on disciplinary sanctions for members"),
    RuleSource.FIRM_PROCEDURE: _l("The firm's procedures"),
}


class RuleArticle(db.Model):
    """An entry of the catalogue of rules a finding may engage (partners edit it)."""

    __table_args__ = (UniqueConstraint("source", "article"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(30))
    article: Mapped[str] = mapped_column(String(40))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # Seeded entries carry article numbers and short titles only, until the firm checks them.
    to_verify: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)


allegation_rule = Table(
    "allegation_rule",
    db.Model.metadata,
    Column("allegation_id", ForeignKey("allegation.id", ondelete="CASCADE"), primary_key=True),
    Column("rule_id", ForeignKey("rule_article.id"), primary_key=True),
)


class AssignmentRole(StrEnum):
    LEAD = "lead"
    INVESTIGATOR = "investigator"


class Assignment(db.Model):
    """Who leads or investigates a complaint. Reassigning ends a row and starts another, so
    the history stays; a row with `ended_at` empty is current."""

    __table_args__ = (Index("ix_assignment_user_current", "user_id", "ended_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    role: Mapped[str] = mapped_column(String(20))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    assigned_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    assigned_by: Mapped[User | None] = relationship(foreign_keys=[assigned_by_id])

    @property
    def is_current(self) -> bool:
        return self.ended_at is None


class ConflictDeclaration(db.Model):
    """Someone who may not handle or see this complaint: declared by themselves, or recorded
    by a partner. It hides the whole case file from them (see the visibility rule)."""

    __table_args__ = (UniqueConstraint("complaint_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    declared_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    declared_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    declared_by: Mapped[User | None] = relationship(foreign_keys=[declared_by_id])


class Party(StrEnum):
    COMPLAINANT = "complainant"
    RESPONDENT = "respondent"


class StatementMethod(StrEnum):
    INTERVIEW = "interview"
    PHONE = "phone"
    WRITTEN = "written"
    EMAIL = "email"
    ONLINE_REPLY = "online_reply"  # through a respondent's signed link


STATEMENT_METHOD_LABELS = {
    StatementMethod.INTERVIEW: _l("Interview"),
    StatementMethod.PHONE: _l("Phone call"),
    StatementMethod.WRITTEN: _l("Written statement"),
    StatementMethod.EMAIL: _l("Email"),
    StatementMethod.ONLINE_REPLY: _l("Online reply"),
}


class Statement(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    party: Mapped[str] = mapped_column(String(20))
    respondent_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    given_on: Mapped[date]
    method: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    respondent: Mapped[User | None] = relationship(foreign_keys=[respondent_id])
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id])


class ReplyRequest(db.Model):
    """A respondent's written reply asked for by email: the signed link names this row, so
    it can be reopened until the reply is submitted, once."""

    __table_args__ = (UniqueConstraint("nonce"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    respondent_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    nonce: Mapped[str] = mapped_column(String(64))
    due_on: Mapped[date]
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statement.id"))

    respondent: Mapped[User] = relationship(foreign_keys=[respondent_id])


class InterviewNote(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    held_on: Mapped[date]
    participants: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    author: Mapped[User | None] = relationship()


class FirstResponseMethod(StrEnum):
    CALL = "call"
    MEETING = "meeting"
    NOTICE = "notice"  # the emailed bilingual progress notice


FIRST_RESPONSE_METHOD_LABELS = {
    FirstResponseMethod.CALL: _l("Phone call"),
    FirstResponseMethod.MEETING: _l("Meeting"),
    FirstResponseMethod.NOTICE: _l("Progress notice by email"),
}


class FirstResponse(db.Model):
    """The first response to the client: what stops the first-response clock."""

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(20))
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    summary: Mapped[str | None] = mapped_column(Text)
    next_steps: Mapped[str | None] = mapped_column(Text)
    next_contact_on: Mapped[date | None]
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    late: Mapped[bool] = mapped_column(default=False)

    recorded_by: Mapped[User | None] = relationship()
