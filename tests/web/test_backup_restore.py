"""`flask backup` and `flask restore`: a backup restored into a fresh portal verifies its audit
chain up to the backup's head, and every evidence file and notice matches its SHA-256."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import create_app
from portal.db import db, write_transaction
from portal.models import Complaint, Evidence, User
from portal.models.notice import Notice
from portal.services import audit, notices
from portal.services import backup as backup_service
from portal.services import evidence as evidence_service
from tests.triage_support import registered
from tests.unit.test_intake_filetypes import PDF

POSTGRES = bool(os.environ.get("TEST_DATABASE_URL"))


def fresh_app(base: Path, key: str | None = None):
    """A second portal with its own directories (and, on SQLite, its own database file)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{base / 'restored.sqlite3'}"
    return create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_DATA_DIR": str(base / "data"), "EVIDENCE_DIR": str(base / "evidence"),
        "NOTICE_DIR": str(base / "notices"), "AUDIT_CHECKPOINT_DIR": str(base / "checkpoints"),
        "AUDIT_HMAC_KEY": key or "test-audit-key-" + "0" * 32,
        "CLOCK_OFFSET_FILE": str(base / "clock_offset"),
    })


def with_evidence_and_notice(app) -> tuple[str, str]:
    """A registered complaint with one evidence file and one acknowledgement notice; the
    stored names of both."""
    complaint_id = registered(app)
    with app.app_context():
        received = evidence_service.receive(io.BytesIO(PDF), "contract.pdf")
        with write_transaction():
            partner = db.session.scalar(select(User).where(User.username == "partner2"))
            complaint = db.session.get(Complaint, complaint_id)
            item = evidence_service.record_received(partner, complaint, received,
                                                    category="engagement_contract")
            notice = notices.issue(complaint, "acknowledgement", actor=partner)
            names = item.stored_name, notice.stored_name
        return names


@pytest.fixture
def backed_up(app, runner, tmp_path):
    names = with_evidence_and_notice(app)
    dest = tmp_path / "backup"
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return dest, names


def restore(app, src: Path, *args: str):
    result = app.test_cli_runner().invoke(args=["restore", str(src), *args])
    with app.app_context():
        db.engine.dispose()
    return result


def empty_database(app) -> None:
    """On PostgreSQL the fresh portal restores into the same database, emptied first."""
    if POSTGRES:
        with app.app_context():
            db.session.remove()
            db.drop_all()


def test_backup_restores_into_a_fresh_portal_that_verifies(app, backed_up, tmp_path):
    dest, (evidence_name, notice_name) = backed_up
    manifest = json.loads((dest / "manifest.json").read_text())
    kind = "database.pgdump" if POSTGRES else "database.sqlite3"
    paths = {entry["path"] for entry in manifest["files"]}
    assert {kind, f"evidence/{evidence_name}", f"notices/{notice_name}"} <= paths
    with app.app_context():
        head = audit.last_event()
        checkpoint_name = f"audit-checkpoints/{backup_service.audit_checkpoints.current_file()[1]}"
    assert manifest["audit_head"] == {"event_id": head[0], "hash": head[1]}
    assert f"{checkpoint_name}.jsonl" in paths
    assert backup_service.verify_backup(dest) == []

    empty_database(app)
    fresh = fresh_app(tmp_path / "fresh")
    result = restore(fresh, dest)
    assert result.exit_code == 0, result.output
    assert f"verifies up to event {head[0]}" in result.output

    with fresh.app_context():
        verified = audit.verify()
        assert verified.broken is None
        assert verified.head[0] >= head[0] and audit.event_hash(head[0]) == head[1]
        assert verified.checkpoint.event_id >= head[0]
        evidence = db.session.scalar(select(Evidence).where(Evidence.stored_name == evidence_name))
        notice = db.session.scalar(select(Notice).where(Notice.stored_name == notice_name))
        stored = evidence_service.path_of(evidence), notices.path_of(notice)
        assert str(stored[0]).startswith(str(tmp_path / "fresh"))
        assert hashlib.sha256(stored[0].read_bytes()).hexdigest() == evidence.sha256
        assert hashlib.sha256(stored[1].read_bytes()).hexdigest() == notice.sha256
        assert backup_service.check_restored(backup_service.read_manifest(dest)) == []
        db.session.remove()

    again = restore(fresh, dest)  # the database is there now
    assert again.exit_code == 1 and "use --force" in again.output


def test_a_tampered_file_makes_restore_refuse_naming_it(app, backed_up, tmp_path):
    dest, (evidence_name, _) = backed_up
    tampered = dest / "evidence" / evidence_name
    tampered.write_bytes(tampered.read_bytes() + b"%")
    fresh = fresh_app(tmp_path / "fresh")
    result = restore(fresh, dest)
    assert result.exit_code == 1
    assert f"evidence/{evidence_name}" in result.output and "nothing restored" in result.output
    assert not (tmp_path / "fresh" / "restored.sqlite3").exists()
    assert not (tmp_path / "fresh" / "evidence" / evidence_name).exists()


def test_restore_refuses_another_audit_key(app, backed_up, tmp_path):
    dest, _ = backed_up
    fresh = fresh_app(tmp_path / "fresh", key="another-audit-key-" + "1" * 32)
    result = restore(fresh, dest)
    assert result.exit_code == 1 and "AUDIT_HMAC_KEY" in result.output
    assert not (tmp_path / "fresh" / "restored.sqlite3").exists()


def test_backup_refuses_a_directory_that_is_not_empty(runner, tmp_path):
    dest = tmp_path / "busy"
    dest.mkdir()
    (dest / "something").write_text("x")
    result = runner.invoke(args=["backup", str(dest)])
    assert result.exit_code == 2 and "is not empty" in result.output
    assert sorted(p.name for p in dest.iterdir()) == ["something"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".busy.")]


def test_restore_refuses_a_directory_that_is_not_a_backup(runner, tmp_path):
    result = runner.invoke(args=["restore", str(tmp_path)])
    assert result.exit_code == 2 and "has no manifest.json" in result.output


def test_checkpoints_written_after_the_database_copy_stay_out(app, tmp_path, monkeypatch):
    """An event committed while the files are copied is not in the database copy, so the
    backup's checkpoint file must not name it either."""
    copy_tree = backup_service._copy_tree

    def busy_copy_tree(source, work, part, limits=None):
        if part == backup_service.EVIDENCE:
            with write_transaction():
                audit.record("test.during_backup", actor_label="test")
        return copy_tree(source, work, part, limits)

    monkeypatch.setattr(backup_service, "_copy_tree", busy_copy_tree)
    with app.app_context():
        with write_transaction():
            audit.record("test.before_backup", actor_label="test")
        manifest = backup_service.make_backup(tmp_path / "backup")
        later = audit.last_event()
    assert later[0] > manifest.audit_head.event_id
    monkeypatch.undo()
    empty_database(app)
    fresh = fresh_app(tmp_path / "fresh")
    result = restore(fresh, tmp_path / "backup")
    assert result.exit_code == 0, result.output
    with fresh.app_context():
        assert audit.verify().broken is None and audit.event_hash(later[0]) is None
        db.session.remove()
