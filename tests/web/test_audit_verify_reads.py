"""Verifying the audit chain only reads: a save made while it walks a long chain succeeds."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select

from portal.db import db, write_transaction, writes_by_default
from portal.models.audit import AuditEvent
from portal.services import audit

EVENTS = 3000
BATCH = 500


@pytest.fixture
def long_chain(app) -> int:
    with app.app_context(), writes_by_default():
        for i in range(EVENTS):
            audit.record("test.event", object_type="complaint", object_id=i, details={"n": i})
        db.session.commit()
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


class PausedWalk:
    """Stops the walk after its first batch until the test has made its write."""

    def __init__(self, monkeypatch):
        self.walking, self.proceed = threading.Event(), threading.Event()
        original = audit._iter_events

        def paused(batch):
            for number, row in enumerate(original(BATCH), 1):
                if number == BATCH + 1:
                    self.walking.set()
                    self.proceed.wait(timeout=20)
                yield row

        monkeypatch.setattr(audit, "_iter_events", paused)


def write_meanwhile(app, walk: PausedWalk) -> float:
    assert walk.walking.wait(timeout=20), "the walk never started"
    started = time.monotonic()
    try:
        with app.app_context(), write_transaction():
            audit.record("test.during_verify")
    finally:
        walk.proceed.set()
    return time.monotonic() - started


@pytest.mark.parametrize("how", ["page", "command"])
def test_a_save_succeeds_while_verify_walks(app, client, auth, runner, long_chain,
                                            monkeypatch, how):
    auth.login_as("partner")
    walk = PausedWalk(monkeypatch)
    outcome: dict = {}

    def run_verify():
        if how == "page":
            outcome["response"] = client.get("/admin/audit/verify",
                                             headers={"HX-Request": "true"})
        else:
            outcome["result"] = runner.invoke(args=["audit", "verify"])

    verifier = threading.Thread(target=run_verify)
    verifier.start()
    took = write_meanwhile(app, walk)
    verifier.join(timeout=60)
    assert took < 3, f"the write waited {took:.1f} s for the verification"
    if how == "page":
        assert "The chain is intact" in outcome["response"].text
    else:
        assert outcome["result"].exit_code == 0, outcome["result"].output
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(
            AuditEvent.id.desc())) == "test.during_verify"


def test_the_verify_page_writes_nothing(app, client, auth):
    auth.login_as("partner")  # also makes the trail non-empty
    statements: list[str] = []

    def collect(_conn, _cursor, statement, *_args):
        if statement.lstrip().split(" ", 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    sa_event.listen(engine, "before_cursor_execute", collect)
    try:
        response = client.get("/admin/audit/verify", headers={"Accept-Language": "en"})
    finally:
        sa_event.remove(engine, "before_cursor_execute", collect)
    assert response.status_code == 200 and "The chain is intact" in response.text
    assert statements == []
