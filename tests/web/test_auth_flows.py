"""Signing in and out, changing one's password, language, denials: as a user meets them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db
from portal.models.audit import AuditEvent
from portal.models.user import User
from tests.conftest import field_errors

EN = {"Accept-Language": "en"}


def actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee", "partner"])
def test_each_role_signs_in_sees_my_work_and_signs_out(client, auth, role):
    response = auth.login_as(role)
    assert response.headers["Location"] == "/"
    home = client.get("/", headers=EN)
    assert home.status_code == 200 and "My work" in home.text and "Sign out" in home.text
    out = auth.logout()
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_sign_in_and_out_are_audited(client, auth, app):
    auth.login_as("partner")
    auth.logout()
    assert actions(app)[-2:] == ["login.succeeded", "logout"]


def test_sign_in_is_case_insensitive_on_the_username(client, auth):
    assert auth.login(" Partner ").status_code == 303


def test_sign_in_page_redirects_when_signed_in(client, auth):
    auth.login_as("partner")
    response = client.get("/login", follow_redirects=False)
    assert response.status_code in (302, 303) and response.headers["Location"] == "/"


def test_protected_page_returns_after_sign_in(client):
    first = client.get("/admin/users?q=chen", follow_redirects=False)
    assert first.status_code == 303
    login_url = first.headers["Location"]
    assert login_url.startswith("/login?next=")
    response = client.post(login_url, data={"username": "partner2", "password": "redress-demo"})
    assert response.headers["Location"] == "/admin/users?q=chen"


def test_missing_fields_are_422_with_messages(client):
    response = client.post("/login", data={"username": "", "password": ""}, headers=EN)
    assert response.status_code == 422
    assert "Please enter your username." in field_errors(response.text)
    assert "Please enter your password." in field_errors(response.text)


def test_change_password_flow(client, auth, app):
    auth.login_as("committee")
    page = client.get("/account/password", headers=EN)
    assert page.status_code == 200
    wrong = client.post("/account/password", headers=EN, data={
        "current_password": "not mine", "new_password": "new long pass",
        "confirm": "new long pass"})
    assert wrong.status_code == 422
    assert "This is not your current password." in field_errors(wrong.text)
    short = client.post("/account/password", headers=EN, data={
        "current_password": "redress-demo", "new_password": "short", "confirm": "short"})
    assert short.status_code == 422
    mismatch = client.post("/account/password", headers=EN, data={
        "current_password": "redress-demo", "new_password": "new long pass",
        "confirm": "other long pass"})
    assert mismatch.status_code == 422
    ok = client.post("/account/password", data={
        "current_password": "redress-demo", "new_password": "new long pass",
        "confirm": "new long pass"})
    assert ok.status_code == 303
    assert client.get("/").status_code == 200
    auth.logout()
    assert auth.login("committee1").status_code == 401
    assert auth.login("committee1", "new long pass").status_code == 303
    assert "password.changed" in actions(app) and "password.change_failed" in actions(app)


def test_128_character_passwords_work_and_129_do_not(client, auth):
    auth.login_as("investigator")
    long_ok = "p" * 128
    assert client.post("/account/password", data={
        "current_password": "redress-demo", "new_password": long_ok,
        "confirm": long_ok}).status_code == 303
    too_long = "q" * 129
    assert client.post("/account/password", data={
        "current_password": long_ok, "new_password": too_long,
        "confirm": too_long}).status_code == 422


def test_language_choice_is_remembered_for_the_user(client, auth, app):
    auth.login_as("partner")
    response = client.post("/language", data={"locale": "en", "next": "/admin/users"})
    assert response.headers["Location"] == "/admin/users"
    assert 'lang="en"' in client.get("/").text
    with app.app_context():
        assert db.session.scalar(select(User.locale).where(User.username == "partner2")) == "en"
    auth.logout()
    auth.login_as("partner")
    assert 'lang="en"' in client.get("/", headers={"Accept-Language": "zh-CN"}).text


def test_default_language_is_chinese_and_accept_language_is_honoured(client):
    assert 'lang="zh-CN"' in client.get("/login").text
    assert 'lang="en"' in client.get("/login", headers=EN).text


def test_access_denial_is_a_translated_403_and_audited(client, auth, app):
    auth.login_as("receptionist")
    response = client.get("/admin/audit", headers=EN)
    assert response.status_code == 403
    assert "You do not have permission to do this." in response.text
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert (event.action, event.actor_label) == ("access.denied", "reception")
        assert event.details["path"] == "/admin/audit"


def test_404_is_a_translated_page(client, auth):
    auth.login_as("partner")
    response = client.get("/no/such/page", headers=EN)
    assert response.status_code == 404
    assert "There is nothing at this address." in response.text


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "reachable", "email_channel": "off"}
