"""The remedies on the case file (area "remedies", order 70): starting them once the client
accepted, each task with its owner and due date, one form per kind to record it done, the
refund's receipt; internal measures for partners only (services/resolution/remedies.py and
completion.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("remedies", __name__)

from portal.web.remedies import actions, area  # noqa: E402,F401  (routes, the area)
