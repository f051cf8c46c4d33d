"""The complaint builder (one blueprint): `list` (the list and a new draft), `record` (the
page and its self-saving sections, evidence, suggestions), `actions` (read-back,
confirmation, verification, registration, mail sent again); `context` and `timeline` build
what their templates show."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("intake", __name__)

from portal.web.intake import actions, list, record  # noqa: E402, F401, A004  (registers routes)
