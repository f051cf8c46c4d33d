"""Faults on the way out: a mail server that fails K times, or refuses one recipient for good,
and an outbox worker killed with SIGKILL in the middle of a send lose no email. A message may
reach the server more than once only with the same Message-ID (fixed when it was queued), so
that the receiving side can recognise the copy; nothing is left `dead` or stuck `sending`
except the one message no server would ever take, and the partners hear about that one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from pathlib import Path

from sqlalchemy import func, select

from portal import clock as portal_clock
from portal.config import ENV_KEYS
from portal.db import db, write_transaction
from portal.models import (
    AuditEvent,
    Client,
    Complaint,
    OutboxMessage,
    OutboxStatus,
    State,
    User,
)
from portal.models.user import Role, UserRole
from portal.services import outbox
from tests.smtp_fixture import CollectingHandler, Envelope, point_app_at, start_smtp_server

ROOT = Path(__file__).resolve().parents[2]
CST = timezone(timedelta(hours=8))
TRY_AGAIN = "451 4.3.0 try again"
NO_SUCH_USER = "550 5.1.1 no such user here"


class FaultyHandler(CollectingHandler):
    """A mail server with faults, recording every DATA command whatever it answered.

    The first `len(faults)` DATA commands fail as listed: "451" answers TRY_AGAIN (nothing is
    delivered); "drop" takes the message (it counts as delivered) and cuts the connection before
    answering, so that the sender cannot know. Recipients in `refuse` are refused at RCPT with
    550, every time. With `hold`, every message is taken and then the answer waits until
    `release` is set (a server that is slow to say 250).
    """

    def __init__(self, faults: Sequence[str] = (), refuse: frozenset[str] = frozenset(),
                 hold: bool = False) -> None:
        super().__init__()
        self.faults, self.refuse = list(faults), refuse
        self.data_commands: list[bytes] = []  # every DATA received, delivered or not
        self.release = threading.Event()
        self.held = 0
        if not hold:
            self.release.set()

    async def handle_RCPT(self, server, session, envelope, address, options) -> str:  # noqa: N802
        if address in self.refuse:
            return NO_SUCH_USER
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        data = bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.data_commands.append(data)
            number = len(self.data_commands)
        fault = self.faults[number - 1] if number <= len(self.faults) else None
        if fault == "451":
            return TRY_AGAIN
        with self.lock:
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos), data))
        if fault == "drop":
            server.transport.abort()  # taken, but the sender never hears the 250
            return "250 never heard"
        if not self.release.is_set():
            with self.lock:
                self.held += 1
            while not self.release.is_set():
                await asyncio.sleep(0.02)
        return "250 Message accepted for delivery"


def parse(data: bytes):
    return message_from_bytes(data, policy=policy.default)


def by_row(datas: list[bytes]) -> dict[int, list[str]]:
    """The Message-ID of each copy received, per outbox row (its X-Redress-Message-Id)."""
    copies: dict[int, list[str]] = {}
    for data in datas:
        email = parse(data)
        copies.setdefault(int(email[outbox.OUTBOX_ID_HEADER]), []).append(email["Message-ID"])
    return copies


def make_complaint(number: int) -> Complaint:
    client = Client(name="Emily Carter", email=f"emily{number}@example.co.uk", language="en")
    complaint = Complaint(
        reference=f"TS-2026-{number:05d}", state=State.REGISTERED, language="en",
        received_at=datetime(2026, 9, 30, 10, 0, tzinfo=CST), complainant=client,
        narrative="Nobody answered my calls for three weeks.", registered_at=portal_clock.now())
    db.session.add(complaint)
    db.session.flush()
    return complaint


def queue_batch(count: int, complaints: list[Complaint | None],
                extra: dict[str, str] | None = None) -> list[int]:
    """`count` messages to client0..N@example.com, message i about complaints[i % len]."""
    recipients = [f"client{i}@example.com" for i in range(count)] + list(extra or {})
    ids = []
    for i, recipient in enumerate(recipients):
        ids.append(outbox.queue(
            kind="test", recipient=recipient, recipient_name=f"客户 {i}",
            subject=f"Message {i}", body_text=f"Body {i}",
            complaint=complaints[i % len(complaints)] if i < count else None).id)
    return ids


def rows(ids=None) -> dict[int, OutboxMessage]:
    query = select(OutboxMessage).order_by(OutboxMessage.id).execution_options(
        populate_existing=True)
    if ids is not None:
        query = query.where(OutboxMessage.id.in_(ids))
    return {row.id: row for row in db.session.scalars(query)}


def mail_events() -> dict[int, list[AuditEvent]]:
    events: dict[int, list[AuditEvent]] = {}
    for event in db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["mail.failed", "mail.sent", "mail.dead"]))
            .order_by(AuditEvent.id)):
        events.setdefault(event.details["message_id"], []).append(event)
    return events


def deliver_until_done(clock, max_passes: int = 30) -> int:
    """Run the worker's pass, then move the portal clock just past the next retry, until
    nothing waits; returns the number of passes."""
    for passes in range(1, max_passes + 1):
        outbox.deliver_due()
        waiting = db.session.scalar(select(func.min(OutboxMessage.next_attempt_at)).where(
            OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])))
        db.session.commit()
        if waiting is None:
            return passes
        # (what a pass queued, such as an alert, is due at once)
        clock.advance(max(waiting - clock.now(), timedelta(0)) + timedelta(seconds=1))
    raise AssertionError(f"still not delivered after {max_passes} passes")


def test_a_server_failing_k_times_loses_nothing_and_repeats_only_the_message_id(app, clock):
    # 20 faults: every fourth one takes the message and cuts the line before its 250
    faults = ["drop" if n % 4 == 3 else "451" for n in range(20)]
    handler = FaultyHandler(faults)
    server = start_smtp_server(handler=handler)
    point_app_at(app, server)
    app.config["MAIL_TIMEOUT"] = 10
    try:
        with app.app_context():
            with write_transaction():
                complaints = [make_complaint(1), make_complaint(2), None]
                complaint_ids = [c.id for c in complaints if c is not None]
                ids = queue_batch(12, complaints)
            passes = deliver_until_done(clock)
            queued = rows(ids)
            events = mail_events()
            failed_on = Counter((e.object_type, e.object_id) for e in db.session.scalars(
                select(AuditEvent).where(AuditEvent.action == "mail.failed")))
    finally:
        server.stop()

    assert passes == 3  # 12 refused, then 8 refused and 4 sent, then the last 8 sent
    attempts = {row: len(copies) for row, copies in by_row(handler.data_commands).items()}
    received = by_row([e.data for e in server.envelopes])
    assert set(received) == set(ids)  # nothing lost
    drops = Counter()
    for number, fault in enumerate(faults):
        if fault == "drop":
            drops[int(parse(handler.data_commands[number])[outbox.OUTBOX_ID_HEADER])] += 1
    assert sorted(drops.values()) == [1, 2, 2]  # one message taken twice, two three times
    for row_id, row in queued.items():
        assert row.status == OutboxStatus.SENT, (row_id, row.status, row.last_error)
        assert row.message_id.startswith("<") and row.message_id.endswith("@firm.example>")
        # delivered once, plus once for every copy the server took without saying so:
        # every copy carries the Message-ID fixed at queueing
        assert received[row_id] == [row.message_id] * (1 + drops[row_id])
        assert row.attempts == attempts[row_id]  # every attempt counted, the last one sent
        trail = events[row_id]
        assert [e.action for e in trail] == ["mail.failed"] * (row.attempts - 1) + ["mail.sent"]
        assert {e.details["error"] for e in trail[:-1]} <= {"SMTP 451", "SMTPServerDisconnected"}
        assert [e.details["attempts"] for e in trail] == list(range(1, row.attempts + 1))
    assert sum(row.attempts - 1 for row in queued.values()) == len(faults)
    assert sorted(attempts.values()) == [2] * 4 + [3] * 8
    # the failures of a complaint's messages are in that complaint's trail
    for complaint_id, about in zip(complaint_ids, (ids[0::3], ids[1::3]), strict=True):
        assert failed_on["complaint", str(complaint_id)] == sum(
            queued[i].attempts - 1 for i in about)


def test_a_recipient_refused_for_good_dies_alone_and_the_partners_hear_of_it(app, clock):
    doomed = "nobody@example.com"
    handler = FaultyHandler(["451", "451"], refuse=frozenset({doomed}))
    server = start_smtp_server(handler=handler)
    point_app_at(app, server)
    app.config.update(MAIL_TIMEOUT=10, OUTBOX_MAX_ATTEMPTS=6)
    try:
        with app.app_context():
            with write_transaction():
                complaint = make_complaint(3)
                ids = queue_batch(5, [complaint, None], extra={doomed: ""})
            deliver_until_done(clock)
            queued = rows(ids)
            events = mail_events()
            alerts = [row for row in rows().values() if row.kind == outbox.ALERT_KIND]
            partners = {u.id: u.email for u in db.session.scalars(
                select(User).join(UserRole, UserRole.user_id == User.id)
                .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
                       User.email.is_not(None))).unique()}
    finally:
        server.stop()

    *others, dead_id = ids
    dead = queued[dead_id]
    assert dead.status == OutboxStatus.DEAD and dead.attempts == 6
    assert "550" in dead.last_error
    trail = events[dead_id]
    assert [e.action for e in trail] == ["mail.failed"] * 5 + ["mail.dead"]
    assert {e.details["error"] for e in trail} == {"SMTPRecipientsRefused 550"}
    assert sorted(trail[-1].details["alerted"]) == sorted(partners) and partners

    received = by_row([e.data for e in server.envelopes])
    assert dead_id not in received  # the server never took it
    for row_id in others:  # the two 451s cost two of them one retry each; nothing else
        row = queued[row_id]
        assert row.status == OutboxStatus.SENT
        assert received[row_id] == [row.message_id]
        assert [e.action for e in events[row_id]][-1] == "mail.sent"
    assert sorted(queued[i].attempts for i in others) == [1, 1, 1, 2, 2]
    # every partner was alerted once, and the alerts went out
    assert sorted(a.recipient for a in alerts) == sorted(partners.values())
    for alert in alerts:
        assert alert.status == OutboxStatus.SENT
        assert received[alert.id] == [alert.message_id]
        assert dead.subject in parse(next(
            e.data for e in server.envelopes if e.rcpt_tos == [alert.recipient]))["Subject"]


# -- a real worker, killed mid-send ------------------------------------------------------

def _worker(app, instance: Path) -> subprocess.Popen:
    config = app.config
    inherited = {k: v for k, v in os.environ.items() if k not in ENV_KEYS}  # config.py wins
    env = {**inherited, "FLASK_APP": "wsgi.py", "REDRESS_INSTANCE": str(instance),
           "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": config["SECRET_KEY"], "AUDIT_HMAC_KEY": config["AUDIT_HMAC_KEY"],
           "AUDIT_CHECKPOINT_DIR": config["AUDIT_CHECKPOINT_DIR"], "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "flask", "outbox", "work", "--interval", "0.2"], cwd=ROOT,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(condition, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def _statuses(app) -> dict[int, str]:
    with app.app_context():
        found = dict(db.session.execute(select(OutboxMessage.id, OutboxMessage.status)).all())
        db.session.remove()
    return found


def test_a_worker_killed_mid_send_loses_nothing_and_resends_the_same_message_id(app, tmp_path):
    handler = FaultyHandler(hold=True)  # takes each message, then waits to say 250
    server = start_smtp_server(handler=handler)
    instance = tmp_path / "worker"
    instance.mkdir()
    (instance / "config.py").write_text(
        f"OUTBOX_SENDING_TIMEOUT_SECONDS = 2\nMAIL_SERVER = {server.host!r}\n"
        f"MAIL_PORT = {server.port}\nMAIL_TIMEOUT = 10\n", encoding="utf-8")
    with app.app_context(), write_transaction():
        ids = queue_batch(5, [None])
    first = second = None
    try:
        first = _worker(app, instance)
        _wait_for(lambda: handler.held == 1, first)
        [taken] = server.envelopes
        taken_id = int(parse(taken.data)[outbox.OUTBOX_ID_HEADER])
        assert _statuses(app)[taken_id] == OutboxStatus.SENDING  # the server has it; no 250
        first.kill()  # SIGKILL, between the server taking the message and the 'sent' mark
        first.communicate(timeout=30)
        handler.release.set()

        second = _worker(app, instance)  # claims the rest, and the first once its lease ends
        _wait_for(lambda: set(_statuses(app).values()) == {OutboxStatus.SENT}, second)
        second.send_signal(signal.SIGTERM)
        output, _ = second.communicate(timeout=30)
        assert second.returncode == 0, output
        assert "Outbox worker stopped." in output
    finally:
        handler.release.set()
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
                process.communicate(timeout=30)
        server.stop()

    with app.app_context():
        everything = rows()
    assert set(ids) <= set(everything) and taken_id in ids
    assert {row.status for row in everything.values()} == {OutboxStatus.SENT}  # none dead/sending
    received = by_row([e.data for e in server.envelopes])
    assert set(received) == set(everything)  # every message delivered, the partners' too
    for row_id, row in everything.items():
        copies = 2 if row_id == taken_id else 1  # only the one in flight is sent again...
        assert received[row_id] == [row.message_id] * copies  # ...with the same Message-ID
