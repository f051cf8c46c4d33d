"""`flask complaints export` writes the resolution (format redress.complaint/3): ballots sealed
while open, decisions, answers, rounds and tasks; internal measures only for partners."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import Complaint, State
from portal.models.resolution import (
    Ballot,
    BallotMember,
    BallotProposal,
    DecidedRemedy,
    Decision,
    ProposedRemedy,
    Vote,
)
from tests.workspace_support import REFERENCE, investigating, user

SECRET_COMMENT = "我反对：退款过多"


@pytest.fixture
def voting(app) -> int:
    """TS-2026-09001 awaiting the committee, with an open ballot: one proposal holding a
    refund and an internal criticism; committee1 voted with a comment. Returns the ballot id."""
    investigating(app, lead="investigator2", respondents=("王磊",))
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == REFERENCE))
        complaint.state = State.AWAITING_DECISION
        ballot = Ballot(complaint_id=complaint.id, opened_by_id=user("partner2").id,
                        closes_at=clock.now() + timedelta(days=2))
        proposal = BallotProposal(number=1, rationale="部分退费并内部批评", remedies=[
            ProposedRemedy(kind="partial_refund", amount=Decimal("800.00")),
            ProposedRemedy(kind="internal_criticism")])
        ballot.proposals.append(proposal)
        for name in ("committee1", "committee2"):
            ballot.members.append(BallotMember(user_id=user(name).id))
        db.session.add(ballot)
        db.session.flush()
        db.session.add(Vote(ballot_id=ballot.id, proposal_id=proposal.id,
                            user_id=user("committee1").id, choice="object",
                            comment=SECRET_COMMENT))
        db.session.commit()
        return ballot.id


def _export(runner, *args: str) -> dict:
    result = runner.invoke(args=["complaints", "export", REFERENCE, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout[result.stdout.index("{"):])


def test_an_open_ballot_is_exported_sealed(runner, voting):
    record = _export(runner)
    assert record["format"] == "redress.complaint/3"
    (ballot,) = record["ballots"]
    assert ballot["votes"] is None and ballot["members_voted"] == 1
    text = json.dumps(record, ensure_ascii=False)
    assert SECRET_COMMENT not in text and '"object"' not in text


def test_a_closed_ballot_shows_each_vote(app, runner, voting):
    with app.app_context(), writes_by_default():
        db.session.get(Ballot, voting).closed_at = clock.now()
        db.session.commit()
    (ballot,) = _export(runner)["ballots"]
    assert [(v["member"]["name"], v["choice"], v["comment"]) for v in ballot["votes"]] == [
        ("郑志强", "object", SECRET_COMMENT)]


def test_internal_measures_reach_partners_only(app, runner, voting):
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == REFERENCE))
        db.session.add(Decision(complaint_id=complaint.id, number=1, client_summary="摘要",
                                decided_by_id=user("partner2").id, remedies=[
                                    DecidedRemedy(kind="partial_refund", amount=Decimal("800"),
                                                  due=date(2026, 12, 20)),
                                    DecidedRemedy(kind="internal_criticism",
                                                  due=date(2026, 12, 20))]))
        db.session.commit()
    full = _export(runner)
    assert [r["kind"] for r in full["decisions"][0]["remedies"]] == [
        "partial_refund", "internal_criticism"]
    assert full["decisions"][0]["remedies"][0]["amount"] == "800.00"
    member = _export(runner, "--as", "committee2")
    assert [r["kind"] for r in member["decisions"][0]["remedies"]] == ["partial_refund"]
    assert [r["kind"] for r in member["ballots"][0]["proposals"][0]["remedies"]] == [
        "partial_refund"]
    assert "internal_criticism" not in json.dumps(member)
    partner = _export(runner, "--as", "partner2")
    assert "internal_criticism" in json.dumps(partner)
