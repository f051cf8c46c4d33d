"""The keyed audit chain and its checkpoints outside the database.

An attacker here can change the database at will but knows neither AUDIT_HMAC_KEY nor can
write the checkpoint file: every edit, re-chaining and deletion of the newest rows must make
`flask audit verify` fail, naming the event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat

import pytest
from sqlalchemy import select, text

from portal import clock, create_app
from portal.db import db, writes_by_default
from portal.models.audit import GENESIS, AuditEvent, HashScheme
from portal.services import audit, audit_checkpoints

STRONG = "a-long-random-audit-key-0123456789abcdef"


def record(app, n: int, action: str = "test.event") -> list[int]:
    """n events, one committed transaction each (as n requests would write them)."""
    ids = []
    with app.app_context(), writes_by_default():
        for i in range(n):
            ids.append(audit.record(action, object_type="complaint", object_id=i,
                                    details={"n": i}).id)
            db.session.commit()
    return ids


@pytest.fixture
def keyed(app) -> list[int]:
    """Six events on an empty trail: ids of audit.rekeyed and the six, in order."""
    record(app, 6)
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def verify(runner):
    return runner.invoke(args=["audit", "verify"])


def sql(app, statement: str, **params) -> None:
    with app.app_context(), writes_by_default():
        db.session.execute(text(statement), params)
        db.session.commit()


def checkpoint_lines(app) -> list[dict]:
    with app.app_context():
        path, _database = audit_checkpoints.current_file()
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines()]


def rewrite(app, target: int, *, key: bytes | None = None, downgrade: bool = False,
            action: str | None = None) -> None:
    """Edit event `target`, then recompute its hash and every later one, as an attacker with
    database access would: with plain SHA-256 (no key), or with a stolen key."""
    with app.app_context(), writes_by_default():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id >= target).order_by(AuditEvent.id)).all()
        prev = db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id < target)
                                 .order_by(AuditEvent.id.desc()).limit(1)) or GENESIS
        events[0].details = {"n": 999}
        events[0].action = action or events[0].action
        for event in events:
            event.prev_hash = prev
            if downgrade:
                event.scheme = HashScheme.SHA256.value
            if key is not None:
                event.hash = event.compute_hash(key)
            else:
                event.hash = hashlib.sha256((prev + event.canonical()).encode()).hexdigest()
            prev = event.hash
        db.session.commit()


# ------------------------------------------------------------------ the keyed chain


def test_rows_after_the_rekey_are_keyed_with_the_configured_key(app, runner, keyed):
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        first = events[0]
        assert first.action == "audit.rekeyed" and first.prev_hash == GENESIS
        assert first.details["key_id"] == audit.key_id(audit.chain_key())
        assert [e.details for e in events[1:]] == [{"n": i} for i in range(6)]
        assert all(e.scheme == HashScheme.HMAC_SHA256 for e in events)
        for event in events:  # not recomputable without the key
            plain = hashlib.sha256((event.prev_hash + event.canonical()).encode()).hexdigest()
            assert event.hash != plain
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"audit chain intact: 7 events, keyed from event {keyed[0]}" in result.output
    assert f"checkpoint: event {keyed[-1]} " in result.output


def legacy_chain(app, n: int) -> list[str]:
    """Rows as the portal wrote them before the chain was keyed: plain SHA-256 links."""
    hashes = []
    with app.app_context(), writes_by_default():
        prev = GENESIS
        for i in range(n):
            event = AuditEvent(at=clock.now(), action="legacy.event", details={"n": i},
                               prev_hash=prev, hash=f"pending-{i}", scheme="sha256")
            db.session.add(event)
            db.session.flush()
            event.hash = prev = event.compute_hash()
            hashes.append(event.hash)
        db.session.commit()
    return hashes


def test_existing_rows_keep_their_links_and_the_next_event_starts_the_keyed_segment(
        app, runner):
    old = legacy_chain(app, 3)
    assert verify(runner).exit_code == 0  # nothing keyed yet, nothing to checkpoint
    record(app, 1, "test.after")
    with app.app_context():
        events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [e.hash for e in events[:3]] == old
    assert [e.scheme for e in events] == ["sha256"] * 3 + ["hmac-sha256"] * 2
    rekeyed, after = events[3], events[4]
    assert rekeyed.action == "audit.rekeyed" and rekeyed.prev_hash == old[-1]
    assert rekeyed.details["unkeyed_head"] == events[2].id
    assert after.action == "test.after" and after.prev_hash == rekeyed.hash
    assert after.details == {"n": 0}  # its own details, not the rekey's
    result = verify(runner)
    assert result.exit_code == 0, result.output
    assert f"keyed from event {rekeyed.id}" in result.output
    record(app, 1)  # a keyed head: no second rekey
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(
            AuditEvent.id.desc())) == "test.event"


def test_rewriting_an_old_unkeyed_row_is_caught_at_the_rekey(app, runner):
    legacy_chain(app, 3)
    record(app, 2)
    with app.app_context():
        rekey_id = db.session.scalar(select(AuditEvent.id).where(
            AuditEvent.action == "audit.rekeyed"))
        first_id = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id))
    rewrite_plain_segment(app, first_id + 1, rekey_id)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {rekey_id}" in result.output and "edited" in result.output


def rewrite_plain_segment(app, target: int, rekey_id: int) -> None:
    """Re-chain the unkeyed rows from `target` up to and including the rekey event's link."""
    with app.app_context(), writes_by_default():
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.id >= target, AuditEvent.id < rekey_id).order_by(AuditEvent.id)).all()
        events[0].details = {"n": 999}
        prev = db.session.get(AuditEvent, target - 1).hash
        for event in events:
            event.prev_hash = prev
            event.hash = prev = event.compute_hash()
        db.session.get(AuditEvent, rekey_id).prev_hash = prev
        db.session.commit()


