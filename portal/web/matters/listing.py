"""The matters list (/matters): every signed-in staff member sees the matters the visibility
rule gives them (a partner all of them; anyone else, a lawyer without any complaint role
included, those they are responsible for, supervise or are on the team of), filtered and
searched; and the client picker of the matter's form (partners)."""

from __future__ import annotations

from typing import Any

from flask import request

from portal import clock
from portal.db import db
from portal.i18n import client_language
from portal.models.matter import Client
from portal.models.prevention import MATTER_STATUS_LABELS
from portal.models.user import Role
from portal.security import roles, signed_in
from portal.services.intake.search import search_clients
from portal.services.prevention import listing as service
from portal.services.prevention.matters import may_manage
from portal.web import htmx, page_cache
from portal.web.matters import bp
from portal.web.matters.forms import actor, number
from portal.web.params import page_number

PAGE, LIST = "matters/list.html", "matters/_list.html"
CHOICES = "matters/_client_choices.html"


def _context() -> dict[str, Any]:
    user = actor()
    filters, problems = service.filters_from(request.args.to_dict())
    return {"found": service.listing(user, filters, page_number()), "filters": filters,
            "problems": problems, "departments": service.departments(),
            "people": service.staff(), "types": service.matter_types(),
            "status_labels": MATTER_STATUS_LABELS, "lang": client_language(),
            "today": clock.today(), "may_manage": may_manage(user)}


@bp.route("/matters")
@signed_in
def index():
    return page_cache.remember(lambda: htmx.page_or_partial(PAGE, LIST, **_context()))


@bp.route("/matters/clients")
@roles(Role.PARTNER)
def clients():
    """The client picker's choices: the client chosen so far, then those matching `q`."""
    chosen_id = number(request.args.get("client"))
    chosen = db.session.get(Client, chosen_id) if chosen_id and chosen_id > 0 else None
    query = request.args.get("client_q", "")
    return htmx.partial(CHOICES, chosen=chosen, results=search_clients(query),
                        query=query.strip())
