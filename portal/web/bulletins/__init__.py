"""Anonymized bulletins: the board every staff member reads (/bulletins, `board`), and the
partners' drafting and review of a draft (`review`, with the case file's area "bulletin",
order 80). Services: services/bulletins/; the engine: portal/privacy/."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("bulletins", __name__)

from portal.web.bulletins import board, review  # noqa: E402,F401  (routes, the area)
