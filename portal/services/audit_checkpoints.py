"""Signed checkpoints of the audit chain's head, kept outside the database.

After every transaction that wrote audit events commits, one line is appended to
`<AUDIT_CHECKPOINT_DIR>/<database id>.jsonl`: the newest event's id, hash and time, signed with
AUDIT_HMAC_KEY. Someone who can change the database but not this file (nor knows the key)
cannot delete the newest events, or rewrite the chain, without `verify` noticing: the newest
checkpoint then names an event that is missing or has another hash.

The line is written after the commit (never inside the transaction) and a failure to write it
is logged, never raised: the user's action has already been saved.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import event as sa_event
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from portal.db import db
from portal.models.audit import AuditEvent

log = logging.getLogger("portal.audit")

FORMAT = 1
_PENDING = "redress_audit_checkpoint"  # session.info key: (path, line) of this transaction's head


@dataclass(frozen=True)
class Checkpoint:
    event_id: int
    hash: str
    at: str  # the event's time, ISO 8601 UTC
    database: str
    signature: str = ""

    def payload(self) -> bytes:
        return f"{FORMAT}|{self.database}|{self.event_id}|{self.hash}|{self.at}".encode()

    def signed(self, key: bytes) -> Checkpoint:
        signature = hmac.new(key, self.payload(), hashlib.sha256).hexdigest()
        return Checkpoint(self.event_id, self.hash, self.at, self.database, signature)

    def is_signed_by(self, key: bytes) -> bool:
        return hmac.compare_digest(self.signed(key).signature, self.signature)

    def line(self) -> str:
        return json.dumps({"v": FORMAT, "db": self.database, "id": self.event_id,
                           "hash": self.hash, "at": self.at, "sig": self.signature},
                          separators=(",", ":")) + "\n"


@functools.cache
def database_id(url: URL) -> str:
    """Names the database (not its password) so that each one has its own file."""
    return hashlib.sha256(url.render_as_string(hide_password=True).encode()).hexdigest()[:16]


def directory() -> Path:
    configured = current_app.config.get("AUDIT_CHECKPOINT_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "audit-checkpoints"


def current_file() -> tuple[Path, str]:
    """The checkpoint file of the database this app uses, and that database's id."""
    database = database_id(db.engine.url)
    return directory() / f"{database}.jsonl", database


# -- writing --------------------------------------------------------------------------------

def note_head(event: AuditEvent, key: bytes) -> None:
    """Remember the transaction's newest event; its checkpoint is written after the commit."""
    db.session.info[_PENDING] = _checkpoint_of(event, key)


def write_head(event: AuditEvent, key: bytes) -> None:
    """The checkpoint of an event committed outside the session (services/audit_alone.py)."""
    _write(*_checkpoint_of(event, key))


def _checkpoint_of(event: AuditEvent, key: bytes) -> tuple[Path, str]:
    path, database = current_file()
    checkpoint = Checkpoint(event.id, event.hash, event.at.isoformat(timespec="microseconds"),
                            database).signed(key)
    return path, checkpoint.line()


def append(path: Path, line: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    # One write() with O_APPEND: lines from concurrent workers never interleave.
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(descriptor, line.encode())
    finally:
        os.close(descriptor)


@sa_event.listens_for(Session, "after_commit")
def _write_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, None)
    if pending is None:
        return
    _write(*pending)


def _write(path: Path, line: str) -> None:
    try:
        append(path, line)
    except Exception:  # noqa: BLE001 - the action is committed; a lost checkpoint only weakens verify
        log.exception("could not write the audit checkpoint to %s", path)


@sa_event.listens_for(Session, "after_soft_rollback")
def _forget_pending(session: Session, _previous) -> None:
    session.info.pop(_PENDING, None)


# -- reading --------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckpointFile:
    path: Path
    database: str
    size: int  # bytes present when verification began; lines appended later are not read


def snapshot() -> CheckpointFile:
    """Note how far the file goes now, before the database is read: every checkpoint up to
    here names an event that was committed, so a read begun afterwards sees it."""
    path, database = current_file()
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        size = 0
    return CheckpointFile(path, database, size)


def _parse(raw: bytes, database: str) -> Checkpoint | None:
    try:
        data = json.loads(raw)
        return Checkpoint(int(data["id"]), str(data["hash"]), str(data["at"]), database,
                          str(data["sig"]))
    except (ValueError, KeyError, TypeError):
        return None


def read(file: CheckpointFile, key: bytes) -> Iterator[tuple[int, Checkpoint, bool]]:
    """(line number, checkpoint, signed by `key` for this database) for each line.

    The signature covers this database's id, so a line copied from another database's file
    does not count as signed. Lines are roughly in event order: workers commit concurrently.
    """
    if file.size == 0:
        return
    with file.path.open("rb") as handle:
        remaining = file.size
        for number, raw in enumerate(handle, 1):
            remaining -= len(raw)
            if remaining < 0:
                return
            checkpoint = _parse(raw, file.database) if raw.endswith(b"\n") else None
            if checkpoint is not None:  # else a line torn by a crash while appending
                yield number, checkpoint, checkpoint.is_signed_by(key)
