"""Helpers for the ballot tests: a complaint awaiting the committee, ballots opened and votes
cast through the services, extra committee members.

The demo committee: committee1 (郑志强), committee2 (孙海燕), committee3 (马文博) and partner
(陈志远, also a partner). The complaint is about matter M-2025-0142, whose supervising partner
is 陈志远: he is recused automatically (conflicted), and cannot even see the complaint.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import Ballot, Complaint, State, User, Vote
from portal.models.user import Role
from portal.services.resolution import ballots, voting
from tests.findings_factory import make_investigation

REFERENCE = "TS-2026-00077"
ELIGIBLE = ("committee1", "committee2", "committee3")


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def awaiting(app, *, lead: str | None = "investigator", reference: str = REFERENCE) -> int:
    """A complaint whose findings are submitted: awaiting the committee (its id)."""
    with app.app_context():
        complaint_id = make_investigation(reference=reference, lead=lead,
                                          state=State.AWAITING_DECISION)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.findings_submitted_at = clock.now()
            complaint.findings_submitted_by_id = person("partner2").id
        return complaint_id


def proposal(*kinds: str, rationale: str = "律师迟延答复，应予致歉。", **extra
             ) -> ballots.ProposalInput:
    return ballots.ProposalInput(remedies=list(kinds or ("explanation", "written_apology")),
                                 rationale=rationale, **extra)


def open_ballot(app, complaint_id: int, *, by: str = "partner2", proposals: int = 2,
                closes_in: timedelta = timedelta(days=3), rule: str = "majority",
                inputs: list[ballots.ProposalInput] | None = None) -> int:
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        data = ballots.BallotInput(
            proposals=inputs or [proposal(rationale=f"方案{n}") for n in range(1, proposals + 1)],
            closes_at=clock.now() + closes_in, quorum_rule=rule)
        return ballots.open_ballot(person(by), complaint, data,
                                   expected_version=complaint.version).id


def proposal_ids(app, ballot_id: int) -> list[int]:
    with app.app_context():
        return [p.id for p in db.session.get(Ballot, ballot_id).proposals]


def vote(app, ballot_id: int, username: str, *choices: str, comment: str = "") -> voting.Cast:
    """`username` votes `choices` (one per proposal, in order; one choice for all)."""
    with app.app_context(), write_transaction():
        ballot = db.session.get(Ballot, ballot_id)
        ids = [p.id for p in ballot.proposals]
        picked = list(choices) if len(choices) == len(ids) else [choices[0]] * len(ids)
        return voting.cast(person(username), ballot, {
            pid: voting.VoteInput(choice, comment) for pid, choice in zip(ids, picked,
                                                                         strict=True)})


def add_committee(app, count: int, prefix: str = "member") -> list[str]:
    """`count` more committee members (usernames returned); they sign in with `become`."""
    names = [f"{prefix}{n:02d}" for n in range(1, count + 1)]
    with app.app_context(), write_transaction():
        for name in names:
            user = User(username=name, name=f"委员{name}", email=f"{name}@firm.example")
            user.set_roles({Role.COMMITTEE})
            db.session.add(user)
    return names


def ballot_of(app, ballot_id: int) -> Ballot:
    """A detached copy with its proposals, members and their users."""
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        _ = ([p.remedies for p in ballot.proposals], [m.user for m in ballot.members])
        db.session.expunge_all()
        return ballot


def vote_rows(app, ballot_id: int) -> list[tuple[int, int, str, str | None]]:
    with app.app_context():
        return [(v.proposal_id, v.user_id, v.choice, v.comment) for v in db.session.scalars(
            select(Vote).where(Vote.ballot_id == ballot_id).order_by(Vote.id))]
