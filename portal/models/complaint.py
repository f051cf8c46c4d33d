"""The complaint aggregate: the record built at intake and carried through every phase."""

from __future__ import annotations

import re
from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.deadline import ClockPause, Deadline
from portal.models.followup import Callback, ComplaintRootCause
from portal.models.investigation import (
    Allegation,
    Assignment,
    AssignmentRole,
    ConflictDeclaration,
    FirstResponse,
)
from portal.models.matter import Client, Matter
from portal.models.resolution import Decision, ResolutionRules
from portal.models.user import Role, User


class State(StrEnum):
    DRAFT = "draft"
    REGISTERED = "registered"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    AWAITING_DECISION = "awaiting_decision"
    DECIDED = "decided"
    OUTCOME_SENT = "outcome_sent"
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    NEGOTIATION = "negotiation"
    REMEDIES_IN_PROGRESS = "remedies_in_progress"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    # A draft that never became a complaint (a duplicate, a test, an abandoned call): kept,
    # with who discarded it and why, for the audit; not the client's withdrawal.
    DISCARDED = "discarded"


# The states in which a complaint may still be an unsorted draft (see Complaint.is_unsorted).
UNSORTED_STATES = (State.DRAFT, State.DISCARDED)
# Who builds the record at intake.
INTAKE_STAFF = frozenset({Role.RECEPTIONIST, Role.PARTNER})
# From the findings on: the committee's stage, whose members then see the decision materials.
DECISION_STATES = (State.AWAITING_DECISION, State.DECIDED, State.OUTCOME_SENT, State.ACCEPTED,
                   State.DISPUTED, State.NEGOTIATION, State.REMEDIES_IN_PROGRESS,
                   State.FOLLOW_UP, State.CLOSED)
# Where the investigation's verbs apply (triage done, findings not yet submitted).
INVESTIGATION_STATES = (State.TRIAGED, State.INVESTIGATING)


class ClosureKind(StrEnum):
    """Why a complaint was closed: at triage without an investigation, or after follow-up."""

    OUT_OF_SCOPE = "out_of_scope"
    DUPLICATE = "duplicate"
    RESOLVED = "resolved"  # follow-up: the client is satisfied
    NOT_REACHED = "not_reached"  # follow-up: three call-backs unanswered


CLOSURE_LABELS = {
    ClosureKind.OUT_OF_SCOPE: _l("Out of scope"),
    ClosureKind.DUPLICATE: _l("Duplicate of another complaint"),
    ClosureKind.RESOLVED: _l("Resolved: the client is satisfied"),
    ClosureKind.NOT_REACHED: _l("Closed: the client could not be reached"),
}

STATE_LABELS = {
    State.DRAFT: _l("Draft"),
    State.REGISTERED: _l("Registered"),
    State.TRIAGED: _l("Triaged"),
    State.INVESTIGATING: _l("Investigating"),
    State.AWAITING_DECISION: _l("Awaiting decision"),
    State.DECIDED: _l("Decided"),
    State.OUTCOME_SENT: _l("Outcome sent"),
    State.ACCEPTED: _l("Accepted"),
    State.DISPUTED: _l("Disputed"),
    State.NEGOTIATION: _l("Negotiation"),
    State.REMEDIES_IN_PROGRESS: _l("Remedies in progress"),
    State.FOLLOW_UP: _l("Follow-up"),
    State.CLOSED: _l("Closed"),
    State.WITHDRAWN: _l("Withdrawn"),
    State.DISCARDED: _l("Discarded"),
}


class Channel(StrEnum):
    PHONE = "phone"
    WALK_IN = "walk_in"
    EMAIL = "email"
    LETTER = "letter"
    CLIENT_RELATIONS = "client_relations"
    WEB = "web"


CHANNEL_LABELS = {
    Channel.PHONE: _l("Phone"),
    Channel.WALK_IN: _l("Walk-in"),
    Channel.EMAIL: _l("Email"),
    Channel.LETTER: _l("Letter"),
    Channel.CLIENT_RELATIONS: _l("Client-relations staff"),
    Channel.WEB: _l("Online form"),
}


class Remedy(StrEnum):
    EXPLANATION = "explanation"
    APOLOGY = "apology"
    PARTIAL_REFUND = "partial_refund"
    FULL_REFUND = "full_refund"
    FREE_FOLLOW_UP = "free_follow_up"
    OTHER = "other"


