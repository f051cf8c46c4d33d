"""The hash-chained audit trail: `flask audit verify` notices edits, deletions and reordering."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from portal.db import db, writes_by_default
from portal.models.audit import GENESIS, AuditEvent
from portal.models.user import User
from portal.services import audit


@pytest.fixture
def chain(app):
    """Five events, as the services write them."""
    with app.app_context(), writes_by_default():
        actor = db.session.scalar(select(User).where(User.username == "partner"))
        for i in range(5):
            audit.record("test.event", actor=actor, obj=actor,
                         details={"n": i, "名字": "陈志远", "nested": {"b": 1, "a": [1, 2]}})
        db.session.commit()
        return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def sql(app, statement: str, **params) -> None:
    with app.app_context(), writes_by_default():
        db.session.execute(text(statement), params)
        db.session.commit()


def test_intact_chain_exits_zero(runner, chain):
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert "intact" in result.output


def test_empty_chain_is_intact(app, runner):
    sql(app, "DELETE FROM audit_event")
    assert verify(runner).exit_code == 0


def test_rows_chain_from_genesis(app, chain):
    with app.app_context():
        events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
        assert events[0].prev_hash == GENESIS
        assert events[0].action == "audit.rekeyed"  # an empty trail starts keyed
        for previous, event in zip(events, events[1:], strict=False):
            assert event.prev_hash == previous.hash
            assert event.hash == event.compute_hash(audit.chain_key())


@pytest.mark.parametrize("column, value", [
    ("action", "'test.other'"),
    ("actor_label", "'someone-else'"),
    ("ip", "'10.0.0.1'"),
    ("object_id", "'999'"),
    ("details", "'{\"n\": 99}'"),
])
def test_edited_row_is_named(app, runner, chain, column, value):
    target = chain[2]
    sql(app, f"UPDATE audit_event SET {column} = {value} WHERE id = :id", id=target)
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {target}" in result.output
    assert "edited" in result.output


def test_edited_timestamp_is_named(app, runner, chain):
    with app.app_context(), writes_by_default():
        event = db.session.get(AuditEvent, chain[1])
        event.at = event.at.replace(year=2001)
        db.session.commit()
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {chain[1]}" in result.output


def test_edit_with_recomputed_hash_breaks_the_next_link(app, runner, chain):
    """Even with the key, a forger who rewrites a row and its own hash is caught by the
    following row."""
    with app.app_context(), writes_by_default():
        event = db.session.get(AuditEvent, chain[1])
        event.action = "test.forged"
        event.hash = event.compute_hash(audit.chain_key())
        db.session.commit()
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {chain[2]}" in result.output


def test_deleted_row_is_named_by_its_successor(app, runner, chain):
    sql(app, "DELETE FROM audit_event WHERE id = :id", id=chain[2])
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {chain[3]}" in result.output


def test_deleted_first_row_is_detected(app, runner, chain):
    sql(app, "DELETE FROM audit_event WHERE id = :id", id=chain[0])
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {chain[1]}" in result.output


def test_swapped_ids_are_detected(app, runner, chain):
    a, b = chain[1], chain[3]
    sql(app, "UPDATE audit_event SET id = -1 WHERE id = :a", a=a)
    sql(app, "UPDATE audit_event SET id = :a WHERE id = :b", a=a, b=b)
    sql(app, "UPDATE audit_event SET id = :b WHERE id = -1", b=b)
    result = verify(runner)
    assert result.exit_code != 0
    assert f"event {a}" in result.output


def test_record_fills_who_what_which_and_where(app, client):
    client.post("/login", data={"username": "partner", "password": "wrong password"},
                environ_base={"REMOTE_ADDR": "192.0.2.9"})
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert (event.action, event.actor_label, event.ip) == ("login.failed", "partner",
                                                               "192.0.2.9")
        assert event.at is not None and event.at.tzinfo is not None
