"""Closing a ballot: the tally, the close itself, and the worker's tick (`flask ballots tick`).

**The tally** (`count`): a proposal is adopted when quorum is met and its approvals outnumber
its objections. Quorum counts the eligible members (not recused) who voted on every proposal,
against the number the ballot's rule asks of the eligible members (a majority, two thirds,
all; never fewer than one). Of several adopted proposals the one with most approvals wins; a
tie among them, or no quorum, leaves the choice to a partner (`ballots.resolve`); quorum with
no proposal adopted asks for a new ballot.

**A ballot closes once**, at its closing time (the tick) or when every eligible member has
voted on every proposal (`voting.cast`). Both claim it with a conditional UPDATE (`... SET
closed_at = now WHERE id = ? AND closed_at IS NULL`) in the write that records the tally and
the audit event: of two workers (or a worker and the last vote) the second's UPDATE matches no
row (SQLite: it waits for the write lock, then sees the first's commit; PostgreSQL: it waits
for the row lock and re-checks the condition) and writes nothing.

**Members who have not voted are reminded once**, BALLOT_REMINDER_HOURS before the close,
claimed the same way through `reminder_sent_at`. Reminders and the opening notice are queued
without naming the complaint on the message, so the case file's timeline never tells who had
not voted yet; the audit event counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_moment
from portal.links import email_link
from portal.models.complaint import Complaint
from portal.models.resolution import (
    Ballot,
    BallotMember,
    BallotOutcome,
    BallotProposal,
    QuorumRule,
    Vote,
    VoteChoice,
)
from portal.models.user import User
from portal.services import audit, outbox, staff_mail

log = logging.getLogger("portal.ballots")

TICK_LIMIT = 200  # ballots per kind and tick; the next tick takes the rest
TICK_SECONDS = 60  # how often the outbox worker looks for ballots to close or remind about
REMINDER_KIND = "ballot_reminder"
OPENED_KIND = "ballot_opened"
TICK_LABEL = "ballots"  # the audit trail's actor for what the tick does


class ClosedReason:
    DEADLINE = "deadline"
    ALL_VOTED = "all_voted"


# -- the tally --------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProposalCount:
    proposal_id: int
    number: int
    approvals: int = 0
    objections: int = 0
    abstentions: int = 0

    @property
    def passes(self) -> bool:
        return self.approvals > self.objections


@dataclass(frozen=True)
class Tally:
    eligible: int
    participated: int  # eligible members who voted on every proposal
    quorum: int  # how many had to
    proposals: tuple[ProposalCount, ...]
    outcome: str  # BallotOutcome
    winner_id: int | None  # the adopted proposal (outcome adopted)
    choice_ids: tuple[int, ...]  # what a partner chooses among (tie: the tied; no quorum: all)

    @property
    def quorum_met(self) -> bool:
        return self.participated >= self.quorum

    def of(self, proposal_id: int) -> ProposalCount | None:
        return next((p for p in self.proposals if p.proposal_id == proposal_id), None)


def quorum_needed(rule: str, eligible: int) -> int:
    """How many eligible members must vote on every proposal: never fewer than one."""
    if rule == QuorumRule.ALL:
        needed = eligible
    elif rule == QuorumRule.TWO_THIRDS:
        needed = -(-2 * eligible // 3)  # two thirds, rounded up
    else:  # a majority: more than half
        needed = eligible // 2 + 1
    return max(1, needed)


def count(proposals: Iterable[tuple[int, int]], eligible_ids: Iterable[int],
          votes: Iterable[tuple[int, int, str]], rule: str) -> Tally:
    """The tally of `votes` ((proposal id, user id, choice)) on `proposals` ((id, number)),
    counting the eligible members' votes only."""
    numbers = dict(proposals)
    eligible = set(eligible_ids)
    counts = {pid: {VoteChoice.APPROVE: 0, VoteChoice.OBJECT: 0, VoteChoice.ABSTAIN: 0}
              for pid in numbers}
    voted_on: dict[int, set[int]] = {}
    for proposal_id, user_id, choice in votes:
        if user_id not in eligible or proposal_id not in numbers or choice not in counts[
                proposal_id]:
            continue
        counts[proposal_id][choice] += 1
        voted_on.setdefault(user_id, set()).add(proposal_id)
    participated = sum(1 for ids in voted_on.values() if len(ids) == len(numbers))
    tallies = tuple(ProposalCount(pid, numbers[pid], c[VoteChoice.APPROVE], c[VoteChoice.OBJECT],
                                  c[VoteChoice.ABSTAIN])
                    for pid, c in sorted(counts.items(), key=lambda item: numbers[item[0]]))
    quorum = quorum_needed(rule, len(eligible))
    everyone = tuple(t.proposal_id for t in tallies)
    if participated < quorum:
        return Tally(len(eligible), participated, quorum, tallies, BallotOutcome.NO_QUORUM,
                     None, everyone)
    adopted = [t for t in tallies if t.passes]
    if not adopted:
        return Tally(len(eligible), participated, quorum, tallies, BallotOutcome.NONE_ADOPTED,
                     None, ())
    best = max(t.approvals for t in adopted)
    winners = tuple(t.proposal_id for t in adopted if t.approvals == best)
    if len(winners) > 1:
        return Tally(len(eligible), participated, quorum, tallies, BallotOutcome.TIE, None,
                     winners)
    return Tally(len(eligible), participated, quorum, tallies, BallotOutcome.ADOPTED,
                 winners[0], ())


