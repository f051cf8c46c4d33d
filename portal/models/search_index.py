"""The narratives' substring index, for searching complaints in any language without a word
segmenter: trigrams. On SQLite an FTS5 table with the trigram tokenizer, fed from `complaint`
by triggers; on PostgreSQL a pg_trgm GIN index on lower(narrative), which serves LIKE.

Both are created with the table (`db.create_all()`, the tests) and by the migration that
introduced them. A later migration that rebuilds `complaint` on SQLite (batch_alter_table
copies the table) drops the triggers: it must call `install()` again.
"""

from __future__ import annotations

from sqlalchemy import event, text
from sqlalchemy.engine import Connection

from portal.models.complaint import Complaint

# Trigram indexes serve queries of three characters or more.
MIN_LENGTH = 3
SQLITE_TABLE = "complaint_search"  # the FTS5 table (and the prefix of its shadow tables)

_SQLITE = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS complaint_search USING fts5(narrative, "
    "content='complaint', content_rowid='id', tokenize='trigram')",
    """CREATE TRIGGER IF NOT EXISTS complaint_search_insert AFTER INSERT ON complaint BEGIN
        INSERT INTO complaint_search(rowid, narrative) VALUES (new.id, new.narrative); END""",
    """CREATE TRIGGER IF NOT EXISTS complaint_search_delete AFTER DELETE ON complaint BEGIN
        INSERT INTO complaint_search(complaint_search, rowid, narrative)
        VALUES ('delete', old.id, old.narrative); END""",
    """CREATE TRIGGER IF NOT EXISTS complaint_search_update AFTER UPDATE OF narrative
        ON complaint BEGIN
        INSERT INTO complaint_search(complaint_search, rowid, narrative)
        VALUES ('delete', old.id, old.narrative);
        INSERT INTO complaint_search(rowid, narrative) VALUES (new.id, new.narrative); END""",
)
_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS ix_complaint_narrative_trgm ON complaint "
    "USING gin (lower(narrative) gin_trgm_ops)",
)


def kept_by_hand(name: str | None) -> bool:
    """The index's own tables and index, which the models do not describe."""
    return bool(name) and (name.startswith(SQLITE_TABLE) or name == "ix_complaint_narrative_trgm")


def include_object(_object, name, _type, reflected, _compare_to) -> bool:
    """For Alembic's autogenerate: leave this module's objects out of the comparison."""
    return not (reflected and kept_by_hand(name))


def install(connection: Connection, *, rebuild: bool = False) -> None:
    """Create the index for this database (and on SQLite fill it from existing rows)."""
    dialect = connection.dialect.name
    statements = _SQLITE if dialect == "sqlite" else _POSTGRESQL if dialect == "postgresql" else ()
    for statement in statements:
        connection.execute(text(statement))
    if rebuild and dialect == "sqlite":
        connection.execute(text(
            "INSERT INTO complaint_search(complaint_search) VALUES ('rebuild')"))


def uninstall(connection: Connection) -> None:
    if connection.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            connection.execute(text(f"DROP TRIGGER IF EXISTS complaint_search_{trigger}"))
        connection.execute(text("DROP TABLE IF EXISTS complaint_search"))
    elif connection.dialect.name == "postgresql":
        connection.execute(text("DROP INDEX IF EXISTS ix_complaint_narrative_trgm"))


@event.listens_for(Complaint.__table__, "after_create")
def _created(_table, connection: Connection, **_kwargs) -> None:
    install(connection)


@event.listens_for(Complaint.__table__, "before_drop")
def _dropping(_table, connection: Connection, **_kwargs) -> None:
    if connection.dialect.name == "sqlite":
        uninstall(connection)  # the FTS table names `complaint` as its content
