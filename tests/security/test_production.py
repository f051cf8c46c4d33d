"""Production mode: no default secret key, no demo data, Secure cookies."""

from __future__ import annotations

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
