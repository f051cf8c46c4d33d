"""Writing and verifying the hash-chained audit trail."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass

from flask import g, has_app_context
from sqlalchemy import select, text

from portal.db import db, utcnow
from portal.models.audit import GENESIS, AuditEvent
from portal.models.user import User


def _lock_chain() -> None:
    # SQLite writers are serialised by BEGIN IMMEDIATE; PostgreSQL needs an explicit lock so
    # that two transactions never chain onto the same previous row.
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(727001)"))


def _last_hash() -> str:
    last = db.session.scalar(select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    return last or GENESIS


def record(
    action: str,
    *,
    actor: User | None = None,
    obj: object | None = None,
    object_type: str | None = None,
    object_id: object | None = None,
    details: dict | None = None,
    actor_label: str | None = None,
) -> AuditEvent:
    """Append one event. `obj` may be any model with an `id`; its table name is the type."""
    if obj is not None:
        object_type = object_type or obj.__tablename__
        object_id = object_id if object_id is not None else obj.id
    _lock_chain()
    event = AuditEvent(
        at=utcnow(),
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.username or actor.name if actor else None),
        action=action,
        object_type=object_type,
        object_id=str(object_id) if object_id is not None else None,
        ip=g.get("client_ip") if has_app_context() else None,
        details=details or {},
        prev_hash=_last_hash(),
        hash="pending-" + secrets.token_hex(28),  # unique placeholder until the id is known
    )
    db.session.add(event)
    db.session.flush()  # the id is part of what the hash covers, so it must exist first
    event.hash = event.compute_hash()
    db.session.flush()
    return event


@dataclass
class ChainBreak:
    event_id: int
    reason: str


def verify_chain(batch: int = 1000) -> ChainBreak | None:
    """Walk the chain in id order; return the first row that does not follow from its parent."""
    expected_prev = GENESIS
    for event in _iter_events(batch):
        if event.prev_hash != expected_prev:
            return ChainBreak(event.id, "previous hash does not match (row deleted or moved)")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.id, "row content does not match its hash (row edited)")
        expected_prev = event.hash
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
