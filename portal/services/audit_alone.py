"""An audit event that is the whole of its write: a record viewed, after its page was served.

`record_alone` appends the event in a transaction of its own and commits it before returning.
On SQLite it takes a pooled connection of its own and sends four statements through the
driver: BEGIN IMMEDIATE (the write lock), the head, the INSERT, COMMIT. Through the session,
`write_transaction` around `audit.record` cost 0.68 ms of a cached case file's 1.6 ms; this
way, 0.54 ms. The session's read transaction is ended first, as `begin_write` would, so a
request holds one pooled connection at a time (fifty threads viewing at once exhausted the
pool otherwise). Inside the session's own write transaction it is `audit.record`.

On PostgreSQL, `audit.record` holds the chain's lock from its read of the head to its COMMIT,
two round trips later: with two processes showing case files, each waited for the other's
lock more than it worked. Here, on a connection of its own in autocommit, the head and a drawn
id are read without the lock; the row that follows them is computed; then one statement,
`INSERT … SELECT … WHERE redress_audit_head_is(head)` (portal/models/audit_head_function.py),
takes the lock, appends the row only if the head is still the one read, and commits, so the
lock is held inside the server for that statement alone. When another append came first,
nothing is written and the head is read again; after a few turns, `audit.record` writes it.

Why the chain stays in id order: an id drawn before a head was read is larger than that head's,
and another row can only come between them by moving the head, which the check refuses. This
is for a page served from the cache, when the session has no transaction (and so no
connection); a page rendered afresh has one, and its event is written as any other.
"""

from __future__ import annotations

import functools
import sqlite3
from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError

from portal.db import (
    autocommit_connection,
    db,
    holds_connection,
    in_write_transaction,
    on_a_connection_of_its_own,
    write_transaction,
)
from portal.models.audit import AuditEvent, HashScheme
from portal.services import audit
from portal.services import audit_checkpoints as checkpoints

TURNS = 4  # reads of the head before the event is left to audit.record

_HEAD_AND_DRAWN_ID = (
    "SELECT newest.id, newest.hash, newest.scheme, "
    "nextval(pg_get_serial_sequence('audit_event', 'id')) "
    "FROM (SELECT 1) AS one LEFT JOIN ("
    "SELECT e.id, e.hash, e.scheme FROM audit_event AS e ORDER BY e.id DESC LIMIT 1"
    ") AS newest ON true")
_COLUMNS = list(AuditEvent.__table__.columns)  # both inserts list them in this order
# Each value cast to its column's type: in a SELECT list an untyped NULL would be text.
_INSERT_IF_HEAD = "INSERT INTO audit_event ({}) SELECT {} WHERE redress_audit_head_is({})".format(  # noqa: S608 - names and types from the model
    ", ".join(column.name for column in _COLUMNS),
    ", ".join(f"CAST(%({column.name})s AS {column.type.compile(dialect=postgresql.dialect())})"
              for column in _COLUMNS),
    "%(expected_id)s, %(expected_hash)s")


def record_alone(action: str, **arguments: Any) -> None:
    """Append one event (`audit.event_fields` names the arguments) and commit it. Where the
    fast ways do not apply (a keyed segment to start; on PostgreSQL, a transaction already
    open, whose connection is then used) it is `audit.record` in a write transaction."""
    if on_a_connection_of_its_own():
        appended = _appended(audit.event_fields(action, **arguments))
    elif _sqlite_lock_free(session := db.session()):
        session.commit()  # its read transaction ends, as begin_write would: one connection
        appended = _appended_on_sqlite(audit.event_fields(action, **arguments))
    else:
        appended = False
    if not appended:
        with write_transaction():
            audit.record(action, **arguments)


def _sqlite_lock_free(session) -> bool:
    """On SQLite, whether a second connection may take the write lock: not while this session
    holds it (a write transaction, or a command's writes_by_default), or it would wait for
    itself."""
    if session.get_bind().dialect.name != "sqlite":
        return False
    return not holds_connection(session) or not in_write_transaction(session)


def _appended_on_sqlite(fields: dict[str, Any]) -> bool:
    """Append under SQLite's write lock on a pooled connection of its own, in four statements
    sent by the driver; False (nothing written) when the head is not a keyed row."""
    key = audit.chain_key()
    bind = _sqlite_binders(db.engine.dialect)
    connection = db.engine.raw_connection()
    raw: sqlite3.Connection = connection.driver_connection
    statement = "BEGIN IMMEDIATE"  # the one an error is reported with
    try:
        raw.execute(statement)  # the write lock: the chain's lock on SQLite
        statement = _SQLITE_HEAD
        head = raw.execute(statement).fetchone()
        if head is None or head[2] != HashScheme.HMAC_SHA256:
            raw.execute("ROLLBACK")
            return False
        event = audit.finished_event(key, head[1], head[0] + 1, **fields)
        statement = _SQLITE_INSERT
        raw.execute(statement, [binder(value) if binder else value for binder, value in
                                zip(bind, audit.row_values(event).values(), strict=True)])
        statement = "COMMIT"
        raw.execute(statement)
    except sqlite3.Error as error:  # as SQLAlchemy would raise it (errors.py)
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        raise DBAPIError.instance(statement, None, error, sqlite3.Error) from error
    finally:
        connection.close()  # back to the pool
    checkpoints.write_head(event, key)
    return True


_SQLITE_HEAD = 'SELECT id, hash, scheme FROM audit_event ORDER BY id DESC LIMIT 1'
_SQLITE_INSERT = "INSERT INTO audit_event ({}) VALUES ({})".format(  # noqa: S608 - model's names
    ", ".join(column.name for column in _COLUMNS), ", ".join("?" for _ in _COLUMNS))


@functools.cache
def _sqlite_binders(dialect) -> tuple:
    """Each column's conversion to what the driver stores, as SQLAlchemy converts it (the
    time as UTC text, the details as JSON), in `audit.row_values` order."""
    return tuple(column.type.bind_processor(dialect) for column in _COLUMNS)


def _appended(fields: dict[str, Any]) -> bool:
    """Append on PostgreSQL without holding the chain's lock between round trips; False
    (nothing written) when the head is not a keyed row, so that `audit.record` starts the
    keyed segment first, or when other appends kept coming first."""
    key = audit.chain_key()
    with autocommit_connection() as connection:
        raw = connection.connection.driver_connection
        statement = _HEAD_AND_DRAWN_ID  # the one an error is reported with
        try:
            with raw.cursor() as cursor:
                for _turn in range(TURNS):
                    statement = _HEAD_AND_DRAWN_ID
                    head_id, head_hash, head_scheme, drawn_id = cursor.execute(
                        _HEAD_AND_DRAWN_ID).fetchone()
                    if head_id is None or head_scheme != HashScheme.HMAC_SHA256:
                        return False
                    event = audit.finished_event(key, head_hash, drawn_id, **fields)
                    statement = _INSERT_IF_HEAD
                    cursor.execute(_INSERT_IF_HEAD, audit.row_values(event) | {
                        "details": Json(event.details), "expected_id": head_id,
                        "expected_hash": head_hash})
                    if cursor.rowcount == 1:
                        break
                else:
                    return False
        except BaseException as error:
            if raw.broken or raw.closed:  # a connection that is gone leaves the pool
                connection.invalidate()
            if isinstance(error, psycopg.Error):  # as SQLAlchemy would raise it (errors.py: 503)
                raise DBAPIError.instance(statement, None, error, psycopg.Error,
                                          connection_invalidated=connection.invalidated
                                          ) from error
            raise
    checkpoints.write_head(event, key)
    return True