@pytest.mark.parametrize("downgrade", [False, True], ids=["same-scheme", "downgraded"])
def test_edit_and_rechain_without_the_key_is_caught(app, runner, keyed, downgrade):
    """The attack that passed before: edit a row, recompute every hash after it."""
    target = keyed[3]
    rewrite(app, target, downgrade=downgrade)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {target}" in result.output
    assert ("not keyed" if downgrade else "edited") in result.output


def test_unkeying_the_whole_chain_is_caught(app, runner, keyed):
    """Turning every row into a plain SHA-256 row fails at the rekey event, and hiding the
    rekey event as well fails at the first checkpoint."""
    rewrite(app, keyed[0], downgrade=True)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {keyed[0]}" in result.output and "not keyed" in result.output
    rewrite(app, keyed[0], downgrade=True, action="test.event")
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {keyed[1]}" in result.output
    assert "differs from the checkpoint" in result.output


def test_another_key_is_named_as_such(app, runner, keyed):
    app.config["AUDIT_HMAC_KEY"] = "another-key-" + "1" * 32
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {keyed[0]}" in result.output and "another AUDIT_HMAC_KEY" in result.output


# ------------------------------------------------------------------ checkpoints


def test_each_commit_appends_a_signed_checkpoint_of_its_newest_event(app, keyed):
    lines = checkpoint_lines(app)
    # the first transaction wrote the rekey and the first event: one line, for the newer
    assert [line["id"] for line in lines] == keyed[1:]
    with app.app_context():
        hashes = dict(db.session.execute(select(AuditEvent.id, AuditEvent.hash)).all())
        path, database = audit_checkpoints.current_file()
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        for line in lines:
            assert line["hash"] == hashes[line["id"]] and line["db"] == database
            checkpoint = audit_checkpoints.Checkpoint(
                line["id"], line["hash"], line["at"], database, line["sig"])
            assert checkpoint.is_signed_by(audit.chain_key())
            assert not checkpoint.is_signed_by(b"someone else's key")


def test_a_rolled_back_transaction_writes_no_checkpoint(app, keyed):
    before = checkpoint_lines(app)
    with app.app_context(), writes_by_default():
        audit.record("test.rolled_back")
        db.session.rollback()
        audit.record("test.one")
        audit.record("test.two")
        db.session.commit()
        newest = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()))
    after = checkpoint_lines(app)
    assert len(after) == len(before) + 1 and after[-1]["id"] == newest


def test_deleting_the_newest_events_is_detected(app, runner, keyed):
    sql(app, "DELETE FROM audit_event WHERE id >= :id", id=keyed[-2])
    result = verify(runner)
    assert result.exit_code == 1
    assert "missing" in result.output
    assert f"event {keyed[-2]}" in result.output or f"event {keyed[-1]}" in result.output


def test_deleting_then_writing_on_is_detected(app, runner, keyed):
    """Truncate, then let the portal append new keyed events onto the shortened chain: the
    chain itself is valid again, the checkpoints of the deleted events are not."""
    sql(app, "DELETE FROM audit_event WHERE id >= :id", id=keyed[-2])
    record(app, 3, "test.later")
    result = verify(runner)
    assert result.exit_code == 1
    # SQLite reuses the deleted ids (another hash); PostgreSQL's sequence skips them (missing)
    assert "differs from the checkpoint" in result.output or "missing" in result.output


