"""Committee ballots: opening one (its proposals, closing time, quorum rule and the limits of a
later revision), the members and their recusals, and a partner's choice when the committee
reached no decision. Voting is `voting.py`; the tally and the close are `closing.py`.

A partner opens a ballot on a complaint awaiting the committee's decision, or from a
negotiation round (`disputed`/`negotiation`): the round then ends with outcome `new_ballot`
and the complaint awaits the committee again. The members are every active user with the
committee role at that moment; the conflicted (respondents, the matter's people, a declared
conflict), the investigation's lead and its investigators are recused automatically, and a
member may recuse themselves with a reason. Nobody sees another member's vote before the
ballot closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from babel.numbers import format_currency
from flask_babel import gettext as _
from sqlalchemy import func, select, union_all

from portal import clock
from portal.db import db
from portal.formatting import display_locale, format_moment
from portal.models.complaint import Complaint, State
from portal.models.resolution import (
    DEFAULT_CURRENCY,
    Ballot,
    BallotMember,
    BallotOutcome,
    BallotProposal,
    DisciplinaryLevel,
    NegotiationRound,
    ProposedRemedy,
    QuorumRule,
    RecusalReason,
    RemedyKind,
    RoundOutcome,
    Vote,
)
from portal.models.user import Role, User, UserRole
from portal.services import audit
from portal.services.intake.errors import FieldErrors
from portal.services.resolution import closing
from portal.services.resolution.common import (
    ResolutionError,
    StaleVersion,
    check_version,
    parse_money,
    text_of,
)
from portal.services.triage.common import touch

PROPOSALS_MAX = 5
RATIONALE_MAX = 4000
SCOPE_MAX = 2000
NOTE_MAX = 2000
REASON_MAX = 4000
CLOSES_AFTER_MIN = timedelta(hours=1)
CLOSES_AFTER_MAX = timedelta(days=60)
ROUND_STATES = (State.DISPUTED, State.NEGOTIATION)


def format_money(amount: Decimal | None, currency: str | None = None) -> str:
    """An amount with its currency in the reader's language: ¥8,000.00 / CN¥8,000.00."""
    if amount is None:
        return ""
    return format_currency(amount, currency or DEFAULT_CURRENCY, locale=display_locale())


# -- what may be opened -----------------------------------------------------------------------

def latest(complaint: Complaint) -> Ballot | None:
    return db.session.scalar(select(Ballot).where(Ballot.complaint_id == complaint.id)
                             .order_by(Ballot.id.desc()).limit(1))


def open_round(complaint: Complaint) -> NegotiationRound | None:
    """The negotiation round a new ballot would end: the latest, while it has no outcome."""
    if complaint.state not in ROUND_STATES:
        return None
    row = db.session.scalar(select(NegotiationRound)
                            .where(NegotiationRound.complaint_id == complaint.id)
                            .order_by(NegotiationRound.number.desc()).limit(1))
    return row if row is not None and row.closed_at is None and row.outcome is None else None


def may_open(complaint: Complaint, user: User) -> bool:
    """A partner who may see the complaint (the visibility rule keeps the conflicted out),
    while it awaits the committee, or from an open negotiation round."""
    if complaint.can_open_ballot(user):
        return True
    return (complaint.state in ROUND_STATES and user.has_role(Role.PARTNER)
            and complaint.can_view(user) and open_round(complaint) is not None)


def blocked_by(complaint: Complaint, last: Ballot | None) -> str | None:
    """Why no new ballot may be opened now, or None."""
    if last is None:
        return None
    if last.is_open:
        return _("A ballot on this complaint is open until %(when)s: wait for it to close.",
                 when=format_moment(last.closes_at))
    if last.needs_partner_choice:
        return _("The last ballot reached no decision: a partner first chooses a proposal on "
                 "it, with the reason.")
    if last.adopted_proposal is not None and not any(
            d.ballot_id == last.id for d in complaint.decisions):
        return _("The committee adopted a proposal on the last ballot: record the decision "
                 "first.")
    return None


# -- the members ------------------------------------------------------------------------------

def committee() -> list[User]:
    """Every active user with the committee role, in a stable order."""
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COMMITTEE.value, User.active.is_(True))
        .order_by(User.id)).unique())


