"""The resolution phase: the committee's sealed ballots on remedy proposals, the decision and
its remedies, the client's answers, negotiation rounds, the remedy tasks that carry the
decision out, and the routes of further recourse per jurisdiction."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import User

MONEY = Numeric(14, 2)
DEFAULT_CURRENCY = "CNY"


class RemedyKind(StrEnum):
    EXPLANATION = "explanation"
    WRITTEN_APOLOGY = "written_apology"
    PARTIAL_REFUND = "partial_refund"
    FULL_REFUND = "full_refund"
    FREE_FOLLOW_UP = "free_follow_up"
    INTERNAL_CRITICISM = "internal_criticism"
    DISCIPLINARY = "disciplinary"


REMEDY_KIND_LABELS = {
    RemedyKind.EXPLANATION: _l("Explanation"),
    RemedyKind.WRITTEN_APOLOGY: _l("Written apology"),
    RemedyKind.PARTIAL_REFUND: _l("Partial fee refund"),
    RemedyKind.FULL_REFUND: _l("Full fee refund"),
    RemedyKind.FREE_FOLLOW_UP: _l("Free follow-up service"),
    RemedyKind.INTERNAL_CRITICISM: _l("Internal criticism"),
    RemedyKind.DISCIPLINARY: _l("Disciplinary measure"),
}

# Never shown in anything a client receives, and visible to partners only.
INTERNAL_REMEDIES = frozenset({RemedyKind.INTERNAL_CRITICISM, RemedyKind.DISCIPLINARY})
REFUNDS = frozenset({RemedyKind.PARTIAL_REFUND, RemedyKind.FULL_REFUND})


class DisciplinaryLevel(StrEnum):
    WARNING = "warning"
    REPRIMAND = "reprimand"
    SUSPENSION = "suspension"
    DISMISSAL = "dismissal"


DISCIPLINARY_LEVEL_LABELS = {
    DisciplinaryLevel.WARNING: _l("Warning"),
    DisciplinaryLevel.REPRIMAND: _l("Formal reprimand"),
    DisciplinaryLevel.SUSPENSION: _l("Suspension from taking cases"),
    DisciplinaryLevel.DISMISSAL: _l("Dismissal"),
}


class RemedyTerms:
    """The columns a remedy carries wherever it appears (proposal, decision)."""

    kind: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal | None] = mapped_column(MONEY)  # refunds
    currency: Mapped[str] = mapped_column(String(3), default=DEFAULT_CURRENCY)
    scope: Mapped[str | None] = mapped_column(Text)  # follow-up service: what it covers
    level: Mapped[str | None] = mapped_column(String(20))  # disciplinary measure

    @property
    def is_internal(self) -> bool:
        return self.kind in INTERNAL_REMEDIES


# -- Ballots -------------------------------------------------------------------------------

class QuorumRule(StrEnum):
    MAJORITY = "majority"  # more than half of the eligible members
    TWO_THIRDS = "two_thirds"
    ALL = "all"


QUORUM_LABELS = {
    QuorumRule.MAJORITY: _l("A majority of the eligible members"),
    QuorumRule.TWO_THIRDS: _l("Two thirds of the eligible members"),
    QuorumRule.ALL: _l("Every eligible member"),
}


class BallotOutcome(StrEnum):
    ADOPTED = "adopted"  # a proposal won
    NO_QUORUM = "no_quorum"  # a partner decides
    TIE = "tie"  # a partner decides
    NONE_ADOPTED = "none_adopted"  # quorum met, no proposal had more approvals than objections


class Ballot(db.Model):
    __table_args__ = (Index("ix_ballot_open_closes", "closed_at", "closes_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    quorum_rule: Mapped[str] = mapped_column(String(20), default=QuorumRule.MAJORITY)
    # The limits within which a partner may revise the decision in negotiation.
    max_refund: Mapped[Decimal | None] = mapped_column(MONEY)
    revision_note: Mapped[str | None] = mapped_column(Text)
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_reason: Mapped[str | None] = mapped_column(String(20))  # deadline | all_voted
    outcome: Mapped[str | None] = mapped_column(String(20))  # BallotOutcome
    # Without quorum or on a tie, a partner who is not conflicted chooses and says why.
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)

    proposals: Mapped[list[BallotProposal]] = relationship(
        order_by="BallotProposal.number", cascade="all, delete-orphan", back_populates="ballot")
    members: Mapped[list[BallotMember]] = relationship(
        order_by="BallotMember.user_id", cascade="all, delete-orphan")
    opened_by: Mapped[User] = relationship(foreign_keys=[opened_by_id])
    resolved_by: Mapped[User | None] = relationship(foreign_keys=[resolved_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def eligible(self) -> list[BallotMember]:
        return [m for m in self.members if m.recused_at is None]

    def member(self, user: User) -> BallotMember | None:
        return next((m for m in self.members if m.user_id == user.id), None)

    def may_vote(self, user: User) -> bool:
        member = self.member(user)
        return self.is_open and member is not None and member.recused_at is None

    def results_visible(self) -> bool:
        """Sealed until it closes: before that nobody sees anyone else's vote."""
        return not self.is_open

    @property
    def adopted_proposal(self) -> BallotProposal | None:
        return next((p for p in self.proposals if p.adopted), None)

    @property
    def needs_partner_choice(self) -> bool:
        return (self.outcome in (BallotOutcome.NO_QUORUM, BallotOutcome.TIE)
                and self.resolved_at is None)