def votes_of(ballot_id: int) -> list[Vote]:
    return list(db.session.scalars(select(Vote).where(Vote.ballot_id == ballot_id)
                                   .order_by(Vote.proposal_id, Vote.user_id)))


def tally(ballot: Ballot, votes: list[Vote] | None = None) -> Tally:
    """The ballot's tally from its rows (one query for the votes when not given)."""
    votes = votes_of(ballot.id) if votes is None else votes
    return count([(p.id, p.number) for p in ballot.proposals],
                 [m.user_id for m in ballot.eligible],
                 [(v.proposal_id, v.user_id, v.choice) for v in votes], ballot.quorum_rule)


def fully_voted(ballot_id: int) -> int:
    """How many eligible members have voted on every proposal (one query)."""
    proposals = (select(func.count(BallotProposal.id))
                 .where(BallotProposal.ballot_id == ballot_id).scalar_subquery())
    mine = (select(func.count(Vote.id))
            .where(Vote.ballot_id == ballot_id, Vote.user_id == BallotMember.user_id)
            .scalar_subquery())
    return db.session.scalar(
        select(func.count()).select_from(BallotMember)
        .where(BallotMember.ballot_id == ballot_id, BallotMember.recused_at.is_(None),
               mine >= proposals)) or 0


# -- closing ----------------------------------------------------------------------------------