def recusal_for(complaint: Complaint, user: User) -> str | None:
    """Why `user` may not vote on `complaint`, or None."""
    if complaint.is_conflicted(user):
        return RecusalReason.CONFLICTED
    if complaint.leads(user):
        return RecusalReason.LEAD
    if any(u.id == user.id for u in complaint.investigators):
        return RecusalReason.INVESTIGATOR
    return None


def _members(complaint: Complaint, now: datetime) -> list[BallotMember]:
    members = []
    for user in committee():
        reason = recusal_for(complaint, user)
        members.append(BallotMember(user_id=user.id, user=user, recusal_reason=reason,
                                    recused_at=now if reason else None))
    return members


# -- the form's data --------------------------------------------------------------------------

@dataclass
class ProposalInput:
    remedies: list[str] = field(default_factory=list)
    partial_amount: str = ""
    full_amount: str = ""
    scope: str = ""
    level: str = ""
    rationale: str = ""


@dataclass
class BallotInput:
    proposals: list[ProposalInput]
    closes_at: datetime | None  # aware
    quorum_rule: str = QuorumRule.MAJORITY
    max_refund: str = ""
    revision_note: str = ""


def _money(value: str, name: str, errors: FieldErrors, *, required: bool,
           cap: Decimal | None, currency: str) -> Decimal | None:
    try:
        amount = parse_money(value, field=name, required=required)
    except ResolutionError as error:
        errors.add(name, error.message)
        return None
    if amount is not None and cap is not None and amount > cap:
        errors.add(name, _("At most the fees paid on the matter: %(paid)s.",
                           paid=format_money(cap, currency)))
    return amount


def _remedies(p: ProposalInput, prefix: str, errors: FieldErrors, cap: Decimal | None,
              currency: str) -> list[ProposedRemedy]:
    known = {k.value for k in RemedyKind}
    kinds = [k for k in RemedyKind if k.value in set(p.remedies)]  # the catalogue's order
    if not p.remedies:
        errors.add(f"{prefix}-remedies", _("Choose at least one remedy."))
    elif any(k not in known for k in p.remedies):
        errors.add(f"{prefix}-remedies", _("Choose remedies from the catalogue."))
    if RemedyKind.PARTIAL_REFUND in kinds and RemedyKind.FULL_REFUND in kinds:
        errors.add(f"{prefix}-remedies", _("Propose a partial or a full refund, not both."))
    rows = []
    for kind in kinds:
        row = ProposedRemedy(kind=kind.value, currency=currency)
        if kind == RemedyKind.PARTIAL_REFUND:
            row.amount = _money(p.partial_amount, f"{prefix}-partial_amount", errors,
                                required=True, cap=cap, currency=currency)
        elif kind == RemedyKind.FULL_REFUND:
            row.amount = _money(p.full_amount, f"{prefix}-full_amount", errors,
                                required=cap is None, cap=cap, currency=currency) or cap
        elif kind == RemedyKind.FREE_FOLLOW_UP:
            scope = text_of(p.scope)
            if not scope:
                errors.add(f"{prefix}-scope", _("Say what the free follow-up service covers."))
            elif len(scope) > SCOPE_MAX:
                errors.add(f"{prefix}-scope", _("At most %(max)d characters.", max=SCOPE_MAX))
            row.scope = scope
        elif kind == RemedyKind.DISCIPLINARY:
            if p.level not in {level.value for level in DisciplinaryLevel}:
                errors.add(f"{prefix}-level", _("Choose the level of the disciplinary measure."))
            row.level = p.level
        rows.append(row)
    return rows


def _proposals(data: BallotInput, errors: FieldErrors, cap: Decimal | None,
               currency: str) -> list[BallotProposal]:
    if not data.proposals:
        errors.add("proposals", _("Add at least one proposal."))
    if len(data.proposals) > PROPOSALS_MAX:
        errors.add("proposals", _("At most %(max)d proposals on one ballot.",
                                  max=PROPOSALS_MAX))
    proposals = []
    for index, p in enumerate(data.proposals[:PROPOSALS_MAX]):
        prefix = f"proposals-{index}"
        rationale = text_of(p.rationale)
        if not rationale:
            errors.add(f"{prefix}-rationale", _("Give the rationale of this proposal."))
        elif len(rationale) > RATIONALE_MAX:
            errors.add(f"{prefix}-rationale", _("At most %(max)d characters.",
                                                max=RATIONALE_MAX))
        proposals.append(BallotProposal(number=index + 1, rationale=rationale,
                                        remedies=_remedies(p, prefix, errors, cap, currency)))
    return proposals


