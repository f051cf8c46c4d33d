"""Issue 8, conflict-free assignment: who may lead or investigate, with the reason shown
when not; the routing table's level and count; history kept on reassignment; assignees
emailed in their own language; a declared conflict ends an assignment."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Complaint, Role, State, User
from portal.services import routing
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.triage import assignment, conflicts
from tests.triage_support import events, load, mail, person, registered, triaged, user_id


@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



def assign(app, cid, lead, investigators=(), *, by="partner2", version=None):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        return [a.id for a in assignment.assign(
            person(by), complaint, lead_id=person(lead).id if lead else None,
            investigator_ids=[person(i).id for i in investigators],
            case_url=lambda c: f"http://portal.example/complaints/{c.label}",
            expected_version=version)]


def refusal(app, cid, lead, investigators=()) -> dict[str, list[str]]:
    before = load(app, cid)
    with pytest.raises(IntakeError) as refused:
        assign(app, cid, lead, investigators)
    after = load(app, cid)
    assert after.state == before.state and not after.current_assignments
    assert not mail(app, "assignment", cid)
    return refused.value.errors


@pytest.fixture
def serious(app):
    """A serious complaint about M-2025-0142 (supervised by "partner", 陈志远), against
    investigator2 (吴丽娟) and 王磊: lead at partner level and two investigators."""
    cid = registered(app, respondents=("investigator2", "王磊"))
    triaged(app, cid, severity="serious")
    return cid


def test_a_serious_complaint_gets_a_partner_lead_and_two_investigators(app, serious):
    with app.app_context(), write_transaction():
        person("investigator").locale = "en"
        person("committee1").set_roles({Role.COMMITTEE, Role.INVESTIGATOR})
    assign(app, serious, "partner2", ["investigator", "committee1"])
    complaint = load(app, serious)
    assert complaint.state == State.INVESTIGATING
    assert complaint.lead.username == "partner2" and complaint.handler.username == "partner2"
    assert sorted(u.username for u in complaint.investigators) == ["committee1", "investigator"]
    messages = {m.recipient: m for m in mail(app, "assignment", serious)}
    assert set(messages) == {"liu.huimin@firm.example", "zhou.jianguo@firm.example",
                             "zheng.zhiqiang@firm.example"}
    english = messages["zhou.jianguo@firm.example"]
    assert english.subject == "Complaint TS-2026-00101: you are assigned as an investigator"
    assert '<html lang="en">' in english.body_html
    assert "http://portal.example/complaints/TS-2026-00101" in english.body_text
    assert "律师未按约定" not in english.body_text  # never the narrative
    [event] = events(app, "assignment.changed", serious)
    assert event.details["lead_id"] == user_id(app, "partner2")
    assert event.details["from_state"] == "triaged" and event.details["to_state"] \
        == "investigating"


def test_a_respondent_is_refused_with_the_reason(app, serious):
    errors = refusal(app, serious, "partner2", ["investigator", "investigator2"])
    assert errors["investigators"] == ["吴丽娟 is a respondent to this complaint."]


def test_the_matters_supervising_partner_is_refused(app, serious):
    errors = refusal(app, serious, "partner", ["investigator", "partner2"])
    assert errors["lead"] == ["陈志远 worked on the matter this complaint is about."]


def test_someone_who_declared_a_conflict_is_refused(app, serious):
    with app.app_context(), write_transaction():
        conflicts.declare(person("partner2"), db.session.get(Complaint, serious),
                          person("investigator").id, "I know the client.")
    errors = refusal(app, serious, "partner2", ["investigator", "committee1"])
    assert "周建国 has a declared conflict on this complaint." in errors["investigators"]


def test_an_inactive_account_is_refused(app, serious):
    with app.app_context(), write_transaction():
        person("investigator").active = False
    errors = refusal(app, serious, "partner2", ["investigator", "partner"])
    assert "周建国 has no active account." in errors["investigators"]


def test_too_few_investigators_for_a_serious_complaint(app, serious):
    errors = refusal(app, serious, "partner2", ["investigator"])
    assert errors["investigators"] == [
        "This severity needs at least 2 investigator(s) besides the lead."]


def test_a_lead_below_the_routing_tables_level_is_refused(app, serious):
    errors = refusal(app, serious, "investigator", ["partner2", "committee1"])
    assert errors["lead"] == [
        "周建国 is not a partner, which this severity requires of the lead."]
    # committee1 holds neither the investigator nor the partner role
    assert errors["investigators"] == [
        "郑志强 holds neither the investigator nor the partner role."]


def test_a_critical_complaint_is_led_by_a_committee_member(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="critical")
    errors = refusal(app, cid, "partner2", ["investigator", "investigator2"])
    assert errors["lead"] == ["刘慧敏 is not a member of the complaints committee, which this "
                              "severity requires of the lead."]
    assign(app, cid, "committee1", ["investigator", "investigator2"])
    assert load(app, cid).lead.username == "committee1"


def test_the_lead_is_not_also_an_investigator(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="minor")
    errors = refusal(app, cid, "partner2", ["partner2"])
    assert "刘慧敏 is the lead and cannot also be one of the investigators." \
        in errors["investigators"]


def test_the_routing_table_decides_the_count(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="serious")
    with app.app_context(), write_transaction():
        routing.update(person("partner2"), "serious", lead_level="department_head",
                       investigators_required=1, investigation_days=20,
                       final_response_days=30)
    assign(app, cid, "partner2", ["investigator"])
    assert len(load(app, cid).investigators) == 1


def test_reassignment_ends_the_old_rows_and_keeps_the_history(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="general")
    assign(app, cid, "partner2", ["investigator"])
    assign(app, cid, "partner", ["investigator", "investigator2"], version=load(app, cid).version)
    complaint = load(app, cid)
    rows = [(a.user.username, a.role, a.ended_at is None) for a in complaint.assignments]
    assert rows == [("partner2", "lead", False), ("investigator", "investigator", True),
                    ("partner", "lead", True), ("investigator2", "investigator", True)]
    assert complaint.handler.username == "partner"
    # only the newly assigned are emailed
    assert [m.recipient for m in mail(app, "assignment", cid)][-2:] == [
        "chen.zhiyuan@firm.example", "wu.lijuan@firm.example"]
    second = events(app, "assignment.changed", cid)[-1]
    assert len(second.details["ended_ids"]) == 1 and second.details["from_state"] \
        == "investigating"


def test_a_stale_page_cannot_assign(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="minor")
    with pytest.raises(ConflictError):
        assign(app, cid, "partner2", ["investigator"], version=load(app, cid).version - 1)


def test_a_declared_conflict_ends_the_assignment_and_hides_the_case(app):
    cid = registered(app, matter=None)
    triaged(app, cid, severity="general")
    assign(app, cid, "partner2", ["investigator"])
    with app.app_context(), write_transaction():
        conflicts.declare(person("partner"), db.session.get(Complaint, cid),
                          person("partner2").id, "Related to the client.")
    complaint = load(app, cid)
    [ended] = [a for a in complaint.assignments if a.user.username == "partner2"]
    assert ended.ended_at is not None and ended.ended_by_id == user_id(app, "partner")
    assert complaint.lead is None and complaint.handler is None
    with app.app_context():
        assert not db.session.get(Complaint, cid).can_view(person("partner2"))
    [event] = events(app, "conflict.declared", cid)
    assert event.details["ended_assignment_ids"] == [ended.id]
    assert event.details["handler_cleared"] is True


def test_candidates_show_each_refusal(app, serious):
    with app.app_context():
        complaint = db.session.get(Complaint, serious)
        found = {c.user.username: c for c in assignment.candidates(complaint)}
        lawyers = db.session.scalars(select(User).where(User.username.is_(None))).all()
    assert not {u.id for u in lawyers} & {c.user.id for c in found.values()}
    assert found["partner2"].as_lead is None
    assert "worked on the matter" in found["partner"].as_lead
    assert "is a respondent" in found["investigator2"].as_investigator
    assert found["investigator"].as_investigator is None
    assert "is not a partner" in found["investigator"].as_lead
