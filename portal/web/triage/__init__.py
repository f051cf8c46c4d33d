"""Triage on the case file (one blueprint): `area` (the case file's triage area and what it
shows to whom), `actions` (triage, revision, closure, withdrawal, allegations, conflicts,
assignment) and `routing_table` (the routing table partners edit at /admin/routing)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("triage", __name__)

from portal.web.triage import actions, area, routing_table  # noqa: E402, F401  (registers routes)
