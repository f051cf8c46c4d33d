"""An audit event that is the whole of its write: a record viewed, after its page was served.

`record_alone` appends the event in a transaction of its own and commits it before returning.
On SQLite that is `write_transaction` around `audit.record`. On PostgreSQL an append is a
lock, the head, an INSERT and a COMMIT, and each statement a round trip: on a page served
from the cache, those round trips were most of the cost of showing a case file. There it runs
on a connection of its own in two round trips, each of two statements sent as one query
string: `BEGIN; SELECT … FROM redress_audit_head()` (portal/models/audit_head_function.py),
then `INSERT …; COMMIT` with the values quoted by psycopg's client-side binding. The chain's
rules are the same as `audit.record`'s: the lock is held from the head's read to the commit.
This is for a page served from the cache, when the session has no transaction (and so no
connection); a page rendered afresh has one, and its event is written as any other.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.types.json import Json
from sqlalchemy.exc import DBAPIError

from portal.db import autocommit_connection, on_a_connection_of_its_own, write_transaction
from portal.models.audit import AuditEvent, HashScheme
from portal.models.audit_head_function import HEAD_AND_NEXT_ID
from portal.services import audit
from portal.services import audit_checkpoints as checkpoints

_BEGIN_AND_HEAD = f"BEGIN; {HEAD_AND_NEXT_ID.text}"
_COLUMNS = [column.name for column in AuditEvent.__table__.columns]
_INSERT_AND_COMMIT = "INSERT INTO audit_event ({}) VALUES ({}); COMMIT".format(  # noqa: S608
    ", ".join(_COLUMNS), ", ".join(f"%({name})s" for name in _COLUMNS))  # names from the model


def record_alone(action: str, **arguments: Any) -> None:
    """Append one event (`audit.event_fields` names the arguments) and commit it."""
    # With a transaction open (the page was rendered afresh) the session's connection is used.
    if not on_a_connection_of_its_own() or not _appended(audit.event_fields(action, **arguments)):
        with write_transaction():
            audit.record(action, **arguments)


def _appended(fields: dict[str, Any]) -> bool:
    """Append on PostgreSQL in two round trips; False (nothing written) when the head is not
    a keyed row, so that `audit.record` starts the keyed segment first."""
    key = audit.chain_key()
    with autocommit_connection() as connection:
        raw = connection.connection.driver_connection
        statement = _BEGIN_AND_HEAD  # the one an error is reported with
        try:
            with raw.cursor() as cursor:
                cursor.execute(_BEGIN_AND_HEAD)  # no parameters: one simple query, two statements
                cursor.nextset()
                head_id, head_hash, head_scheme, next_id = cursor.fetchone()
            if head_id is None or head_scheme != HashScheme.HMAC_SHA256:
                raw.rollback()
                return False
            event = audit.finished_event(key, head_hash, next_id, **fields)
            values = audit.row_values(event) | {"details": Json(event.details)}
            statement = _INSERT_AND_COMMIT
            with psycopg.ClientCursor(raw) as cursor:
                cursor.execute(_INSERT_AND_COMMIT, values)
        except BaseException as error:
            _give_back(connection, raw)
            if isinstance(error, psycopg.Error):  # as SQLAlchemy would raise it (errors.py: 503)
                raise DBAPIError.instance(statement, None, error, psycopg.Error,
                                          connection_invalidated=connection.invalidated
                                          ) from error
            raise
    checkpoints.write_head(event, key)
    return True


def _give_back(connection, raw: psycopg.Connection) -> None:
    """After an error: a connection that is gone is dropped from the pool, else rolled back."""
    if raw.broken or raw.closed:
        connection.invalidate()
        return
    try:
        raw.rollback()
    except psycopg.Error:
        connection.invalidate()
