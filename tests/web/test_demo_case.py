"""The demo's complaint awaiting the committee (`flask demo seed`, README walkthrough): made by
the services, so its history is the one a real case would have, and ready for a vote."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.demo_cases import seed_committee_case
from portal.models import AuditEvent, Ballot, Complaint, State


def test_the_demo_case_awaits_a_vote_with_the_conflicted_and_the_lead_recused(
        app, client, auth):
    with app.app_context():
        reference = seed_committee_case()
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        assert complaint.state == State.AWAITING_DECISION
        ballot = db.session.scalar(select(Ballot).where(Ballot.complaint_id == complaint.id))
        assert ballot.is_open and len(ballot.proposals) == 2
        recusals = {m.user.username: m.recusal_reason for m in ballot.members}
        assert recusals == {"committee1": None, "committee2": None,
                            "committee3": "conflicted", "partner": "lead"}
        actions = list(db.session.scalars(select(AuditEvent.action).where(
            AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint.id))))
        for step in ("complaint.triaged", "assignment.changed", "findings.submitted",
                     "ballot.opened"):
            assert step in actions, actions

    auth.login("committee1")
    home = client.get("/")
    assert reference in home.text
    page = client.get(f"/ballots/{ballot.id}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    assert "0 of 2 eligible members have voted" in page.text