def close(ballot: Ballot, reason: str, *, actor: User | None = None) -> bool:
    """Claim the ballot and record its tally; False (nothing written) when it was already
    closed. Call it inside a write transaction."""
    claimed = db.session.execute(
        update(Ballot).where(Ballot.id == ballot.id, Ballot.closed_at.is_(None))
        .values(closed_at=clock.now(), closed_reason=reason, version=Ballot.version + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    db.session.refresh(ballot)
    result = tally(ballot)
    ballot.outcome = result.outcome
    for proposal in ballot.proposals:
        proposal.adopted = proposal.id == result.winner_id
    db.session.flush()
    winner = ballot.adopted_proposal
    audit.record("ballot.closed", actor=actor, actor_label=None if actor else TICK_LABEL,
                 object_type="complaint", object_id=ballot.complaint_id, details={
                     "ballot_id": ballot.id, "reason": reason, "outcome": result.outcome,
                     "adopted": winner.number if winner else None,
                     "eligible": result.eligible, "participated": result.participated,
                     "quorum": result.quorum})
    return True


def close_if_all_voted(ballot: Ballot, actor: User | None) -> bool:
    """After a vote or a recusal: close when every eligible member has voted on every
    proposal (or nobody is left to vote)."""
    if fully_voted(ballot.id) < len(ballot.eligible):
        return False
    return close(ballot, ClosedReason.ALL_VOTED, actor=actor)


# -- mail to the members ----------------------------------------------------------------------

def ballot_link(ballot_id: int) -> str | None:
    """The ballot page's address for an email: PUBLIC_BASE_URL, else the request's host."""
    return email_link("ballots.show", ballot_id=ballot_id)


def mail_members(ballot: Ballot, members: Iterable[BallotMember], kind: str,
                 reference: str) -> int:
    """Queue `kind` (opened or reminder) to each member with an address; returns how many."""
    sent = 0
    for member in members:
        user = member.user
        if not (user.active and user.email):
            continue
        with staff_mail.in_their_language(user):
            context = {"user": user, "reference": reference, "link": ballot_link(ballot.id),
                       "closes_at": format_moment(ballot.closes_at, "full"),
                       "proposals": len(ballot.proposals)}
            if kind == OPENED_KIND:
                subject = _("Committee ballot on complaint %(reference)s: vote by %(when)s",
                            reference=reference, when=format_moment(ballot.closes_at))
            else:
                subject = _("Reminder: the ballot on complaint %(reference)s closes on "
                            "%(when)s", reference=reference,
                            when=format_moment(ballot.closes_at))
            try:
                staff_mail.queue(user, kind=kind, template=kind, subject=subject,
                                 context=context)
            except outbox.OutboxError:  # an address the outbox refuses: logged, not retried
                log.exception("ballot %s: no %s for user %s", ballot.id, kind, user.id)
                continue
        sent += 1
    return sent


def _not_voted(ballot: Ballot) -> list[BallotMember]:
    counts = dict(db.session.execute(
        select(Vote.user_id, func.count(Vote.id)).where(Vote.ballot_id == ballot.id)
        .group_by(Vote.user_id)).all())
    return [m for m in ballot.eligible if counts.get(m.user_id, 0) < len(ballot.proposals)]


def remind(ballot_id: int) -> bool:
    """Claim the ballot's one reminder and queue it to the members who have not voted."""
    claimed = db.session.execute(
        update(Ballot).where(Ballot.id == ballot_id, Ballot.reminder_sent_at.is_(None),
                             Ballot.closed_at.is_(None))
        .values(reminder_sent_at=clock.now()).execution_options(synchronize_session=False))
    if claimed.rowcount != 1:
        return False
    ballot = db.session.get(Ballot, ballot_id, populate_existing=True)
    complaint = db.session.get(Complaint, ballot.complaint_id)
    waiting = _not_voted(ballot)
    sent = mail_members(ballot, waiting, REMINDER_KIND, complaint.label)
    audit.record("ballot.reminded", actor_label=TICK_LABEL, object_type="complaint",
                 object_id=ballot.complaint_id,
                 details={"ballot_id": ballot.id, "reminded": sent})
    return True


# -- the tick ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class TickResult:
    closed: int
    reminded: int


def _due_to_close(now: datetime, limit: int) -> list[int]:
    return list(db.session.scalars(
        select(Ballot.id).where(Ballot.closed_at.is_(None), Ballot.closes_at <= now)
        .order_by(Ballot.closes_at, Ballot.id).limit(limit)))


def _due_to_remind(now: datetime, limit: int) -> list[int]:
    ahead = timedelta(hours=float(current_app.config.get("BALLOT_REMINDER_HOURS", 24)))
    return list(db.session.scalars(
        select(Ballot.id).where(Ballot.closed_at.is_(None), Ballot.reminder_sent_at.is_(None),
                                Ballot.closes_at > now, Ballot.closes_at <= now + ahead)
        .order_by(Ballot.closes_at, Ballot.id).limit(limit)))


def _close_due(ballot_id: int) -> bool:
    with write_transaction():
        ballot = db.session.get(Ballot, ballot_id)
        return ballot is not None and close(ballot, ClosedReason.DEADLINE)


def _remind_due(ballot_id: int) -> bool:
    with write_transaction():
        return remind(ballot_id)


def tick(limit: int = TICK_LIMIT) -> TickResult:
    """Close the ballots whose time is up and remind about those closing soon. Call it outside
    a transaction: it reads, then commits one short write per ballot."""
    now = clock.now()
    to_close = _due_to_close(now, limit)
    to_remind = _due_to_remind(now, limit)
    db.session.rollback()  # end the read: each ballot gets its own write
    closed = sum(_close_due(i) for i in to_close)
    reminded = 0
    for ballot_id in to_remind:
        try:
            reminded += _remind_due(ballot_id)
        except outbox.OutboxError:  # pragma: no cover - mail_members logs and skips these
            log.exception("ballot %s: the reminder could not be queued", ballot_id)
    return TickResult(closed, reminded)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: tick when TICK_SECONDS have passed on the portal's clock since
    `last` (or never ran); returns when it last ran."""
    now = clock.now()
    if last is not None and (now - last).total_seconds() < TICK_SECONDS:
        return last
    result = tick()
    if result.closed or result.reminded:
        log.info("ballots tick: %d closed, %d reminded", result.closed, result.reminded)
    return now
