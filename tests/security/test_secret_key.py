"""`make run` never signs with a published key: a random one is generated into instance/."""

from __future__ import annotations

import stat

import pytest
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import BadSignature

from portal import create_app
from portal.config import DEFAULT_SECRET_KEY


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for key in ("SECRET_KEY", "ENV_NAME", "DATABASE_URL", "REDRESS_INSTANCE"):
        monkeypatch.delenv(key, raising=False)


def start(monkeypatch, instance, **config):
    """create_app as `make run` does: no SECRET_KEY anywhere, the given instance folder."""
    monkeypatch.setenv("REDRESS_INSTANCE", str(instance))
    return create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'db.sqlite3'}",
                       **config})


def test_a_fresh_instance_gets_its_own_random_key(monkeypatch, tmp_path):
    first = start(monkeypatch, tmp_path / "a")
    second = start(monkeypatch, tmp_path / "b")
    assert first.secret_key != second.secret_key
    for app in (first, second):
        assert app.secret_key != DEFAULT_SECRET_KEY
        assert len(app.secret_key) >= 32


def test_the_key_is_kept_across_restarts_in_a_private_file(monkeypatch, tmp_path):
    first = start(monkeypatch, tmp_path)
    again = start(monkeypatch, tmp_path)
    assert again.secret_key == first.secret_key
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == first.secret_key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_published_default_key_is_never_used(monkeypatch, tmp_path):
    app = start(monkeypatch, tmp_path, SECRET_KEY=DEFAULT_SECRET_KEY)
    assert app.secret_key != DEFAULT_SECRET_KEY
    assert (tmp_path / "secret_key").exists()


def test_a_session_forged_with_the_published_key_is_not_accepted(monkeypatch, tmp_path):
    app = start(monkeypatch, tmp_path)
    sessions = SecureCookieSessionInterface()
    real_key, app.secret_key = app.secret_key, DEFAULT_SECRET_KEY
    forged = sessions.get_signing_serializer(app).dumps({"_user_id": "anything"})
    app.secret_key = real_key
    with pytest.raises(BadSignature):
        sessions.get_signing_serializer(app).loads(forged)


def test_an_explicit_key_is_used_and_nothing_is_written(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "a-key-set-by-the-operator-0123456789abcdef")
    app = start(monkeypatch, tmp_path)
    assert app.secret_key == "a-key-set-by-the-operator-0123456789abcdef"
    assert not (tmp_path / "secret_key").exists()


def test_production_still_refuses_to_start_without_its_own_key(monkeypatch, tmp_path):
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        start(monkeypatch, tmp_path, ENV_NAME="production")
    assert not (tmp_path / "secret_key").exists()
