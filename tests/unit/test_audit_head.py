"""The daily email of the audit chain's head: to every active partner, at most once a day."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from portal.commands import outbox as outbox_commands
from portal.db import db, writes_by_default
from portal.models.audit import AuditEvent
from portal.models.outbox import OutboxMessage
from portal.models.user import Role, User, UserRole
from portal.services import audit, audit_head


@pytest.fixture
def trail(app) -> tuple[int, str]:
    with app.app_context(), writes_by_default():
        for i in range(3):
            audit.record("test.event", object_type="complaint", object_id=i)
        db.session.commit()
        partner2 = db.session.scalar(select(User).where(User.username == "partner2"))
        partner2.locale = "en"
        db.session.commit()
        return audit.last_event()


def head_mails(app) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == audit_head.MAIL_KIND).order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def partner_addresses(app) -> set[str]:
    with app.app_context():
        return set(db.session.scalars(
            select(User.email).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
                   User.email.is_not(None))))


def test_every_active_partner_gets_the_head_once_a_day(app, trail):
    with app.app_context():
        mailed = audit_head.mail_head_if_due()
    assert (mailed.head_id, mailed.head_hash) == trail
    messages = head_mails(app)
    assert {m.recipient for m in messages} == partner_addresses(app) and len(messages) >= 2
    for message in messages:
        assert f"#{trail[0]}" in message.subject
        assert trail[1] in message.body_text
        assert f"flask audit verify --expect {trail[0]}={trail[1]}" in message.body_text
    english = next(m for m in messages if m.recipient == "liu.huimin@firm.example")
    assert english.subject.startswith("Audit trail on ")
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == audit_head.HEAD_MAILED))
        assert event.details["head_id"] == trail[0]
        assert event.details["date"] == mailed.day.isoformat()
        # a second worker, or a restarted one (no memory of the first), sends nothing
        app.extensions.pop(audit_head._DONE, None)
        assert audit_head.mail_head_if_due() is None
    assert len(head_mails(app)) == len(messages)


def test_two_workers_at_once_send_it_once(app, trail):
    results = []

    def worker():
        with app.app_context():
            results.append(audit_head.mail_head_if_due())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(r is None for r in results) == [False, True]
    assert len(head_mails(app)) == len(partner_addresses(app))


def test_the_command_and_the_worker_loop_mail_it(app, runner, trail, monkeypatch):
    stop = threading.Event()
    monkeypatch.setattr(outbox_commands, "_stop_event", lambda: stop)

    def one_pass(_limit):
        stop.set()
        return 0

    monkeypatch.setattr(outbox_commands, "_one_pass", one_pass)
    result = runner.invoke(args=["outbox", "work", "--interval", "0.1"])
    assert result.exit_code == 0, result.output
    assert len(head_mails(app)) == len(partner_addresses(app))
    again = runner.invoke(args=["audit", "mail-head"])
    assert again.exit_code == 0 and "already" in again.output
    assert len(head_mails(app)) == len(partner_addresses(app))


def test_the_command_reports_what_it_queued(app, runner, trail):
    result = runner.invoke(args=["audit", "mail-head"])
    assert result.exit_code == 0
    assert f"Event {trail[0]} {trail[1]} queued for" in result.output
