"""The follow-up's rules: the call-back scheduled on reaching follow_up (owner, due date, survey
mailed), the survey's single-use, expiring link, an open issue back to the remedies with a new
task (and a new call-back on the way back), three unanswered calls, closing with root causes and
its refusals, and the worker's reminders sent once however often it runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import begin_write, db, write_transaction
from portal.models import (
    AuditEvent,
    Complaint,
    DecidedRemedy,
    OutboxMessage,
    RemedyTask,
    State,
)
from portal.models.followup import CallAttempt, Callback, ComplaintRootCause
from portal.services.followup import callbacks, closing, survey
from portal.services.followup.callbacks import Call, CallbackChanged, FollowUpError
from portal.services.followup.survey import SurveySpent, SurveyStatus
from portal.services.intake.errors import ConflictError
from tests.followup_support import (
    callback_ids,
    complete,
    in_follow_up,
    latest,
    person,
    record_call,
    root_cause,
    survey_token,
)

SATISFIED = survey.Entry(satisfaction=4, comments="谢谢。")
NO_ANSWER = Call(reached=False, notes="无人接听")


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _state(app, complaint_id: int) -> str:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).state


def _answer(app, token: str, entry: survey.Entry = SATISFIED) -> Callback:
    with app.app_context(), app.test_request_context(), write_transaction():
        return survey.answer(token, entry)


def _actions(app, complaint_id: int) -> list[AuditEvent]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "complaint",
            AuditEvent.object_id == str(complaint_id)).order_by(AuditEvent.id)))


def _close(app, complaint_id: int, causes: dict[str, str], *, by: str = "partner2",
           version: int | None = None) -> Complaint:
    ids = {root_cause(app, code): text for code, text in causes.items()}
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        return closing.close(person(by), complaint,
                             closing.Choice(tuple(ids), ids),
                             expected_version=complaint.version if version is None
                             else version)


# -- scheduling --------------------------------------------------------------------------------

def test_reaching_follow_up_schedules_a_call_back_for_the_handler_and_mails_the_survey(app):
    complaint_id = in_follow_up(app)
    assert _state(app, complaint_id) == State.FOLLOW_UP
    row = latest(app, complaint_id)
    with app.app_context():
        assert row["owner_id"] == person("investigator").id  # the handler
    days = app.config["FOLLOW_UP_CALLBACK_DAYS"]
    assert row["due"] == clock.today() + timedelta(days=days)
    assert row["status"] == "open" and row["survey_nonce"] and row["survey_sent_at"]
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "survey"))
        assert mail.recipient == "li.ming@example.com"
        assert "/s/" in mail.body_text and "满意" in mail.body_text and "satisfied" in \
            mail.body_text
    actions = [e.action for e in _actions(app, complaint_id)]
    assert "callback.scheduled" in actions and "callback.survey_sent" in actions


def test_a_client_without_email_gets_the_call_back_but_no_survey_mail(app):
    complaint_id = in_follow_up(app, client_email=None)
    row = latest(app, complaint_id)
    assert row["status"] == "open" and row["survey_sent_at"] is None
    assert _count(app, OutboxMessage, OutboxMessage.kind == "survey") == 0


def test_the_completion_of_the_last_task_schedules_the_call_back(app):
    complaint_id = in_follow_up(app, via_completion=True)
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert len(callback_ids(app, complaint_id)) == 1


# -- the survey --------------------------------------------------------------------------------

def test_a_survey_link_works_once(app):
    complaint_id = in_follow_up(app)
    (callback_id,) = callback_ids(app, complaint_id)
    token = survey_token(app, callback_id)
    _answer(app, token)
    row = latest(app, complaint_id)
    assert (row["status"], row["method"], row["satisfaction"]) == ("satisfied", "survey", 4)
    assert row["notes"] == "谢谢。" and row["answered_at"] is not None
    with pytest.raises(SurveySpent):
        _answer(app, token, survey.Entry(satisfaction=1, open_issue="改主意了"))
    assert latest(app, complaint_id)["satisfaction"] == 4
    with app.app_context():
        assert survey.check(token)[0] is SurveyStatus.USED
    assert _state(app, complaint_id) == State.FOLLOW_UP


def test_an_expired_survey_link_changes_nothing(app, clock):
    complaint_id = in_follow_up(app)
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    clock.advance(app.config["SURVEY_LINK_MAX_AGE"] + timedelta(minutes=1))
    with app.app_context():
        assert survey.check(token)[0] is SurveyStatus.EXPIRED
    with pytest.raises(SurveySpent):
        _answer(app, token)
    assert latest(app, complaint_id)["answered_at"] is None


def test_a_link_signed_again_later_keeps_the_first_expiry(app, clock):
    complaint_id = in_follow_up(app)
    callback_id = callback_ids(app, complaint_id)[0]
    clock.advance(app.config["SURVEY_LINK_MAX_AGE"] - timedelta(days=1))
    token = survey_token(app, callback_id)  # e.g. shown on the client's page that day
    clock.advance(timedelta(days=2))
    with app.app_context():
        assert survey.check(token)[0] is SurveyStatus.EXPIRED


def test_forged_tokens_are_invalid(app):
    complaint_id = in_follow_up(app)
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    with app.app_context():
        assert survey.check(token[:-2] + "xx")[0] is SurveyStatus.INVALID
        wrong_nonce = survey._serializer().dumps([callback_ids(app, complaint_id)[0], "guess"])
        assert survey.check(wrong_nonce)[0] is SurveyStatus.INVALID
        assert survey.check(survey._serializer().dumps([999999, "x"]))[0] \
            is SurveyStatus.INVALID


def test_a_survey_needs_a_satisfaction_from_1_to_5(app):
    complaint_id = in_follow_up(app)
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    for score in (None, 0, 6):
        with pytest.raises(FollowUpError) as refused:
            _answer(app, token, survey.Entry(satisfaction=score))
        assert "satisfaction" in refused.value.errors
    assert latest(app, complaint_id)["answered_at"] is None


def test_a_call_settles_the_survey_too(app):
    complaint_id = in_follow_up(app)
    token = survey_token(app, callback_ids(app, complaint_id)[0])
    record_call(app, complaint_id, Call(reached=True, satisfaction=5))
    with pytest.raises(SurveySpent):
        _answer(app, token)
    assert latest(app, complaint_id)["method"] == "phone"


# -- an open issue -----------------------------------------------------------------------------

def test_an_open_issue_goes_back_to_the_remedies_and_returns_with_a_new_call_back(app):
    complaint_id = in_follow_up(app)
    first = callback_ids(app, complaint_id)[0]
    _answer(app, survey_token(app, first),
            survey.Entry(satisfaction=2, open_issue="退费收据还没有寄给我。"))
    assert _state(app, complaint_id) == State.REMEDIES_IN_PROGRESS
    assert latest(app, complaint_id)["status"] == "open_issue"
    with app.app_context():
        task = db.session.scalar(select(RemedyTask).join(RemedyTask.remedy).where(
            RemedyTask.complaint_id == complaint_id, DecidedRemedy.kind == "explanation"))
        assert task.done_at is None
        assert task.remedy.scope == "退费收据还没有寄给我。"
        assert task.owner_id == person("investigator").id
        assert task.due == clock.today() + timedelta(days=callbacks.ISSUE_TASK_DAYS)
        task_id = task.id
    reopened = [e for e in _actions(app, complaint_id) if e.action == "callback.issue_reopened"]
    assert reopened[0].details["reason"] == "open_issue"
    assert reopened[0].details["task_id"] == task_id
    assert "退费" not in str(reopened[0].details)  # the issue's words stay on the record
    complete(app, complaint_id, task_id, notes="收据已寄出。")
    assert _state(app, complaint_id) == State.FOLLOW_UP
    ids = callback_ids(app, complaint_id)
    assert len(ids) == 2 and ids[0] == first
    second = latest(app, complaint_id)
    assert second["status"] == "open" and second["survey_sent_at"] is not None
    assert _count(app, OutboxMessage, OutboxMessage.kind == "survey") == 2


def test_an_open_issue_by_phone_goes_back_to_the_remedies(app):
    complaint_id = in_follow_up(app)
    record_call(app, complaint_id, Call(reached=True, satisfaction=3,
                                        open_issue="还需要一份书面说明。", notes="客户语气平和"))
    assert _state(app, complaint_id) == State.REMEDIES_IN_PROGRESS
    row = latest(app, complaint_id)
    assert (row["status"], row["method"]) == ("open_issue", "phone")
    assert _count(app, CallAttempt, CallAttempt.reached.is_(True)) == 1


# -- calls ---------------------------------------------------------------------------------------

def test_three_unanswered_calls_make_it_not_reached(app):
    complaint_id = in_follow_up(app)
    record_call(app, complaint_id, NO_ANSWER)
    record_call(app, complaint_id, NO_ANSWER)
    assert latest(app, complaint_id)["status"] == "open"
    record_call(app, complaint_id, NO_ANSWER)
    row = latest(app, complaint_id)
    assert (row["status"], row["unanswered_calls"]) == ("not_reached", 3)
    with pytest.raises(ConflictError):
        record_call(app, complaint_id, NO_ANSWER)
    assert latest(app, complaint_id)["unanswered_calls"] == 3


def test_a_call_is_refused_when_incomplete_or_stale(app):
    complaint_id = in_follow_up(app)
    with pytest.raises(FollowUpError) as refused:
        record_call(app, complaint_id, Call(reached=None))
    assert "reached" in refused.value.errors
    with pytest.raises(FollowUpError) as refused:
        record_call(app, complaint_id, Call(reached=True, satisfaction=None))
    assert "satisfaction" in refused.value.errors
    with pytest.raises(FollowUpError) as refused:
        record_call(app, complaint_id, Call(reached=False, notes="x" * 4001))
    assert "notes" in refused.value.errors
    version = latest(app, complaint_id)["version"]
    record_call(app, complaint_id, NO_ANSWER)
    with pytest.raises(CallbackChanged):
        record_call(app, complaint_id, NO_ANSWER, version=version)
    assert _count(app, CallAttempt) == 1


def test_only_the_owner_the_handler_or_a_partner_records_a_call(app):
    complaint_id = in_follow_up(app)
    with pytest.raises(ConflictError):
        record_call(app, complaint_id, NO_ANSWER, by="committee1")
    record_call(app, complaint_id, NO_ANSWER, by="partner2")
    assert _count(app, CallAttempt) == 1


# -- closing -------------------------------------------------------------------------------------

def test_closing_is_refused_while_the_call_back_is_open(app):
    complaint_id = in_follow_up(app)
    with pytest.raises(FollowUpError, match="call-back is still open"):
        _close(app, complaint_id, {"staff_attitude": ""})
    assert _state(app, complaint_id) == State.FOLLOW_UP


def test_closing_needs_a_root_cause_and_the_text_of_other(app):
    complaint_id = in_follow_up(app)
    _answer(app, survey_token(app, callback_ids(app, complaint_id)[0]))
    with pytest.raises(FollowUpError) as refused:
        _close(app, complaint_id, {})
    assert "causes" in refused.value.errors
    other = root_cause(app, "other")
    with pytest.raises(FollowUpError) as refused:
        _close(app, complaint_id, {"staff_attitude": "", "other": "  "})
    assert f"text-{other}" in refused.value.errors
    with pytest.raises(FollowUpError):
        _close(app, complaint_id, {"staff_attitude": ""}, by="investigator")  # not a partner
    with pytest.raises(ConflictError):
        _close(app, complaint_id, {"staff_attitude": ""}, version=0)
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, ComplaintRootCause) == 0


def test_a_satisfied_client_lets_a_partner_close_it_resolved_with_its_root_causes(app):
    complaint_id = in_follow_up(app)
    _answer(app, survey_token(app, callback_ids(app, complaint_id)[0]))
    _close(app, complaint_id, {"missed_deadline": "", "other": "助理离职未交接。"})
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.state == State.CLOSED and complaint.closure_kind == "resolved"
        assert complaint.closed_at is not None
        rows = {r.root_cause.code: r.text for r in complaint.root_causes}
        assert rows == {"missed_deadline": None, "other": "助理离职未交接。"}
    event = [e for e in _actions(app, complaint_id)
             if e.action == "complaint.closed_after_follow_up"][0]
    assert event.details["closure_kind"] == "resolved"
    assert {c["code"] for c in event.details["root_causes"]} == {"missed_deadline", "other"}
    assert "助理" not in str(event.details)


def test_a_client_not_reached_is_closed_as_not_reached(app):
    complaint_id = in_follow_up(app)
    for _ in range(3):
        record_call(app, complaint_id, NO_ANSWER)
    _close(app, complaint_id, {"no_progress_report": ""})
    with app.app_context():
        assert db.session.get(Complaint, complaint_id).closure_kind == "not_reached"


# -- the worker ------------------------------------------------------------------------------------

def _tick(app) -> int:
    with app.app_context():
        return callbacks.tick()


def test_an_unanswered_survey_is_reminded_once(app, clock):
    complaint_id = in_follow_up(app)
    clock.advance(timedelta(days=app.config["SURVEY_REMINDER_DAYS"]) - timedelta(hours=1))
    assert _tick(app) == 0
    clock.advance(timedelta(hours=2))
    assert _tick(app) == 1
    assert _tick(app) == 0  # a second run (or a second worker) sends nothing more
    with app.app_context():
        mails = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "survey_reminder")))
        assert len(mails) == 1 and mails[0].recipient == "li.ming@example.com"
        assert "earlier email" in mails[0].body_text  # no request here: the first mail's link
    assert latest(app, complaint_id)["survey_reminded_at"] is not None


def test_a_reminder_links_the_survey_when_the_portal_knows_its_address(app, clock):
    app.config["PUBLIC_BASE_URL"] = "https://complaints.example.com"
    complaint_id = in_follow_up(app)
    clock.advance(timedelta(days=app.config["SURVEY_REMINDER_DAYS"], hours=1))
    _tick(app)
    with app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "survey_reminder"))
        assert "https://complaints.example.com/s/" in mail.body_text
    assert latest(app, complaint_id)["survey_reminded_at"] is not None


def test_an_answered_survey_is_not_reminded(app, clock):
    complaint_id = in_follow_up(app)
    _answer(app, survey_token(app, callback_ids(app, complaint_id)[0]))
    clock.advance(timedelta(days=app.config["FOLLOW_UP_CALLBACK_DAYS"] + 1))
    assert _tick(app) == 0
    assert _count(app, OutboxMessage, OutboxMessage.kind.in_(
        ["survey_reminder", "callback_due"])) == 0


def test_the_owner_is_told_once_to_call_when_the_call_back_falls_due(app, clock):
    in_follow_up(app)
    reminder_days = app.config["SURVEY_REMINDER_DAYS"]
    clock.advance(timedelta(days=reminder_days, hours=1))
    assert _tick(app) == 1  # the survey's one reminder, not yet the call
    clock.advance(timedelta(days=app.config["FOLLOW_UP_CALLBACK_DAYS"] - reminder_days))
    assert _tick(app) == 1  # the survey went unanswered: the owner calls
    assert _tick(app) == 0
    with app.app_context():
        mails = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "callback_due")))
        assert len(mails) == 1 and mails[0].recipient == person("investigator").email


def test_two_claims_of_one_reminder_send_one_mail(app, clock):
    """The conditional UPDATE: the second claim of the same row finds it taken."""
    complaint_id = in_follow_up(app)
    clock.advance(timedelta(days=app.config["FOLLOW_UP_CALLBACK_DAYS"]))
    callback_id = callback_ids(app, complaint_id)[0]
    with app.app_context():
        assert callbacks._remind(callback_id) is True
        assert callbacks._remind(callback_id) is False
        assert survey._remind(callback_id) is True
        assert survey._remind(callback_id) is False
    assert _count(app, OutboxMessage, OutboxMessage.kind == "callback_due") == 1
    assert _count(app, OutboxMessage, OutboxMessage.kind == "survey_reminder") == 1


def test_the_home_section_lists_the_owners_open_call_backs(app):
    in_follow_up(app)
    with app.app_context():
        section = callbacks.my_callbacks(person("investigator"))
        assert [item.reference for item in section] == ["TS-2026-00077"]
        assert not section.items[0].is_due
        assert not callbacks.my_callbacks(person("partner2"))


def test_schedule_keeps_one_open_call_back(app):
    complaint_id = in_follow_up(app)
    with app.app_context(), app.test_request_context():
        begin_write()
        complaint = db.session.get(Complaint, complaint_id)
        first = callbacks.current(complaint)
        assert callbacks.schedule(complaint).id == first.id
        db.session.rollback()
