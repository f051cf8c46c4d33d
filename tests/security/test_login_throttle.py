"""Login throttling: per (account, address) and per address, shared through the database."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update

from portal import clock, create_app
from portal.db import db, writes_by_default
from portal.models.audit import AuditEvent
from portal.models.user import LoginAttempt
from tests.security.helpers import EN

GOOD = "redress-demo"
ATTACKER = "203.0.113.66"
LAWYER = "10.20.0.15"


def attempt(client, username, password, ip, **kwargs):
    return client.post("/login", data={"username": username, "password": password},
                       environ_base={"REMOTE_ADDR": ip}, headers=EN, **kwargs)


def second_instance(app):
    """Another worker process: its own app object and engine, the same database."""
    other = create_app({
        "TESTING": True,
        "SECRET_KEY": app.config["SECRET_KEY"],
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    other.test_client_class = app.test_client_class
    return other


def test_five_failures_throttle_that_account_from_that_address_only(client, app):
    for _ in range(5):
        assert attempt(client, "partner", "wrong password", ATTACKER).status_code == 401
    refused = attempt(client, "partner", GOOD, ATTACKER)  # even the right password
    assert refused.status_code == 429
    assert "Too many failed attempts" in refused.text
    # the lawyer at their own desk is not locked out by the attacker
    assert attempt(app.test_client(), "partner", GOOD, LAWYER).status_code == 303
    # the attacker can still be refused on other accounts only once those fail too
    assert attempt(client, "partner2", "wrong password", ATTACKER).status_code == 401


def test_address_throttle_across_accounts(client, app):
    limit = app.config["LOGIN_THROTTLE_PER_IP"]
    names = [f"guess{i}" for i in range(limit)]
    for name in names:  # one failure per account: the per-account limit never trips
        assert attempt(client, name, "wrong password", ATTACKER).status_code == 401
    assert attempt(client, "committee2", GOOD, ATTACKER).status_code == 429
    assert attempt(app.test_client(), "committee2", GOOD, LAWYER).status_code == 303


def test_counts_are_shared_between_app_instances(client, app):
    other = second_instance(app)
    other_client = other.test_client()
    for i in range(5):
        worker = client if i % 2 else other_client  # spread over two "processes"
        assert attempt(worker, "partner", "wrong password", ATTACKER).status_code == 401
    assert attempt(client, "partner", GOOD, ATTACKER).status_code == 429
    assert attempt(other_client, "partner", GOOD, ATTACKER).status_code == 429
    with other.app_context():
        db.engine.dispose()


def test_throttle_window_expires(client, app):
    for _ in range(5):
        attempt(client, "partner", "wrong password", ATTACKER)
    assert attempt(client, "partner", GOOD, ATTACKER).status_code == 429
    with app.app_context(), writes_by_default():
        long_ago = clock.now() - app.config["LOGIN_THROTTLE_WINDOW"] - timedelta(minutes=1)
        db.session.execute(update(LoginAttempt).values(at=long_ago))
        db.session.commit()
    assert attempt(client, "partner", GOOD, ATTACKER).status_code == 303


def test_throttled_attempts_are_audited_and_not_counted(client, app):
    for _ in range(5):
        attempt(client, "partner", "wrong password", ATTACKER)
    for _ in range(3):
        assert attempt(client, "partner", GOOD, ATTACKER).status_code == 429
    with app.app_context():
        rows = db.session.execute(
            select(AuditEvent.action, AuditEvent.ip, AuditEvent.actor_label)
            .where(AuditEvent.action.like("login.%")).order_by(AuditEvent.id)
        ).all()
        assert [r.action for r in rows] == ["login.failed"] * 5 + ["login.throttled"] * 3
        assert {r.ip for r in rows} == {ATTACKER}
        assert {r.actor_label for r in rows} == {"partner"}
        attempts = db.session.scalar(select(func.count(LoginAttempt.id)))
        assert attempts == 5  # a refused attempt never reaches the password check


def test_username_case_and_spaces_do_not_dodge_the_throttle(client):
    for name in ("partner", "PARTNER", " Partner", "partner ", "pArTnEr"):
        assert attempt(client, name, "wrong password", ATTACKER).status_code == 401
    assert attempt(client, "Partner", GOOD, ATTACKER).status_code == 429


def test_proxy_addresses_are_used_only_when_configured(app):
    """Behind a trusted proxy, X-Forwarded-For is the address; otherwise it is ignored."""
    client = app.test_client()
    for i in range(5):
        client.post("/login", data={"username": "partner", "password": "wrong password"},
                    headers={"X-Forwarded-For": f"198.51.100.{i}"})
    with app.app_context():
        ips = set(db.session.scalars(select(LoginAttempt.ip)))
    assert ips == {"127.0.0.1"}  # a client cannot pick its own address to dodge the limit
    proxied = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret", "TRUSTED_PROXY_COUNT": 1,
        "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
    })
    proxied.test_client_class = app.test_client_class
    proxied.test_client().post(
        "/login", data={"username": "partner", "password": "wrong password"},
        headers={"X-Forwarded-For": "198.51.100.77"},
    )
    with proxied.app_context():
        assert "198.51.100.77" in set(db.session.scalars(select(LoginAttempt.ip)))
        db.engine.dispose()


def test_guesses_sent_at_once_get_no_more_answers_than_the_limit(app):
    """Seven guesses that all passed the read-only check before any failure was written (sent
    in parallel): only five are answered "wrong password", the rest are throttled, whichever
    order their writes take."""
    from portal.db import write_transaction
    from portal.services import accounts

    throttle = accounts.Throttle(window=timedelta(minutes=15), per_account=5, per_ip=20)
    with app.app_context(), app.test_request_context():
        checks = [accounts.check_login("partner", f"guess {n}", ATTACKER, throttle)
                  for n in range(7)]
        assert all(check is not None and not check.password_ok for check in checks)
        results = []
        for check in checks:
            with write_transaction():
                results.append(accounts.record_login(check, "partner", ATTACKER, throttle)[0])
        failures = db.session.scalar(select(func.count(LoginAttempt.id)).where(
            LoginAttempt.ip == ATTACKER, LoginAttempt.succeeded.is_(False)))
    assert results == [accounts.LoginResult.BAD_CREDENTIALS] * 5 + [
        accounts.LoginResult.THROTTLED] * 2
    assert failures == 5
