"""Sessions: a copied cookie dies with logout, password change and disabling; timeouts hold."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models.user import User
from tests.security.helpers import EN, HTMX, user_row


def steal(client) -> dict:
    with client.session_transaction() as sess:
        return dict(sess)


def replay(client, stolen: dict):
    """The attacker's browser: a fresh client carrying the copied cookie."""
    with client.session_transaction() as sess:
        sess.clear()
        sess.update(stolen)
    return client.get("/", follow_redirects=False)


def assert_signed_out(response):
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login")


@pytest.fixture
def attacker(app):
    return app.test_client()


def test_session_holds_a_rotating_token_not_the_user_id(client, auth, app):
    auth.login_as("partner")
    stolen = steal(client)
    user = user_row(app, "partner2")
    assert stolen["_user_id"] == user.session_token
    assert stolen["_user_id"] != str(user.id)


def test_copied_cookie_works_until_logout_then_never_again(client, auth, attacker):
    auth.login_as("partner")
    stolen = steal(client)
    assert replay(attacker, stolen).status_code == 200  # the copy is as good as the original
    assert auth.logout().status_code == 303
    assert_signed_out(replay(attacker, stolen))


def test_copied_cookie_dies_when_the_password_changes(client, auth, attacker):
    auth.login_as("partner")
    stolen = steal(client)
    response = client.post("/account/password", data={
        "current_password": "redress-demo", "new_password": "a new long passphrase",
        "confirm": "a new long passphrase"})
    assert response.status_code == 303
    assert client.get("/").status_code == 200  # the tab that changed it stays signed in
    assert_signed_out(replay(attacker, stolen))


def test_copied_cookie_dies_when_a_partner_disables_the_user(client, auth, attacker, app):
    auth.login_as("receptionist")
    stolen = steal(client)
    partner = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(partner).login_as("partner")
    user = user_row(app, "reception")
    response = partner.post(f"/admin/users/{user.id}/edit", data={
        "name": user.name, "email": user.email or "", "department": "",
        "roles": ["receptionist"]})  # active unchecked
    assert response.status_code == 303
    assert_signed_out(replay(attacker, stolen))
    assert_signed_out(client.get("/", follow_redirects=False))
    # and the disabled user cannot sign in again
    assert auth.login("reception").status_code == 401


def test_copied_cookie_dies_when_a_partner_resets_the_password(client, auth, attacker, app):
    auth.login_as("investigator")
    stolen = steal(client)
    partner = app.test_client()
    from tests.conftest import AuthActions

    AuthActions(partner).login_as("partner")
    user = user_row(app, "investigator")
    response = partner.post(f"/admin/users/{user.id}/password",
                            data={"password": "temporary pass 1", "confirm": "temporary pass 1"})
    assert response.status_code == 303
    from tests.web.test_admin import approve_all

    approve_all(app)  # a new password takes a second partner (陈志远; the reset was 刘慧敏's)
    assert_signed_out(replay(attacker, stolen))


def _age_session(client, idle=timedelta(0), age=timedelta(0)):
    with client.session_transaction() as sess:
        now = clock.now()
        sess["seen_at"] = (now - idle).isoformat()
        sess["started_at"] = (now - age).isoformat()


def test_idle_timeout_after_30_minutes(client, auth):
    auth.login_as("partner")
    _age_session(client, idle=timedelta(minutes=29), age=timedelta(hours=1))
    assert client.get("/").status_code == 200
    _age_session(client, idle=timedelta(minutes=31), age=timedelta(hours=1))
    response = client.get("/admin/users", headers=EN, follow_redirects=False)
    assert_signed_out(response)
    page = client.get(response.headers["Location"], headers=EN)
    assert "Your session has expired" in page.text
    assert client.get("/", follow_redirects=False).status_code == 303  # and stays expired


def test_activity_keeps_the_session_alive(client, auth):
    auth.login_as("partner")
    _age_session(client, idle=timedelta(minutes=25), age=timedelta(hours=2))
    assert client.get("/").status_code == 200  # refreshes seen_at
    with client.session_transaction() as sess:
        assert clock.now() - datetime.fromisoformat(sess["seen_at"]) < timedelta(minutes=1)


def test_the_cookie_is_rewritten_only_when_the_session_changes(client, auth):
    auth.login_as("partner")
    client.get("/")
    assert "Set-Cookie" not in client.get("/").headers  # seen_at is seconds old
    _age_session(client, idle=timedelta(minutes=2), age=timedelta(hours=1))
    refreshed = client.get("/")
    assert "redress_session=" in refreshed.headers["Set-Cookie"]
    assert "Expires=" in refreshed.headers["Set-Cookie"]  # the cookie's lifetime slides too


def test_absolute_timeout_after_12_hours_even_when_active(client, auth):
    auth.login_as("partner")
    _age_session(client, idle=timedelta(minutes=1), age=timedelta(hours=11, minutes=59))
    assert client.get("/").status_code == 200
    _age_session(client, idle=timedelta(minutes=1), age=timedelta(hours=12, minutes=1))
    assert_signed_out(client.get("/", follow_redirects=False))


def test_timeouts_are_configurable(client, auth, app):
    app.config["SESSION_IDLE_TIMEOUT"] = timedelta(minutes=5)
    auth.login_as("partner")
    _age_session(client, idle=timedelta(minutes=6), age=timedelta(minutes=6))
    assert_signed_out(client.get("/", follow_redirects=False))


def test_session_without_timestamps_is_refused(client, auth):
    auth.login_as("partner")
    with client.session_transaction() as sess:
        del sess["started_at"]
    assert_signed_out(client.get("/", follow_redirects=False))


def test_htmx_request_with_expired_session_gets_hx_redirect(client, auth):
    auth.login_as("partner")
    _age_session(client, idle=timedelta(hours=1), age=timedelta(hours=1))
    response = client.get("/admin/users?q=a", headers=HTMX, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert "<form" not in response.text  # never a login form swapped into a fragment


def test_htmx_action_with_expired_session_gets_hx_redirect(client, auth, app):
    auth.login_as("partner")
    user = user_row(app, "investigator")
    _age_session(client, idle=timedelta(hours=1), age=timedelta(hours=1))
    response = client.post(f"/admin/users/{user.id}/password", headers=HTMX,
                           data={"password": "whatever 123", "confirm": "whatever 123"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")
    assert user_row(app, "investigator").password_hash == user.password_hash


def test_htmx_request_when_the_cookie_is_gone_gets_hx_redirect(client):
    response = client.post("/admin/users/1/password", headers=HTMX, data={})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/login")


def test_login_starts_a_new_session(client, app):
    """Session fixation: nothing planted before login survives it, the CSRF token changes."""
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
        before_token = sess.get("csrf_token")
    assert before_token
    response = client.post("/login", data={"username": "partner", "password": "redress-demo"})
    assert response.status_code == 303
    client.get("/")
    with client.session_transaction() as sess:
        assert "planted" not in sess
        assert sess["csrf_token"] != before_token
        assert sess["_user_id"] == user_row(app, "partner").session_token


def test_logout_needs_a_post_with_csrf(client, auth):
    auth.login_as("partner")
    assert client.get("/logout").status_code == 405
    assert client.get("/").status_code == 200


def test_disabled_user_with_a_live_token_is_not_loaded(client, auth, app):
    """Even if the token were not rotated, an inactive user is never signed in."""
    auth.login_as("committee")
    with app.app_context(), writes_by_default():
        user = db.session.scalar(select(User).where(User.username == "committee1"))
        user.active = False
        db.session.commit()
    assert_signed_out(client.get("/", follow_redirects=False))
