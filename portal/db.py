"""Database engine and session, SQLite pragmas, and the `flask db` commands (Alembic)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC
from pathlib import Path

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event, func, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


class UTCDateTime(TypeDecorator):
    """Stores aware datetimes as UTC; SQLite loses the offset, so it is restored on load."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime")
        return value.astimezone(UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)  # PostgreSQL answers in the server's time zone


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, _record):
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    # busy_timeout must be set before WAL, or WAL itself can fail with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout = 10000")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.close()
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_begin) instead of pysqlite's deferred BEGIN.
    dbapi_connection.isolation_level = None


@event.listens_for(Engine, "connect")
def _postgresql_settings(dbapi_connection, _record):
    if not type(dbapi_connection).__module__.startswith("psycopg"):
        return
    # JIT compiles a plan to machine code when its estimated cost is high, which the visibility
    # rule's subqueries make it at 100,000 complaints: compiling took 114 ms of a 450 ms home
    # page whose rows took a few. These are short queries; JIT pays only for long analyses.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET jit = off")
    dbapi_connection.commit()


# --- read and write transactions ----------------------------------------------------------
# SQLite has one write lock for the whole file. Reads run in deferred transactions (WAL lets them
# run beside a writer); a write runs in its own short BEGIN IMMEDIATE transaction, started by
# begin_write() once the request has read its body and validated it. A read transaction is never
# upgraded to a write: SQLite answers that with "database is locked" when another connection
# wrote in between. See docs/architecture.md, "Transactions".

WRITE_OPTION = "redress_write"


class ReadTransactionWrite(RuntimeError):
    """A flush inside a read transaction: the code forgot to call begin_write() first."""


_writes_by_default: ContextVar[bool] = ContextVar("redress_writes_by_default", default=False)


def _is_write(connection) -> bool:
    return bool(connection.get_execution_options().get(WRITE_OPTION)) or _writes_by_default.get()


@event.listens_for(Engine, "begin")
def _sqlite_begin(connection):
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _is_write(connection) else "BEGIN")


@contextmanager
def writes_by_default() -> Iterator[None]:
    """Every transaction begun in this block is a write transaction. For batch scripts and
    unit tests of services, which do nothing but write; never for serving requests."""
    token = _writes_by_default.set(True)
    try:
        yield
    finally:
        _writes_by_default.reset(token)


def begin_write(session: Session | None = None) -> None:
    """End the current read transaction and start the one write transaction.

    On SQLite this takes the write lock at once (BEGIN IMMEDIATE), so no two writers ever
    deadlock. Objects loaded before are expired and reload inside the write transaction, which
    is where a version check must happen. Call it after reading and validating the input, just
    before the service call that writes; then commit (or roll back) promptly.
    """
    session = session or db.session()
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise ReadTransactionWrite("changes were made before begin_write()")
        if session.get_bind().dialect.name != "sqlite":
            # PostgreSQL's transactions are not read or write: each statement of this one sees
            # what is committed when it starts. Ending it would be one more round trip.
            session.expire_all()
            session.connection().execution_options(**{WRITE_OPTION: True})
            return
        session.commit()
    session.connection(execution_options={WRITE_OPTION: True})


def in_write_transaction(session: Session | None = None) -> bool:
    session = session or db.session()
    if not session.in_transaction():
        return False
    return _is_write(session.connection())


_CONNECTED = "redress_holds_connection"


@event.listens_for(Session, "after_begin")
def _note_connection(session: Session, _transaction, _connection) -> None:
    session.info[_CONNECTED] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_connection(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTED, None)


def holds_connection(session: Session | None = None) -> bool:
    """Whether the session's transaction has begun on the database. `in_transaction()` says
    yes as soon as an object is added, before any statement: a user restored from the cache
    (portal/auth_session.py) is added so, and that costs the database nothing."""
    return bool((session or db.session()).info.get(_CONNECTED))


@contextmanager
def write_transaction(session: Session | None = None) -> Iterator[None]:
    """begin_write(), then commit when the block succeeds and roll back when it raises."""
    session = session or db.session()
    begin_write(session)
    try:
        yield
    except BaseException:
        session.rollback()
        raise
    session.commit()


_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


@event.listens_for(Engine, "before_cursor_execute")
def _refuse_writes_in_read_transactions(connection, _cursor, statement, *_args) -> None:
    if connection.dialect.name != "sqlite" or not connection.in_transaction():
        return
    if statement.lstrip()[:7].upper().startswith(_WRITES) and not _is_write(connection):
        raise ReadTransactionWrite(
            "a write inside a read transaction: call portal.db.begin_write() first"
        )


