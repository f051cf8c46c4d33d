"""Writing and verifying the keyed, hash-chained audit trail.

`record()` appends one event in the caller's write transaction. While the newest row is still
an unkeyed one (or the trail is empty), it first appends an `audit.rekeyed` event: that event
starts the keyed segment, and every row from it on is linked with HMAC-SHA-256 under
AUDIT_HMAC_KEY. Rows written before keep their plain SHA-256 links. After the commit, a signed
checkpoint of the head goes to a file outside the database (services/audit_checkpoints.py).

`verify()` only reads: plain SHA-256 links up to the rekey, HMAC links after it, then the
newest checkpoint against the row it names.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path
from typing import Any

from flask import current_app, g, has_app_context
from sqlalchemy import select, text

from portal import clock
from portal.db import db, in_write_transaction
from portal.models.audit import GENESIS, AuditEvent, HashScheme, canonical, link_hash
from portal.models.audit_head_function import CHAIN_LOCK_ID, HEAD_AND_NEXT_ID
from portal.models.user import User
from portal.services import audit_checkpoints as checkpoints

REKEYED = "audit.rekeyed"
SYSTEM_LABEL = "system"


def chain_key() -> bytes:
    key = current_app.config.get("AUDIT_HMAC_KEY")
    if not key:
        raise RuntimeError("AUDIT_HMAC_KEY is not configured")
    return key.encode() if isinstance(key, str) else bytes(key)


def key_id(key: bytes) -> str:
    """Names a key (in the rekey event) without revealing it."""
    return hmac.new(key, b"redress audit key id", hashlib.sha256).hexdigest()[:16]


_CHAIN_LOCK = text(f"SELECT pg_advisory_xact_lock({CHAIN_LOCK_ID})")


def lock_chain() -> None:
    """Serialise appends: SQLite writers already are (BEGIN IMMEDIATE); PostgreSQL needs a lock
    so that two transactions never chain onto the same previous row."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(_CHAIN_LOCK)


def lock_chain_on(connection) -> None:
    """The same lock from a flush hook, which has a connection and must not flush again."""
    if connection.dialect.name == "postgresql":
        connection.execute(_CHAIN_LOCK)


_TABLE = AuditEvent.__table__
# Core statements (no ORM entities): built once, compiled once, cheap to run per page view.
_NEXT_ID = text("SELECT nextval(pg_get_serial_sequence('audit_event', 'id'))")
_NEXT_IDS = text("SELECT nextval(pg_get_serial_sequence('audit_event', 'id')) "
                 "FROM generate_series(1, :count)")
_HEAD = select(_TABLE.c.id, _TABLE.c.hash, _TABLE.c.scheme).order_by(_TABLE.c.id.desc()).limit(1)
_INSERT = _TABLE.insert()


def _locked_head() -> tuple[tuple[int, str, str] | None, int | None]:
    """Lock the chain; the newest row (id, hash, scheme), and on PostgreSQL the next id. There
    the three are one round trip (portal/models/audit_head_function.py)."""
    if db.session.get_bind().dialect.name == "postgresql":
        row = db.session.execute(HEAD_AND_NEXT_ID).one()
        return ((row[0], row[1], row[2]) if row[0] is not None else None), row[3]
    row = db.session.execute(_HEAD).first()  # SQLite: the write transaction is the lock
    return ((row[0], row[1], row[2]) if row else None), None


def _next_id(head_id: int | None) -> int:
    """The new row's id, known before it is written because the hash covers it. Appends are
    serialised (lock_chain; SQLite's single writer), so on SQLite it is the head's id + 1, and
    on PostgreSQL the sequence's next value, drawn under the chain's lock."""
    if db.session.get_bind().dialect.name == "postgresql":
        return db.session.execute(_NEXT_ID).scalar_one()
    return (head_id or 0) + 1


def record(action: str, **arguments: Any) -> AuditEvent:
    """Append one event in the caller's write transaction; `event_fields` names the arguments.

    Details hold ids and codes only, never personal data (names, addresses, narrative): the
    record holds those, so that it can be anonymised later without breaking the chain.
    """
    fields = event_fields(action, **arguments)
    key = chain_key()
    prev_hash, head_id, drawn_id = _keyed_head(key)
    return _append(key, prev_hash, head_id, drawn_id, **fields)


