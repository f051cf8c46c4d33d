"""Working days: PRC schedule with make-up weekends, provisional years, firm overrides.

Every concrete date below was checked against chinese_calendar 1.11 and holidays.China:
2026 National Day holiday Oct 1–7, make-up working days Sun Sep 20 and Sat Oct 10;
Mid-Autumn Sep 25–27; 2027 (statutory only) National Day Oct 1–5 with Oct 4–5 observed.
"""

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, User
from portal.services import calendar

CST = timezone(timedelta(hours=8))


@pytest.fixture
def ctx(app):
    with app.app_context(), writes_by_default():
        yield


@pytest.fixture
def partner(ctx):
    return db.session.scalar(select(User).where(User.username == "partner2"))


def actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_official_schedule_knows_make_up_weekends(ctx):
    assert calendar.year_is_official(2026)
    assert calendar.is_workday(date(2026, 9, 20))  # Sunday, worked for National Day
    assert calendar.is_workday(date(2026, 10, 10))  # Saturday, worked for National Day
    assert not calendar.is_workday(date(2026, 9, 27))  # Sunday in the Mid-Autumn break
    assert not calendar.is_workday(date(2026, 10, 5))  # Monday inside National Day
    assert calendar.is_workday(date(2026, 10, 8))
    assert not calendar.is_workday(date(2026, 10, 11))  # ordinary Sunday


@pytest.mark.parametrize(
    ("received", "n", "due"),
    [
        (datetime(2026, 9, 30, 10, 0, tzinfo=CST), 1, date(2026, 10, 8)),
        (datetime(2026, 9, 30, 10, 0, tzinfo=CST), 2, date(2026, 10, 9)),
        # the third working day is the make-up Saturday after the holiday
        (datetime(2026, 9, 30, 10, 0, tzinfo=CST), 3, date(2026, 10, 10)),
        (datetime(2026, 9, 30, 23, 59, tzinfo=CST), 3, date(2026, 10, 10)),
        # received during the holiday: the day itself does not count either way
        (datetime(2026, 10, 3, 9, 0, tzinfo=CST), 3, date(2026, 10, 10)),
        # received on Friday before Mid-Autumn: Sep 28, 29, 30
        (datetime(2026, 9, 24, 18, 0, tzinfo=CST), 3, date(2026, 9, 30)),
        (datetime(2026, 9, 18, 12, 0, tzinfo=CST), 1, date(2026, 9, 20)),  # make-up Sunday
    ],
)
def test_first_response_due_across_national_day_2026(ctx, received, n, due):
    deadline = calendar.first_response_due(received, n)
    assert deadline == calendar.Deadline(due=due, provisional=False)


def test_local_day_is_shanghai_not_utc(ctx):
    # 2026-09-29 17:00 UTC is already Sep 30, 01:00 in Shanghai
    late = datetime(2026, 9, 29, 17, 0, tzinfo=UTC)
    assert calendar.first_response_due(late, 3).due == date(2026, 10, 10)
    # 15:00 UTC is still Sep 29, 23:00 in Shanghai: Sep 30, Oct 8, Oct 9
    early = datetime(2026, 9, 29, 15, 0, tzinfo=UTC)
    assert calendar.first_response_due(early, 3).due == date(2026, 10, 9)


def test_naive_datetime_is_refused(ctx):
    with pytest.raises(calendar.CalendarError):
        calendar.first_response_due(datetime(2026, 9, 30, 10, 0), 3)


def test_add_working_days_edge_cases(ctx):
    assert calendar.add_working_days(date(2026, 10, 1), 0) == date(2026, 10, 1)
    with pytest.raises(calendar.CalendarError):
        calendar.add_working_days(date(2026, 10, 1), -1)


