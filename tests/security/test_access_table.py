"""Deny by default: every route declares who may use it, and answers as the table says.

When you add or change a route, regenerate the expectation and review the diff:

    .venv/bin/python -m tests.security.generate_access_table
"""

from __future__ import annotations

import os

import pytest

from portal.security import access_rule
from tests.security.access_matrix import (
    ROLES,
    TABLE_PATH,
    build_table,
    compare,
    dump_table,
    load_table,
)

REGENERATE = "REDRESS_WRITE_ACCESS_TABLE"


def test_every_endpoint_declares_an_access_rule(app):
    undeclared = sorted(
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint != "static" and access_rule(view) is None
    )
    assert not undeclared, (
        "these endpoints have no @public/@signed_in/@roles(...) declaration: "
        + ", ".join(undeclared)
    )


@pytest.fixture
def table(app):
    return build_table(app)


def test_route_role_table_matches_the_checked_in_expectation(table):
    if os.environ.get(REGENERATE):
        TABLE_PATH.write_text(dump_table(table), encoding="utf-8")
        pytest.skip(f"wrote {TABLE_PATH}")
    problems = compare(load_table(), table)
    assert not problems, (
        "the route × role table changed; if intended, run "
        "`.venv/bin/python -m tests.security.generate_access_table` and review the diff:\n"
        + "\n".join(problems)
    )


def test_the_table_follows_the_declared_rules(table):
    """Independent of the file: what each declaration must mean for each column."""
    problems = []
    for key, row in table.items():
        access = row["access"]
        if access in ("public", "static"):
            continue
        if row["anonymous"] not in (303, 401):
            problems.append(f"{key}: anonymous got {row['anonymous']}, not the login redirect")
        for role in ROLES[1:]:
            allowed = access == "signed in" or role in access.removeprefix("roles: ").split(", ")
            if allowed and row[role] in (401, 403):
                problems.append(f"{key}: {role} may use it but got {row[role]}")
            if not allowed and row[role] != 403:
                problems.append(f"{key}: {role} may not use it but got {row[role]}")
    assert not problems, "\n".join(problems)


def test_object_routes_with_unknown_ids_are_not_found_for_allowed_roles(table):
    """A dummy id must not produce a page (or a crash) for a role that may use the route."""
    problems = []
    for key, row in table.items():
        if "<" not in key or row["access"] in ("public", "static"):
            continue
        for role in ROLES[1:]:
            if row[role] >= 500 or (key.startswith("GET ") and row[role] == 200):
                problems.append(f"{key}: {role} got {row[role]} for a made-up id")
    assert not problems, "\n".join(problems)
