"""Deadline clocks: started from receipt, moved by pauses across holidays and make-up working
days (chinese_calendar's 2026 schedule), stopped on time or late; the regulatory clock and the
first-response promise never move."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, Client, Complaint, State, User
from portal.models.deadline import ClockPause, Deadline, RegulatoryPeriod
from portal.models.investigation import Assignment, AssignmentRole
from portal.services import deadlines
from portal.services.deadlines import ClockError, Status
from portal.services.intake.errors import ConflictError

CST = timezone(timedelta(hours=8))


@pytest.fixture
def ctx(app):
    with app.app_context(), writes_by_default():
        yield app


def user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=CST)


def triaged(received: datetime, severity: str = "minor", lead: str | None = "investigator"
            ) -> Complaint:
    complaint = Complaint(state=State.INVESTIGATING, channel="phone", received_at=received,
                          complainant=Client(name="李明"), severity=severity,
                          reference="TS-2026-00077")
    if lead:
        complaint.assignments.append(Assignment(user=user(lead), role=AssignmentRole.LEAD))
    db.session.add(complaint)
    deadlines.start_first_response_clock(complaint, 3)
    deadlines.start_investigation_clocks(complaint)
    db.session.flush()
    return complaint


def dues(complaint: Complaint) -> dict[str, date]:
    return {d.kind: d.due for d in complaint.deadlines}


# Received Wednesday 30 September 2026, the eve of National Day (1–7 October off, Saturday
# 10 October a make-up working day). Minor: 15 and 20 working days; regulatory 56 days.
NATIONAL_DAY = {
    "first_response": date(2026, 10, 10),  # Thu 8, Fri 9, Sat 10 (make-up day)
    "investigation": date(2026, 10, 27),
    "final_response": date(2026, 11, 3),
    "regulatory": date(2026, 11, 25),
}


def test_clocks_start_from_receipt_across_national_day(ctx):
    complaint = triaged(at(date(2026, 9, 30)))
    assert dues(complaint) == NATIONAL_DAY
    assert not any(d.provisional for d in complaint.deadlines)


def test_regulatory_period_follows_the_matters_jurisdiction(ctx):
    db.session.add(RegulatoryPeriod(jurisdiction="PRC", days=30))
    complaint = triaged(at(date(2026, 9, 30)))
    assert complaint.deadline("regulatory").due == date(2026, 10, 30)


def test_a_pause_over_a_make_up_saturday_moves_the_pausable_clocks_only(ctx, clock):
    complaint = triaged(at(date(2026, 9, 30)))
    partner = user("partner2")
    clock.set(at(date(2026, 10, 9), 17))  # Friday evening
    deadlines.pause(partner, complaint, "  waiting for the client's\nfee receipts ")
    clock.set(at(date(2026, 10, 12), 9))  # Monday morning: Sat 10 (make-up) and Mon 12 began
    pause = deadlines.resume(user("investigator"), complaint)
    assert pause.working_days_added == 2
    assert pause.reason == "waiting for the client's fee receipts"
    assert dues(complaint) == {**NATIONAL_DAY, "investigation": date(2026, 10, 29),
                               "final_response": date(2026, 11, 5)}


def test_a_pause_over_the_holiday_counts_no_holiday(ctx, clock):
    complaint = triaged(at(date(2026, 9, 29)))  # Tue: first response Wed 30, Thu 8, Fri 9
    before = dues(complaint)
    clock.set(at(date(2026, 9, 30), 15))
    deadlines.pause(user("partner2"), complaint, "waiting for the client")
    clock.set(at(date(2026, 10, 8), 9))  # 1–7 October off: only Thursday 8 began
    assert deadlines.resume(user("partner2"), complaint).working_days_added == 1
    after = dues(complaint)
    assert after["regulatory"] == before["regulatory"] == date(2026, 11, 24)
    assert after["first_response"] == before["first_response"] == date(2026, 10, 9)
    assert (before["investigation"], after["investigation"]) == (date(2026, 10, 26),
                                                                 date(2026, 10, 27))


def test_a_pause_within_a_day_moves_nothing(ctx, clock):
    complaint = triaged(at(date(2026, 9, 30)))
    clock.set(at(date(2026, 10, 12), 9))
    deadlines.pause(user("partner2"), complaint, "a call")
    clock.set(at(date(2026, 10, 12), 18))
    assert deadlines.resume(user("partner2"), complaint).working_days_added == 0
    assert dues(complaint) == NATIONAL_DAY


def test_a_pause_across_spring_festival_counts_both_make_up_saturdays(ctx, clock):
    # 2026: Sat 14 Feb worked, 15–23 Feb off, Sat 28 Feb worked.
    complaint = triaged(at(date(2026, 2, 2)), severity="general")
    original = dues(complaint)
    clock.set(at(date(2026, 2, 13), 12))  # Friday
    deadlines.pause(user("partner2"), complaint, "waiting for the contract")
    clock.set(at(date(2026, 3, 2), 8))  # Monday: Sat 14, Tue 24–Fri 27, Sat 28, Mon 2 began
    assert deadlines.resume(user("partner2"), complaint).working_days_added == 7
    assert dues(complaint)["regulatory"] == original["regulatory"] == date(2026, 3, 30)


def test_severity_change_recomputes_from_receipt_keeping_the_pause(ctx, clock):
    complaint = triaged(at(date(2026, 9, 30)))
    clock.set(at(date(2026, 10, 9), 17))
    deadlines.pause(user("partner2"), complaint, "waiting")
    clock.set(at(date(2026, 10, 12), 9))
    deadlines.resume(user("partner2"), complaint)  # +2 working days
    complaint.severity = "serious"  # 25 and 35 working days
    deadlines.severity_changed(complaint)
    assert complaint.deadline("investigation").due == date(2026, 11, 12)  # 25 + 2
    assert complaint.deadline("final_response").due == date(2026, 11, 26)  # 35 + 2
    assert complaint.deadline("regulatory").due == NATIONAL_DAY["regulatory"]


def test_stop_on_the_due_day_is_met_and_after_it_late(ctx):
    complaint = triaged(at(date(2026, 9, 30)))
    # 23:30 in Shanghai on the due day is 15:30 UTC: still on time.
    on_time = deadlines.stop(complaint, "first_response", at=datetime(2026, 10, 10, 15, 30,
                                                                     tzinfo=UTC))
    assert (on_time.stopped_late, deadlines.status(on_time, date(2026, 12, 1))) == (
        False, Status.MET)
    late = deadlines.stop(complaint, "investigation", at=at(date(2026, 10, 28), 0))
    assert (late.stopped_late, deadlines.status(late, date(2026, 12, 1))) == (True, Status.LATE)
    assert deadlines.stop(complaint, "investigation", at=at(date(2026, 12, 1))) is late
    assert late.stopped_at == at(date(2026, 10, 28), 0)  # a second stop changes nothing


def test_stop_all_stops_every_clock_and_ends_the_pause(ctx, clock):
    complaint = triaged(at(date(2026, 9, 30)))
    clock.set(at(date(2026, 10, 12)))
    deadlines.pause(user("partner2"), complaint, "waiting")
    deadlines.stop_all(complaint)
    assert all(not d.is_running for d in complaint.deadlines)
    assert complaint.open_pause is None


def test_status_overdue_due_soon_ok_and_paused(ctx):
    row = Deadline(kind="investigation", due=date(2026, 10, 12))  # a Monday
    assert deadlines.status(row, date(2026, 10, 13)) == Status.OVERDUE
    assert deadlines.status(row, date(2026, 10, 12)) == Status.DUE_SOON  # due today
    assert deadlines.status(row, date(2026, 10, 9)) == Status.DUE_SOON  # Sat 10 (make-up), 12
    assert deadlines.status(row, date(2026, 10, 8)) == Status.OK  # Fri 9, Sat 10 only
    assert deadlines.status(row, date(2026, 10, 13), paused=True) == Status.PAUSED
    regulatory = Deadline(kind="regulatory", due=date(2026, 10, 12))
    assert deadlines.status(regulatory, date(2026, 10, 13), paused=True) == Status.OVERDUE


def test_pause_needs_a_reason_the_right_state_and_person(ctx):
    complaint = triaged(at(date(2026, 9, 30)))
    with pytest.raises(ClockError) as refused:
        deadlines.pause(user("partner2"), complaint, "  \n ")
    assert refused.value.field == "reason"
    with pytest.raises(ClockError):
        deadlines.pause(user("investigator2"), complaint, "not the lead")
    with pytest.raises(ConflictError):
        deadlines.pause(user("partner2"), complaint, "stale", expected_version=0)
    with pytest.raises(ClockError):
        deadlines.resume(user("partner2"), complaint)  # not paused
    deadlines.pause(user("investigator"), complaint, "the lead pauses")
    with pytest.raises(ClockError):
        deadlines.pause(user("partner2"), complaint, "twice")
    assert db.session.scalars(select(ClockPause)).all() == [complaint.open_pause]
    complaint.state = State.REGISTERED
    deadlines.resume(user("investigator"), complaint)
    with pytest.raises(ClockError):
        deadlines.pause(user("partner2"), complaint, "not investigating")


def test_pause_and_resume_are_audited_without_the_reason(ctx, clock):
    complaint = triaged(at(date(2026, 9, 30)))
    deadlines.pause(user("partner2"), complaint, "李明 will send the receipts")
    deadlines.resume(user("partner2"), complaint)
    events = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(["clock.paused", "clock.resumed"])).order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["clock.paused", "clock.resumed"]
    assert events[0].details["reason_length"] == len("李明 will send the receipts")
    assert "李明" not in str(events[0].details) and "receipts" not in str(events[1].details)
    assert events[1].details["clocks"] == ["final_response", "investigation"]
