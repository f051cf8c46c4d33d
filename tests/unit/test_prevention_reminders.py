"""The overdue progress report's reminder (services/prevention/reminders.py): one email per
overdue period to the responsible lawyer (a lawyer without a login too), whoever runs the
tick and however often, claimed with a conditional UPDATE; a report that moves the due day
opens a new period, reminded again once it is overdue (the test moves the clock)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from portal.db import db, write_transaction
from portal.models import AuditEvent, Client, Matter, OutboxMessage, User
from portal.models.prevention import ProgressReport
from portal.services.prevention import core, reminders

REFERENCE = "M-2026-7101"


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"
    app.config["PUBLIC_BASE_URL"] = "https://portal.example"


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


@pytest.fixture
def overdue(app, clock) -> int:
    """An open litigation matter (30 days) opened 40 days ago: its first report was due ten
    days ago. The demo's matters are left out (no due day), so only this one is reminded."""
    with app.app_context(), write_transaction():
        db.session.execute(update(Matter).values(report_due_on=None))
        lawyer = person("王磊")  # no login: reminded by email all the same
        matter = Matter(reference=REFERENCE, title="测试事项", client=Client(name="测试客户"),
                        department_id=lawyer.department_id, responsible_lawyer=lawyer,
                        partner=person("partner"), matter_type_code="litigation",
                        opened_on=clock.today() - timedelta(days=40))
        db.session.add(matter)
        db.session.flush()
        core.reschedule(matter)
        assert matter.report_due_on == clock.today() - timedelta(days=10)
        return matter.id


def mail(app) -> list[OutboxMessage]:
    with app.app_context():
        found = list(db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == reminders.REMINDER_KIND).order_by(OutboxMessage.id)))
        db.session.expunge_all()
        return found


def tick(app) -> int:
    with app.app_context():
        return reminders.tick()


def test_one_reminder_per_overdue_period(app, overdue, clock):
    assert tick(app) == 1
    assert tick(app) == 0  # the same period: nothing more
    [message] = mail(app)
    assert message.recipient == "wang.lei@firm.example" and message.recipient_name == "王磊"
    assert REFERENCE in message.subject
    assert f"https://portal.example/matters/{REFERENCE}" in message.body_text
    assert "10 days ago" in message.body_text and "you are responsible for" in message.body_text
    with app.app_context():
        matter = db.session.get(Matter, overdue)
        assert matter.report_reminded_for == matter.report_due_on
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "matter.report_reminded"))
        assert event.details == {"matter_id": overdue, "due": matter.report_due_on.isoformat(),
                                 "recipients": [person("王磊").id]}
    # A report today moves the due day 30 days on: not overdue, not reminded ...
    with app.app_context(), write_transaction():
        matter = db.session.get(Matter, overdue)
        db.session.add(ProgressReport(matter_id=overdue, reported_on=clock.today(),
                                      channel="phone", summary="进展"))
        db.session.flush()
        core.reschedule(matter)
    assert tick(app) == 0
    clock.advance(timedelta(days=30))
    assert tick(app) == 0  # due today: not yet overdue
    # ... until that day has passed: a new period, a new reminder, once.
    clock.advance(timedelta(days=1))
    assert tick(app) == 1
    assert tick(app) == 0
    assert len(mail(app)) == 2
    assert "1 day ago" in mail(app)[1].body_text


def test_two_workers_at_once_send_one_email(app, overdue):
    barrier = threading.Barrier(2)
    results: list[int] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            with app.app_context():
                barrier.wait(timeout=10)
                results.append(reminders.tick())
                db.session.remove()
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(results) == [0, 1]
    assert len(mail(app)) == 1
    with app.app_context():  # a claim made again for the same period matches no row
        assert reminders._remind(overdue, db.session.get(Matter, overdue).report_due_on
                                 + timedelta(days=1)) is False
    assert len(mail(app)) == 1


def test_the_partner_is_reminded_when_the_lawyer_has_no_address(app, overdue):
    with app.app_context(), write_transaction():
        person("王磊").email = None
    assert tick(app) == 1
    [message] = mail(app)
    assert message.recipient == "chen.zhiyuan@firm.example"
    assert "could not be reached" in message.body_text and "王磊" in message.body_text


def test_a_closed_matter_is_not_reminded(app, overdue):
    with app.app_context(), write_transaction():
        db.session.get(Matter, overdue).status = "closed"
    assert tick(app) == 0 and mail(app) == []


def test_the_worker_runs_it_every_sla_tick_seconds(app, overdue, clock):
    from portal.commands.outbox import _ticks

    assert _ticks()["progress report"] is reminders.tick_if_due
    app.config["SLA_TICK_SECONDS"] = 300
    with app.app_context():
        first = reminders.tick_if_due(None)
        assert first == clock.now() and len(mail(app)) == 1
        clock.advance(timedelta(seconds=299))
        assert reminders.tick_if_due(first) == first
