"""Ballots through their services: the adoption rule, the members and their recusals, votes as
upserts and their refusals, closing once (by the last vote or by two ticks at once), the one
reminder, the partner's choice, and a new ballot from a negotiation round."""

from __future__ import annotations

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal import clock as portal_clock
from portal.db import db, write_transaction, writes_by_default
from portal.models import (
    AuditEvent,
    Ballot,
    BallotMember,
    ClientAnswer,
    Complaint,
    Decision,
    Matter,
    NegotiationRound,
    State,
    Vote,
)
from portal.models.outbox import OutboxMessage
from portal.services.intake.errors import ConflictError
from portal.services.resolution import ballots, closing, voting
from portal.services.resolution.common import ResolutionError
from tests.ballot_support import (
    ELIGIBLE,
    ballot_of,
    open_ballot,
    person,
    proposal,
    proposal_ids,
    vote,
    vote_rows,
)
from tests.ballot_support import awaiting as awaiting_complaint


@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def awaiting(app) -> int:
    return awaiting_complaint(app)


def _events(app, action: str) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                  .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def _mail(app, kind: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)
                                  .order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


# -- the adoption rule ------------------------------------------------------------------------

P = [(1, 1), (2, 2), (3, 3)]


def _votes(*rows: tuple[int, str, str, str]) -> list[tuple[int, int, str]]:
    """(member, choice on 1, on 2, on 3) → (proposal, member, choice) triples."""
    return [(pid, member, choice) for member, *choices in rows
            for pid, choice in zip((1, 2, 3), choices, strict=True)]


@pytest.mark.parametrize(("rule", "eligible", "needed"), [
    ("majority", 3, 2), ("majority", 4, 3), ("majority", 1, 1), ("majority", 0, 1),
    ("two_thirds", 3, 2), ("two_thirds", 4, 3), ("two_thirds", 5, 4), ("two_thirds", 6, 4),
    ("all", 5, 5), ("all", 0, 1)])
def test_quorum_is_counted_from_the_eligible_members(rule, eligible, needed):
    assert closing.quorum_needed(rule, eligible) == needed


def test_a_proposal_is_adopted_when_quorum_is_met_and_approvals_outnumber_objections():
    result = closing.count(P, [10, 11, 12], _votes(
        (10, "approve", "object", "abstain"), (11, "approve", "approve", "object")), "majority")
    assert result.quorum_met and (result.participated, result.quorum) == (2, 2)
    assert [(t.approvals, t.objections, t.abstentions) for t in result.proposals] == [
        (2, 0, 0), (1, 1, 0), (0, 1, 1)]
    assert (result.outcome, result.winner_id) == ("adopted", 1)


def test_of_several_adopted_proposals_the_most_approved_wins():
    result = closing.count(P, [10, 11, 12], _votes(
        (10, "approve", "approve", "object"), (11, "approve", "abstain", "object"),
        (12, "approve", "approve", "object")), "majority")
    assert [t.passes for t in result.proposals] == [True, True, False]
    assert (result.outcome, result.winner_id) == ("adopted", 1)


def test_a_tie_among_the_adopted_leaves_the_choice_between_them_to_a_partner():
    result = closing.count(P, [10, 11, 12], _votes(
        (10, "approve", "approve", "approve"), (11, "approve", "approve", "object"),
        (12, "object", "object", "object")), "majority")
    assert (result.outcome, result.winner_id, result.choice_ids) == ("tie", None, (1, 2))


def test_without_quorum_nothing_is_adopted_however_the_votes_lean():
    result = closing.count(P, [10, 11, 12], _votes(
        (10, "approve", "approve", "approve")), "majority")
    assert not result.quorum_met
    assert (result.outcome, result.winner_id, result.choice_ids) == ("no_quorum", None, (1, 2, 3))


def test_equal_approvals_and_objections_adopt_nothing():
    result = closing.count(P[:1], [10, 11], [(1, 10, "approve"), (1, 11, "object")], "all")
    assert result.quorum_met and result.outcome == "none_adopted"


def test_only_eligible_members_who_voted_on_every_proposal_make_the_quorum():
    votes = [*_votes((10, "approve", "approve", "approve")),
             (1, 11, "approve"),  # voted on one proposal only
             *_votes((99, "approve", "approve", "approve"))]  # not eligible (recused)
    result = closing.count(P, [10, 11, 12], votes, "majority")
    assert (result.participated, result.outcome) == (1, "no_quorum")
    assert result.proposals[0].approvals == 2  # the recused member's vote is not counted


