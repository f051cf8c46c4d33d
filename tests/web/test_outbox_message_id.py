"""A message keeps one Message-ID from the moment it is queued: sent again after a worker died
between the server's acceptance and the 'sent' mark, it is recognisably the same message."""

from __future__ import annotations

from portal.db import db, write_transaction
from portal.models import OutboxMessage
from portal.services import outbox
from tests.smtp_fixture import smtp_server  # noqa: F401


def test_every_attempt_sends_the_message_id_fixed_at_queueing(app, smtp_server):
    with app.app_context(), write_transaction():
        message_id = outbox.queue(kind="acknowledgement", recipient="li.ming@example.com",
                                  recipient_name="李明", subject="通知", body_text="…").id
    with app.app_context():
        queued = db.session.get(OutboxMessage, message_id).message_id
        assert queued.startswith("<") and queued.endswith("@firm.example>")
        # the worker sends, then dies before recording it: the lease runs out, it sends again
        outbox._send(outbox._build(db.session.get(OutboxMessage, message_id)))
        db.session.rollback()
        outbox.deliver_due()
        assert db.session.get(OutboxMessage, message_id).message_id == queued
    first, second = smtp_server.wait_for(2)
    assert first["Message-ID"] == second["Message-ID"] == queued


def test_a_message_sent_again_on_request_is_a_new_message(app):
    with app.app_context(), write_transaction():
        original = outbox.queue(kind="acknowledgement", recipient="li.ming@example.com",
                                recipient_name="李明", subject="通知", body_text="…")
        original.status = "sent"
        copy = outbox.resend(None, original)
        assert copy.message_id != original.message_id