class BallotProposal(db.Model):
    __tablename__ = "ballot_proposal"
    __table_args__ = (UniqueConstraint("ballot_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"))
    number: Mapped[int]
    rationale: Mapped[str] = mapped_column(Text)
    # Set when the ballot closes: the winning proposal, or the partner's choice.
    adopted: Mapped[bool] = mapped_column(default=False)

    ballot: Mapped[Ballot] = relationship(back_populates="proposals")
    remedies: Mapped[list[ProposedRemedy]] = relationship(
        order_by="ProposedRemedy.id", cascade="all, delete-orphan")


class ProposedRemedy(RemedyTerms, db.Model):
    __tablename__ = "proposed_remedy"
    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("ballot_proposal.id", ondelete="CASCADE"), index=True)


class RecusalReason(StrEnum):
    CONFLICTED = "conflicted"  # respondent, the matter's people, a declared conflict
    LEAD = "lead"
    INVESTIGATOR = "investigator"
    SELF = "self"  # the member recused themselves, with a reason


RECUSAL_LABELS = {
    RecusalReason.CONFLICTED: _l("Conflicted"),
    RecusalReason.LEAD: _l("Leads the investigation"),
    RecusalReason.INVESTIGATOR: _l("Investigates the complaint"),
    RecusalReason.SELF: _l("Recused themselves"),
}