def event_fields(
    action: str,
    *,
    actor: User | None = None,
    obj: object | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    details: dict | None = None,
    actor_label: str | None = None,
    actor_id: int | None = None,
) -> dict[str, Any]:
    """An event's columns. `obj` may be any model with an `id`; its table name is the type.
    `actor_id` and `actor_label` stand for `actor` where it is expired and need not reload."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    return {
        "action": action,
        "actor_id": actor.id if actor else actor_id,
        "actor_label": actor_label or (actor.username or actor.name if actor else None),
        "object_type": object_type,
        "object_id": str(object_id) if object_id is not None else None,
        "ip": g.get("client_ip") if has_app_context() else None,
        "details": details or {},
    }


def _keyed_head(key: bytes) -> tuple[str, int | None, int | None]:
    """Lock the chain; the (hash, id) to append after, and on PostgreSQL an id drawn for the
    next row. While the newest row is unkeyed (or there is none), the `audit.rekeyed` event
    that starts the keyed segment is appended first."""
    head, drawn_id = _locked_head()
    prev_hash, head_id = (head[1], head[0]) if head else (GENESIS, None)
    if head is None or head[2] != HashScheme.HMAC_SHA256:
        rekeyed = _append(key, prev_hash, head_id, drawn_id, action=REKEYED,
                          actor_label=SYSTEM_LABEL,
                          details={"key_id": key_id(key), "unkeyed_head": head_id})
        prev_hash, head_id, drawn_id = rekeyed.hash, rekeyed.id, None
    return prev_hash, head_id, drawn_id


def record_many(events: Sequence[Mapping[str, Any]], *, batch: int = 5000) -> None:
    """Append events that happened earlier (history written in bulk: the demo's years of
    complaints), in the order given, in the caller's write transaction.

    Each event is a mapping with `action` and `at` (aware: when it happened) and, as `record`
    takes them, optionally `actor_id`, `actor_label`, `object_type`, `object_id` and
    `details` (ids and codes only, never personal data). The chain's lock is taken and the
    ids drawn once for all of them; one INSERT per `batch` rows.
    """
    if not events:
        return
    key = chain_key()
    prev_hash, head_id, _drawn = _keyed_head(key)  # a drawn id unused is a gap, as a rollback's
    rows = []
    for event_id, event in zip(_next_ids(head_id, len(events)), events, strict=True):
        object_id = event.get("object_id")
        row = {"id": event_id, "at": event["at"].astimezone(UTC), "ip": None,
               "actor_id": event.get("actor_id"), "actor_label": event.get("actor_label"),
               "action": event["action"], "object_type": event.get("object_type"),
               "object_id": str(object_id) if object_id is not None else None,
               "details": event.get("details") or {}, "prev_hash": prev_hash,
               "scheme": HashScheme.HMAC_SHA256.value}
        row["hash"] = prev_hash = link_hash(prev_hash, canonical(row), row["scheme"], key)
        rows.append(row)
    for start in range(0, len(rows), batch):
        db.session.execute(_INSERT, rows[start:start + batch])
    last = rows[-1]
    checkpoints.note_head(AuditEvent(id=last["id"], hash=last["hash"], at=last["at"]), key)


def _next_ids(head_id: int | None, count: int) -> list[int]:
    """`count` ids for rows appended in one go, ascending (see `_next_id`)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return sorted(db.session.scalars(_NEXT_IDS, {"count": count}))
    return list(range((head_id or 0) + 1, (head_id or 0) + 1 + count))


def _append(key: bytes, prev_hash: str, head_id: int | None, drawn_id: int | None,
            **fields) -> AuditEvent:
    """One INSERT of the finished row (a Core statement: a page view's audit row is the whole
    of its write transaction, so the ORM's unit of work would be most of its cost). The event
    returned is not attached to the session."""
    event = finished_event(key, prev_hash, drawn_id or _next_id(head_id), **fields)
    db.session.execute(_INSERT, row_values(event))
    checkpoints.note_head(event, key)
    return event


def finished_event(key: bytes, prev_hash: str, event_id: int, **fields) -> AuditEvent:
    """The row that follows `prev_hash` as `event_id`, with its time and its link."""
    event = AuditEvent(id=event_id, at=clock.now(), prev_hash=prev_hash,
                       scheme=HashScheme.HMAC_SHA256.value, **fields)
    event.details = event.details or {}
    event.hash = event.compute_hash(key)
    return event


def row_values(event: AuditEvent) -> dict[str, Any]:
    return {column.name: getattr(event, column.name) for column in _TABLE.columns}


# -- verification (reads only) ----------------------------------------------------------------

BREAK_REASONS = {  # code → the English reason the command line prints
    "link": "previous hash does not match (row deleted or moved)",
    "edited": "row content does not match its hash (row edited)",
    "scheme": "row is not keyed as its place in the chain requires (row forged or downgraded)",
    "wrong_key": "the keyed segment was started with another AUDIT_HMAC_KEY",
    "rechained": "row differs from the checkpoint kept outside the database (chain rewritten)",
    "truncated": "the newest checkpoint names this event, which is missing (rows deleted)",
    "checkpoint_forged": "a line of the checkpoint file is not signed with AUDIT_HMAC_KEY",
    "no_checkpoint": "no checkpoint file for this database: deleted newest rows cannot be "
                     "ruled out",
}


