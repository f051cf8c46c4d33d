"""A new matter (/matters/new) and a matter's edit form (/matters/<reference>/edit): partners
only. The client is picked from those on file (typed search, as intake suggests clients); a
refusal shows the form again with what was typed (422), a stale form a 409."""

from __future__ import annotations

from typing import Any

from flask import Response, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.db import db
from portal.i18n import client_language
from portal.models.matter import Client, Matter
from portal.models.prevention import MATTER_STATUS_LABELS
from portal.models.user import Role
from portal.security import roles
from portal.services.intake.search import search_clients
from portal.services.prevention import listing
from portal.services.prevention import matters as service
from portal.web import htmx
from portal.web.decision.common import refused_state
from portal.web.intake.context import posted_version
from portal.web.matters import bp
from portal.web.matters.forms import FormState, actor, load, matter_input, number

NEW_PAGE, EDIT_PAGE, FORM = "matters/new.html", "matters/edit.html", "matters/_form.html"


def _choices(state: FormState, matter: Matter | None, find: bool) -> dict[str, Any]:
    chosen_id = number(state.values.get("client"))
    query = (request.form.get("client_q") or "").strip() if find else ""
    state.values["client_q"] = query
    return {"types": listing.matter_types(matter.matter_type_code if matter else None),
            "departments": listing.departments(), "people": listing.staff(),
            "chosen": db.session.get(Client, chosen_id) if chosen_id and chosen_id > 0
            else None,
            "results": search_clients(query) if query else [], "query": query,
            "status_labels": MATTER_STATUS_LABELS, "lang": client_language()}


def _answer(state: FormState, matter: Matter | None = None, status: int = 200,
            find: bool = False) -> Response:
    return htmx.page_or_partial(EDIT_PAGE if matter else NEW_PAGE, FORM, status=status,
                                state=state, matter=matter, **_choices(state, matter, find))


def _duplicate(state: FormState, matter: Matter | None) -> Response:
    """Two partners saving the same matter number at once: the second is told (409)."""
    db.session.rollback()
    state.conflict = _("Someone else saved a matter with this number at the same moment: "
                       "reload the page, then choose another number if it is taken.")
    return _answer(state, matter, 409)


def _saved(matter: Matter, message: str) -> Response:
    flash(message, "ok")
    return htmx.redirect(url_for("matters.show", reference=matter.reference))


@bp.route("/matters/new")
@roles(Role.PARTNER)
def new():
    return _answer(FormState(values={"status": "open", "currency": "CNY",
                                     "opened_on": clock.today().isoformat()}))


@bp.route("/matters", methods=["POST"])
@roles(Role.PARTNER)
def create():
    state = FormState()
    data = matter_input(state)
    if request.form.get("find_client"):  # the client search, without JavaScript
        return _answer(state, find=True)
    if state.errors:
        return _answer(state, status=422)
    try:
        return htmx.write(
            lambda: service.create(actor(), data),
            done=lambda matter: _saved(matter, _("Matter %(reference)s is created, with its "
                                                 "checklist.", reference=matter.reference)),
            refused=lambda error, status: _answer(refused_state(state, error), status=status))
    except IntegrityError:
        return _duplicate(state, None)


def _fresh(matter: Matter) -> FormState:
    def amount(value) -> str:
        return "" if value is None else f"{value:.2f}"

    return FormState(values={
        "reference": matter.reference, "title": matter.title,
        "client": str(matter.client_id or ""), "case_number": matter.case_number or "",
        "type_code": matter.matter_type_code or "",
        "department": str(matter.department_id or ""),
        "lawyer": str(matter.responsible_lawyer_id or ""),
        "partner": str(matter.partner_id or ""),
        "team": ",".join(str(u.id) for u in matter.team),
        "opened_on": matter.opened_on.isoformat() if matter.opened_on else "",
        "status": matter.status,
        "closed_on": matter.closed_on.isoformat() if matter.closed_on else "",
        "interval": str(matter.report_interval_days or ""),
        "fees_agreed": amount(matter.fees_agreed), "fees_paid": amount(matter.fees_paid),
        "currency": matter.fees_currency, "excess_reason": matter.fees_excess_reason or ""},
        version=matter.version)


@bp.route("/matters/<reference>/edit")
@roles(Role.PARTNER)
def edit(reference: str):
    matter = load(reference)
    return _answer(_fresh(matter), matter)


@bp.route("/matters/<reference>/edit", methods=["POST"])
@roles(Role.PARTNER)
def update(reference: str):
    matter = load(reference)
    matter_id = matter.id
    state = FormState(version=posted_version())
    data = matter_input(state)
    if request.form.get("find_client"):
        return _answer(state, matter, find=True)
    if state.errors:
        return _answer(state, matter, 422)
    try:
        return htmx.write(
            lambda: service.edit(actor(), matter_id, data, expected_version=state.version),
            done=lambda saved: _saved(saved, _("Matter %(reference)s is saved.",
                                               reference=saved.reference)),
            refused=lambda error, status: _answer(refused_state(state, error), matter,
                                                  status))
    except IntegrityError:
        return _duplicate(state, matter)
