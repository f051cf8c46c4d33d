"""Fixtures in the flaskr style: app, client, runner, auth.login_as(role), factories.

The suite runs on SQLite by default; set TEST_DATABASE_URL=postgresql+psycopg://... to run
it against PostgreSQL (make test does both).
"""

from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from portal import clock as portal_clock
from portal import create_app
from portal.db import db, write_transaction
from portal.services.analytics import fact_table

DEMO_PASSWORD = "redress-demo"
# The demo user that holds just this one role (portal/demo.py): partner2 (刘慧敏) is only a
# partner, while "partner" (陈志远) also sits on the committee.
ROLE_USERS = {
    "receptionist": "reception",
    "investigator": "investigator",
    "committee": "committee1",
    "partner": "partner2",
}


class Client(FlaskClient):
    """A test client that sends the CSRF header on unsafe requests, as the pages do."""

    send_csrf = True

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.get("csrf_token")
            if raw is None:
                import secrets

                raw = sess["csrf_token"] = secrets.token_hex(20)
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    # Tests read English text; the pages default to Chinese (tests that check it say so).
    language = "en"

    def open(self, *args, **kwargs):
        method = (kwargs.get("method") or "GET").upper()
        headers = dict(kwargs.pop("headers", None) or {})
        if self.language and not any(k.lower() == "accept-language" for k in headers):
            headers["Accept-Language"] = self.language
        if self.send_csrf and method not in ("GET", "HEAD", "OPTIONS"):
            headers.setdefault("X-CSRFToken", self.csrf_token())
        kwargs["headers"] = headers
        return super().open(*args, **kwargs)


def build_test_app(directory, secret_key: str = "test-secret"):
    """The app the tests use, in `directory`: the schema created and the demo firm seeded, on
    SQLite or on TEST_DATABASE_URL (PostgreSQL)."""
    url = os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{directory / 'test.sqlite3'}"
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_SUPPRESS_SEND": False,
            "INSTANCE_DATA_DIR": str(directory / "data"),
            "EVIDENCE_DIR": str(directory / "evidence"),
            "NOTICE_DIR": str(directory / "notices"),
            "AUDIT_HMAC_KEY": "test-audit-key-" + "0" * 32,
            "AUDIT_CHECKPOINT_DIR": str(directory / "audit-checkpoints"),
            "CLOCK_OFFSET_FILE": str(directory / "clock_offset"),
        }
    )
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            db.create_all()
        else:
            _empty_postgres_schema(url)
        from portal.demo import seed

        with write_transaction():
            seed(DEMO_PASSWORD)
    return app


# PostgreSQL databases whose schema this process built: later tests empty its tables instead
# of dropping and creating them again (a third of a test's set-up on PostgreSQL).
_SCHEMA_BUILT: set[str] = set()


def _empty_postgres_schema(url: str) -> None:
    if url in _SCHEMA_BUILT:
        tables = ", ".join(f'"{table.name}"' for table in db.metadata.sorted_tables)
        try:
            db.session.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
            db.session.commit()
            return
        except DBAPIError:  # a test changed the schema: build it again
            db.session.rollback()
            _SCHEMA_BUILT.discard(url)
    db.drop_all()
    db.create_all()
    _SCHEMA_BUILT.add(url)


@pytest.fixture
def app(tmp_path):
    app = build_test_app(tmp_path)
    app.test_client_class = Client
    yield app
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            stale = fact_table.drift(connection)
        db.engine.dispose()
    assert stale == [], f"complaint_fact out of step for complaints {stale}"



@pytest.fixture(autouse=True)
def _real_clock():
    """Every test starts and ends on the system's time, whatever the one before it did."""
    portal_clock.reset()
    yield
    portal_clock.reset()


@pytest.fixture
def clock():
    """The portal's clock (portal.clock), frozen at the moment the test starts.

    `clock.advance(timedelta(days=4))` moves every reader of the time (services, models'
    defaults, sessions) forward at once; `clock.set(moment)` jumps to an aware moment.
    """
    portal_clock.set(portal_clock.now())
    return portal_clock


@pytest.fixture
def client(app) -> Client:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class AuthActions:
    ROLE_USERS = ROLE_USERS

    def __init__(self, client: Client):
        self.client = client

    def login(self, username: str, password: str = DEMO_PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def login_as(self, role: str):
        """Sign in as the demo user that holds just this role (partner2 for partner)."""
        response = self.login(self.ROLE_USERS.get(role, role))
        assert response.status_code == 303, response.text
        return response

    def logout(self):
        return self.client.post("/logout")


@pytest.fixture
def auth(client) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def reception(client, auth) -> Client:
    """The test client, signed in as the receptionist."""
    auth.login_as("receptionist")
    return client


@pytest.fixture
def partner(client, auth) -> Client:
    """The test client, signed in as partner2 (刘慧敏), who is only a partner."""
    auth.login_as("partner")
    return client


def field_errors(html: str) -> list[str]:
    return re.findall(r'class="error"[^>]*>([^<]+)<', html)
