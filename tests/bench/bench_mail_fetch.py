"""Benchmark: how fast the email channel stores what arrives in the complaints mailbox.

    .venv/bin/python -m tests.bench.bench_mail_fetch [-n 200]

Starts a real Dovecot in a temporary directory (portal/devtools/dovecot.py), delivers N
messages (every other one with a PDF attachment, every fourth a reply to a sent
acknowledgement), then times one pass of the fetcher (`flask mail fetch --once`): each
message fetched, parsed, its files checked and stored, its draft or correspondence committed
and the message moved. Then a second pass over an empty folder. Exits 1 when a message was
lost or stored twice.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.devtools.dovecot import DovecotServer
from portal.models import Complaint
from portal.models.mailin import InboundMail
from portal.services import outbox
from portal.services.mailin import imap
from tests.bench.bench_register import build_app
from tests.imap_fixture import LoopbackMailbox
from tests.mail_support import PDF, email


def _acknowledged(app) -> str:
    with app.app_context(), write_transaction():
        complaint = Complaint(state="registered", reference="TS-2026-09999", channel="phone")
        db.session.add(complaint)
        db.session.flush()
        message = outbox.queue(kind="acknowledgement", recipient="li.ming@example.com",
                               recipient_name="李明", subject="通知", body_text="…",
                               complaint=complaint)
        message.status = "sent"
        return message.message_id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="messages to deliver")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        with DovecotServer(Path(folder) / "imap") as server:
            box = LoopbackMailbox(server.mailbox)
            box.configure(app)
            ack = _acknowledged(app)
            for number in range(args.n):
                headers = {"In-Reply-To": ack} if number % 4 == 3 else None
                files = [("合同.pdf", "application/pdf", PDF)] if number % 2 else []
                box.deliver(email(subject=f"第{number}封投诉", attachments=files,
                                  headers=headers))
            with app.app_context():
                started = time.perf_counter()
                stored = imap.fetch_once(imap.settings())
                elapsed = time.perf_counter() - started
                started = time.perf_counter()
                again = imap.fetch_once(imap.settings())
                empty_pass = time.perf_counter() - started
                rows = db.session.scalar(select(func.count(InboundMail.id)))
            left = box.count("INBOX")
    print(f"{args.n} messages: one pass stored {stored} in {elapsed:.2f} s "
          f"({stored / elapsed:.0f} messages/s, {1000 * elapsed / max(stored, 1):.1f} ms each); "
          f"a pass over the empty folder {1000 * empty_pass:.0f} ms")
    ok = stored == rows == args.n and again == 0 and left == 0
    print("nothing lost or doubled" if ok else f"MISMATCH: stored {stored}, rows {rows}, "
          f"second pass {again}, left in INBOX {left}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
