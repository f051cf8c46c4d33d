"""PostgreSQL: the audit chain's lock, head and next id in one round trip; and the check that
lets an append that stands alone hold the lock only for the length of its INSERT.

Appending an event takes the chain's lock, reads the newest row and draws the next id (the
new row's hash covers both). As three statements that is three round trips, most of the cost
of an audited page view. In one plain statement the head would be read with a snapshot taken
before the lock was held; a VOLATILE function takes a fresh snapshot for each statement it
runs, so `redress_audit_head()` reads the head after the lock, as the three statements did.

`redress_audit_head_is(id, hash)` takes the same lock and answers whether the newest row is still
the one named: `INSERT … SELECT … WHERE redress_audit_head_is(…)` then appends a row computed
from a head read without the lock, in one statement that holds the lock from the check to its
commit (services/audit_alone.py). Installed with the table (create_all) and by the migrations
that introduced them.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from portal.models.audit import AuditEvent

CHAIN_LOCK_ID = 727001  # pg_advisory_xact_lock's key for the audit chain

_CREATE = f"""
CREATE OR REPLACE FUNCTION redress_audit_head()
RETURNS TABLE (head_id integer, head_hash varchar, head_scheme varchar, next_id bigint)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_ID});
    RETURN QUERY
        SELECT newest.id, newest.hash, newest.scheme,
               nextval(pg_get_serial_sequence('audit_event', 'id'))
        FROM (SELECT 1) AS one LEFT JOIN (
            SELECT e.id, e.hash, e.scheme FROM audit_event AS e ORDER BY e.id DESC LIMIT 1
        ) AS newest ON true;
END
$$
"""  # noqa: S608 - the one value put in is CHAIN_LOCK_ID, a constant integer

_CREATE_CHECK = f"""
CREATE OR REPLACE FUNCTION redress_audit_head_is(expected_id integer, expected_hash varchar)
RETURNS boolean
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_ID});
    RETURN EXISTS (
        SELECT 1 FROM (SELECT e.id, e.hash FROM audit_event AS e ORDER BY e.id DESC LIMIT 1)
            AS newest
        WHERE newest.id = expected_id AND newest.hash = expected_hash);
END
$$
"""  # noqa: S608 - the one value put in is CHAIN_LOCK_ID, a constant integer

HEAD_AND_NEXT_ID = text(
    "SELECT head_id, head_hash, head_scheme, next_id FROM redress_audit_head()")


def install(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(_CREATE))


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("DROP FUNCTION IF EXISTS redress_audit_head()"))


def install_check(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(_CREATE_CHECK))


def uninstall_check(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text(
            "DROP FUNCTION IF EXISTS redress_audit_head_is(integer, varchar)"))


@event.listens_for(AuditEvent.__table__, "after_create")
def _created(_table, connection: Connection, **_kwargs) -> None:
    install(connection)
    install_check(connection)
