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
