"""The investigation migration moves each complaint's first-response date (and a pause) from
complaint columns into deadline rows, and the downgrade puts them back; rebuilding the
complaint table on SQLite keeps the rows that reference it."""

from __future__ import annotations

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal import create_app
from portal.db import db, writes_by_default

BEFORE = "ce2e9262d4dc"


def _rows(sql: str) -> list[tuple]:
    with db.engine.connect() as connection:
        return [tuple(r) for r in connection.execute(text(sql))]


def test_first_response_due_becomes_a_deadline_row_and_comes_back(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    with app.app_context():
        upgrade(revision=BEFORE)
        with writes_by_default(), db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO complaint (id, state, version, language, remedies_sought,"
                " needs_verification, first_response_due, deadline_provisional, paused_since,"
                " created_at, updated_at) VALUES"
                " (1, 'registered', 1, 'zh', '[]', 0, '2026-10-09', 1, NULL,"
                "  '2026-09-29 02:00:00', '2026-09-29 02:00:00'),"
                " (2, 'draft', 1, 'zh', '[]', 0, NULL, 0, '2026-10-01 02:00:00',"
                "  '2026-09-30 02:00:00', '2026-09-30 02:00:00')"))
            connection.execute(text(
                "INSERT INTO user (id, name, active, session_token, created_at)"
                " VALUES (1, '王磊', 1, 't', '2026-01-01 00:00:00')"))
            connection.execute(text("INSERT INTO complaint_respondent VALUES (1, 1)"))
        upgrade()
        # Rebuilding the complaint table (SQLite batch mode) must not cascade-delete its rows.
        assert _rows("SELECT complaint_id, user_id FROM complaint_respondent") == [(1, 1)]
        assert _rows("SELECT complaint_id, kind, due, provisional, stopped_at"
                     " FROM complaint_deadline") == [(1, "first_response", "2026-10-09", 1, None)]
        assert _rows("SELECT complaint_id, resumed_at FROM clock_pause") == [(2, None)]
        columns = {c["name"] for c in inspect(db.engine).get_columns("complaint")}
        assert not columns & {"first_response_due", "deadline_provisional", "paused_since"}

        downgrade(revision=BEFORE)
        assert _rows("SELECT id, first_response_due, deadline_provisional,"
                     " paused_since IS NOT NULL FROM complaint ORDER BY id") == [
            (1, "2026-10-09", 1, 0), (2, None, 0, 1)]
        indexes = {i["name"] for i in inspect(db.engine).get_indexes("complaint")}
        assert "ix_complaint_state_due" in indexes
        db.engine.dispose()