REMEDY_LABELS = {
    Remedy.EXPLANATION: _l("Explanation"),
    Remedy.APOLOGY: _l("Apology"),
    Remedy.PARTIAL_REFUND: _l("Partial fee refund"),
    Remedy.FULL_REFUND: _l("Full fee refund"),
    Remedy.FREE_FOLLOW_UP: _l("Free follow-up service"),
    Remedy.OTHER: lazy_pgettext("remedy", "Other"),
}


class ConfirmationMethod(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    SIGNED_LINK = "signed_link"
    OVERRIDE = "override"
    IMPORTED = "imported"


complaint_respondent = Table(
    "complaint_respondent",
    db.Model.metadata,
    Column("complaint_id", ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id"), primary_key=True, index=True),
)


class ExclusionReason(StrEnum):
    # Named in an online submission and matched on arrival: kept out until a receptionist
    # verifies the submission (the next phases may add "declared_conflict" and the like).
    PENDING_MATCH = "pending_match"


class ComplaintExclusion(db.Model):
    """Someone kept out of a complaint who is not (or not yet) one of its respondents."""

    __tablename__ = "complaint_excluded_user"
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True, index=True)
    reason: Mapped[str] = mapped_column(String(30), default=ExclusionReason.PENDING_MATCH)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship(lazy="joined")  # shown by name with the exclusion


class Complaint(ResolutionRules, db.Model):
    # The lists' orders, so that a page of them is read in order and never sorted whole.
    __table_args__ = (
        Index("ix_complaint_state_updated", "state", "updated_at"),
        Index("ix_complaint_state_created", "state", "created_at"),
        Index("ix_complaint_created", "created_at", "id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str | None] = mapped_column(String(20), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    state: Mapped[str] = mapped_column(String(30), default=State.DRAFT)
    version: Mapped[int] = mapped_column(default=1)

    channel: Mapped[str | None] = mapped_column(String(20))
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str] = mapped_column(String(5), default="zh")

    complainant_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    matter_id: Mapped[int | None] = mapped_column(ForeignKey("matter.id"), index=True)
    narrative: Mapped[str | None] = mapped_column(Text)
    occurred_on: Mapped[date | None]
    occurred_until: Mapped[date | None]
    occurred_place: Mapped[str | None] = mapped_column(String(200))
    remedies_sought: Mapped[list[str]] = mapped_column(JSON, default=list)
    remedy_details: Mapped[str | None] = mapped_column(Text)

    # Web submissions wait in a queue until a receptionist verifies them.
    needs_verification: Mapped[bool] = mapped_column(default=False)
    submitted_payload: Mapped[dict | None] = mapped_column(JSON)

    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation_method: Mapped[str | None] = mapped_column(String(20))
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    confirmation_override_reason: Mapped[str | None] = mapped_column(Text)
    correction_requested: Mapped[str | None] = mapped_column(Text)
    # Why the client confirmed in a way that does not match the channel (phone call, walk-in).
    confirmation_note: Mapped[str | None] = mapped_column(Text)

    discarded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    discarded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    discard_reason: Mapped[str | None] = mapped_column(Text)

    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadlines (first response, investigation...) are rows: see `deadlines` below.

    # Triage (see portal/models/investigation.py for the values).
    severity: Mapped[str | None] = mapped_column(String(20))
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    assessment: Mapped[str | None] = mapped_column(Text)
    triaged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    triaged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Closed at triage without an investigation, or withdrawn by the client at any stage.
    closure_kind: Mapped[str | None] = mapped_column(String(20))
    closure_reason: Mapped[str | None] = mapped_column(Text)
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set by retention (portal/services/retention.py): the record no longer names anyone.
    anonymized_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    withdrawal_method: Mapped[str | None] = mapped_column(String(20))
    findings_submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    findings_submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # The client's page link is signed with this key; a new key (a lost link) revokes the
    # earlier links (services/resolution/client_link.py).
    client_link_key: Mapped[str | None] = mapped_column(String(32))

    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    handler_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    complainant: Mapped[Client | None] = relationship()
    matter: Mapped[Matter | None] = relationship()
    respondents: Mapped[list[User]] = relationship(secondary=complaint_respondent)
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    handler: Mapped[User | None] = relationship(foreign_keys=[handler_id])
    confirmed_by: Mapped[User | None] = relationship(foreign_keys=[confirmed_by_id])
    discarded_by: Mapped[User | None] = relationship(foreign_keys=[discarded_by_id])
    evidence: Mapped[list[Evidence]] = relationship(
        back_populates="complaint", order_by="Evidence.id", cascade="all, delete-orphan"
    )
    exclusions: Mapped[list[ComplaintExclusion]] = relationship(
        order_by=ComplaintExclusion.user_id, cascade="all, delete-orphan"
    )
    triaged_by: Mapped[User | None] = relationship(foreign_keys=[triaged_by_id])
    duplicate_of: Mapped[Complaint | None] = relationship(remote_side=[id])
    allegations: Mapped[list[Allegation]] = relationship(
        order_by=Allegation.number, cascade="all, delete-orphan")
    assignments: Mapped[list[Assignment]] = relationship(
        order_by=Assignment.id, cascade="all, delete-orphan")
    conflicts: Mapped[list[ConflictDeclaration]] = relationship(
        order_by=ConflictDeclaration.id, cascade="all, delete-orphan")
    deadlines: Mapped[list[Deadline]] = relationship(
        order_by=Deadline.id, cascade="all, delete-orphan")
    pauses: Mapped[list[ClockPause]] = relationship(
        order_by=ClockPause.id, cascade="all, delete-orphan")
    first_response: Mapped[FirstResponse | None] = relationship(cascade="all, delete-orphan")
    decisions: Mapped[list[Decision]] = relationship(
        order_by=Decision.number, cascade="all, delete-orphan")
    callbacks: Mapped[list[Callback]] = relationship(
        order_by=Callback.id, cascade="all, delete-orphan")
    root_causes: Mapped[list[ComplaintRootCause]] = relationship(
        order_by=ComplaintRootCause.id, cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}

    @property
    def label(self) -> str:
        return self.reference or f"D{self.id}"

    @property
    def is_draft(self) -> bool:
        return self.state == State.DRAFT

    @property
    def is_confirmed(self) -> bool:
        return self.confirmed_at is not None

    @property
    def intake_evidence(self) -> list[Evidence]:
        """The record's evidence (the workspace's own items are for its users only)."""
        return [e for e in self.evidence if e.phase == EVIDENCE_INTAKE]

    @property
    def is_unsorted(self) -> bool:
        """A draft nobody has sorted yet: not verified, or its respondents not yet set. A
        draft discarded unsorted stays so: discarding it must not show it to more people."""
        return (self.state in UNSORTED_STATES
                and (self.needs_verification or not self.respondents))

    def is_respondent(self, user: User) -> bool:
        return any(r.id == user.id for r in self.respondents)

    def is_excluded(self, user: User) -> bool:
        return any(e.user_id == user.id for e in self.exclusions)

    def on_matter(self, user: User) -> bool:
        return self.matter is not None and user.id in self.matter.people()

    def declared_conflict(self, user: User) -> bool:
        return any(c.user_id == user.id for c in self.conflicts)

    def is_conflicted(self, user: User) -> bool:
        """Nobody judges their own case: a respondent, anyone who worked on the matter, or
        anyone with a declared conflict (and, while pending, anyone an online submission
        named)."""
        return (self.is_respondent(user) or self.is_excluded(user) or self.on_matter(user)
                or self.declared_conflict(user))

    @property
    def current_assignments(self) -> list[Assignment]:
        return [a for a in self.assignments if a.ended_at is None]

    @property
    def lead(self) -> User | None:
        return next((a.user for a in self.current_assignments
                     if a.role == AssignmentRole.LEAD), None)

    @property
    def investigators(self) -> list[User]:
        return [a.user for a in self.current_assignments
                if a.role == AssignmentRole.INVESTIGATOR]

    def is_assigned(self, user: User) -> bool:
        return any(a.user_id == user.id for a in self.current_assignments)

    def deadline(self, kind: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.kind == kind), None)

    @property
    def first_response_due(self) -> date | None:
        """The first-response clock's day (read-only: services/deadlines.py sets it)."""
        row = self.deadline("first_response")
        return row.due if row is not None else None

    @property
    def open_pause(self) -> ClockPause | None:
        return next((p for p in self.pauses if p.resumed_at is None), None)

    @classmethod
    def with_key(cls, key: str) -> ColumnElement[bool] | None:
        """The complaint a URL or a command names: its reference, or D<id> for a draft."""
        key = key.strip()
        if re.fullmatch(r"[Dd]\d{1,10}", key):
            number = int(key[1:])
            # Beyond the INTEGER column (PostgreSQL would raise "out of range"): no such row.
            return cls.id == number if number <= 2**31 - 1 else None
        if re.fullmatch(r"TS-\d{4}-\d{5}", key, re.IGNORECASE):
            return cls.reference == key.upper()
        return None

    @classmethod
    def visible_to(cls, user: User) -> ColumnElement[bool]:
        """Who may see a complaint, as SQL: every list, search, count, export and lookup
        filters by this (portal/models/visibility.py). `can_view` is the same rule for one
        object."""
        from portal.models.visibility import VISIBILITY  # the rule's clauses name Complaint

        return VISIBILITY.sql(user)

    def can_view(self, user: User) -> bool:
        from portal.models.visibility import VISIBILITY

        return VISIBILITY.test(self, user)

    def can_edit_intake(self, user: User) -> bool:
        """Intake staff build a draft; everyone else the rule admits reads the record."""
        return self.is_draft and user.has_role(*INTAKE_STAFF) and self.can_view(user)

    def can_override_confirmation(self, user: User) -> bool:
        return self.is_draft and user.has_role(Role.PARTNER) and self.can_view(user)

    def can_open_workspace(self, user: User) -> bool:
        """The investigator's workspace: the current lead and investigators, and partners;
        never anyone conflicted (the visibility rule already hides it from them)."""
        if self.state in UNSORTED_STATES or self.state == State.REGISTERED:
            return False
        return self.can_view(user) and (user.has_role(Role.PARTNER) or self.is_assigned(user))

    def can_see_decision_materials(self, user: User) -> bool:
        """The findings and the report: whoever may open the workspace, and committee members
        once the complaint reaches the committee's stage."""
        if self.can_open_workspace(user):
            return True
        return (self.state in DECISION_STATES and user.has_role(Role.COMMITTEE)
                and self.can_view(user))

    def leads(self, user: User) -> bool:
        lead = self.lead
        return lead is not None and lead.id == user.id

    def handles(self, user: User) -> bool:
        """The handler named in the client's notices, or the investigation's lead."""
        return self.handler_id == user.id or self.leads(user)

    def may_respond_first(self, user: User) -> bool:
        """Who may record the first response to the client: the handler, the lead or a
        partner, from registration until the findings (whether it was already recorded is
        the service's question)."""
        if self.state not in (State.REGISTERED, *INVESTIGATION_STATES):
            return False
        return self.can_view(user) and (user.has_role(Role.PARTNER) or self.handles(user))

    def can_record_findings(self, user: User) -> bool:
        """The lead or a partner, while the complaint is being investigated."""
        if self.state != State.INVESTIGATING or not self.can_view(user):
            return False
        return user.has_role(Role.PARTNER) or self.leads(user)


# Evidence.phase: added to the record at intake, or to the investigation's register.
EVIDENCE_INTAKE = "intake"
EVIDENCE_INVESTIGATION = "investigation"


class EvidenceCategory(StrEnum):
    ENGAGEMENT_CONTRACT = "engagement_contract"
    CASE_DOCUMENTS = "case_documents"
    COMMUNICATIONS = "communications"
    FEE_RECEIPTS = "fee_receipts"
    OTHER = "other"


EVIDENCE_CATEGORY_LABELS = {
    EvidenceCategory.ENGAGEMENT_CONTRACT: _l("Engagement contract"),
    EvidenceCategory.CASE_DOCUMENTS: _l("Case documents"),
    EvidenceCategory.COMMUNICATIONS: _l("Communications (email, WeChat, minutes)"),
    EvidenceCategory.FEE_RECEIPTS: _l("Fee receipts"),
    EvidenceCategory.OTHER: lazy_pgettext("evidence", "Other"),
}


class Evidence(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(30))
    description: Mapped[str | None] = mapped_column(String(300))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(80), unique=True)
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    # An attachment of a statement (the investigation's evidence register lists it too).
    statement_id: Mapped[int | None] = mapped_column(ForeignKey("statement.id"))
    # Where it was added: at intake (the record's evidence, shown to whoever sees the
    # complaint) or in the investigator's workspace (shown to its users only).
    phase: Mapped[str] = mapped_column(String(20), default="intake", server_default="intake")

    complaint: Mapped[Complaint] = relationship(back_populates="evidence")
    uploaded_by: Mapped[User | None] = relationship()


class ReferenceCounter(db.Model):
    """One row per year; incremented inside the registering transaction."""

    year: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_number: Mapped[int] = mapped_column(default=0)


class ConfirmationLink(db.Model):
    """A read-back sent by email; the signed token names this row, which makes it single-use."""

    __table_args__ = (UniqueConstraint("nonce"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    nonce: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # confirmed | correction
    complaint: Mapped[Complaint] = relationship()