# -- opening: members and recusals ------------------------------------------------------------

def test_opening_makes_the_committee_the_members_and_recuses_the_conflicted_lead_and_team(
        app):
    complaint_id = awaiting_complaint(app, lead="committee2")
    with app.app_context(), writes_by_default():
        complaint = db.session.get(Complaint, complaint_id)
        complaint.assignments.append(
            type(complaint.assignments[0])(user_id=person("committee3").id, role="investigator"))
        db.session.commit()
    ballot_id = open_ballot(app, complaint_id, proposals=2)
    ballot = ballot_of(app, ballot_id)
    recusals = {m.user.username: m.recusal_reason for m in ballot.members}
    assert recusals == {"committee1": None, "committee2": "lead",
                        "committee3": "investigator", "partner": "conflicted"}
    assert [m.user.username for m in ballot.eligible] == ["committee1"]
    assert [p.number for p in ballot.proposals] == [1, 2]
    opened = _events(app, "ballot.opened")[-1]
    assert opened.details["eligible"] == 1 and opened.details["members"] == 4
    assert [m.recipient for m in _mail(app, closing.OPENED_KIND)] == [
        "zheng.zhiqiang@firm.example"]  # the eligible member only


def test_opening_is_refused_while_a_ballot_is_open_or_from_a_stale_form(app, awaiting):
    open_ballot(app, awaiting)
    with pytest.raises(ResolutionError, match="is open until"):
        open_ballot(app, awaiting)
    with app.app_context(), write_transaction(), pytest.raises(ConflictError):
        complaint = db.session.get(Complaint, awaiting)
        ballots.open_ballot(person("partner2"), complaint, ballots.BallotInput(
            [proposal()], portal_clock.now() + timedelta(days=2)),
            expected_version=complaint.version - 1)


def test_opening_needs_the_committees_stage(app):
    complaint_id = awaiting_complaint(app)
    with app.app_context(), writes_by_default():
        db.session.get(Complaint, complaint_id).state = State.INVESTIGATING
        db.session.commit()
    with pytest.raises(ResolutionError, match="A partner opens a ballot"):
        open_ballot(app, complaint_id)


def test_a_proposal_is_checked_remedy_by_remedy(app, awaiting):
    with app.app_context(), writes_by_default():
        matter = db.session.scalar(select(Matter).where(Matter.reference == "M-2025-0142"))
        matter.fees_paid = Decimal("20000")
        db.session.commit()
    bad = [proposal("partial_refund", "free_follow_up", "disciplinary", rationale=""),
           proposal("partial_refund", partial_amount="25000"),
           proposal("partial_refund", "full_refund", partial_amount="100")]
    with pytest.raises(ResolutionError) as refused:
        open_ballot(app, awaiting, inputs=bad)
    errors = refused.value.errors
    assert set(errors) == {"proposals-0-rationale", "proposals-0-partial_amount",
                           "proposals-0-scope", "proposals-0-level",
                           "proposals-1-partial_amount", "proposals-2-remedies"}
    assert "At most the fees paid on the matter" in errors["proposals-1-partial_amount"][0]
    with pytest.raises(ResolutionError) as refused:
        open_ballot(app, awaiting, closes_in=timedelta(minutes=10))
    assert set(refused.value.errors) == {"closes_at"}
    good = [proposal("full_refund", "disciplinary", level="warning"),
            proposal("partial_refund", "free_follow_up", partial_amount="¥5,000.5",
                     scope="免费办理二审")]
    ballot = ballot_of(app, open_ballot(app, awaiting, inputs=good))
    first, second = ballot.proposals
    assert [(r.kind, r.amount, r.level) for r in first.remedies] == [
        ("full_refund", Decimal("20000.00"), None), ("disciplinary", None, "warning")]
    assert [(r.kind, r.amount, r.scope) for r in second.remedies] == [
        ("partial_refund", Decimal("5000.50"), None), ("free_follow_up", None, "免费办理二审")]


# -- voting -----------------------------------------------------------------------------------

