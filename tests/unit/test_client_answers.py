"""The client's answer to the outcome (services/resolution/answers.py): accepted, disputed (a
numbered negotiation round), recorded by staff with who recorded it, "no answer" only after the
day it was due, one answer per decision even at the same instant; and the lost link
(services/resolution/lost_link.py) rotating the key only on a match."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from portal.db import db, write_transaction
from portal.models import ClientAnswer, Complaint, OutboxMessage
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.resolution import answers, client_link, lost_link
from portal.services.resolution.answers import AlreadyAnswered
from portal.services.triage.common import StaleVersion
from tests.client_support import (
    EMAIL,
    REFERENCE,
    answers_of,
    decision_id,
    events,
    outcome_sent,
    person,
    revise,
    rounds_of,
    state_of,
)


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def cid(app):
    return outcome_sent(app)


def on_page(app, cid, kind, reason=None, decision=None):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        return answers.answer_on_page(
            complaint, decision_id=decision or complaint.current_decision.id, kind=kind,
            reason=reason).id


def by_staff(app, cid, username, kind, method="phone", reason=None, version=None):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        return answers.record_for_client(
            person(username), complaint, decision_id=complaint.current_decision.id, kind=kind,
            method=method, reason=reason,
            expected_version=complaint.version if version is None else version).id


def no_answer(app, cid, username="partner2"):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        return answers.record_no_answer(person(username), complaint,
                                        decision_id=complaint.current_decision.id,
                                        expected_version=complaint.version).id


def test_accepting_on_the_page_moves_to_accepted_and_is_audited_without_words(app, cid):
    on_page(app, cid, "accepted", reason="ignored for an acceptance")
    assert state_of(app, cid) == "accepted"
    assert answers_of(app, cid) == [("accepted", "link", None, None)]
    assert rounds_of(app, cid) == []
    [event] = events(app, "client_answer.")
    assert (event.action, event.actor_id, event.actor_label) == (
        "client_answer.accepted", None, "client")
    assert event.details["decision_id"] == decision_id(app, cid)
    assert event.details["from_state"] == "outcome_sent"
    assert event.details["to_state"] == "accepted"


def test_a_dispute_opens_the_next_round_and_its_reason_stays_off_the_audit(app, cid):
    answer_id = on_page(app, cid, "disputed", reason="  The refund is far too small.  ")
    assert state_of(app, cid) == "disputed"
    assert answers_of(app, cid) == [("disputed", "link", "The refund is far too small.", None)]
    assert rounds_of(app, cid) == [(1, answer_id)]
    [event] = events(app, "client_answer.")
    assert event.details["round_number"] == 1
    assert "far too small" not in str(event.details)
    # The revised decision goes out; the client disputes again: round 2.
    revise(app, cid)
    second = on_page(app, cid, "disputed", reason="Still not enough.")
    assert rounds_of(app, cid) == [(1, answer_id), (2, second)]


@pytest.mark.parametrize("reason", [None, "", "   \n  "])
def test_a_dispute_without_a_reason_is_refused_and_changes_nothing(app, cid, reason):
    with pytest.raises(IntakeError) as refused:
        on_page(app, cid, "disputed", reason=reason)
    assert refused.value.field == "reason"
    assert "why" in refused.value.message
    assert state_of(app, cid) == "outcome_sent" and answers_of(app, cid) == []


def test_an_unknown_answer_kind_is_refused(app, cid):
    with pytest.raises(IntakeError) as refused:
        on_page(app, cid, "no_answer")  # what only a partner records, and not on the page
    assert refused.value.field == "kind"
    assert answers_of(app, cid) == []


def test_a_second_answer_to_the_same_decision_is_refused(app, cid):
    first = decision_id(app, cid)
    on_page(app, cid, "accepted")
    with pytest.raises(AlreadyAnswered) as refused:
        on_page(app, cid, "disputed", reason="changed my mind", decision=first)
    assert "already been answered" in refused.value.message
    with pytest.raises(AlreadyAnswered):
        by_staff(app, cid, "reception", "disputed", reason="by phone")
    assert answers_of(app, cid) == [("accepted", "link", None, None)]
    assert state_of(app, cid) == "accepted"


def test_an_answer_to_a_superseded_decision_is_refused(app, cid):
    first = decision_id(app, cid)
    on_page(app, cid, "disputed", reason="too small")
    revise(app, cid)
    with pytest.raises(AlreadyAnswered):
        on_page(app, cid, "accepted", decision=first)  # an old tab
    assert len(answers_of(app, cid)) == 1 and state_of(app, cid) == "outcome_sent"


def test_the_database_holds_one_answer_per_decision(app, cid):
    did = decision_id(app, cid)
    with app.app_context(), pytest.raises(IntegrityError), write_transaction():
        for kind in ("accepted", "disputed"):
            db.session.add(ClientAnswer(complaint_id=cid, decision_id=did, kind=kind,
                                        method="link"))
        db.session.flush()


def test_two_answers_at_the_same_instant_leave_one(app, cid):
    did = decision_id(app, cid)
    barrier = threading.Barrier(2)
    results: list[str] = []
    errors: list[BaseException] = []

    def answer(kind: str, reason: str | None) -> None:
        try:
            with app.app_context():
                barrier.wait(10)
                try:
                    on_page(app, cid, kind, reason=reason, decision=did)
                    results.append("recorded")
                except AlreadyAnswered:
                    results.append("refused")
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=answer, args=args)
               for args in (("accepted", None), ("disputed", "too small"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    assert sorted(results) == ["recorded", "refused"]
    [(kind, *_rest)] = answers_of(app, cid)
    assert state_of(app, cid) == ("accepted" if kind == "accepted" else "disputed")
    assert len(rounds_of(app, cid)) == (1 if kind == "disputed" else 0)


def test_staff_record_an_answer_by_phone_post_or_in_person_with_who_recorded_it(app, cid):
    with pytest.raises(IntakeError) as refused:
        by_staff(app, cid, "reception", "accepted", method="link")  # only the client's page
    assert refused.value.field == "method"
    by_staff(app, cid, "reception", "disputed", method="post", reason="Letter of 3 May: no.")
    with app.app_context():
        reception_id = person("reception").id
    assert answers_of(app, cid) == [("disputed", "post", "Letter of 3 May: no.", reception_id)]
    [event] = events(app, "client_answer.")
    assert (event.actor_id, event.details["method"]) == (reception_id, "post")


def test_recording_an_answer_takes_intake_staff_or_a_partner(app, cid):
    with pytest.raises(IntakeError):
        by_staff(app, cid, "investigator", "accepted")
    assert answers_of(app, cid) == []


def test_a_stale_page_cannot_record_an_answer(app, cid):
    with pytest.raises(StaleVersion):
        by_staff(app, cid, "partner2", "accepted", version=0)
    assert answers_of(app, cid) == []


def test_no_answer_only_after_the_day_it_was_due_and_only_by_a_partner(app, clock):
    cid = outcome_sent(app, answer_in_days=15)
    with pytest.raises(IntakeError) as refused:
        no_answer(app, cid)
    assert "until" in refused.value.message
    clock.advance(timedelta(days=15))  # the last day to answer
    with pytest.raises(IntakeError):
        no_answer(app, cid)
    clock.advance(timedelta(days=1))
    with pytest.raises(IntakeError):
        no_answer(app, cid, "reception")
    no_answer(app, cid)
    with app.app_context():
        partner_id = person("partner2").id
    assert answers_of(app, cid) == [("no_answer", "none", None, partner_id)]
    assert state_of(app, cid) == "accepted"
    with pytest.raises(AlreadyAnswered):
        no_answer(app, cid)


def test_nothing_to_answer_before_the_outcome_notice(app, cid):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, cid)
        complaint.state = "decided"
    with pytest.raises(ConflictError):
        on_page(app, cid, "accepted")
    assert answers_of(app, cid) == []


# -- the lost link ---------------------------------------------------------------------------

def _ask(app, reference, email, key="visitor") -> int | None:
    """The id of the email queued, if any."""
    with app.test_request_context(), write_transaction():
        message = lost_link.request_new_link(reference, email, key)
        return message.id if message is not None else None


def _key(app, cid):
    with app.app_context():
        return db.session.get(Complaint, cid).client_link_key


def _mail_count(app):
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == lost_link.MAIL_KIND))


def test_a_new_link_only_when_reference_and_email_match(app, cid):
    old_key = _key(app, cid)
    assert _ask(app, "TS-2026-99999", EMAIL) is None
    assert _ask(app, REFERENCE, "someone.else@example.com") is None
    assert _ask(app, f"D{cid}", EMAIL) is None  # a draft's key is not a reference
    assert _key(app, cid) == old_key and _mail_count(app) == 0
    message_id = _ask(app, " ts-2026-00077 ", " LI.MING@Example.com ")
    assert message_id is not None and _key(app, cid) != old_key
    with app.app_context():
        mail = db.session.get(OutboxMessage, message_id)
        assert mail.recipient == EMAIL and REFERENCE in mail.subject
        complaint = db.session.get(Complaint, cid)
        assert "/c/" in mail.body_text
        token = mail.body_text.split("/c/")[1].split()[0]
        assert client_link.check(token) == (client_link.ClientLinkStatus.VALID, complaint)
    [event] = events(app, "client_link.")
    assert event.details == {"message_id": message_id}


def test_the_lost_link_limit_counts_every_request(app, cid):
    with app.app_context():
        assert not lost_link.over_limit("visitor", 2)
    _ask(app, "TS-2026-99999", EMAIL)
    _ask(app, REFERENCE, "wrong@example.com")
    with app.app_context():
        assert lost_link.over_limit("visitor", 2)
        assert not lost_link.over_limit("another visitor", 2)
