"""The committee's ballots of the complaints `flask demo seed --complaints N` generates
(portal/demo_outcomes.py plans them, portal/demo_complaints.py writes them per batch).

Every decided complaint was decided on a closed ballot: the committee as it stood (every user
with the committee role; a respondent, someone on the matter, the lead or an investigator
recused, as services/resolution/ballots.py recuses them), one or two proposals, the first
being the remedies decided, and the votes that adopted it, counted by the real tally
(services/resolution/closing.py `count`). It closed when the last member voted, or at its
closing time with a quorum. A complaint awaiting the decision for more than two weeks has an
open ballot closing in the next days, with some votes already cast, so that the committee
members have ballots to vote on. Written with bulk inserts, like the rest of the batch.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal.db import db
from portal.demo_outcome_rows import bulk_insert
from portal.models.resolution import (
    Ballot,
    BallotMember,
    BallotOutcome,
    BallotProposal,
    ProposedRemedy,
    QuorumRule,
    RecusalReason,
    RemedyKind,
    Vote,
    VoteChoice,
)
from portal.models.user import Role, User, UserRole
from portal.services.resolution.closing import ClosedReason, Tally, count

RATIONALES = (
    "投诉事项经调查基本属实：按客户请求解释原因并采取补救措施。",
    "调查确认律师存在过失，但客户的部分请求缺乏依据：采取较轻的补救措施。",
)
FIRST_CHOICES = {VoteChoice.APPROVE: 85, VoteChoice.ABSTAIN: 10, VoteChoice.OBJECT: 5}
OTHER_CHOICES = {VoteChoice.APPROVE: 30, VoteChoice.OBJECT: 40, VoteChoice.ABSTAIN: 30}


@dataclass(frozen=True)
class Terms:
    kind: str  # RemedyKind
    amount: Decimal | None = None
    scope: str | None = None


@dataclass
class BallotPlan:
    """One ballot as it happened: written by `write`, which fills in the ids."""

    opened: datetime
    closes_at: datetime
    opener: User
    members: list[tuple[int, str | None]]  # (user id, RecusalReason or None)
    proposals: list[list[Terms]]
    votes: list[tuple[int, int, str, datetime]]  # (proposal number, user id, choice, cast at)
    closed: datetime | None = None
    reason: str | None = None  # ClosedReason
    tally: Tally | None = None
    closer: int | None = None  # the member whose vote closed it (all_voted)
    complaint_id: int = 0
    id: int | None = None
    proposal_ids: list[int] = field(default_factory=list)

    @property
    def eligible(self) -> list[int]:
        return [user_id for user_id, reason in self.members if reason is None]

    @property
    def max_refund(self) -> Decimal | None:
        refunds = [r.amount for p in self.proposals for r in p if r.amount is not None]
        return max(refunds) * Decimal("1.5") if refunds else None

    def voters(self) -> list[tuple[int, datetime]]:
        """(user id, when) of each member who voted, in the order they voted."""
        cast = {user_id: at for _number, user_id, _choice, at in self.votes}
        return sorted(cast.items(), key=lambda item: item[1])


def committee() -> list[User]:
    """The active committee members (services/resolution/ballots.py `committee`)."""
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.COMMITTEE.value, User.active.is_(True))
        .order_by(User.id)).unique())


def recusal(user_id: int, conflicted: set[int], lead_id: int | None) -> str | None:
    """Why the member may not vote: the same order as ballots.recusal_for."""
    if user_id in conflicted:
        return RecusalReason.CONFLICTED.value
    if user_id == lead_id:
        return RecusalReason.LEAD.value
    return None


class Ballots:
    """Plans the ballots of a batch from one seeded random number generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.committee = [u.id for u in committee()]

    def _members(self, conflicted: set[int], lead_id: int | None) -> list[tuple[int, str | None]]:
        return [(user_id, recusal(user_id, conflicted, lead_id)) for user_id in self.committee]

    def _proposals(self, decided: list[Terms]) -> list[list[Terms]]:
        refund = any(r.amount is not None for r in decided)
        other = [Terms(RemedyKind.EXPLANATION.value)]
        if refund:
            other.append(Terms(RemedyKind.WRITTEN_APOLOGY.value))
        if self.rng.random() < 0.4 or [r.kind for r in other] == [r.kind for r in decided]:
            return [decided]
        return [decided, other]

    def _choice(self, weights: dict[VoteChoice, int]) -> str:
        return self.rng.choices(list(weights), list(weights.values()))[0].value

    def _votes(self, voters: list[int], proposals: int, start: datetime,
               end: datetime) -> list[tuple[int, int, str, datetime]]:
        span = max(int((end - start).total_seconds()), 60)
        votes = []
        for user_id in voters:
            at = start + timedelta(seconds=self.rng.randrange(span))
            for number in range(1, proposals + 1):
                weights = FIRST_CHOICES if number == 1 else OTHER_CHOICES
                votes.append((number, user_id, self._choice(weights), at))
        return votes

    def closed(self, opener: User, opened: datetime, closed: datetime, conflicted: set[int],
               lead_id: int | None, decided: list[Terms]) -> BallotPlan | None:
        """The ballot that adopted `decided` (its first proposal), over by `closed`: when the
        last member voted, or at its closing time with a quorum but someone missing."""
        members = self._members(conflicted, lead_id)
        eligible = [user_id for user_id, reason in members if reason is None]
        if not eligible:
            return None
        proposals = self._proposals(decided)
        quorum = len(eligible) // 2 + 1  # QuorumRule.MAJORITY
        everyone = len(eligible) - 1 < quorum or self.rng.random() < 0.7
        voters = eligible if everyone else self.rng.sample(eligible, len(eligible) - 1)
        plan = BallotPlan(opened, closed, opener, members, proposals,
                          self._votes(voters, len(proposals), opened, closed))
        if everyone:
            plan.reason, plan.closer = ClosedReason.ALL_VOTED, plan.voters()[-1][0]
            plan.closed = max(at for *_rest, at in plan.votes)
            plan.closes_at = plan.closed + timedelta(hours=self.rng.randint(12, 96))
        else:
            plan.reason, plan.closed = ClosedReason.DEADLINE, closed
        plan.tally = self._tally(plan)
        if plan.tally.outcome != BallotOutcome.ADOPTED or plan.tally.winner_id != 1:
            plan.votes = [(n, u, (VoteChoice.APPROVE if n == 1 else VoteChoice.OBJECT).value, at)
                          for n, u, _choice, at in plan.votes]
            plan.tally = self._tally(plan)
        return plan

    def open(self, opener: User, opened: datetime, now: datetime, conflicted: set[int],
             lead_id: int | None, proposed: list[Terms]) -> BallotPlan | None:
        """A ballot still open, closing in the next days; some members have voted."""
        members = self._members(conflicted, lead_id)
        eligible = [user_id for user_id, reason in members if reason is None]
        if not eligible:
            return None
        proposals = self._proposals(proposed)
        voters = self.rng.sample(eligible, self.rng.randint(0, len(eligible) - 1))
        closes_at = now + timedelta(hours=self.rng.randint(20, 120))
        return BallotPlan(opened, closes_at, opener, members, proposals,
                          self._votes(voters, len(proposals), opened, now))

    @staticmethod
    def _tally(plan: BallotPlan) -> Tally:
        numbers = range(1, len(plan.proposals) + 1)
        return count([(n, n) for n in numbers], plan.eligible,
                     [(n, u, choice) for n, u, choice, _at in plan.votes],
                     QuorumRule.MAJORITY.value)