@dataclass(frozen=True)
class ChainBreak:
    event_id: int | None
    code: str
    line: int | None = None  # for checkpoint_forged: the line of the checkpoint file

    @property
    def reason(self) -> str:
        return BREAK_REASONS[self.code]


@dataclass
class Verification:
    broken: ChainBreak | None = None
    events: int = 0
    head: tuple[int, str] | None = None
    keyed_from: int | None = None  # id of the audit.rekeyed event
    checkpoint: checkpoints.Checkpoint | None = None  # the newest one, when all of them match
    checkpoint_file: Path | None = field(default=None, repr=False)


def verify(batch: int = 1000) -> Verification:
    """Walk the whole chain in id order, then hold every checkpoint against the row it names.

    Reads only, in a deferred transaction: it never takes SQLite's write lock, so saves go on
    while it runs. How far the checkpoint file goes is noted first and the walk starts a new
    read after that, so each checkpoint it reads names an event the walk can see.
    """
    key = chain_key()
    file = checkpoints.snapshot()
    _start_fresh_read()
    result = Verification(checkpoint_file=file.path)
    result.broken = _walk(result, key, batch) or _check_checkpoints(result, file, key, batch)
    return result


def verify_chain(batch: int = 1000) -> ChainBreak | None:
    return verify(batch).broken


def _start_fresh_read() -> None:
    session = db.session()
    pending = session.new or session.dirty or session.deleted
    if session.in_transaction() and not pending and not in_write_transaction(session):
        session.commit()  # ends the read: nothing is written


def _walk(result: Verification, key: bytes, batch: int) -> ChainBreak | None:
    expected_prev, keyed_key_id = GENESIS, key_id(key)
    for event in _iter_events(batch):
        if event.prev_hash != expected_prev:
            return ChainBreak(event.id, "link")
        keyed = event.scheme == HashScheme.HMAC_SHA256
        starts_keyed_segment = result.keyed_from is None and event.action == REKEYED
        if keyed != (result.keyed_from is not None or starts_keyed_segment):
            return ChainBreak(event.id, "scheme")
        if starts_keyed_segment:
            if (event.details or {}).get("key_id") != keyed_key_id:
                return ChainBreak(event.id, "wrong_key")
            result.keyed_from = event.id
        if not hmac.compare_digest(event.compute_hash(key), event.hash):
            return ChainBreak(event.id, "edited")
        expected_prev = event.hash
        result.events += 1
        result.head = (event.id, event.hash)
    return None


def _check_checkpoints(result: Verification, file: checkpoints.CheckpointFile, key: bytes,
                       batch: int) -> ChainBreak | None:
    """Every checkpoint must name an event that is still there with the same hash: a missing
    one means events were deleted, another hash means the chain was rewritten."""
    pending: list[checkpoints.Checkpoint] = []
    for number, checkpoint, signed in checkpoints.read(file, key):
        if not signed:
            return ChainBreak(checkpoint.event_id, "checkpoint_forged", line=number)
        pending.append(checkpoint)
        if len(pending) >= batch:
            broken, pending = _compare(result, pending), []
            if broken:
                return broken
    broken = _compare(result, pending)
    if broken is None and result.checkpoint is None and result.keyed_from is not None:
        return ChainBreak(None, "no_checkpoint")
    return broken


def _compare(result: Verification, batch: list[checkpoints.Checkpoint]) -> ChainBreak | None:
    if not batch:
        return None
    rows = db.session.execute(select(AuditEvent.id, AuditEvent.hash)
                              .where(AuditEvent.id.in_({c.event_id for c in batch})))
    stored = {event_id: digest for event_id, digest in rows}
    for checkpoint in batch:
        found = stored.get(checkpoint.event_id)
        if found is None:
            return ChainBreak(checkpoint.event_id, "truncated")
        if found != checkpoint.hash:
            return ChainBreak(checkpoint.event_id, "rechained")
        if result.checkpoint is None or checkpoint.event_id > result.checkpoint.event_id:
            result.checkpoint = checkpoint
    return None


def _iter_events(batch: int) -> Iterator[AuditEvent]:
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        for row in rows:  # keep memory flat without detaching the signed-in user
            db.session.expunge(row)


def last_event() -> tuple[int, str] | None:
    row = db.session.execute(
        select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    return (row[0], row[1]) if row else None


def event_hash(event_id: int) -> str | None:
    return db.session.scalar(select(AuditEvent.hash).where(AuditEvent.id == event_id))
