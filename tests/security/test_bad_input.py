"""Bad input gets a clear message and a 4xx status, never a 500, and changes nothing."""

from __future__ import annotations

import re

import pytest

from tests.security.helpers import EN, HTMX, changed_tables, snapshot

LOGIN_FAILED = "Wrong username or password."


def alert_text(html: str) -> str:
    match = re.search(r'<div class="alert alert-error" role="alert">(.*?)</div>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)).strip() if match else ""


def test_wrong_password_and_unknown_user_look_the_same(client):
    wrong = client.post("/login", data={"username": "partner", "password": "nope nope"},
                        headers=EN)
    unknown = client.post("/login", data={"username": "nobody", "password": "nope nope"},
                          headers=EN)
    disabled_like = client.post("/login", data={"username": "王磊", "password": "nope nope"},
                                headers=EN)
    for response in (wrong, unknown, disabled_like):
        assert response.status_code == 401
        assert alert_text(response.text) == LOGIN_FAILED


@pytest.mark.parametrize("data", [
    {},
    {"username": "partner"},
    {"password": "redress-demo"},
    {"username": "", "password": ""},
    {"username": "x" * 10_000, "password": "redress-demo"},
    {"username": "partner", "password": "p" * 10_000},
    {"username": "par\x00tner", "password": "redress-demo"},  # PostgreSQL cannot store NUL
])
def test_malformed_login_forms_are_refused_without_trace(client, app, data):
    before = snapshot(app)
    response = client.post("/login", data=data, headers=EN)
    assert 400 <= response.status_code < 500
    assert response.status_code != 303
    assert changed_tables(before, snapshot(app)) in ([], ["audit_event", "login_attempt"])


def test_invalid_utf8_is_not_a_server_error(client, app):
    before = snapshot(app)
    for body in (b"username=%FF%FE%FD&password=%C3%28xxxxxxxx",
                 b"username=\xff\xfe&password=\xc3\x28xxxxxxxx"):
        response = client.post("/login", data=body, headers={
            **EN, "Content-Type": "application/x-www-form-urlencoded"})
        assert response.status_code in (400, 401, 422)
    assert changed_tables(before, snapshot(app)) in ([], ["audit_event", "login_attempt"])


def test_wrong_content_types_are_refused(client):
    for content_type, body in (("application/json", b'{"username": "partner"}'),
                               ("multipart/form-data; boundary=zzz", b"--zzz\r\nbroken"),
                               ("text/plain", b"\x00\x01\x02")):
        response = client.post("/login", data=body, headers={**EN, "Content-Type": content_type})
        assert 400 <= response.status_code < 500, content_type


def test_oversize_body_is_413_and_changes_nothing(client, app, auth):
    auth.login_as("partner")
    app.config["MAX_CONTENT_LENGTH"] = 4096
    before = snapshot(app)
    response = client.post("/admin/users/new", headers=EN, data={
        "username": "bigbody", "name": "x" * 10_000, "roles": ["receptionist"],
        "password": "long enough pw", "confirm": "long enough pw"})
    assert response.status_code == 413
    assert "larger than the portal accepts" in response.text
    htmx = client.post("/admin/users/new", headers={**EN, **HTMX}, data={"name": "x" * 10_000})
    assert htmx.status_code == 413
    assert "<html" not in htmx.text  # a fragment, not a page inside the page
    assert changed_tables(before, snapshot(app)) == []


def test_oversize_form_is_413_even_under_the_upload_limit(client, app):
    """Uploads may be large; a plain form (held in memory) may not (MAX_FORM_MEMORY_SIZE)."""
    limit = app.config["MAX_FORM_MEMORY_SIZE"]
    assert app.config["MAX_CONTENT_LENGTH"] > limit
    before = snapshot(app)
    urlencoded = client.post("/login", headers=EN,
                             data={"username": "u" * (limit + 1), "password": "whatever"})
    assert urlencoded.status_code == 413
    multipart = client.post("/login", headers=EN, content_type="multipart/form-data",
                            data={"username": "u" * (limit + 1), "password": "whatever"})
    assert multipart.status_code == 413
    assert changed_tables(before, snapshot(app)) == []


@pytest.mark.parametrize("target", [
    "//evil.example/", "https://evil.example/", "http:evil.example", "/\\evil.example",
    "\\\\evil.example", "/\t/evil.example", " //evil.example", "javascript:alert(1)",
    "//evil.example@redress/", "https:/evil.example",
])
def test_login_next_cannot_leave_the_site(client, target):
    response = client.post("/login", query_string={"next": target},
                           data={"username": "partner", "password": "redress-demo"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_login_next_inside_the_site_is_followed(client):
    response = client.post("/login", query_string={"next": "/admin/users?q=chen"},
                           data={"username": "partner", "password": "redress-demo"})
    assert response.headers["Location"] == "/admin/users?q=chen"


@pytest.mark.parametrize("target", ["//evil.example/", "https://evil.example/", "/\\evil"])
def test_language_switch_cannot_leave_the_site(client, target):
    response = client.post("/language", data={"locale": "en", "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_unknown_language_is_refused_politely(client):
    response = client.post("/language", data={"locale": "../../etc/passwd"}, headers=EN,
                           follow_redirects=True)
    assert response.status_code == 200
    assert "This language is not available." in response.text


def test_login_redirect_remembers_only_local_paths(client):
    response = client.get("/admin/users?q=a", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("data", [
    {"username": "a" * 10_000},
    {"username": "bad name!", "name": "Bad", "roles": ["receptionist"],
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N", "roles": ["superuser"],
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N", "roles": ["receptionist"], "department": "abc",
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N", "roles": ["receptionist"], "department": "99999",
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N" * 101, "roles": ["receptionist"],
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N", "roles": ["receptionist"], "email": "not-an-email",
     "password": "long enough pw", "confirm": "long enough pw"},
    {"username": "newbie", "name": "N", "roles": ["receptionist"],
     "password": "short", "confirm": "short"},
    {"username": "newbie", "name": "N", "roles": ["receptionist"],
     "password": "p" * 129, "confirm": "p" * 129},
])
def test_malformed_admin_forms_are_422_and_change_nothing(client, app, auth, data):
    auth.login_as("partner")
    before = snapshot(app)
    response = client.post("/admin/users/new", data=data, headers=EN)
    assert response.status_code == 422
    assert 'class="error"' in response.text
    assert changed_tables(before, snapshot(app)) == []


def test_malformed_ids_in_urls_are_404(client, auth):
    auth.login_as("partner")
    for url in ("/admin/users/abc/edit", "/admin/users/-1/edit", "/admin/users/1e3/edit",
                "/admin/users/99999999999999999999999/edit"):
        assert client.get(url).status_code == 404, url


def test_audit_filters_with_garbage_are_422_not_500(client, auth):
    auth.login_as("partner")
    for query in ({"date_from": "yesterday"}, {"date_to": "2024-13-45"},
                  {"action": "<script>"}, {"page": "many"}, {"actor": "x" * 500},
                  {"date_from": "2025-02-01", "date_to": "2025-01-01"}):
        response = client.get("/admin/audit", query_string=query)
        assert response.status_code in (200, 422), query
        assert "<script>" not in response.text


def test_nul_bytes_are_400_everywhere(client, app, auth):
    """PostgreSQL cannot store NUL: refused up front instead of a 500 from the driver."""
    auth.login_as("partner")
    before = snapshot(app)
    assert client.post("/admin/users/new", data={"username": "nul", "name": "a\x00b",
                                                  "roles": ["receptionist"],
                                                  "password": "long enough pw",
                                                  "confirm": "long enough pw"}).status_code == 400
    assert client.get("/admin/audit", query_string={"actor": "a\x00"}).status_code == 400
    assert client.get("/admin/users", query_string={"q": "\x00"}).status_code == 400
    assert changed_tables(before, snapshot(app)) in ([], ["audit_event"])