def test_year_without_official_schedule_is_provisional(ctx, partner):
    assert not calendar.year_is_official(2027)
    assert calendar.year_needs_confirmation(2027)
    assert not calendar.year_needs_confirmation(2026)
    # statutory fallback: Oct 1–5 2027 off (4–5 observed), no make-up days known
    assert not calendar.is_workday(date(2027, 10, 4))
    assert not calendar.is_workday(date(2027, 10, 9))  # Saturday: no make-up day known
    received = datetime(2027, 9, 30, 9, 0, tzinfo=CST)
    assert calendar.first_response_due(received, 3) == calendar.Deadline(date(2027, 10, 8), True)

    calendar.confirm_year(partner, 2027)
    db.session.commit()
    assert not calendar.year_needs_confirmation(2027)
    assert calendar.first_response_due(received, 3) == calendar.Deadline(date(2027, 10, 8), False)
    calendar.confirm_year(partner, 2027)  # idempotent: no second event
    assert actions().count("calendar.year_confirmed") == 1


def test_deadline_touching_a_provisional_year_is_provisional(ctx):
    # Dec 31 (1), Jan 1 holiday, Jan 2–3 weekend, Jan 4 (2), Jan 5 (3)
    deadline = calendar.first_response_due(datetime(2026, 12, 30, 9, 0, tzinfo=CST), 3)
    assert deadline == calendar.Deadline(date(2027, 1, 5), True)
    # a deadline inside 2026 never touches 2027
    assert not calendar.first_response_due(datetime(2026, 12, 1, 9, 0, tzinfo=CST), 3).provisional


def test_overrides_win_over_both_calendars(ctx, partner):
    received_2027 = datetime(2027, 9, 30, 9, 0, tzinfo=CST)
    calendar.set_override(partner, date(2027, 10, 6), False, "Announced extra day off")
    calendar.set_override(partner, date(2027, 10, 9), True, "Make-up Saturday")
    # Oct 7 (1), Oct 8 (2), Sat Oct 9 (3)
    assert calendar.first_response_due(received_2027, 3).due == date(2027, 10, 9)

    # over the official schedule too: the firm closes on the make-up Saturday
    calendar.set_override(partner, date(2026, 10, 10), False, "Office closed")
    received_2026 = datetime(2026, 9, 30, 10, 0, tzinfo=CST)
    assert calendar.first_response_due(received_2026, 3).due == date(2026, 10, 12)
    # changing an override replaces it
    calendar.set_override(partner, date(2026, 10, 10), True, None)
    assert calendar.first_response_due(received_2026, 3).due == date(2026, 10, 10)

    calendar.remove_override(partner, date(2027, 10, 6))
    assert calendar.first_response_due(received_2027, 3).due == date(2027, 10, 8)
    db.session.commit()
    assert actions().count("calendar.override_set") == 4
    assert actions().count("calendar.override_removed") == 1
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "calendar.override_removed"))
    assert event.actor_id == partner.id and event.object_id == "2027-10-06"


def test_removing_a_missing_override_is_an_error(ctx, partner):
    with pytest.raises(calendar.CalendarError):
        calendar.remove_override(partner, date(2026, 5, 5))


def test_year_schedule_lists_holidays_and_make_up_days(ctx):
    schedule = calendar.year_schedule(2026)
    makeup = [s.day for s in schedule.days if s.kind == "makeup"]
    assert date(2026, 10, 10) in makeup and date(2026, 9, 20) in makeup
    national = [s for s in schedule.days if s.day == date(2026, 10, 1)][0]
    assert national.name("zh") == "国庆节" and national.name("en") == "National Day"
    provisional = calendar.year_schedule(2027)
    assert provisional.needs_confirmation and not provisional.official
    assert all(s.kind == "holiday" for s in provisional.days)


def test_cli_calendar_due(runner):
    result = runner.invoke(args=["calendar", "due", "2026-09-30T10:00+08:00", "--days", "3"])
    assert result.exit_code == 0 and result.output.strip() == "2026-10-10"
    result = runner.invoke(args=["calendar", "due", "2027-09-30T10:00+08:00", "--days", "3"])
    assert "2027-10-08" in result.output and "provisional" in result.output
    result = runner.invoke(args=["calendar", "due", "2026-09-30T10:00", "--days", "3"])
    assert result.exit_code != 0  # no offset: refused