def _closes_at(value: datetime | None, now: datetime, errors: FieldErrors) -> datetime | None:
    if value is None:
        errors.add("closes_at", _("Enter when the ballot closes."))
    elif value < now + CLOSES_AFTER_MIN:
        errors.add("closes_at", _("The ballot closes at least an hour from now."))
    elif value > now + CLOSES_AFTER_MAX:
        errors.add("closes_at", _("The ballot closes within %(days)d days.",
                                  days=CLOSES_AFTER_MAX.days))
    return value


def _checked(complaint: Complaint, data: BallotInput, now: datetime) -> Ballot:
    matter = complaint.matter
    cap = matter.fees_paid if matter is not None else None
    currency = (matter.fees_currency if matter is not None else None) or DEFAULT_CURRENCY
    errors = FieldErrors()
    proposals = _proposals(data, errors, cap, currency)
    closes_at = _closes_at(data.closes_at, now, errors)
    if data.quorum_rule not in {q.value for q in QuorumRule}:
        errors.add("quorum_rule", _("Choose one of the options shown."))
    max_refund = _money(data.max_refund, "max_refund", errors, required=False, cap=cap,
                        currency=currency)
    note = text_of(data.revision_note)
    if len(note) > NOTE_MAX:
        errors.add("revision_note", _("At most %(max)d characters.", max=NOTE_MAX))
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise ResolutionError(first, errors=errors.errors)
    return Ballot(complaint_id=complaint.id, opened_at=now, closes_at=closes_at,
                  quorum_rule=data.quorum_rule, max_refund=max_refund,
                  revision_note=note or None, proposals=proposals)


# -- opening ----------------------------------------------------------------------------------

def open_ballot(actor: User, complaint: Complaint, data: BallotInput, *,
                expected_version: int | None) -> Ballot:
    """Open a ballot (a partner). `expected_version` is the complaint's version the form was
    loaded with: a stale one is refused (409)."""
    db.session.refresh(complaint, with_for_update=True)  # one opening at a time
    check_version(complaint, expected_version)
    if not may_open(complaint, actor):
        raise ResolutionError(_("A partner opens a ballot while the complaint awaits the "
                                "committee's decision, or from a negotiation round."))
    problem = blocked_by(complaint, latest(complaint))
    if problem:
        raise ResolutionError(problem)
    now = clock.now()
    ballot = _checked(complaint, data, now)
    ballot.members = _members(complaint, now)
    if not ballot.eligible:
        raise ResolutionError(_("No committee member may vote on this complaint: every member "
                                "is recused. Add committee members first."))
    ballot.opened_by_id = actor.id
    db.session.add(ballot)
    db.session.flush()
    from_state, round_ = complaint.state, open_round(complaint)
    if round_ is not None:
        round_.outcome, round_.ballot_id, round_.closed_at = RoundOutcome.NEW_BALLOT, ballot.id, now
        complaint.state = State.AWAITING_DECISION
    touch(complaint)
    db.session.flush()
    audit.record("ballot.opened", actor=actor, obj=complaint, details={
        "ballot_id": ballot.id, "proposals": len(ballot.proposals),
        "remedies": [[r.kind for r in p.remedies] for p in ballot.proposals],
        "closes_at": ballot.closes_at.isoformat(), "quorum_rule": ballot.quorum_rule,
        "members": len(ballot.members), "eligible": len(ballot.eligible),
        "recusals": sorted(str(m.recusal_reason) for m in ballot.members if m.recused_at),
        "round": round_.number if round_ is not None else None,
        "from_state": from_state, "to_state": complaint.state})
    closing.mail_members(ballot, ballot.eligible, closing.OPENED_KIND, complaint.label)
    return ballot


# -- recusal ----------------------------------------------------------------------------------

def lock(ballot: Ballot) -> None:
    """Reload the ballot in the write, its row locked on PostgreSQL (SQLite's writers are one
    at a time already): votes, recusals and the close follow one another."""
    db.session.refresh(ballot, with_for_update=True)


def closed_message(ballot: Ballot) -> str:
    return _("This ballot closed on %(when)s: nothing more can be changed on it.",
             when=format_moment(ballot.closed_at))


