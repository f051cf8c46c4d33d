"""Votes on a ballot: cast and changed until it closes, sealed until then.

A member votes approve, object or abstain on every proposal at once, each with an optional
comment. The submission is one INSERT ... ON CONFLICT (proposal_id, user_id) DO UPDATE (SQLite
and PostgreSQL both speak it): the unique key `uq_vote_member` keeps one vote per member and
proposal, so two submissions at the same instant leave one row, the later choice in it. The
ballot's row is locked first (PostgreSQL; SQLite's writers are one at a time), so the vote
that completes the ballot sees every other vote and closes it (`closing.close_if_all_voted`).

Refused, with the reason and nothing written: a vote after the close (or after the closing
time, before the worker closed it), by a recused member, by someone who is not a member.

**Sealed**: `mine` gives a member their own votes, `count` how many have voted; `results` gives
the votes and the tally only once the ballot is closed. The audit event of a vote holds the
ballot and how many proposals, never a choice or a comment.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite

from portal import clock
from portal.db import db
from portal.formatting import format_moment
from portal.models.resolution import RECUSAL_LABELS, Ballot, Vote, VoteChoice
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import FieldErrors
from portal.services.resolution import closing
from portal.services.resolution.ballots import closed_message, lock
from portal.services.resolution.common import ResolutionError, text_of

COMMENT_MAX = 2000


@dataclass
class VoteInput:
    choice: str = ""
    comment: str = ""


@dataclass(frozen=True)
class Cast:
    changed: bool  # the member had voted before: this changed their vote
    closed: bool  # this was the last vote: the ballot closed


def refusal(ballot: Ballot, user: User) -> str | None:
    """Why `user` may not vote on `ballot` now, or None."""
    if not ballot.is_open:
        return closed_message(ballot)
    if ballot.closes_at <= clock.now():
        return _("Voting ended at %(when)s: the ballot is being closed.",
                 when=format_moment(ballot.closes_at))
    member = ballot.member(user)
    if member is None:
        return _("You are not a member of this ballot: only the committee members at its "
                 "opening vote on it.")
    if member.recused_at is not None:
        reason = RECUSAL_LABELS.get(member.recusal_reason, member.recusal_reason)
        return _("You are recused from this ballot (%(reason)s), so you cannot vote on it.",
                 reason=reason)
    return None


def _checked(ballot: Ballot, votes: dict[int, VoteInput]) -> list[dict]:
    errors = FieldErrors()
    choices = {c.value for c in VoteChoice}
    rows = []
    now = clock.now()
    for proposal in ballot.proposals:
        given = votes.get(proposal.id) or VoteInput()
        comment = text_of(given.comment)
        if given.choice not in choices:
            errors.add(f"choice-{proposal.id}", _("Choose approve, object or abstain on "
                                                  "proposal %(number)d.",
                                                  number=proposal.number))
        if len(comment) > COMMENT_MAX:
            errors.add(f"comment-{proposal.id}", _("At most %(max)d characters.",
                                                   max=COMMENT_MAX))
        rows.append({"ballot_id": ballot.id, "proposal_id": proposal.id, "choice": given.choice,
                     "comment": comment or None, "cast_at": now})
    if errors.errors:
        raise ResolutionError(next(iter(errors.errors.values()))[0], errors=errors.errors)
    return rows


def _upsert(rows: list[dict]) -> None:
    """One statement for the member's votes: inserted, or the earlier ones replaced."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Vote.__table__).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["proposal_id", "user_id"],
        set_={"choice": statement.excluded.choice, "comment": statement.excluded.comment,
              "cast_at": statement.excluded.cast_at})
    db.session.execute(statement)


def cast(actor: User, ballot: Ballot, votes: dict[int, VoteInput]) -> Cast:
    """Record `actor`'s votes (by proposal id) on every proposal of `ballot`; closes it when
    every eligible member has now voted on every proposal."""
    lock(ballot)
    problem = refusal(ballot, actor)
    if problem:
        raise ResolutionError(problem)
    rows = [{**row, "user_id": actor.id} for row in _checked(ballot, votes)]
    changed = db.session.scalar(select(Vote.id).where(
        Vote.ballot_id == ballot.id, Vote.user_id == actor.id).limit(1)) is not None
    _upsert(rows)
    audit.record("ballot.voted", actor=actor, object_type="complaint",
                 object_id=ballot.complaint_id, details={
                     "ballot_id": ballot.id, "proposals": len(rows), "changed": changed})
    closed = closing.close_if_all_voted(ballot, actor)
    return Cast(changed, closed)


# -- reading, sealed --------------------------------------------------------------------------

def mine(ballot: Ballot, user: User) -> dict[int, Vote]:
    """`user`'s own votes, by proposal id (one query)."""
    return {v.proposal_id: v for v in db.session.scalars(
        select(Vote).where(Vote.ballot_id == ballot.id, Vote.user_id == user.id))}


@dataclass(frozen=True)
class Count:
    voted: int  # eligible members who have voted on every proposal
    eligible: int

    @property
    def complete(self) -> bool:
        return self.voted >= self.eligible


def count(ballot: Ballot) -> Count:
    """"N of M have voted": nothing about who (one query, the members being loaded)."""
    return Count(closing.fully_voted(ballot.id), len(ballot.eligible))


@dataclass(frozen=True)
class Results:
    tally: closing.Tally
    votes: list[Vote]  # every vote, by proposal then member


def results(ballot: Ballot) -> Results | None:
    """The tally and every vote with its comment, once the ballot is closed; None before
    (the ballot is sealed)."""
    if not ballot.results_visible():
        return None
    votes = closing.votes_of(ballot.id)
    return Results(closing.tally(ballot, votes), votes)
