"""What the matters' routes share: the matter loaded through the visibility rule (404 for one
the viewer may not see), and reading the matter's form as typed."""

from __future__ import annotations

from flask import abort, request

from portal.models.matter import Matter
from portal.services.prevention import matters as service
from portal.web.decision.common import FormState
from portal.web.intake.context import actor
from portal.web.remedies.forms import posted_date, text

__all__ = ["FormState", "actor", "load", "matter_input", "posted_id"]

FIELDS = ("reference", "title", "case_number", "type_code", "status", "interval",
          "fees_agreed", "fees_paid", "currency", "excess_reason")


def load(reference: str) -> Matter:
    """The matter, if the viewer may see it; 404 otherwise (never a 403 that tells it
    exists)."""
    matter = service.find(actor(), reference)
    if matter is None:
        abort(404)
    return matter


def number(raw: str | None) -> int | None:
    """An id as typed: None when empty, -1 when it cannot name a row (the service says so
    beside the field; a number beyond what a database integer holds never reaches it)."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return int(raw) if raw.isdigit() and len(raw) < 10 else -1


def posted_id(name: str, state: FormState) -> int | None:
    return number(text(name, state))


def matter_input(state: FormState) -> service.MatterInput:
    """The matter's form as typed (kept in `state` to show again)."""
    for name in FIELDS:
        text(name, state)
    team = request.form.getlist("team")
    state.values["team"] = ",".join(team)
    confirmed = bool(request.form.get("excess_confirmed"))
    state.values["excess_confirmed"] = "y" if confirmed else ""
    values = state.values
    return service.MatterInput(
        reference=values["reference"], title=values["title"],
        client_id=posted_id("client", state), case_number=values["case_number"],
        type_code=values["type_code"], department_id=posted_id("department", state),
        lawyer_id=posted_id("lawyer", state), partner_id=posted_id("partner", state),
        team_ids=tuple(n if n is not None else -1 for n in map(number, team)),
        opened_on=posted_date("opened_on", state), status=values["status"],
        closed_on=posted_date("closed_on", state), interval=values["interval"],
        fees_agreed=values["fees_agreed"], fees_paid=values["fees_paid"],
        currency=values["currency"], excess_reason=values["excess_reason"],
        excess_confirmed=confirmed)
