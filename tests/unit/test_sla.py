"""`flask sla tick`: a reminder before each deadline to whoever handles the complaint, and
escalation to the partners who may see it once a deadline has passed; each exactly once, even
with two ticks racing."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.models import AuditEvent, Client, Complaint, OutboxMessage, State, User
from portal.models.investigation import Assignment, AssignmentRole
from portal.services import deadlines, sla

# Received Monday 2 November 2026 10:00 in Beijing: the first response is due Thursday 5
# November, the investigation (minor: 15 working days) Monday 23 November.
RECEIVED = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


@pytest.fixture
def case(app, clock):
    """Wednesday 4 November, 10:00: the first response is due tomorrow. The complaint is
    handled and led by 周建国 (investigator), against 王磊, on no matter: both partners may see
    it."""
    clock.set(datetime(2026, 11, 4, 2, 0, tzinfo=UTC))
    with app.app_context(), write_transaction():
        lead = _user("investigator")
        complaint = Complaint(
            state=State.INVESTIGATING, reference="TS-2026-00401", channel="phone",
            received_at=RECEIVED, registered_at=RECEIVED, severity="minor", handler=lead,
            complainant=Client(name="李明"),
            respondents=[db.session.scalar(select(User).where(User.name == "王磊"))])
        complaint.assignments.append(Assignment(user=lead, role=AssignmentRole.LEAD))
        db.session.add(complaint)
        deadlines.start_first_response_clock(complaint, 3)
        deadlines.start_investigation_clocks(complaint)
        db.session.flush()
        complaint_id = complaint.id
    return complaint_id


def _mail(app, kind: str) -> list[tuple[str, str]]:
    with app.app_context():
        return [(m.recipient, m.subject) for m in db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id))]


def _tick(app) -> sla.TickResult:
    with app.app_context():
        return sla.tick()


def test_a_reminder_goes_to_the_handler_once(app, case):
    assert _tick(app) == sla.TickResult(reminded=1, escalated=0)
    assert _tick(app) == sla.TickResult(reminded=0, escalated=0)
    [(recipient, subject)] = _mail(app, sla.REMINDER_KIND)
    assert recipient == "zhou.jianguo@firm.example"
    assert "TS-2026-00401" in subject
    with app.app_context():
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "clock.reminded")).all()
        assert event.details["kind"] == "first_response" and event.actor_label == "sla"


def test_the_reminder_is_in_the_recipients_language(app, case):
    with app.app_context(), write_transaction():
        _user("investigator").locale = "en"
    _tick(app)
    [(_recipient, subject)] = _mail(app, sla.REMINDER_KIND)
    assert subject == "Reminder: First response for TS-2026-00401 is due on 5 Nov 2026"


def test_the_reminder_comes_as_many_working_days_ahead_as_configured(app, case, clock):
    app.config["SLA_REMINDER_WORKING_DAYS"] = 0
    assert _tick(app).reminded == 0  # due tomorrow: not yet
    clock.advance(timedelta(days=1))
    assert _tick(app).reminded == 1


def test_a_passed_deadline_is_escalated_to_the_partners_who_may_see_it_once(app, case, clock):
    _tick(app)
    clock.set(datetime(2026, 11, 6, 2, 0, tzinfo=UTC))  # Friday: the first response is late
    assert _tick(app) == sla.TickResult(reminded=0, escalated=1)
    assert _tick(app) == sla.TickResult(reminded=0, escalated=0)
    assert sorted(r for r, _s in _mail(app, sla.ESCALATION_KIND)) == [
        "chen.zhiyuan@firm.example", "liu.huimin@firm.example"]


def test_a_partner_who_may_not_see_the_complaint_is_not_told(app, case, clock):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, case)
        complaint.respondents.append(_user("partner2"))  # 刘慧敏 is now a respondent
    clock.set(datetime(2026, 11, 6, 2, 0, tzinfo=UTC))
    _tick(app)
    assert [r for r, _s in _mail(app, sla.ESCALATION_KIND)] == ["chen.zhiyuan@firm.example"]


def test_a_met_or_paused_clock_is_not_chased(app, case, clock):
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, case)
        deadlines.stop(complaint, "first_response")
    clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # Friday: investigation due Monday
    with app.app_context(), write_transaction():
        deadlines.pause(_user("partner2"), db.session.get(Complaint, case), "Waiting")
    clock.set(datetime(2026, 11, 25, 2, 0, tzinfo=UTC))  # past the investigation's day
    assert _tick(app) == sla.TickResult(reminded=0, escalated=0)
    with app.app_context(), write_transaction():
        deadlines.resume(_user("partner2"), db.session.get(Complaint, case))  # +3 days
    with app.app_context():
        assert db.session.get(Complaint, case).deadline("investigation").due == date(2026, 11,
                                                                                     26)
    assert _tick(app) == sla.TickResult(reminded=1, escalated=0)  # due tomorrow


def test_a_moved_deadline_is_reminded_about_again(app, case, clock):
    clock.set(datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # investigation due Monday 23
    with app.app_context(), write_transaction():
        deadlines.stop(db.session.get(Complaint, case), "first_response")
    assert _tick(app).reminded == 1
    with app.app_context(), write_transaction():
        deadlines.pause(_user("partner2"), db.session.get(Complaint, case), "Waiting")
    clock.set(datetime(2026, 11, 23, 2, 0, tzinfo=UTC))
    with app.app_context(), write_transaction():
        deadlines.resume(_user("partner2"), db.session.get(Complaint, case))  # Mon 23 began
    assert _tick(app).reminded == 1  # now due Tuesday 24: reminded again
    assert len(_mail(app, sla.REMINDER_KIND)) == 2


def test_two_ticks_racing_send_each_reminder_once(app, case, clock):
    # Three more complaints due tomorrow: four reminders in all, whoever claims them.
    for n in range(2, 5):
        with app.app_context(), write_transaction():
            complaint = Complaint(state=State.REGISTERED, reference=f"TS-2026-0040{n}",
                                  channel="phone", received_at=RECEIVED,
                                  registered_at=RECEIVED, handler=_user("partner2"),
                                  complainant=Client(name="王芳"))
            db.session.add(complaint)
            deadlines.start_first_response_clock(complaint, 3)
    barrier = threading.Barrier(2)
    results: list[sla.TickResult] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(sla.tick())
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sum(r.reminded for r in results) == 4
    assert len(_mail(app, sla.REMINDER_KIND)) == 4
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "clock.reminded")) == 4


def test_the_command_runs_a_tick_and_a_second_run_sends_nothing(app, case, runner):
    assert runner.invoke(args=["sla", "tick"]).output.strip() == "1 reminded, 0 escalated."
    assert runner.invoke(args=["sla", "tick"]).output.strip() == "0 reminded, 0 escalated."
    assert len(_mail(app, sla.REMINDER_KIND)) == 1


def test_the_worker_ticks_every_sla_tick_seconds(app, case, clock):
    app.config["SLA_TICK_SECONDS"] = 300
    with app.app_context():
        first = sla.tick_if_due(None)
        assert first == clock.now() and len(_mail(app, sla.REMINDER_KIND)) == 1
        clock.advance(timedelta(seconds=299))
        assert sla.tick_if_due(first) == first  # not yet
        clock.advance(timedelta(seconds=1))
        assert sla.tick_if_due(first) == clock.now()


def test_the_regulatory_period_is_set_per_jurisdiction(app, runner):
    result = runner.invoke(args=["sla", "period", "prc", "30"])
    assert result.exit_code == 0 and "PRC\t30 days" in result.output
    assert runner.invoke(args=["sla", "period", "HK"]).exit_code == 2  # the days are missing
    with app.app_context(), write_transaction():
        complaint = Complaint(state=State.TRIAGED, reference="TS-2026-00499", channel="phone",
                              received_at=RECEIVED, severity="general",
                              complainant=Client(name="张伟"))
        db.session.add(complaint)
        deadlines.start_investigation_clocks(complaint)
        assert complaint.deadline("regulatory").due == date(2026, 12, 2)  # 2 Nov + 30 days
        [event] = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "regulatory_period.set")).all()
        assert event.details == {"days": 30, "before": None}
