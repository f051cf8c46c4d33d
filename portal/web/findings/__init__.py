"""The first response and the findings: two case-file areas (web/case_file.py) with their
actions, and the investigation report's download. The rules catalogue they cite is kept at
/admin/rules (web/rules.py)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("findings", __name__)

from portal.web.findings import answers, first_response  # noqa: E402,F401  (routes, areas)
