"""Production mode: no default secret key, no demo data, Secure cookies."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal import create_app
from portal.config import DEFAULT_SECRET_KEY
from portal.db import db
from portal.models.user import User

STRONG = "a-long-random-production-secret-0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in ("SECRET_KEY", "ENV_NAME", "DATABASE_URL", "AUDIT_HMAC_KEY",
                "AUDIT_CHECKPOINT_DIR"):
        monkeypatch.delenv(key, raising=False)


def _config(tmp_path, **extra):
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'prod.sqlite3'}",
            "AUDIT_HMAC_KEY": STRONG, **extra}


@pytest.mark.parametrize("secret", [None, DEFAULT_SECRET_KEY, ""])
def test_production_refuses_the_default_secret_key(tmp_path, secret):
    extra = {"ENV_NAME": "production"}
    if secret is not None:
        extra["SECRET_KEY"] = secret
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_config(tmp_path, **extra))


def test_production_from_the_environment_is_refused_too(tmp_path, monkeypatch):
    monkeypatch.setenv("ENV_NAME", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(_config(tmp_path))


def test_production_with_a_real_key_starts_with_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("ENV_NAME", "production")
    monkeypatch.setenv("SECRET_KEY", STRONG)
    app = create_app(_config(tmp_path))
    assert app.secret_key == STRONG
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True


def test_demo_seed_refuses_to_run_in_production(tmp_path):
    app = create_app(_config(tmp_path, ENV_NAME="production", SECRET_KEY=STRONG))
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code != 0
    assert "production" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == 0
        db.engine.dispose()


def test_demo_seed_runs_in_development_and_is_idempotent(tmp_path):
    app = create_app(_config(tmp_path, SECRET_KEY="dev"))
    with app.app_context():
        db.create_all()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0
    with app.app_context():
        count = db.session.scalar(select(func.count(User.id)))
    second = runner.invoke(args=["demo", "seed"])
    assert second.exit_code == 0
    assert "nothing changed" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count(User.id))) == count
        db.engine.dispose()


def test_first_partner_from_the_command_line_and_no_mailbox_in_production(tmp_path):
    """A new firm: no demo seed, `flask users create` makes the first partner, who can sign in;
    the development mail reader does not exist in production, even with a sink configured."""
    from tests.conftest import Client

    sink = tmp_path / "mail"
    sink.mkdir()
    (sink / "20260101T000000000000Z-0a0b0c0d.eml").write_bytes(b"Subject: hi\r\n\r\nhi")
    app = create_app(_config(tmp_path, ENV_NAME="production", SECRET_KEY=STRONG,
                             MAIL_SINK_DIR=str(sink)))
    app.test_client_class = Client
    with app.app_context():
        db.create_all()
    result = app.test_cli_runner().invoke(
        args=["users", "create", "--username", "founder", "--name", "王创始",
              "--email", "founder@firm.example", "--role", "partner", "--password-stdin"],
        input="the founder's password\n")
    assert result.exit_code == 0, result.output
    client = app.test_client()
    client.send_csrf = False  # the form's own token, as a browser sends it
    https = {"base_url": "https://localhost"}  # production cookies are Secure
    form = client.get("/login", **https).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                      r'name="csrf_token" value="([^"]+)"', form)
    login = client.post("/login", headers={"Referer": "https://localhost/login"}, data={
        "username": "founder", "password": "the founder's password",
        "csrf_token": token.group(1) or token.group(2)}, **https)
    assert login.status_code == 303
    assert client.get("/admin/users", **https).status_code == 200
    assert "Mail sink" not in client.get("/", **https).text
    for url in ("/mailbox", "/mailbox/20260101T000000000000Z-0a0b0c0d.eml",
                "/mailbox/20260101T000000000000Z-0a0b0c0d.eml/attachments/0"):
        assert client.get(url, **https).status_code == 404, url
    with app.app_context():
        db.engine.dispose()


def test_production_refuses_a_short_secret_key(tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY is too short"):
        create_app(_config(tmp_path, ENV_NAME="production", SECRET_KEY="hunter2"))


@pytest.mark.parametrize("raw", ["", "twenty", "5 minutes"])
def test_a_number_setting_that_is_not_a_number_is_named_at_start_up(tmp_path, monkeypatch, raw):
    monkeypatch.setenv("MAIL_PORT", raw)
    with pytest.raises(RuntimeError, match="MAIL_PORT must be a whole number"):
        create_app(_config(tmp_path, SECRET_KEY=STRONG))
