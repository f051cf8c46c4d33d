"""Committee ballots (one blueprint): `opening` (the case file's ballots area and the form a
partner opens a ballot with, also from a negotiation round), `pages` (the ballot's page, the
live count, votes, recusal and a partner's choice) and what they share (`views`, `forms`)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("ballots", __name__)

from portal.web.ballots import opening, pages  # noqa: E402,F401  (routes, areas)
