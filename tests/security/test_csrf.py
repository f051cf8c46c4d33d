"""CSRF: every non-GET route refuses a request without the token or with a wrong one."""

from __future__ import annotations

from itsdangerous import URLSafeTimedSerializer

from portal.models.user import Role
from portal.security import PUBLIC, access_rule
from tests.security.access_matrix import become, route_cases
from tests.security.helpers import EN, HTMX, changed_tables, make_user, snapshot

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
MESSAGE = "did not come from this site"


def _token(secret: str, raw: str) -> str:
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token").dumps(raw)


def _variants(app) -> dict[str, dict]:
    return {
        "no token": {},
        "token of another session": {"X-CSRFToken": _token(app.secret_key, "f" * 40)},
        "token signed with another key": {"X-CSRFToken": _token("not-the-key", "f" * 40)},
        "garbage token": {"X-CSRFToken": "garbage"},
        "garbage form field": {"form": {"csrf_token": "garbage"}},
    }


def _attempt(client, case, username, variant):
    become(client, username)
    client.csrf_token()  # the session holds a real token; the request does not send it
    headers = dict(EN)
    data = {"username": "partner", "password": "redress-demo", "locale": "en"}
    for key, value in variant.items():
        if key == "form":
            data.update(value)
        else:
            headers[key] = value
    results = []
    for extra in ({}, HTMX):
        response = client.open(case.url, method=case.method, data=data,
                                headers={**headers, **extra}, follow_redirects=False)
        results.append(response)
    return results


def test_every_unsafe_route_rejects_missing_or_wrong_tokens(app, client):
    make_user(app, "allroles", set(Role))  # passes every role check, so CSRF is what refuses
    client.send_csrf = False
    cases = route_cases(app, UNSAFE)
    assert cases, "no unsafe routes found"
    before = snapshot(app, ignore_actions=("csrf.rejected",))
    problems = []
    for case in cases:
        users = ["allroles"]
        if access_rule(app.view_functions[case.rule.endpoint]) == PUBLIC:
            users.append(None)  # anonymous visitors too
        for username in users:
            for name, variant in _variants(app).items():
                for response in _attempt(client, case, username, variant):
                    htmx = "htmx " if response.request.headers.get("HX-Request") else ""
                    if response.status_code != 400:
                        problems.append(f"{case.key} as {username} ({htmx}{name}): "
                                        f"{response.status_code}")
                    elif MESSAGE not in response.text:
                        problems.append(f"{case.key} ({htmx}{name}): no clear message")
                    elif "HX-Redirect" in response.headers:
                        problems.append(f"{case.key} ({htmx}{name}): redirected")
    after = snapshot(app, ignore_actions=("csrf.rejected",))
    assert not problems, "\n".join(problems)
    assert changed_tables(before, after) == []


def test_csrf_rejection_is_audited_with_the_address(app, client, auth):
    auth.login_as("partner")
    client.send_csrf = False
    response = client.post("/logout", environ_base={"REMOTE_ADDR": "10.1.2.3"})
    assert response.status_code == 400
    from sqlalchemy import select

    from portal.db import db
    from portal.models.audit import AuditEvent

    with app.app_context():
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "csrf.rejected")
        )
        assert event.ip == "10.1.2.3"
        assert event.actor_label == "partner2"
    # and the session survived: the forged logout did not sign the user out
    client.send_csrf = True
    assert client.get("/").status_code == 200


def test_the_valid_token_is_accepted(client, auth):
    """The negative tests mean something only if the positive case works."""
    auth.login_as("partner")
    response = client.post("/language", data={"locale": "en", "next": "/"})
    assert response.status_code == 303


def test_token_in_the_form_field_works_without_the_header(client, auth):
    auth.login_as("partner")
    token = client.csrf_token()
    client.send_csrf = False
    response = client.post("/language", data={"locale": "en", "csrf_token": token})
    assert response.status_code == 303


def test_pages_carry_the_token_for_htmx_on_body(client, auth):
    auth.login_as("partner")
    page = client.get("/admin/users").text
    assert 'data-hx-headers=\'{"X-CSRFToken": "' in page