def recuse(actor: User, ballot: Ballot, note: str | None) -> BallotMember:
    """A member recuses themselves, with a reason; any vote they cast is withdrawn."""
    lock(ballot)
    text = text_of(note)
    if not text:
        raise ResolutionError(_("Say why you recuse yourself."), field="note")
    if len(text) > NOTE_MAX:
        raise ResolutionError(_("At most %(max)d characters.", max=NOTE_MAX), field="note")
    if not ballot.is_open:
        raise ResolutionError(closed_message(ballot))
    member = ballot.member(actor)
    if member is None:
        raise ResolutionError(_("You are not a member of this ballot: only the committee "
                                "members at its opening vote on it."))
    if member.recused_at is not None:
        raise ResolutionError(_("You are already recused from this ballot."))
    member.recused_at, member.recusal_reason, member.recusal_note = (
        clock.now(), RecusalReason.SELF, text)
    withdrawn = list(db.session.scalars(select(Vote).where(Vote.ballot_id == ballot.id,
                                                           Vote.user_id == actor.id)))
    for vote in withdrawn:
        db.session.delete(vote)
    db.session.flush()
    audit.record("ballot.recused", actor=actor, object_type="complaint",
                 object_id=ballot.complaint_id, details={
                     "ballot_id": ballot.id, "reason": RecusalReason.SELF.value,
                     "votes_withdrawn": len(withdrawn)})
    closing.close_if_all_voted(ballot, actor)
    return member


# -- a partner's choice -----------------------------------------------------------------------

def choices(ballot: Ballot) -> list[BallotProposal]:
    """What a partner chooses among: the tied proposals, or any when quorum was not met."""
    if not ballot.needs_partner_choice:
        return []
    if ballot.outcome == BallotOutcome.NO_QUORUM:
        return list(ballot.proposals)
    allowed = set(closing.tally(ballot).choice_ids)
    return [p for p in ballot.proposals if p.id in allowed]


def may_resolve(ballot: Ballot, complaint: Complaint, user: User) -> bool:
    return (ballot.needs_partner_choice and user.has_role(Role.PARTNER)
            and complaint.can_view(user))


def resolve(actor: User, ballot: Ballot, complaint: Complaint, proposal_id: int | None,
            reason: str | None, *, expected_version: int | None) -> BallotProposal:
    """Without quorum or on a tie, a partner who is not conflicted chooses, and says why."""
    lock(ballot)
    if expected_version is not None and expected_version != ballot.version:
        raise StaleVersion()
    if not may_resolve(ballot, complaint, actor):
        raise ResolutionError(_("Only a ballot that ended without quorum or in a tie waits "
                                "for a partner's choice, and it has none to make now."))
    errors = FieldErrors()
    chosen = next((p for p in choices(ballot) if p.id == proposal_id), None)
    if chosen is None:
        errors.add("proposal", _("Choose one of the proposals shown."))
    text = text_of(reason)
    if not text:
        errors.add("reason", _("Say why this proposal is chosen."))
    elif len(text) > REASON_MAX:
        errors.add("reason", _("At most %(max)d characters.", max=REASON_MAX))
    if errors.errors:
        raise ResolutionError(next(iter(errors.errors.values()))[0], errors=errors.errors)
    chosen.adopted = True
    ballot.resolved_by_id, ballot.resolved_at, ballot.resolution_reason = (
        actor.id, clock.now(), text)
    db.session.flush()
    audit.record("ballot.resolved", actor=actor, obj=complaint, details={
        "ballot_id": ballot.id, "outcome": ballot.outcome, "adopted": chosen.number})
    return chosen


# -- a member's list --------------------------------------------------------------------------

@dataclass(frozen=True)
class MemberBallot:
    ballot_id: int
    reference: str
    closes_at: datetime
    closed_at: datetime | None
    outcome: str | None
    recused: bool
    voted: bool

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


