"""What the first-response and findings areas share: who may post, the answer of an action
(the area's partial for htmx, the whole case file otherwise) and per-request overrides."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, g

from portal.models.complaint import Complaint
from portal.models.user import Role, User
from portal.web import htmx
from portal.web.intake.context import actor, page, show_url

# Anyone may be the handler or the lead; the complaint's predicates decide (404 or 403).
ALL_STAFF = (Role.RECEPTIONIST, Role.INVESTIGATOR, Role.COMMITTEE, Role.PARTNER)
CHANGED = "complaint-changed"


def override(name: str, **values: Any) -> None:
    """What this request's answer shows instead of a fresh form (a refused input, a note);
    the area's context function reads it, so the page and the partial agree."""
    g.setdefault("case_area_overrides", {})[name] = values


def overrides(name: str) -> dict[str, Any]:
    return g.get("case_area_overrides", {}).get(name, {})


def area_answer(template: str, context: Callable[[Complaint, User], dict | None],
                complaint: Complaint, *, status: int = 200, trigger: str | None = None,
                redirect: bool = False, extra: dict | None = None) -> Response:
    """htmx swaps the area's partial; a browser without JavaScript gets the case file (or is
    sent back to it after a success when `redirect`)."""
    def build(full: bool) -> dict:
        if full:
            return page(complaint)
        return {"complaint": complaint, "area": context(complaint, actor()), **(extra or {})}

    return htmx.answer(template, "intake/show.html", build, status=status, trigger=trigger,
                       redirect_to=show_url(complaint, anchor=None) if redirect else None)
