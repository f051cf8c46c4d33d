"""`flask demo seed --complaints N`: ten years of registered complaints, with their ballots,
notices and audit trail, for load tests and demonstrations."""

from __future__ import annotations

import random
import re
from collections import Counter
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.db import db, write_transaction
from portal.demo_outcomes import Outcomes
from portal.models.audit import AuditEvent
from portal.models.complaint import Complaint, ReferenceCounter, State
from portal.models.followup import Callback, ComplaintRootCause
from portal.models.matter import Client
from portal.models.notice import Notice
from portal.models.resolution import Ballot, Decision, RemedyKind, Vote
from portal.models.user import User
from portal.services import audit, notices
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.registration import next_reference
from portal.services.resolution import closing

REFERENCE = re.compile(r"TS-\d{4}-\d{5}")


def _seed(runner, count: int) -> None:
    result = runner.invoke(args=["demo", "seed", "--complaints", str(count)])
    assert result.exit_code == 0, result.output
    assert f"{count} complaints added" in result.output


def _references(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Complaint.reference)))


def _partner() -> User:
    return db.session.scalar(select(User).where(User.username == "partner"))


def test_seeded_complaints_are_listed_searchable_and_open(app, client, auth, runner):
    _seed(runner, 30)
    auth.login_as("receptionist")
    listed = set()
    for page in (1, 2):
        response = client.get(f"/complaints?state=all&page={page}")
        assert response.status_code == 200
        listed |= set(REFERENCE.findall(response.text))
    assert listed == set(_references(app))
    with app.app_context():
        complaint = db.session.scalars(select(Complaint).order_by(Complaint.id.desc())).first()
        reference, name = complaint.reference, complaint.complainant.name
    found = client.get("/complaints", query_string={"state": "all", "q": name})
    assert reference in found.text
    page = client.get(f"/complaints/{reference}")
    assert page.status_code == 200
    assert name in page.text


def test_references_stay_unique_and_the_counters_continue_the_series(app, runner):
    _seed(runner, 25)
    _seed(runner, 20)  # a second run adds more, after the first run's numbers
    references = _references(app)
    assert len(references) == 45 == len(set(references))
    with app.app_context():
        per_year = Counter(int(r[3:7]) for r in references)
        counters = {c.year: c.last_number for c in db.session.scalars(select(ReferenceCounter))}
        assert counters == per_year  # gap-free: 1..n in each year
        for complaint in db.session.scalars(select(Complaint)):
            assert complaint.registered_at is not None
            registered = complaint.registered_at.astimezone(LOCAL_TZ)
            assert registered.year == int(complaint.reference[3:7])
            assert complaint.registered_at >= complaint.received_at
            assert complaint.first_response_due > complaint.received_at.astimezone(LOCAL_TZ).date()
            assert complaint.respondents and complaint.narrative
        year = max(per_year)
        with write_transaction():
            assert next_reference(year) == f"TS-{year}-{per_year[year] + 1:05d}"


def test_seeding_complaints_is_refused_in_production(app, runner):
    # The app was created in development; the command reads the configuration when it runs.
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo", "seed", "--complaints", "5"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert _references(app) == []