def test_rechaining_with_a_stolen_key_is_caught_by_the_checkpoints(app, runner, keyed):
    with app.app_context():
        key = audit.chain_key()
    rewrite(app, keyed[3], key=key)
    result = verify(runner)
    assert result.exit_code == 1
    assert f"event {keyed[3]}" in result.output
    assert "differs from the checkpoint" in result.output


def test_an_altered_checkpoint_line_is_detected(app, runner, keyed):
    with app.app_context():
        path, _database = audit_checkpoints.current_file()
    lines = path.read_text().splitlines()
    forged = json.loads(lines[2])
    forged["id"] += 100  # an attacker pretending the trail is longer, or shorter
    lines[2] = json.dumps(forged)
    path.write_text("\n".join(lines) + "\n")
    result = verify(runner)
    assert result.exit_code == 1
    assert "line 3" in result.output and "not signed" in result.output


def test_a_missing_checkpoint_file_is_reported(app, runner, keyed):
    with app.app_context():
        path, _database = audit_checkpoints.current_file()
    path.unlink()
    result = verify(runner)
    assert result.exit_code == 1
    assert "no checkpoint file" in result.output


def test_a_torn_last_line_is_ignored(app, runner, keyed):
    with app.app_context():
        path, _database = audit_checkpoints.current_file()
    with path.open("a") as handle:
        handle.write('{"v":1,"id":')  # a crash in the middle of an append
    assert verify(runner).exit_code == 0


def test_an_unwritable_checkpoint_directory_never_fails_the_request(app, client, auth, caplog,
                                                                     tmp_path):
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    app.config["AUDIT_CHECKPOINT_DIR"] = str(blocker)
    with caplog.at_level(logging.ERROR, logger="portal.audit"):
        auth.login_as("partner")  # audited: login.succeeded
    assert "could not write the audit checkpoint" in caplog.text
    with app.app_context():
        assert db.session.scalar(select(AuditEvent.action).order_by(
            AuditEvent.id.desc())) == "login.succeeded"


def test_verify_can_check_an_emailed_head(app, runner, keyed):
    with app.app_context():
        head = audit.last_event()
    good = runner.invoke(args=["audit", "verify", "--expect", f"{head[0]}={head[1]}"])
    assert good.exit_code == 0 and "expected hash" in good.output
    bad = runner.invoke(args=["audit", "verify", "--expect", f"{head[0]}={'0' * 64}"])
    assert bad.exit_code == 1
    assert runner.invoke(args=["audit", "verify", "--expect", "nonsense"]).exit_code == 2


# ------------------------------------------------------------------ the key itself


def test_development_generates_a_private_key_file_once(tmp_path, monkeypatch):
    monkeypatch.delenv("AUDIT_HMAC_KEY", raising=False)
    monkeypatch.delenv("ENV_NAME", raising=False)
    monkeypatch.setenv("REDRESS_INSTANCE", str(tmp_path / "instance"))
    config = {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'dev.sqlite3'}"}
    first = create_app(config)
    key_file = tmp_path / "instance" / "audit.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.config["AUDIT_HMAC_KEY"] == key_file.read_text().strip()
    assert len(first.config["AUDIT_HMAC_KEY"]) >= 32
    assert create_app(config).config["AUDIT_HMAC_KEY"] == first.config["AUDIT_HMAC_KEY"]


@pytest.mark.parametrize("key", [None, "", "too-short"])
def test_production_refuses_to_start_without_a_real_key(tmp_path, monkeypatch, key):
    monkeypatch.delenv("AUDIT_HMAC_KEY", raising=False)
    monkeypatch.setenv("REDRESS_INSTANCE", str(tmp_path / "instance"))
    with pytest.raises(RuntimeError, match="AUDIT_HMAC_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                    "ENV_NAME": "production", "SECRET_KEY": STRONG, "AUDIT_HMAC_KEY": key})
    assert not (tmp_path / "instance" / "audit.key").exists()


def test_production_takes_the_key_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIT_HMAC_KEY", STRONG)
    monkeypatch.setenv("REDRESS_INSTANCE", str(tmp_path / "instance"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'p.sqlite3'}",
                      "ENV_NAME": "production", "SECRET_KEY": STRONG})
    assert app.config["AUDIT_HMAC_KEY"] == STRONG
