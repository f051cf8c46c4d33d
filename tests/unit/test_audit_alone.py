"""A view's audit row appended on a connection of its own (services/audit_alone.py).

On PostgreSQL the head is read without the chain's lock and the row is appended only if the
head has not moved: these tests move it in between, on purpose and from several threads at
once, and hold the chain against `audit.verify`. On SQLite the same calls go through
`audit.record`, and the same assertions hold.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models.audit import AuditEvent, HashScheme
from portal.services import audit, audit_alone


def _start_chain(app) -> None:
    with app.app_context(), write_transaction():
        audit.record("test.started", actor_label="test")


def _interloping(app, monkeypatch, times: int) -> list[int]:
    """Make another append land between the view's read of the head and its INSERT, `times`
    times; returns the ids of the rows that came in between. (On SQLite a view is appended
    under the single write lock: there is no race to lose.)"""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite appends a view under its write lock")
    real = audit.finished_event
    landed: list[int] = []
    interloping = threading.local()

    def finished_event(*args, **kwargs):
        if len(landed) < times and not getattr(interloping, "now", False):
            interloping.now = True
            try:
                with write_transaction():
                    audit.record("test.interloper", actor_label="test")
            finally:
                interloping.now = False
            landed.append(db.session.scalar(select(AuditEvent.id).order_by(
                AuditEvent.id.desc()).limit(1)))
            db.session.rollback()
        return real(*args, **kwargs)

    monkeypatch.setattr(audit, "finished_event", finished_event)
    return landed


def _view(app, object_id: int = 1) -> None:
    with app.test_request_context("/complaints/TS-2026-00001"):
        audit_alone.record_alone("complaint.viewed", object_type="complaint",
                                 object_id=object_id, actor_label="test",
                                 details={"view": "record"})


def _actions(app) -> list[str]:
    """The chain's actions in order, without the event that starts its keyed segment."""
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id))
        return [action for action in actions if action != audit.REKEYED]


def _verified(app):
    with app.app_context():
        result = audit.verify()
        db.session.rollback()
    assert result.broken is None, result.broken
    return result


def test_a_view_after_which_another_append_came_first_is_chained_after_it(app, monkeypatch):
    _start_chain(app)
    landed = _interloping(app, monkeypatch, times=1)
    _view(app)
    assert _actions(app) == ["test.started", "test.interloper", "complaint.viewed"]
    result = _verified(app)
    assert landed and result.head[0] > landed[0]
    assert result.checkpoint is not None and result.checkpoint.event_id == result.head[0]


def test_a_view_that_keeps_losing_the_race_is_written_under_the_lock(app, monkeypatch):
    _start_chain(app)
    _interloping(app, monkeypatch, times=audit_alone.TURNS)
    _view(app)
    assert _actions(app) == ["test.started", *["test.interloper"] * audit_alone.TURNS,
                             "complaint.viewed"]
    _verified(app)


def test_views_from_many_threads_beside_locked_appends_keep_one_chain(app):
    _start_chain(app)
    errors: list[BaseException] = []

    def views(thread: int) -> None:
        try:
            for n in range(15):
                _view(app, object_id=thread * 100 + n)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    def locked_appends() -> None:
        try:
            for _ in range(15):
                with app.app_context(), write_transaction():
                    audit.record("test.locked", actor_label="test")
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=views, args=(n,)) for n in range(4)]
    threads.append(threading.Thread(target=locked_appends))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    actions = _actions(app)
    assert actions.count("complaint.viewed") == 60 and actions.count("test.locked") == 15
    _verified(app)


def test_a_view_after_an_unkeyed_head_starts_the_keyed_segment(app):
    """A chain whose newest row is not keyed (an older database) is continued by
    `audit.record`, which appends `audit.rekeyed` first."""
    _start_chain(app)
    with app.app_context(), write_transaction():
        newest = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
        newest.scheme = HashScheme.SHA256.value
    _view(app)
    with app.app_context():
        actions = db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[-2:] == [audit.REKEYED, "complaint.viewed"]


def test_a_view_recorded_inside_a_write_transaction_is_written_in_it(app):
    """On SQLite a second connection would wait for the session's own write lock: the view
    is then written through the session, at once."""
    _start_chain(app)
    with app.test_request_context("/"), write_transaction():
        audit.record("test.locked", actor_label="test")
        audit_alone.record_alone("complaint.viewed", object_type="complaint", object_id=1,
                                 actor_label="test", details={"view": "record"})
    assert _actions(app)[-2:] == ["test.locked", "complaint.viewed"]
    _verified(app)