class BallotMember(db.Model):
    """The committee as it stood when the ballot opened: one row per member, recused or not.
    Only members without a recusal are eligible to vote."""

    __tablename__ = "ballot_member"
    ballot_id: Mapped[int] = mapped_column(
        ForeignKey("ballot.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True, index=True)
    recused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recusal_reason: Mapped[str | None] = mapped_column(String(20))  # RecusalReason
    recusal_note: Mapped[str | None] = mapped_column(Text)  # the member's own words (SELF)

    user: Mapped[User] = relationship(lazy="joined")


class VoteChoice(StrEnum):
    APPROVE = "approve"
    OBJECT = "object"
    ABSTAIN = "abstain"


VOTE_LABELS = {
    VoteChoice.APPROVE: lazy_pgettext("vote", "Approve"),  # 赞成, not the approvals' 批准
    VoteChoice.OBJECT: lazy_pgettext("vote", "Object"),
    VoteChoice.ABSTAIN: lazy_pgettext("vote", "Abstain"),
}


class Vote(db.Model):
    """One member's vote on one proposal; the unique key makes two submissions at the same
    instant leave one vote (services write it as an upsert)."""

    __table_args__ = (UniqueConstraint("proposal_id", "user_id", name="uq_vote_member"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"),
                                           index=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("ballot_proposal.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    choice: Mapped[str] = mapped_column(String(10))  # VoteChoice
    comment: Mapped[str | None] = mapped_column(Text)
    cast_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    user: Mapped[User] = relationship()


# -- The decision ----------------------------------------------------------------------------

class Decision(db.Model):
    """What the firm decided, in numbered versions: 1 after the committee, then one per
    revision in negotiation. The latest is the current one; earlier ones are kept."""

    __table_args__ = (UniqueConstraint("complaint_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    number: Mapped[int]
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    # Written for the client, in the client's language; nothing copied from the findings.
    client_summary: Mapped[str] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)  # a revision's reason
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    answer_due: Mapped[date | None]  # 15 working days after the notice went out

    remedies: Mapped[list[DecidedRemedy]] = relationship(
        order_by="DecidedRemedy.id", cascade="all, delete-orphan")
    decided_by: Mapped[User] = relationship(foreign_keys=[decided_by_id])
    answer: Mapped[ClientAnswer | None] = relationship(back_populates="decision")

    @property
    def client_remedies(self) -> list[DecidedRemedy]:
        return [r for r in self.remedies if not r.is_internal]


class DecidedRemedy(RemedyTerms, db.Model):
    __tablename__ = "decided_remedy"
    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(
        ForeignKey("decision.id", ondelete="CASCADE"), index=True)
    due: Mapped[date]  # by when it is carried out


# -- The client's answer and negotiation -----------------------------------------------------

class AnswerKind(StrEnum):
    ACCEPTED = "accepted"
    DISPUTED = "disputed"
    NO_ANSWER = "no_answer"  # recorded by a partner after 15 working days


class AnswerMethod(StrEnum):
    LINK = "link"  # on the client's page
    PHONE = "phone"
    POST = "post"
    IN_PERSON = "in_person"
    NONE = "none"  # no answer


ANSWER_LABELS = {
    AnswerKind.ACCEPTED: _l("Accepted"),
    AnswerKind.DISPUTED: _l("Not satisfied"),
    AnswerKind.NO_ANSWER: _l("No answer"),
}

ANSWER_METHOD_LABELS = {
    AnswerMethod.LINK: _l("On the client's page"),
    AnswerMethod.PHONE: _l("By phone"),
    AnswerMethod.POST: _l("By post"),
    AnswerMethod.IN_PERSON: _l("In person"),
    AnswerMethod.NONE: _l("No answer"),
}


class ClientAnswer(db.Model):
    """The client's one answer to one decision: the unique key refuses a second."""

    __tablename__ = "client_answer"
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decision.id"), unique=True)
    kind: Mapped[str] = mapped_column(String(20))  # AnswerKind
    method: Mapped[str] = mapped_column(String(20))  # AnswerMethod
    reason: Mapped[str | None] = mapped_column(Text)  # why they are not satisfied
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    decision: Mapped[Decision] = relationship(back_populates="answer")
    recorded_by: Mapped[User | None] = relationship()


class RoundOutcome(StrEnum):
    REVISED = "revised"  # the partner revised the decision within the ballot's limits
    NEW_BALLOT = "new_ballot"


class NegotiationRound(db.Model):
    __tablename__ = "negotiation_round"
    __table_args__ = (UniqueConstraint("complaint_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    number: Mapped[int]
    answer_id: Mapped[int] = mapped_column(ForeignKey("client_answer.id"))  # the dispute
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    discussion: Mapped[str | None] = mapped_column(Text)
    discussed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    discussed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(20))  # RoundOutcome
    # What the round produced: a revised decision, or a new ballot.
    revised_decision_id: Mapped[int | None] = mapped_column(ForeignKey("decision.id"))
    ballot_id: Mapped[int | None] = mapped_column(ForeignKey("ballot.id"))
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    answer: Mapped[ClientAnswer] = relationship()
    discussed_by: Mapped[User | None] = relationship()


# -- Carrying the remedies out ---------------------------------------------------------------

class RemedyTask(db.Model):
    __tablename__ = "remedy_task"
    __table_args__ = (Index("ix_remedy_task_open_due", "done_at", "due"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    remedy_id: Mapped[int] = mapped_column(ForeignKey("decided_remedy.id"), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    due: Mapped[date]
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Refund
    paid_amount: Mapped[Decimal | None] = mapped_column(MONEY)
    paid_on: Mapped[date | None]
    payment_method: Mapped[str | None] = mapped_column(String(30))
    receipt_evidence_id: Mapped[int | None] = mapped_column(ForeignKey("evidence.id"))
    # Apology: the letter's text; its PDF is a notice (kind "apology")
    letter_text: Mapped[str | None] = mapped_column(Text)
    letter_notice_id: Mapped[int | None] = mapped_column(ForeignKey("notice.id"))
    # Follow-up service: what was done; internal measures: the confidential record
    notes: Mapped[str | None] = mapped_column(Text)
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(default=1)

    remedy: Mapped[DecidedRemedy] = relationship()
    owner: Mapped[User] = relationship(foreign_keys=[owner_id])
    done_by: Mapped[User | None] = relationship(foreign_keys=[done_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    def is_overdue(self, today: date) -> bool:
        return not self.is_done and self.due < today


# -- Routes of further recourse --------------------------------------------------------------

class RecourseText(db.Model):
    """What a client may do next if not satisfied, per jurisdiction, in both languages: an
    outcome notice is refused while either language is empty."""

    __tablename__ = "recourse_text"
    jurisdiction: Mapped[str] = mapped_column(String(20), primary_key=True)
    text_zh: Mapped[str] = mapped_column(Text, default="")
    text_en: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1)

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_complete(self) -> bool:
        return bool(self.text_zh.strip()) and bool(self.text_en.strip())


# -- The complaint's predicates for this phase (mixed into Complaint) ------------------------

class ResolutionRules:
    """Who may do what in the resolution phase; Complaint inherits these. The visibility rule
    comes first in each: nobody acts on a complaint they may not see."""

    state: str
    decisions: list[Decision]

    def can_view(self, user: User) -> bool:  # pragma: no cover - Complaint's own
        raise NotImplementedError

    @property
    def current_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    def _partner_sees(self, user: User) -> bool:
        from portal.models.user import Role

        return user.has_role(Role.PARTNER) and self.can_view(user)

    def can_open_ballot(self, user: User) -> bool:
        """A partner, on a complaint waiting for the committee (the visibility rule keeps a
        conflicted partner out)."""
        return self.state == "awaiting_decision" and self._partner_sees(user)

    def can_decide(self, user: User) -> bool:
        """Record the decision after a ballot, or revise it in a negotiation round."""
        return self.state in ("awaiting_decision", "negotiation", "disputed") \
            and self._partner_sees(user)

    def can_issue_outcome(self, user: User) -> bool:
        return self.state == "decided" and self._partner_sees(user)

    def can_record_client_answer(self, user: User) -> bool:
        """An answer taken by phone, in person or by post: intake staff and partners."""
        from portal.models.user import Role

        return (self.state == "outcome_sent" and user.has_role(Role.RECEPTIONIST, Role.PARTNER)
                and self.can_view(user))

    def can_see_internal_measures(self, user: User) -> bool:
        """Internal criticism and disciplinary measures: partners only."""
        return self._partner_sees(user)

    def can_manage_remedies(self, user: User) -> bool:
        """Assign owners and due dates to the remedy tasks."""
        return self.state in ("remedies_in_progress", "accepted") and self._partner_sees(user)