def test_a_vote_is_an_upsert_and_its_audit_event_holds_no_choice_or_comment(app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    first = vote(app, ballot_id, "committee1", "approve", "object", comment="秘密理由")
    again = vote(app, ballot_id, "committee1", "object", "abstain", comment="改变主意")
    assert (first.changed, again.changed, again.closed) == (False, True, False)
    rows = vote_rows(app, ballot_id)
    assert [(r[2], r[3]) for r in rows] == [("object", "改变主意"), ("abstain", "改变主意")]
    for event in _events(app, "ballot.voted"):
        text = repr(event.details)
        assert "approve" not in text and "object" not in text and "理由" not in text
        assert set(event.details) == {"ballot_id", "proposals", "changed"}


def test_the_database_keeps_one_vote_per_member_and_proposal(app, awaiting):
    ballot_id = open_ballot(app, awaiting, proposals=1)
    vote(app, ballot_id, "committee1", "approve")
    with app.app_context(), writes_by_default(), pytest.raises(IntegrityError):
        db.session.add(Vote(ballot_id=ballot_id, proposal_id=proposal_ids(app, ballot_id)[0],
                            user_id=person("committee1").id, choice="object"))
        db.session.commit()


@pytest.mark.parametrize(("who", "message"), [
    ("partner", r"You are recused from this ballot \(Conflicted\)"),
    ("partner2", "You are not a member of this ballot"),
])
def test_the_recused_and_non_members_cannot_vote(app, awaiting, who, message):
    ballot_id = open_ballot(app, awaiting)
    with pytest.raises(ResolutionError, match=message):
        vote(app, ballot_id, who, "approve")
    assert vote_rows(app, ballot_id) == []


def test_every_proposal_needs_a_choice(app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    first, second = proposal_ids(app, ballot_id)
    with app.app_context(), write_transaction(), pytest.raises(ResolutionError) as refused:
        voting.cast(person("committee1"), db.session.get(Ballot, ballot_id), {
            first: voting.VoteInput("approve"), second: voting.VoteInput("maybe")})
    assert set(refused.value.errors) == {f"choice-{second}"}
    assert vote_rows(app, ballot_id) == []


def test_the_last_vote_closes_the_ballot_with_its_tally_and_later_votes_are_refused(
        app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    assert not vote(app, ballot_id, "committee1", "approve", "object").closed
    assert not vote(app, ballot_id, "committee2", "approve", "approve").closed
    assert vote(app, ballot_id, "committee3", "object", "object").closed
    ballot = ballot_of(app, ballot_id)
    assert (ballot.closed_reason, ballot.outcome) == ("all_voted", "adopted")
    assert [p.adopted for p in ballot.proposals] == [True, False]
    closed = _events(app, "ballot.closed")
    assert len(closed) == 1 and closed[0].details["adopted"] == 1
    with pytest.raises(ResolutionError, match="This ballot closed on"):
        vote(app, ballot_id, "committee1", "object")
    with app.app_context():
        assert voting.results(db.session.get(Ballot, ballot_id)) is not None


def test_results_are_sealed_while_the_ballot_is_open(app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    vote(app, ballot_id, "committee1", "approve")
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        assert voting.results(ballot) is None
        assert voting.count(ballot) == voting.Count(1, 3)
        assert set(voting.mine(ballot, person("committee1"))) == set(proposal_ids(app,
                                                                                  ballot_id))
        assert voting.mine(ballot, person("committee2")) == {}


def test_a_vote_after_the_closing_time_is_refused_before_the_worker_closes_it(
        app, awaiting, clock):
    ballot_id = open_ballot(app, awaiting)
    clock.advance(timedelta(days=3, minutes=1))
    with pytest.raises(ResolutionError, match="Voting ended at"):
        vote(app, ballot_id, "committee1", "approve")


# -- self-recusal -----------------------------------------------------------------------------

def test_a_member_who_recuses_themselves_withdraws_their_vote_and_may_close_the_ballot(
        app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    vote(app, ballot_id, "committee1", "approve", "object")
    vote(app, ballot_id, "committee2", "approve", "approve")

    def recuse(username: str, note: str) -> None:
        with app.app_context(), write_transaction():
            ballots.recuse(person(username), db.session.get(Ballot, ballot_id), note)

    with pytest.raises(ResolutionError, match="Say why you recuse yourself"):
        recuse("committee3", "  ")
    with pytest.raises(ResolutionError, match="You are not a member"):
        recuse("partner2", "不是委员")
    recuse("committee2", "我与投诉人相识")
    with app.app_context():
        committee1 = person("committee1").id
    assert [r[1] for r in vote_rows(app, ballot_id)] == [committee1, committee1]
    with pytest.raises(ResolutionError, match="You are recused from this ballot"):
        vote(app, ballot_id, "committee2", "approve")
    recuse("committee3", "出差无法审阅")
    ballot = ballot_of(app, ballot_id)  # committee1, the only one left, has voted
    assert (ballot.closed_reason, ballot.outcome) == ("all_voted", "adopted")
    assert [e.details["votes_withdrawn"] for e in _events(app, "ballot.recused")] == [2, 0]
    assert {m.user.username: m.recusal_note for m in ballot.members if m.recusal_note} == {
        "committee2": "我与投诉人相识", "committee3": "出差无法审阅"}


# -- the partner's choice ---------------------------------------------------------------------

def test_on_a_tie_a_partner_chooses_among_the_tied_with_a_reason(app, awaiting):
    ballot_id = open_ballot(app, awaiting, proposals=3)
    vote(app, ballot_id, "committee1", "approve", "approve", "object")
    vote(app, ballot_id, "committee2", "approve", "approve", "object")
    vote(app, ballot_id, "committee3", "object", "object", "approve")
    first, second, third = proposal_ids(app, ballot_id)
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        assert ballot.outcome == "tie" and ballot.needs_partner_choice
        assert [p.id for p in ballots.choices(ballot)] == [first, second]
        version = ballot.version

    def resolve(proposal_id, reason, expected):
        with app.app_context(), write_transaction():
            ballot = db.session.get(Ballot, ballot_id)
            complaint = db.session.get(Complaint, ballot.complaint_id)
            return ballots.resolve(person("partner2"), ballot, complaint, proposal_id, reason,
                                   expected_version=expected).number

    with pytest.raises(ResolutionError) as refused:
        resolve(third, "", version)
    assert set(refused.value.errors) == {"proposal", "reason"}
    with pytest.raises(ConflictError):
        resolve(second, "退费更能回应投诉人的诉求", version - 1)
    assert resolve(second, "退费更能回应投诉人的诉求", version) == 2
    ballot = ballot_of(app, ballot_id)
    assert [p.adopted for p in ballot.proposals] == [False, True, False]
    assert ballot.resolution_reason == "退费更能回应投诉人的诉求"
    assert not ballot.needs_partner_choice
    assert _events(app, "ballot.resolved")[0].details["adopted"] == 2
    with pytest.raises(ResolutionError, match="has none to make now"):
        resolve(first, "再选一次", ballot.version)


def test_without_quorum_a_partner_may_choose_any_proposal(app, awaiting, clock):
    ballot_id = open_ballot(app, awaiting)
    vote(app, ballot_id, "committee1", "object")
    clock.advance(timedelta(days=3, minutes=1))
    with app.app_context():
        assert closing.tick() == closing.TickResult(closed=1, reminded=0)
        ballot = db.session.get(Ballot, ballot_id)
        assert (ballot.outcome, ballot.closed_reason) == ("no_quorum", "deadline")
        assert len(ballots.choices(ballot)) == 2


# -- the tick ---------------------------------------------------------------------------------

def test_two_ticks_at_once_close_a_due_ballot_once(app, awaiting, clock):
    ballot_id = open_ballot(app, awaiting)
    vote(app, ballot_id, "committee1", "approve", "object")
    vote(app, ballot_id, "committee2", "approve", "object")
    clock.advance(timedelta(days=4))
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(10)
                results.append(closing.tick())
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(r.closed for r in results) == [0, 1]
    assert len(_events(app, "ballot.closed")) == 1
    assert ballot_of(app, ballot_id).outcome == "adopted"


def test_members_who_have_not_voted_are_reminded_once_before_the_close(app, awaiting, clock):
    ballot_id = open_ballot(app, awaiting, closes_in=timedelta(days=3))
    vote(app, ballot_id, "committee1", "approve")
    with app.app_context():
        assert closing.tick().reminded == 0  # not yet within BALLOT_REMINDER_HOURS
    clock.advance(timedelta(days=2, hours=1))
    with app.app_context():
        assert closing.tick().reminded == 1
        assert closing.tick().reminded == 0
    reminders = _mail(app, closing.REMINDER_KIND)
    assert sorted(m.recipient for m in reminders) == ["ma.wenbo@firm.example",
                                                      "sun.haiyan@firm.example"]
    assert all(m.complaint_id is None for m in reminders)  # the timeline names nobody
    assert "/ballots/" in reminders[0].body_text or "complaints portal" in reminders[0].body_text
    assert [e.details["reminded"] for e in _events(app, "ballot.reminded")] == [2]


# -- a new ballot from a negotiation round ----------------------------------------------------

def test_a_partner_opens_a_new_ballot_from_a_negotiation_round(app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    for member in ELIGIBLE:
        vote(app, ballot_id, member, "approve", "object")
    with app.app_context(), writes_by_default():
        decision = Decision(complaint_id=awaiting, number=1, ballot_id=ballot_id,
                            client_summary="经调查，投诉部分属实。",
                            decided_by_id=person("partner2").id)
        db.session.add(decision)
        db.session.flush()
        answer = ClientAnswer(complaint_id=awaiting, decision_id=decision.id, kind="disputed",
                              method="link", reason="退费太少")
        db.session.add(answer)
        db.session.flush()
        db.session.add(NegotiationRound(complaint_id=awaiting, number=1, answer_id=answer.id))
        db.session.get(Complaint, awaiting).state = State.NEGOTIATION
        db.session.commit()
    second = open_ballot(app, awaiting, proposals=1)
    with app.app_context():
        complaint = db.session.get(Complaint, awaiting)
        round_ = db.session.scalar(select(NegotiationRound))
        assert complaint.state == State.AWAITING_DECISION
        assert (round_.outcome, round_.ballot_id) == ("new_ballot", second)
        assert round_.closed_at is not None
    opened = _events(app, "ballot.opened")[-1].details
    assert (opened["round"], opened["from_state"], opened["to_state"]) == (
        1, "negotiation", "awaiting_decision")


# -- a member's list --------------------------------------------------------------------------

def test_a_members_list_shows_open_ballots_first_and_whether_they_voted(app, awaiting):
    ballot_id = open_ballot(app, awaiting)
    vote(app, ballot_id, "committee1", "approve")
    with app.app_context():
        mine = ballots.for_member(person("committee1"))
        theirs = ballots.for_member(person("committee2"))
        conflicted = ballots.for_member(person("partner"))  # cannot see the complaint
    assert [(b.ballot_id, b.voted, b.is_open) for b in mine] == [(ballot_id, True, True)]
    assert [(b.reference, b.voted) for b in theirs] == [("TS-2026-00077", False)]
    assert conflicted == []


def test_a_members_list_keeps_the_open_ones_and_the_latest_closed_seats(app, awaiting):
    """Ten shown of many: the open ballot first, then the latest closed ones the member sat
    on (recused or not), newest first; ballots they did not sit on are not theirs."""
    open_id = open_ballot(app, awaiting)
    with app.app_context(), write_transaction():
        member, opener = person("committee1"), person("partner2")
        now, seated = portal_clock.now(), {}
        for hours in range(1, 15):
            ballot = Ballot(complaint_id=awaiting, opened_by_id=opener.id,
                            closes_at=now - timedelta(hours=hours),
                            closed_at=now - timedelta(hours=hours))
            if hours != 3:
                ballot.members = [BallotMember(
                    user_id=member.id, recusal_reason="self" if hours == 5 else None,
                    recused_at=now - timedelta(days=1) if hours == 5 else None)]
            db.session.add(ballot)
            db.session.flush()
            seated[hours] = ballot.id
    with app.app_context():
        shown = ballots.for_member(person("committee1"))
    newest = [seated[h] for h in (1, 2, 4, 5, 6, 7, 8, 9, 10)]
    assert [b.ballot_id for b in shown] == [open_id, *newest]
    assert [b.is_open for b in shown] == [True] + [False] * 9
    assert [b.recused for b in shown] == [False, False, False, False, True] + [False] * 5


def test_who_has_voted_counts_each_ballot_on_its_own(app, awaiting):
    """"N of M have voted" reads this ballot's proposals and votes only: a member who voted on
    another complaint's ballot has not voted on this one, and one who voted on every proposal
    here has, however many other ballots there are."""
    other = awaiting_complaint(app, reference="TS-2026-00078")
    here = open_ballot(app, awaiting, proposals=2)
    there = open_ballot(app, other, proposals=1)
    vote(app, here, "committee1", "approve")
    vote(app, there, "committee2", "approve")
    with app.app_context():
        (mine,) = ballots.summaries(db.session.get(Complaint, awaiting))
        (theirs,) = ballots.summaries(db.session.get(Complaint, other))
    assert (mine.ballot_id, mine.voted) == (here, 1)
    assert (theirs.ballot_id, theirs.voted) == (there, 1)
    assert mine.eligible >= 2 and theirs.eligible >= 2
