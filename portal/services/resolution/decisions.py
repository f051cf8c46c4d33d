"""The decision: recorded by a partner from the committee's adopted proposal (awaiting_decision
-> decided), and revised in a negotiation round within the limits the committee set on its
last ballot (disputed -> negotiation -> decided). Each is a numbered Decision; the earlier ones
are kept. The outcome notice that tells the client is `outcome.py`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.resolution import (
    DEFAULT_CURRENCY,
    INTERNAL_REMEDIES,
    Ballot,
    BallotProposal,
    DecidedRemedy,
    Decision,
    NegotiationRound,
    RemedyKind,
    RoundOutcome,
)
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import ConflictError, FieldErrors
from portal.services.resolution import money
from portal.services.resolution.common import (
    ResolutionError,
    check_version,
    parse_money,
    required_text,
    text_of,
)

SUMMARY_MAX = 10_000
REASON_MAX = 4_000
DISCUSSION_MAX = 20_000
SCOPE_MAX = 2_000


@dataclass
class RemedyDraft:
    """A remedy on its way into a decision (money.settle_refunds fills a full refund's
    amount)."""

    kind: str
    amount: Decimal | None
    currency: str
    scope: str | None
    level: str | None
    due: date | None


@dataclass(frozen=True)
class RevisedRemedy:
    """One of the current decision's client-facing remedies as the revision form sends it."""

    remedy_id: int
    keep: bool
    amount: str = ""  # a partial refund's amount
    scope: str = ""  # a follow-up service's scope
    due: date | None = None


@dataclass(frozen=True)
class AddedRemedy:
    kind: str = ""  # empty: nothing added
    amount: str = ""
    scope: str = ""
    due: date | None = None


@dataclass(frozen=True)
class Revision:
    remedies: list[RevisedRemedy] = field(default_factory=list)
    added: AddedRemedy = field(default_factory=AddedRemedy)
    reason: str = ""
    client_summary: str = ""


def lock(complaint: Complaint) -> None:
    """Reload the complaint in the write, its row locked on PostgreSQL."""
    db.session.refresh(complaint, with_for_update=True)


def latest_ballot(complaint: Complaint) -> Ballot | None:
    return db.session.scalar(select(Ballot).where(Ballot.complaint_id == complaint.id)
                             .order_by(Ballot.id.desc()).limit(1))


def basis(complaint: Complaint) -> tuple[Ballot, BallotProposal]:
    """The latest ballot and its adopted proposal; refused while there is none to follow."""
    ballot = latest_ballot(complaint)
    if ballot is None:
        raise ResolutionError(_("The committee has not voted on this complaint yet: a partner "
                                "opens a ballot first."))
    if ballot.is_open:
        raise ResolutionError(_("The committee's ballot is still open: the decision follows "
                                "its result once it closes."))
    if ballot.needs_partner_choice:
        raise ResolutionError(_("The ballot ended without a result (no quorum, or a tie): a "
                                "partner chooses the proposal, with a reason, first."))
    proposal = ballot.adopted_proposal
    if proposal is None:
        raise ResolutionError(_("No proposal was adopted on the last ballot: open a new one."))
    decided = db.session.scalar(select(func.count()).select_from(Decision)
                                .where(Decision.ballot_id == ballot.id))
    if decided:
        raise ResolutionError(_("A decision was already recorded from the last ballot."))
    return ballot, proposal


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise ResolutionError(first, errors=errors.errors)


def _check_due(due: date | None, name: str, errors: FieldErrors) -> None:
    if due is None:
        errors.add(name, _("Enter the date by which this is carried out."))
    elif due < clock.today():
        errors.add(name, _("The date is in the past."))


def _summary(value: str, errors: FieldErrors) -> str:
    text = text_of(value)
    if not text:
        errors.add("client_summary", _("Write the summary of the findings for the client, in "
                                       "the client's language."))
    elif len(text) > SUMMARY_MAX:
        errors.add("client_summary", _("At most %(max)d characters.", max=SUMMARY_MAX))
    return text


def _store(actor: User, complaint: Complaint, drafts: list[RemedyDraft], *, ballot: Ballot,
           summary: str, reason: str | None) -> Decision:
    number = max((d.number for d in complaint.decisions), default=0) + 1
    decision = Decision(complaint_id=complaint.id, number=number, ballot_id=ballot.id,
                        client_summary=summary, reason=reason, decided_by_id=actor.id,
                        decided_at=clock.now())
    decision.remedies = [DecidedRemedy(kind=d.kind, amount=d.amount, currency=d.currency,
                                       scope=d.scope, level=d.level, due=d.due) for d in drafts]
    complaint.decisions.append(decision)
    return decision