def for_member(user: User, limit: int = 10) -> list[MemberBallot]:
    """The ballots `user` sits on, open ones first (the soonest to close first), then the
    latest closed, on complaints they may see: one query. Each half walks the ballots along
    the (closed_at, closes_at) index and stops at `limit`: the seat is an EXISTS, not a join
    the planner could start from and read all of a member's seats (ten years: tens of
    thousands) to keep ten."""
    seat = (BallotMember.ballot_id == Ballot.id) & (BallotMember.user_id == user.id)
    proposals = (select(func.count(BallotProposal.id))
                 .where(BallotProposal.ballot_id == Ballot.id).scalar_subquery())
    mine = (select(func.count(Vote.id))
            .where(Vote.ballot_id == Ballot.id, Vote.user_id == user.id).scalar_subquery())
    of_ballot = Complaint.id == Ballot.complaint_id
    # OFFSET 0 keeps PostgreSQL from making the EXISTS a join that judged every complaint's
    # visibility (140 ms at 100,000) to keep ten ballots (docs/architecture.md, measured facts).
    visible = select(Complaint.id).where(of_ballot, Complaint.visible_to(user)).offset(0).exists()
    mine_to_see = (
        select(Ballot.id, select(Complaint.reference).where(of_ballot).scalar_subquery()
               .label("reference"), Ballot.complaint_id,
               Ballot.closes_at, Ballot.closed_at, Ballot.outcome,
               select(BallotMember.recused_at).where(seat).scalar_subquery().label("recused_at"),
               (mine >= proposals).label("voted"))
        .where(select(BallotMember.ballot_id).where(seat).exists(), visible))
    still_open = (mine_to_see.where(Ballot.closed_at.is_(None))
                  .order_by(Ballot.closes_at, Ballot.id).limit(limit).subquery())
    latest_closed = (mine_to_see.where(Ballot.closed_at.is_not(None))
                     .order_by(Ballot.closed_at.desc(), Ballot.id).limit(limit).subquery())
    both = union_all(select(still_open), select(latest_closed)).subquery()
    rows = db.session.execute(
        select(both).order_by(both.c.closed_at.is_not(None), both.c.closed_at.desc(),
                              both.c.closes_at, both.c.id).limit(limit)).all()
    return [MemberBallot(r.id, r.reference or f"D{r.complaint_id}", r.closes_at, r.closed_at,
                         r.outcome, r.recused_at is not None, bool(r.voted)) for r in rows]


# -- a complaint's ballots --------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    ballot_id: int
    number: int  # 1, 2... on this complaint
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None
    outcome: str | None
    resolved: bool
    eligible: int
    voted: int  # eligible members who voted on every proposal

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def needs_partner_choice(self) -> bool:
        return self.outcome in (BallotOutcome.NO_QUORUM, BallotOutcome.TIE) and not self.resolved


def summaries(complaint: Complaint) -> list[Summary]:
    """The complaint's ballots, oldest first, with "N of M have voted": one query."""
    # Nested two levels down, the subqueries name the seat's ballot: a reference to Ballot
    # would not correlate that far and count the votes and proposals of every ballot.
    proposals = (select(func.count(BallotProposal.id))
                 .where(BallotProposal.ballot_id == BallotMember.ballot_id).scalar_subquery())
    votes_of_member = (select(func.count(Vote.id))
                       .where(Vote.ballot_id == BallotMember.ballot_id,
                              Vote.user_id == BallotMember.user_id).scalar_subquery())
    eligible = (select(func.count()).select_from(BallotMember)
                .where(BallotMember.ballot_id == Ballot.id, BallotMember.recused_at.is_(None))
                .scalar_subquery())
    voted = (select(func.count()).select_from(BallotMember)
             .where(BallotMember.ballot_id == Ballot.id, BallotMember.recused_at.is_(None),
                    votes_of_member >= proposals).scalar_subquery())
    rows = db.session.execute(
        select(Ballot.id, Ballot.opened_at, Ballot.closes_at, Ballot.closed_at, Ballot.outcome,
               Ballot.resolved_at, eligible.label("eligible"), voted.label("voted"))
        .where(Ballot.complaint_id == complaint.id).order_by(Ballot.id)).all()
    return [Summary(r.id, n, r.opened_at, r.closes_at, r.closed_at, r.outcome,
                    r.resolved_at is not None, r.eligible or 0, r.voted or 0)
            for n, r in enumerate(rows, start=1)]


def number_of(ballot: Ballot) -> int:
    """The ballot's number on its complaint (1 for the first)."""
    return db.session.scalar(select(func.count(Ballot.id)).where(
        Ballot.complaint_id == ballot.complaint_id, Ballot.id <= ballot.id)) or 1
