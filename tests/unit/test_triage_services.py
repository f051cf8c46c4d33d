"""Issue 8, triage: the services' rules (triage, revision, allegations, closure, withdrawal,
conflicts), each bad input refused with its reason and nothing changed."""

from __future__ import annotations

import pytest

from portal.db import db, write_transaction
from portal.models import Complaint, State
from portal.models.complaint import ComplaintExclusion
from portal.models.deadline import DeadlineKind
from portal.services import routing
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.triage import allegations, closure, conflicts, triage, withdrawal
from portal.services.triage.triage import AllegationInput
from tests.triage_support import events, load, mail, person, registered, triaged, user_id


@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



def run(app, complaint_id: int, verb, *args, **kwargs):
    """Call a service in a write transaction, as `actor` (the first argument)."""
    with app.app_context(), write_transaction():
        actor = person(args[0])
        complaint = db.session.get(Complaint, complaint_id)
        return verb(actor, complaint, *args[1:], **kwargs)


def _triage(app, complaint_id, **changes):
    with app.app_context():
        respondent = person("王磊").id
    data = {"severity": "general", "categories": ["fees"], "assessment": "Overbilling.",
            "allegations": [AllegationInput("Charged twice for one hearing", "fees",
                                            respondent),
                            AllegationInput("Filed the appeal late", "delay", None)],
            "handler_id": None}
    data.update(changes)
    if data["handler_id"] is None:
        with app.app_context():
            data["handler_id"] = person("partner2").id
    return run(app, complaint_id, triage.triage, "partner2", **data)


def test_triage_records_the_grading_numbers_the_allegations_and_starts_the_clocks(app):
    cid = registered(app)
    _triage(app, cid)
    complaint = load(app, cid)
    assert complaint.state == State.TRIAGED
    assert complaint.severity == "general" and complaint.categories == ["fees"]
    assert [(a.number, a.text) for a in complaint.allegations] == [
        (1, "Charged twice for one hearing"), (2, "Filed the appeal late")]
    assert complaint.handler.username == "partner2"
    kinds = {d.kind for d in complaint.deadlines}
    assert {DeadlineKind.INVESTIGATION, DeadlineKind.FINAL_RESPONSE,
            DeadlineKind.REGULATORY} <= kinds
    [event] = events(app, "complaint.triaged", cid)
    assert event.details["severity"] == "general" and event.details["allegations"] == 2
    assert "Overbilling" not in str(event.details) and "Charged" not in str(event.details)


@pytest.mark.parametrize(("changes", "field", "message"), [
    ({"severity": "dreadful"}, "severity", "Choose the severity."),
    ({"categories": []}, "categories", "Choose at least one category."),
    ({"categories": ["gossip"]}, "categories", "Choose categories from the list."),
    ({"assessment": "  "}, "assessment", "Write a short assessment."),
    ({"allegations": [AllegationInput("  ", "fees")]}, "allegations",
     "Record at least one allegation."),
    ({"allegations": [AllegationInput("x", "weather")]}, "allegations",
     "Allegation 1: Choose the allegation's category."),
])
def test_triage_refuses_bad_input_and_changes_nothing(app, changes, field, message):
    cid = registered(app)
    with pytest.raises(IntakeError) as refused:
        _triage(app, cid, **changes)
    assert message in refused.value.errors[field]
    assert load(app, cid).state == State.REGISTERED and not events(app, "complaint.triaged",
                                                                   cid)


def test_an_allegation_names_one_of_the_complaints_respondents_or_nobody(app):
    cid = registered(app)
    with app.app_context():
        stranger = person("张敏").id
    with pytest.raises(IntakeError) as refused:
        _triage(app, cid, allegations=[AllegationInput("x", "fees", stranger)])
    assert "Choose one of this complaint's respondents" in refused.value.message


def test_the_handler_is_a_partner_or_department_head_who_is_not_conflicted(app):
    cid = registered(app)  # about M-2025-0142, supervised by "partner" (陈志远)
    with app.app_context():
        conflicted, investigator = person("partner").id, person("investigator").id
    with pytest.raises(IntakeError) as refused:
        _triage(app, cid, handler_id=conflicted)
    assert "worked on the matter" in refused.value.errors["handler"][0]
    with pytest.raises(IntakeError) as refused:
        _triage(app, cid, handler_id=investigator)
    assert "neither a partner nor the head of a department" in refused.value.errors["handler"][0]
    assert load(app, cid).state == State.REGISTERED