def _check_decider(actor: User, complaint: Complaint) -> None:
    if not complaint.can_decide(actor):
        raise ConflictError(_("Only a partner who may see this complaint records its decision, "
                              "and only while it awaits one or is being negotiated. Reload "
                              "the page to see where it stands."))


def record(actor: User, complaint: Complaint, *, proposal_id: int,
           due: Mapping[int, date | None], client_summary: str,
           expected_version: int) -> Decision:
    """Record the decision: the adopted proposal's remedies as adopted, each with the date by
    which it is carried out, and the summary written for the client. awaiting_decision ->
    decided."""
    lock(complaint)
    check_version(complaint, expected_version)
    _check_decider(actor, complaint)
    if complaint.state != State.AWAITING_DECISION:
        raise ConflictError(_("This complaint is not awaiting a decision: reload the page."))
    ballot, proposal = basis(complaint)
    if proposal.id != proposal_id:
        raise ConflictError(_("The ballot's result is not the one this page showed: reload "
                              "the page."))
    errors = FieldErrors()
    drafts = []
    for remedy in proposal.remedies:
        _check_due(due.get(remedy.id), f"due-{remedy.id}", errors)
        drafts.append(RemedyDraft(remedy.kind, remedy.amount, remedy.currency, remedy.scope,
                                  remedy.level, due.get(remedy.id)))
    summary = _summary(client_summary, errors)
    _refuse_if_any(errors)
    refunds = money.settle_refunds(complaint, drafts)
    decision = _store(actor, complaint, drafts, ballot=ballot, summary=summary, reason=None)
    complaint.state = State.DECIDED
    db.session.flush()
    audit.record("decision.recorded", actor=actor, obj=complaint, details={
        "decision_id": decision.id, "number": decision.number, "ballot_id": ballot.id,
        "proposal_id": proposal.id, "remedies": [d.kind for d in drafts],
        "refund_total": f"{refunds:.2f}", "from_state": State.AWAITING_DECISION.value,
        "to_state": State.DECIDED.value})
    return decision


# -- negotiation ------------------------------------------------------------------------

def open_round(complaint: Complaint) -> NegotiationRound | None:
    return db.session.scalar(
        select(NegotiationRound).where(NegotiationRound.complaint_id == complaint.id,
                                       NegotiationRound.closed_at.is_(None))
        .order_by(NegotiationRound.number.desc()).limit(1))


def rounds(complaint: Complaint) -> list[NegotiationRound]:
    return list(db.session.scalars(
        select(NegotiationRound).where(NegotiationRound.complaint_id == complaint.id)
        .order_by(NegotiationRound.number)))


def record_discussion(actor: User, complaint: Complaint, *, discussion: str,
                      expected_version: int) -> NegotiationRound:
    """The partner records the discussion with the client in the open round (disputed ->
    negotiation; recorded again while negotiating, it replaces the earlier text)."""
    lock(complaint)
    check_version(complaint, expected_version)
    _check_decider(actor, complaint)
    if complaint.state not in (State.DISPUTED, State.NEGOTIATION):
        raise ConflictError(_("The client has not disputed the outcome, or the round is over: "
                              "reload the page."))
    current = open_round(complaint)
    if current is None:
        raise ConflictError(_("There is no open negotiation round: reload the page."))
    current.discussion = required_text(
        discussion, field="discussion", limit=DISCUSSION_MAX,
        missing=_("Write what was discussed with the client."))
    current.discussed_by_id = actor.id
    current.discussed_at = clock.now()
    from_state = complaint.state
    complaint.state = State.NEGOTIATION
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("negotiation.discussed", actor=actor, obj=complaint, details={
        "round_id": current.id, "number": current.number, "from_state": str(from_state),
        "to_state": State.NEGOTIATION.value})
    return current


def revision_limit(complaint: Complaint, ballot: Ballot | None) -> Decimal:
    """The most a revision may refund: the last ballot's maximum, or, when the committee set
    none, what the current decision refunds already."""
    if ballot is not None and ballot.max_refund is not None:
        return ballot.max_refund
    current = complaint.current_decision
    return money.refund_total(current.remedies) if current else money.ZERO


