"""The route × role table: every rule in app.url_map, requested as anonymous and as each role.

Shared by test_access_table.py and generate_access_table.py. A request uses dummy URL values
(int → 999999, string/path → "X"), sends the CSRF header, and follows no redirect, so an
object route answers 404 to a role that may use it and 403 to one that may not.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from werkzeug.routing import Rule
from werkzeug.routing.converters import (
    AnyConverter,
    FloatConverter,
    IntegerConverter,
    UUIDConverter,
)

from portal import clock
from portal.db import db
from portal.models.user import User
from portal.security import AUTHENTICATED, PUBLIC, access_rule
from tests.conftest import ROLE_USERS

TABLE_PATH = Path(__file__).with_name("access_table.json")
ROLES = ("anonymous", "receptionist", "investigator", "committee", "partner")
IGNORED_METHODS = {"HEAD", "OPTIONS"}
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class RouteCase:
    method: str
    rule: Rule
    url: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.rule.rule}"


def dummy_value(converter: object) -> object:
    if isinstance(converter, IntegerConverter):
        return 999999
    if isinstance(converter, FloatConverter):
        return 999999.0
    if isinstance(converter, AnyConverter):
        return sorted(converter.items)[0]
    if isinstance(converter, UUIDConverter):
        return uuid.UUID(int=0)
    return "X"


def route_url(rule: Rule) -> str:
    values = {name: dummy_value(conv) for name, conv in rule._converters.items()}
    built = rule.build(values, append_unknown=False)
    assert built is not None, f"cannot build {rule.rule} with dummy values"
    return built[1]


def route_cases(app: Flask, methods: set[str] | None = None) -> list[RouteCase]:
    """Every (method, rule) pair, sorted so that every run requests them in the same order."""
    cases = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        for method in sorted((rule.methods or set()) - IGNORED_METHODS):
            if methods is None or method in methods:
                cases.append(RouteCase(method, rule, route_url(rule)))
    return cases


def describe_access(app: Flask, endpoint: str) -> str:
    rule = access_rule(app.view_functions.get(endpoint))
    if endpoint == "static":
        return "static"
    if rule == PUBLIC:
        return "public"
    if rule == AUTHENTICATED:
        return "signed in"
    if isinstance(rule, frozenset):
        return "roles: " + ", ".join(sorted(str(r) for r in rule))
    return "UNDECLARED"


def session_token(app: Flask, username: str) -> str:
    with app.app_context():
        token = db.session.scalar(select(User.session_token).where(User.username == username))
    assert token, f"no demo user {username}"
    return token


def become(client, username: str | None) -> None:
    """Put a signed-in session for `username` (None: anonymous) into the client's cookie,
    exactly as a login would leave it; no password hashing, so a big table stays quick."""
    token = session_token(client.application, username) if username else None
    with client.session_transaction() as sess:
        sess.clear()
        if token:
            now = clock.now().isoformat()
            sess.update({"_user_id": token, "_fresh": True, "started_at": now, "seen_at": now})


def request_as(client, role: str, case: RouteCase, **kwargs):
    become(client, ROLE_USERS.get(role))
    return client.open(case.url, method=case.method, follow_redirects=False, **kwargs)


def build_table(app: Flask) -> dict[str, dict[str, object]]:
    client = app.test_client()
    table: dict[str, dict[str, object]] = {}
    for case in route_cases(app):
        row: dict[str, object] = {"access": describe_access(app, case.rule.endpoint)}
        for role in ROLES:
            row[role] = request_as(client, role, case).status_code
        table[case.key] = row
    return table


def dump_table(table: dict[str, dict[str, object]]) -> str:
    """One route per line, roles in a fixed order: easy to read in a diff."""
    lines = [
        f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(table[key], ensure_ascii=False)}"
        for key in sorted(table)
    ]
    return "{\n" + ",\n".join(lines) + "\n}\n"


def load_table() -> dict[str, dict[str, object]]:
    if not TABLE_PATH.exists():
        return {}
    return json.loads(TABLE_PATH.read_text(encoding="utf-8"))


def compare(expected: dict, actual: dict) -> list[str]:
    problems = []
    for key in sorted(set(actual) - set(expected)):
        problems.append(f"new route not in access_table.json: {key} -> {actual[key]}")
    for key in sorted(set(expected) - set(actual)):
        problems.append(f"route in access_table.json no longer exists: {key}")
    for key in sorted(set(expected) & set(actual)):
        for column in ("access", *ROLES):
            want, got = expected[key].get(column), actual[key].get(column)
            if want != got:
                problems.append(f"{key} [{column}]: expected {want}, got {got}")
    return problems
