"""Benchmark: registering a complaint does not wait for PDF rendering or SMTP.

    .venv/bin/python -m tests.bench.bench_register [-n 10]

Times, through the test client on a temporary SQLite database: the register request
(request to response), then the work the outbox worker does afterwards for the same
complaints (render and store the acknowledgement PDF, send it to a local SMTP server).
Exits 1 when a register request rendered a notice or sent mail itself.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import func, select

from portal import create_app
from portal.db import db, writes_by_default
from portal.demo import seed
from portal.models import Notice, OutboxMessage, OutboxStatus
from portal.services import outbox
from tests.conftest import DEMO_PASSWORD, AuthActions, Client
from tests.smtp_fixture import point_app_at, start_smtp_server
from tests.web.test_intake_support import HX, complete_draft, confirm_in_person


def build_app(folder: Path):
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "bench",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.sqlite3'}",
        "EVIDENCE_DIR": str(folder / "evidence"),
        "NOTICE_DIR": str(folder / "notices"),
    })
    app.test_client_class = Client
    with app.app_context(), writes_by_default():
        db.create_all()
        seed(DEMO_PASSWORD)
        db.session.commit()
    return app


def count(app, column, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(column)).where(*where)) or 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="complaints to register")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        client = app.test_client()
        AuthActions(client).login_as("receptionist")
        keys = []
        for _ in range(args.n):
            key = complete_draft(client, app)
            confirm_in_person(client, app, key)
            keys.append(key)
        timings = []
        for key in keys:
            started = time.perf_counter()
            response = client.post(f"/complaints/{key}/register", headers=HX)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code
        notices_after_register = count(app, Notice.id)
        pending = count(app, OutboxMessage.id, OutboxMessage.status == OutboxStatus.PENDING)

        server = start_smtp_server()
        point_app_at(app, server)
        started = time.perf_counter()
        with app.app_context():
            sent = outbox.deliver_due(limit=args.n)
        worker = time.perf_counter() - started
        server.stop()

    register_ms = statistics.median(timings) * 1000
    print(f"register request (median of {args.n}): {register_ms:7.1f} ms")
    print(f"register request (max):               {max(timings) * 1000:7.1f} ms")
    print(f"worker: render + store + send, per complaint: {worker / max(sent, 1) * 1000:7.1f} ms")
    print(f"notices rendered during the requests: {notices_after_register}; "
          f"emails pending after them: {pending}; sent by the worker: {sent}")
    ok = notices_after_register == 0 and pending == args.n and sent == args.n
    print("target (no PDF or SMTP inside the request):", "met" if ok else "MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