def _revised_drafts(current: Decision, revision: Revision, errors: FieldErrors
                    ) -> list[RemedyDraft]:
    by_id = {r.id: r for r in current.client_remedies}
    if sorted(c.remedy_id for c in revision.remedies) != sorted(by_id):
        raise ConflictError(_("The decision changed after this page was loaded: reload it."))
    drafts = []
    for change in revision.remedies:
        remedy = by_id[change.remedy_id]
        if not change.keep:
            continue
        name = f"remedy-{remedy.id}"
        amount, scope = remedy.amount, remedy.scope
        if remedy.kind == RemedyKind.PARTIAL_REFUND:
            try:
                amount = parse_money(change.amount, field=f"{name}-amount")
            except ResolutionError as error:
                errors.add(f"{name}-amount", error.message)
        if remedy.kind == RemedyKind.FREE_FOLLOW_UP:
            scope = text_of(change.scope)[:SCOPE_MAX] or None
            if scope is None:
                errors.add(f"{name}-scope", _("Say what the follow-up service covers."))
        _check_due(change.due, f"{name}-due", errors)
        drafts.append(RemedyDraft(remedy.kind, amount, remedy.currency, scope, None, change.due))
    added = revision.added
    if added.kind:
        if added.kind not in {k.value for k in RemedyKind} or added.kind in INTERNAL_REMEDIES:
            errors.add("added-kind", _("Choose one of the options shown."))
            return drafts
        amount, scope = None, None
        if added.kind == RemedyKind.PARTIAL_REFUND:
            try:
                amount = parse_money(added.amount, field="added-amount")
            except ResolutionError as error:
                errors.add("added-amount", error.message)
        if added.kind == RemedyKind.FREE_FOLLOW_UP:
            scope = text_of(added.scope)[:SCOPE_MAX] or None
            if scope is None:
                errors.add("added-scope", _("Say what the follow-up service covers."))
        _check_due(added.due, "added-due", errors)
        drafts.append(RemedyDraft(added.kind, amount, DEFAULT_CURRENCY, scope, None,
                                  added.due))
    return drafts


def revise(actor: User, complaint: Complaint, revision: Revision, *,
           expected_version: int) -> Decision:
    """Revise the decision in the open round, within the last ballot's limits, for a reason:
    a new Decision (number n+1) that the revised outcome notice will carry. Internal measures
    stay as the committee decided them. negotiation -> decided."""
    lock(complaint)
    check_version(complaint, expected_version)
    _check_decider(actor, complaint)
    current_round = open_round(complaint)
    if complaint.state != State.NEGOTIATION or current_round is None:
        raise ConflictError(_("The decision can be revised only in a negotiation round, once "
                              "the discussion with the client is recorded: reload the page."))
    current = complaint.current_decision
    ballot = latest_ballot(complaint)
    if current is None or ballot is None or ballot.is_open:
        raise ConflictError(_("There is no decision to revise: reload the page."))
    errors = FieldErrors()
    drafts = _revised_drafts(current, revision, errors)
    reason = text_of(revision.reason)
    if not reason:
        errors.add("reason", _("Say why the decision is revised."))
    elif len(reason) > REASON_MAX:
        errors.add("reason", _("At most %(max)d characters.", max=REASON_MAX))
    summary = _summary(revision.client_summary, errors)
    _refuse_if_any(errors)
    internal = [RemedyDraft(r.kind, r.amount, r.currency, r.scope, r.level, r.due)
                for r in current.remedies if r.is_internal]
    refunds = money.settle_refunds(complaint, drafts)
    limit = revision_limit(complaint, ballot)
    if refunds > limit:
        raise ResolutionError(_(
            "The refunds in the revised decision (%(total)s) are above the most the committee "
            "allowed on its ballot (%(limit)s). Stay within it, or open a new ballot.",
            total=f"{refunds:,.2f}", limit=f"{limit:,.2f}"), field="fees")
    decision = _store(actor, complaint, drafts + internal, ballot=ballot, summary=summary,
                      reason=reason)
    db.session.flush()
    current_round.outcome = RoundOutcome.REVISED
    current_round.revised_decision_id = decision.id
    current_round.closed_at = clock.now()
    complaint.state = State.DECIDED
    db.session.flush()
    audit.record("decision.revised", actor=actor, obj=complaint, details={
        "decision_id": decision.id, "number": decision.number,
        "previous_decision_id": current.id, "round_id": current_round.id,
        "round": current_round.number, "remedies": [d.kind for d in drafts + internal],
        "refund_total": f"{refunds:.2f}", "limit": f"{limit:.2f}",
        "from_state": State.NEGOTIATION.value, "to_state": State.DECIDED.value})
    return decision

