"""The Alembic migrations build exactly the schema the models describe."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from portal import create_app
from portal.db import db
from portal.models import search_index


def test_migrations_match_the_models(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": search_index.include_object})
            diff = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert diff == []


def test_demo_seed_runs_on_a_migrated_database_and_is_idempotent(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    runner = app.test_cli_runner()
    with app.app_context():
        upgrade()
    first = runner.invoke(args=["demo", "seed"])
    second = runner.invoke(args=["demo", "seed"])
    assert first.exit_code == 0 and "reception" in first.output
    assert second.exit_code == 0 and "nothing changed" in second.output


def test_complaints_anonymized_before_the_column_get_its_moment(tmp_path):
    """The upgrade that adds `complaint.anonymized_at` fills it from the retention's audit
    event, so that a complaint anonymized earlier keeps its matter withheld."""
    import sqlite3

    path = tmp_path / "m.sqlite3"
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        upgrade(revision="3b1f0c2d9e47")
        db.engine.dispose()
        with sqlite3.connect(path) as connection:  # rows as an older version left them
            connection.executemany(
                "INSERT INTO complaint (id, state, version, channel, language, remedies_sought,"
                " needs_verification, created_at, updated_at) VALUES (?, 'closed', 1,"
                " 'phone', 'zh', '[]', 0, '2015-01-01 00:00:00', '2015-01-01 00:00:00')",
                [(1,), (2,)])
            connection.execute(
                "INSERT INTO audit_event (at, action, object_type, object_id, details,"
                " prev_hash, hash, scheme) VALUES ('2026-02-03 04:05:06', 'complaint.anonymized',"
                " 'complaint', '2', '{}', 'x', 'y', 'hmac-sha256')")
        upgrade()
        db.engine.dispose()
    with sqlite3.connect(path) as connection:
        rows = dict(connection.execute("SELECT id, anonymized_at FROM complaint").fetchall())
    assert rows[1] is None and str(rows[2]).startswith("2026-02-03 04:05:06")
