"""Learning from complaints: the root-cause catalogue partners keep (/admin/root-causes,
`causes`) and improvement actions (/actions, `actions`, with the case file's area
"improvement", order 95, for partners). Services: services/followup/catalogue.py and
services/followup/actions.py."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("improvement", __name__)

from portal.web.improvement import actions, causes  # noqa: E402,F401  (routes, the area)
