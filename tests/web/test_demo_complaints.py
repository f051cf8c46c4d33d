"""`flask demo seed --complaints N`: registered complaints for load tests and demonstrations."""

from __future__ import annotations

import re
from collections import Counter

from sqlalchemy import func, select

from portal import clock
from portal.db import db, write_transaction
from portal.models.complaint import Complaint, ReferenceCounter, State
from portal.models.followup import Callback, ComplaintRootCause
from portal.models.resolution import Decision
from portal.models.user import User
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.registration import next_reference

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
        assert states[State.CLOSED] > 100  # most of five years' complaints are closed
        assert states[State.INVESTIGATING] + states[State.AWAITING_DECISION] > 0
        now = clock.now()
        for complaint in complaints:
            if complaint.state == State.REGISTERED:
                assert (now - complaint.received_at).days < 3
                continue
            assert complaint.severity and complaint.categories
            assert complaint.allegations
            lead = [a.user for a in complaint.assignments if a.role == "lead"]
            assert not set(lead) & set(complaint.respondents)  # no conflict
            decided = complaint.state not in (State.INVESTIGATING, State.AWAITING_DECISION)
            assert all(a.is_answered for a in complaint.allegations) == (
                decided or complaint.state == State.AWAITING_DECISION)
            decisions = db.session.scalars(select(Decision).where(
                Decision.complaint_id == complaint.id)).all()
            assert bool(decisions) == decided
            if complaint.state == State.CLOSED:
                assert complaint.closed_at > decisions[0].decided_at > complaint.received_at
                assert decisions[0].remedies
                assert db.session.scalar(select(func.count(ComplaintRootCause.id)).where(
                    ComplaintRootCause.complaint_id == complaint.id))
                assert db.session.scalar(select(Callback.satisfaction).where(
                    Callback.complaint_id == complaint.id)) in range(1, 6)
            else:
                assert complaint.closed_at is None


def test_the_partners_analytics_show_the_seeded_outcomes(app, client, auth, runner):
    _seed(runner, 200)
    auth.login_as("partner")
    today = clock.today()
    page = client.get(f"/analytics?from={today.year - 5}-{today.month:02d}&to={today:%Y-%m}")
    assert page.status_code == 200
    with app.app_context():
        closed = db.session.scalar(select(func.count(Complaint.id)).where(
            Complaint.state == State.CLOSED, Complaint.visible_to(_partner())))
    assert closed > 0
    csv = client.get(f"/analytics/export.csv?from={today.year - 5}-{today.month:02d}"
                     f"&to={today:%Y-%m}").text
    assert csv.count("\n") > closed  # a row per complaint, the closed ones among them