def test_older_complaints_went_further_and_every_phase_is_consistent(app, runner):
    _seed(runner, 300)
    with app.app_context():
        complaints = list(db.session.scalars(select(Complaint)))
        states = Counter(c.state for c in complaints)
        assert states[State.CLOSED] > 200  # most of ten years' complaints are closed
        assert states[State.INVESTIGATING] + states[State.AWAITING_DECISION] > 0
        assert states[State.WITHDRAWN] > 0
        now = clock.now()
        for complaint in complaints:
            if complaint.state == State.REGISTERED:
                assert (now - complaint.received_at).days < 3
                continue
            assert complaint.severity and complaint.categories and complaint.triaged_at
            assert complaint.allegations
            lead = [a.user for a in complaint.assignments if a.role == "lead"]
            assert not set(lead) & set(complaint.respondents)  # no conflict
            assert complaint.confirmed_at < complaint.registered_at
            decided = complaint.state not in (State.TRIAGED, State.INVESTIGATING,
                                              State.AWAITING_DECISION, State.WITHDRAWN)
            assert all(a.is_answered for a in complaint.allegations) == (
                decided or complaint.state == State.AWAITING_DECISION)
            decisions = db.session.scalars(select(Decision).where(
                Decision.complaint_id == complaint.id)).all()
            assert bool(decisions) == decided
            if complaint.state == State.WITHDRAWN:
                assert complaint.withdrawn_at and complaint.withdrawal_method
            if complaint.state == State.CLOSED:
                assert complaint.closed_at > decisions[0].decided_at > complaint.received_at
                assert complaint.closure_kind == "resolved"
                assert decisions[0].remedies
                assert {r.kind for r in decisions[0].remedies} <= {k.value for k in RemedyKind}
                assert db.session.scalar(select(func.count(ComplaintRootCause.id)).where(
                    ComplaintRootCause.complaint_id == complaint.id))
                assert db.session.scalar(select(Callback.satisfaction).where(
                    Callback.complaint_id == complaint.id)) in range(1, 6)
            else:
                assert complaint.closed_at is None


def test_the_courses_reach_every_state_a_registered_complaint_can_be_in(app):
    """Drawn for complaints of the last months (most of ten years' are closed), unsaved."""
    with app.app_context():
        now = clock.now()
        rng = random.Random(5)
        outcomes = Outcomes(random.Random(7), now)
        lawyer = db.session.scalar(select(User).where(User.name == "王磊"))
        complaints = []
        for number in range(1, 3001):
            received = now - timedelta(hours=rng.randint(1, 24 * 150))
            complaints.append(Complaint(
                id=number, received_at=received, registered_at=received, respondents=[lawyer],
                complainant=Client(name="客户", email="c@example.com" if number % 3 else None),
                remedies_sought=["apology", "partial_refund"]))
        states = Counter(course.state for course in outcomes.draw(complaints))
    assert set(states) == set(State) - {State.DRAFT, State.DISCARDED}


def test_the_audit_trail_tells_each_course_and_its_chain_verifies(app, runner):
    _seed(runner, 300)
    with app.app_context():
        result = audit.verify()
        assert result.broken is None
        assert 8 <= result.events / 300 <= 14  # about ten events a complaint
        rows = db.session.execute(select(AuditEvent.action, AuditEvent.at, AuditEvent.details)
                                  .where(AuditEvent.object_type == "complaint")).all()
        now = clock.now()
        assert all(at <= now for _action, at, _details in rows)
        actions = Counter(action for action, _at, _details in rows)
        for action in ("complaint.created", "complaint.confirmed", "complaint.registered",
                       "mail.queued", "notice.issued", "complaint.triaged",
                       "assignment.changed", "findings.submitted", "ballot.opened",
                       "ballot.closed", "decision.recorded", "outcome.issued",
                       "complaint.closed_after_follow_up", "complaint.viewed"):
            assert actions[action] > 0, action
        assert actions["complaint.registered"] == 300
        personal = {c.complainant.name for c in db.session.scalars(select(Complaint))}
        texts = "".join(str(details) for _action, _at, details in rows)
        assert not [name for name in personal if name in texts]  # ids and codes only


def test_every_notice_has_its_own_file_of_the_one_shared_pdf(app, runner):
    _seed(runner, 120)
    with app.app_context():
        rows = db.session.scalars(select(Notice)).all()
        kinds = Counter(n.kind for n in rows)
        assert kinds["acknowledgement"] and kinds["investigation_report"] and kinds["outcome"]
        inodes = set()
        for notice in rows:
            path = notices.path_of(notice)
            assert notices.read_bytes(notice)  # its file, matching the recorded SHA-256
            assert path.stat().st_mode & 0o777 == 0o440
            inodes.add(path.stat().st_ino)
        assert len(inodes) <= 2  # the seed's shared PDF (and the demo committee case's report)
        decided = db.session.scalars(select(Decision)).all()
        outcome = {n.id for n in rows if n.kind == "outcome"}
        assert {d.notice_id for d in decided if d.notice_id} == outcome