def write(plans: Sequence[BallotPlan]) -> None:
    """Insert the ballots with their proposals, remedies, members and votes; fills in the
    plans' ids (each plan's complaint_id is set by then)."""
    if not plans:
        return
    ids = bulk_insert(Ballot, [_ballot_row(p) for p in plans], ids=True)
    proposals = []
    for plan, ballot_id in zip(plans, ids, strict=True):
        plan.id = ballot_id
        winner = plan.tally.winner_id if plan.tally else None
        proposals += [{"ballot_id": ballot_id, "number": number, "adopted": number == winner,
                       "rationale": RATIONALES[min(number, len(RATIONALES)) - 1]}
                      for number in range(1, len(plan.proposals) + 1)]
    proposal_ids = iter(bulk_insert(BallotProposal, proposals, ids=True))
    for plan in plans:
        plan.proposal_ids = [next(proposal_ids) for _ in plan.proposals]
    _write_children(plans)


def _ballot_row(plan: BallotPlan) -> dict:
    reminded = (plan.closes_at - timedelta(hours=24)
                if plan.reason == ClosedReason.DEADLINE else None)
    return {"complaint_id": plan.complaint_id, "opened_by_id": plan.opener.id,
            "opened_at": plan.opened, "closes_at": plan.closes_at,
            "quorum_rule": QuorumRule.MAJORITY.value, "max_refund": plan.max_refund,
            "reminder_sent_at": reminded if reminded and reminded > plan.opened else None,
            "closed_at": plan.closed, "closed_reason": plan.reason,
            "outcome": plan.tally.outcome if plan.tally else None,
            "version": 2 if plan.closed else 1}


def _write_children(plans: Sequence[BallotPlan]) -> None:
    remedies, members, votes = [], [], []
    for plan in plans:
        for proposal_id, terms in zip(plan.proposal_ids, plan.proposals, strict=True):
            remedies += [{"proposal_id": proposal_id, "kind": r.kind, "amount": r.amount,
                          "currency": "CNY", "scope": r.scope} for r in terms]
        members += [{"ballot_id": plan.id, "user_id": user_id, "recusal_reason": reason,
                     "recused_at": plan.opened if reason else None}
                    for user_id, reason in plan.members]
        votes += [{"ballot_id": plan.id, "proposal_id": plan.proposal_ids[number - 1],
                   "user_id": user_id, "choice": choice, "cast_at": at}
                  for number, user_id, choice, at in plan.votes]
    for model, rows in ((ProposedRemedy, remedies), (BallotMember, members), (Vote, votes)):
        bulk_insert(model, rows)