def test_triage_needs_a_registered_complaint_and_the_current_version(app):
    cid = registered(app)
    with pytest.raises(ConflictError):
        _triage(app, cid, expected_version=load(app, cid).version - 1)
    _triage(app, cid)
    with pytest.raises(IntakeError, match="only a registered complaint"):
        _triage(app, cid)


def test_a_new_severity_moves_the_pausable_clocks(app):
    cid = registered(app)
    _triage(app, cid)
    before = {d.kind: d.due for d in load(app, cid).deadlines}
    run(app, cid, triage.revise, "partner2", severity="critical", categories=["fees"],
        assessment="Worse than it looked.")
    after = {d.kind: d.due for d in load(app, cid).deadlines}
    assert after[DeadlineKind.INVESTIGATION] > before[DeadlineKind.INVESTIGATION]
    assert after[DeadlineKind.REGULATORY] == before[DeadlineKind.REGULATORY]
    [event] = events(app, "complaint.triage_revised", cid)
    assert event.details["severity_before"] == "general" and event.details["severity"] \
        == "critical"


def test_allegations_are_added_amended_and_removed_and_stay_numbered(app):
    cid = registered(app)
    triaged(app, cid, allegations=3)
    ids = [a.id for a in load(app, cid).allegations]
    run(app, cid, allegations.remove, "partner2", ids[0])
    assert [(a.number, a.text) for a in load(app, cid).allegations] == [
        (1, "Allegation 2"), (2, "Allegation 3")]
    run(app, cid, allegations.amend, "partner2", ids[2],
        AllegationInput("Did not return the file", "competence", None))
    run(app, cid, allegations.add, "partner2", AllegationInput("Rude on the phone",
                                                               "attitude", None))
    assert [(a.number, a.text, a.category) for a in load(app, cid).allegations] == [
        (1, "Allegation 2", "fees"), (2, "Did not return the file", "competence"),
        (3, "Rude on the phone", "attitude")]
    assert [e.details["number"] for e in events(app, "allegation.removed", cid)] == [1]


def test_allegations_are_frozen_once_the_findings_are_submitted(app, clock):
    cid = registered(app)
    triaged(app, cid, allegations=1)
    with app.app_context(), write_transaction():
        db.session.get(Complaint, cid).findings_submitted_at = clock.now()
    with pytest.raises(IntakeError, match="until the findings are submitted"):
        run(app, cid, allegations.add, "partner2", AllegationInput("More", "fees", None))


def test_only_the_lead_or_a_partner_changes_the_allegations(app):
    cid = registered(app)
    triaged(app, cid, allegations=2)
    with pytest.raises(IntakeError, match="Only the lead or a partner"):
        run(app, cid, allegations.add, "reception", AllegationInput("More", "fees", None))
    with pytest.raises(IntakeError, match="at least one allegation"):
        only = registered(app, "TS-2026-00102")
        triaged(app, only, allegations=1)
        run(app, only, allegations.remove, "partner2", load(app, only).allegations[0].id)


def test_closing_out_of_scope_stops_the_clocks_and_emails_the_client_in_both_languages(app):
    cid = registered(app, language="en", client="Emily Carter", email="emily@example.co.uk")
    run(app, cid, closure.close, "partner2", kind="out_of_scope",
        reason="We did not act for you in this matter.")
    complaint = load(app, cid)
    assert complaint.state == State.CLOSED and complaint.closure_kind == "out_of_scope"
    assert complaint.closed_at is not None
    assert all(not d.is_running for d in complaint.deadlines)
    [message] = mail(app, "closure_notice", cid)
    assert message.recipient == "emily@example.co.uk"
    assert message.subject.startswith("Closure of your complaint TS-2026-00101 / 投诉结案通知")
    english = message.body_text.index("outside the scope")
    assert english < message.body_text.index("不属于本所投诉处理程序的受理范围")
    assert "We did not act for you in this matter." in message.body_text
    [event] = events(app, "complaint.closed", cid)
    assert event.details == {"closure_kind": "out_of_scope", "duplicate_of_id": None,
                             "from_state": "registered", "reason_length": 38}