def test_decisions_come_from_closed_ballots_and_open_ones_await_the_committee(
        app, client, auth, runner):
    _seed(runner, 300)
    with app.app_context():
        for decision in db.session.scalars(select(Decision)):
            ballot = db.session.get(Ballot, decision.ballot_id)
            assert ballot.complaint_id == decision.complaint_id
            assert ballot.closed_at <= decision.decided_at and ballot.outcome == "adopted"
            assert ballot.closed_reason in ("all_voted", "deadline")
            assert ballot.adopted_proposal.number == 1
            assert {r.kind for r in ballot.adopted_proposal.remedies} == {
                r.kind for r in decision.remedies}
            votes = db.session.scalars(select(Vote).where(Vote.ballot_id == ballot.id)).all()
            assert votes and {v.user_id for v in votes} <= {m.user_id for m in ballot.eligible}
            assert closing.tally(ballot, votes).winner_id == ballot.adopted_proposal.id
            for member in ballot.members:
                conflicted = db.session.get(Complaint, ballot.complaint_id).is_conflicted(
                    member.user)
                assert (member.recusal_reason == "conflicted") == conflicted
        open_ballots = db.session.scalars(select(Ballot).where(
            Ballot.closed_at.is_(None), Ballot.closes_at > clock.now())).all()
        seeded = [b for b in open_ballots
                  if db.session.get(Complaint, b.complaint_id).reference != "TS-2026-00001"]
        assert seeded  # besides the demo's committee case
        for ballot in seeded:
            complaint = db.session.get(Complaint, ballot.complaint_id)
            assert complaint.state == State.AWAITING_DECISION
            assert ballot.closes_at - clock.now() < timedelta(days=6)
        shown = {role: _visible_ballot(seeded, role) for role in ("committee1", "partner2")}
    for role, ballot_id in shown.items():
        auth.logout()
        auth.login_as(role)
        page = client.get(f"/ballots/{ballot_id}")
        assert page.status_code == 200, role
        assert "Proposal" in page.text


def _visible_ballot(ballots: list[Ballot], username: str) -> int:
    user = db.session.scalar(select(User).where(User.username == username))
    visible = set(db.session.scalars(select(Complaint.id).where(Complaint.visible_to(user))))
    return next(b.id for b in ballots if b.complaint_id in visible)


def test_ten_years_of_complaints_and_a_closed_ones_case_file_tells_its_course(
        app, client, auth, runner):
    _seed(runner, 300)
    with app.app_context():
        received = sorted(db.session.scalars(select(Complaint.received_at)))
        assert (received[-1] - received[0]).days > 365 * 9.5
        assert (clock.now() - received[0]).days <= 365 * 10
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        complaint = db.session.scalars(select(Complaint).where(
            Complaint.state == State.CLOSED, Complaint.visible_to(partner2),
            Complaint.complainant.has(Client.email.is_not(None)))
            .order_by(Complaint.id)).first()
        reference = complaint.reference
    auth.login_as("partner")
    page = client.get(f"/complaints/{reference}")
    assert page.status_code == 200
    for words in (f"Registered as {reference}", "Triaged:", "Investigation team assigned",
                  "Findings submitted", "Committee ballot closed", "Decision recorded",
                  "Outcome notice issued", "Notice issued: Acknowledgement",
                  "Email queued: Acknowledgement"):
        assert words in page.text, words


def test_the_partners_analytics_show_the_seeded_outcomes(app, client, auth, runner):
    _seed(runner, 200)
    auth.login_as("partner")
    today = clock.today()
    page = client.get(f"/analytics?from={today.year - 10}-{today.month:02d}&to={today:%Y-%m}")
    assert page.status_code == 200
    with app.app_context():
        closed = db.session.scalar(select(func.count(Complaint.id)).where(
            Complaint.state == State.CLOSED, Complaint.visible_to(_partner())))
    assert closed > 0
    csv = client.get(f"/analytics/export.csv?from={today.year - 10}-{today.month:02d}"
                     f"&to={today:%Y-%m}").text
    assert csv.count("\n") > closed  # a row per complaint, the closed ones among them
