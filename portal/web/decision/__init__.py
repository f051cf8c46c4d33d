"""The decision on the case file (area "decision", order 50): the decision recorded from the
committee's adopted proposal, the outcome notice, the negotiation rounds and the revision,
the matter's fees; the notices printed for post (area "post"); the recourse texts kept by
the partners (/admin/recourse)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("decision", __name__)

from portal.web.decision import (  # noqa: E402,F401  (routes, areas)
    area,
    negotiation,
    post,
    recourse,
)