def test_a_duplicate_links_another_complaint_the_partner_can_see(app):
    first = registered(app, "TS-2026-00101")
    second = registered(app, "TS-2026-00102")
    for bad, message in [("TS-2026-00102", "cannot be a duplicate of itself"),
                         ("TS-2026-09999", "No registered complaint you can see"),
                         ("nonsense", "Enter the reference"), ("", "Enter the reference")]:
        with pytest.raises(IntakeError, match=message):
            run(app, second, closure.close, "partner2", kind="duplicate", reason="Same.",
                duplicate_of=bad)
    run(app, second, closure.close, "partner2", kind="duplicate", reason="Same facts.",
        duplicate_of="ts-2026-00101")
    complaint = load(app, second)
    assert complaint.duplicate_of.id == first and complaint.closure_kind == "duplicate"
    [message] = mail(app, "closure_notice", second)
    assert "TS-2026-00101" in message.body_text and "投诉 TS-2026-00101" in message.body_text


def test_a_complaint_hidden_from_the_partner_cannot_be_named_as_the_original(app):
    hidden = registered(app, "TS-2026-00101")  # about M-2025-0142: "partner" is kept out
    other = registered(app, "TS-2026-00102", matter=None)
    with pytest.raises(IntakeError, match="No registered complaint you can see"):
        run(app, other, closure.close, "partner", kind="duplicate", reason="Same.",
            duplicate_of="TS-2026-00101")
    assert load(app, hidden).state == State.REGISTERED


def test_withdrawal_at_any_stage_stops_the_clocks_and_confirms_to_the_client(app):
    cid = registered(app)
    triaged(app, cid)
    run(app, cid, withdrawal.withdraw, "reception", reason="Settled with the lawyer.",
        method="phone")
    complaint = load(app, cid)
    assert complaint.state == State.WITHDRAWN and complaint.withdrawal_method == "phone"
    assert all(not d.is_running for d in complaint.deadlines)
    [message] = mail(app, "withdrawal_confirmation", cid)
    assert "通过电话" in message.body_text and "by phone" in message.body_text
    assert "Settled" not in str(events(app, "complaint.withdrawn", cid)[0].details)
    with pytest.raises(IntakeError, match="cannot be withdrawn"):
        run(app, cid, withdrawal.withdraw, "reception", reason="Again.", method="phone")


@pytest.mark.parametrize(("method", "reason", "field"), [
    ("carrier pigeon", "Changed mind", "method"), ("email", "   ", "reason")])
def test_a_withdrawal_needs_a_method_and_a_reason(app, method, reason, field):
    cid = registered(app)
    with pytest.raises(IntakeError) as refused:
        run(app, cid, withdrawal.withdraw, "reception", reason=reason, method=method)
    assert field in refused.value.errors
    assert load(app, cid).state == State.REGISTERED and not mail(app, "withdrawal_confirmation")


def test_a_declared_conflict_hides_the_complaint_and_is_declared_once(app):
    cid = registered(app, matter=None)
    own = user_id(app, "partner2")
    run(app, cid, conflicts.declare, "partner2", own, "My brother-in-law is the client.")
    with app.app_context():
        complaint = db.session.get(Complaint, cid)
        assert not complaint.can_view(person("partner2"))
        assert complaint.can_view(person("partner"))
        reason = complaint.conflicts[0].reason
    assert reason == "My brother-in-law is the client."
    [event] = events(app, "conflict.declared", cid)
    assert event.details["own"] is True and "brother" not in str(event.details)
    with pytest.raises(IntakeError, match="already recorded"):
        run(app, cid, conflicts.declare, "partner", own, "Again")


def test_only_a_partner_records_someone_elses_conflict(app):
    cid = registered(app, matter=None)
    with pytest.raises(IntakeError, match="Only a partner"):
        run(app, cid, conflicts.declare, "reception", user_id(app, "investigator"), "Friends")
    with pytest.raises(IntakeError, match="Say what the conflict is"):
        run(app, cid, conflicts.declare, "reception", user_id(app, "reception"), " ")


def test_someone_kept_out_pending_verification_cannot_handle(app):
    cid = registered(app, matter=None)
    with app.app_context(), write_transaction():
        db.session.add(ComplaintExclusion(complaint_id=cid, user_id=person("partner").id))
    with app.app_context():
        handler = person("partner").id
    with pytest.raises(IntakeError) as refused:
        _triage(app, cid, handler_id=handler,
                allegations=[AllegationInput("x", "fees", None)])
    assert "kept out until the submission is verified" in refused.value.errors["handler"][0]


def test_routing_edits_are_audited_and_read_back(app):
    with app.app_context(), write_transaction():
        routing.update(person("partner2"), "serious", lead_level="committee",
                       investigators_required=3, investigation_days=10,
                       final_response_days=15)
    with app.app_context():
        rule = routing.rule_for("serious")
    assert (rule.lead_level, rule.investigators_required) == ("committee", 3)