# --- the data version ------------------------------------------------------------------------
# A write to any table but the ones below moves the `data_version` counter forward, in the same
# transaction, just before it commits: cached pages (portal/web/page_cache.py) are keyed by it.
# The tables below never change what a cached page shows: audit rows of views and refusals,
# sign-in attempts, rate-limit hits (a change that matters always writes another table too).

_UNSEEN_TABLES = frozenset({"audit_event", "login_attempt", "rate_limit_hit", "data_version"})
_WRITE_TARGET = re.compile(r'^\s*(?:INSERT\s+(?:OR\s+\w+\s+)?INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)',
                           re.IGNORECASE)
_CHANGED = "redress_changed_pages"


@event.listens_for(Engine, "before_cursor_execute")
def _note_changed_tables(connection, _cursor, statement, *_args) -> None:
    target = _WRITE_TARGET.match(statement)
    if target and target.group(1).lower() not in _UNSEEN_TABLES:
        connection.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _move_data_version(session: Session) -> None:
    if not session.in_transaction():
        return
    session.flush()
    connection = session.connection()
    if connection.info.pop(_CHANGED, False):
        connection.execute(text(  # SQLite and PostgreSQL both speak this upsert
            "INSERT INTO data_version (id, n) VALUES (1, 1) "
            "ON CONFLICT (id) DO UPDATE SET n = data_version.n + 1"))


@event.listens_for(Engine, "commit")
@event.listens_for(Engine, "rollback")
def _forget_changes(connection) -> None:
    if not connection.invalidated:  # a connection lost has no info left to forget
        connection.info.pop(_CHANGED, None)


_DATA_VERSION = text("SELECT n FROM data_version WHERE id = 1")


def data_version() -> int:
    """The counter as this transaction sees it (0 before the first change).

    On PostgreSQL, while the session has no transaction yet, it is read in autocommit on a
    connection of its own: a request answered from the page cache then costs one round trip,
    not four (BEGIN, the user, this, ROLLBACK; the user comes from the cache too, see
    portal/auth_session.py). Under READ COMMITTED each statement sees what was committed when it
    began, so the first statement of a transaction would have seen the same or older data.
    """
    if on_a_connection_of_its_own():
        with autocommit_connection() as connection:
            return connection.execute(_DATA_VERSION).scalar() or 0
    return db.session.execute(_DATA_VERSION).scalar() or 0


def on_a_connection_of_its_own() -> bool:
    """Whether a read or an append that stands alone should use a pooled connection of its
    own in autocommit: on PostgreSQL, while the session holds no connection. (With one held, a
    second per request could leave every request of a busy pool waiting for one.)"""
    session = db.session()
    return not holds_connection(session) and session.get_bind().dialect.name == "postgresql"


def autocommit_connection():
    """A pooled connection in autocommit: no BEGIN and no ROLLBACK round trips around it."""
    return db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")


# --- files written inside a transaction -------------------------------------------------------
# Evidence and notices are written to disk before the row that names them is committed. If the
# transaction rolls back, the file would stay behind unreferenced: remove it then.

_NEW_FILES = "redress_new_files"


def discard_on_rollback(path) -> None:
    db.session.info.setdefault(_NEW_FILES, []).append(path)


_OLD_FILES = "redress_old_files"


def remove_after_commit(path) -> None:
    """Delete `path` once the transaction that removed its row commits (kept on rollback)."""
    db.session.info.setdefault(_OLD_FILES, []).append(path)


@event.listens_for(Session, "after_commit")
def _keep_new_files(session: Session) -> None:
    session.info.pop(_NEW_FILES, None)
    for path in session.info.pop(_OLD_FILES, []):
        Path(path).unlink(missing_ok=True)


@event.listens_for(Session, "after_rollback")
def _discard_new_files(session: Session) -> None:
    for path in session.info.pop(_NEW_FILES, []):
        Path(path).unlink(missing_ok=True)
    session.info.pop(_OLD_FILES, None)


# --- searching text ---------------------------------------------------------------------------

LIKE_ESCAPE = "\\"


def like_escape(text: str) -> str:
    """`text` with LIKE's wildcards (% and _) and the escape character taken literally."""
    return (text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
            .replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_"))


def contains(column, text: str):
    """Case-insensitive "column contains text", wildcards in `text` taken literally."""
    return func.lower(column).like(f"%{like_escape(text.lower())}%", escape=LIKE_ESCAPE)
