"""Improvement actions: the list (/actions; a partner sees every action, anyone else their
own), a new action (/actions/new, partners), the action's page (/actions/<id>, its owner and
the partners; 404 for everyone else) where the owner or a partner changes the status and a
partner edits the fields, and the case file's area "improvement" (order 95, partners): the
actions a complaint prompted. Complaint references are shown and accepted only through the
visibility rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _

from portal import clock
from portal.i18n import client_language
from portal.models.complaint import Complaint
from portal.models.followup import (
    ACTION_KIND_LABELS,
    ACTION_STATUS_LABELS,
    ActionStatus,
    ImprovementAction,
)
from portal.models.user import Role, User
from portal.security import require, roles
from portal.services.followup import actions as service
from portal.services.followup import catalogue
from portal.web import case_file, htmx, page_cache
from portal.web.decision.common import FormState, refused_state
from portal.web.improvement import bp
from portal.web.intake.context import actor, posted_version
from portal.web.params import page_number
from portal.web.remedies.forms import posted_date, posted_id, text

ALL_STAFF = (Role.RECEPTIONIST, Role.INVESTIGATOR, Role.COMMITTEE, Role.PARTNER)
LIST_PAGE, LIST = "improvement/actions.html", "improvement/_list.html"
NEW_PAGE, NEW = "improvement/new.html", "improvement/_new.html"
SHOW_PAGE, SHOW = "improvement/action.html", "improvement/_action.html"
AREA, AREA_TEMPLATE = "improvement", "improvement/_area.html"
DEFAULT_DAYS = 30  # a new action's due date, until the partner sets another


def _labels() -> dict[str, Any]:
    return {"kind_labels": ACTION_KIND_LABELS, "status_labels": ACTION_STATUS_LABELS,
            "lang": client_language(), "today": clock.today()}


# -- reading a form ------------------------------------------------------------------------------

def _cause_ids(state: FormState) -> tuple[int, ...]:
    raw = request.form.getlist("root_causes")
    state.values["root_causes"] = ",".join(raw)
    return tuple(int(v) if v.isdigit() and len(v) < 10 else -1 for v in raw)


def _input(state: FormState) -> service.ActionInput:
    due = posted_date("due", state)
    if due is None and state.errors.get("due"):
        state.values["due"] = ""  # a date input holds a date or nothing; the message says why
    return service.ActionInput(
        title=text("title", state), description=text("description", state),
        kind=text("kind", state), owner_id=posted_id("owner", state), due=due,
        complaints=text("complaints", state), root_cause_ids=_cause_ids(state))


def _choices(action: ImprovementAction | None = None) -> dict[str, Any]:
    """Who may own it and the causes to choose from (an inactive one only if linked)."""
    linked = {c.id for c in action.root_causes} if action is not None else set()
    return {"people": service.staff(),
            "causes": [c for c in catalogue.catalogue() if c.active or c.id in linked]}


# -- the list ------------------------------------------------------------------------------------

def _list_context() -> dict[str, Any]:
    user = actor()
    filters, problems = service.filters_from(request.args.get("status", ""),
                                             request.args.get("kind", ""),
                                             request.args.get("owner", ""))
    found = service.listing(user, filters, page_number())
    return {"found": found, "filters": filters, "problems": problems,
            "people": service.staff() if service.is_partner(user) else [],
            "statuses": ACTION_STATUS_LABELS, **_labels()}


@bp.route("/actions")
@roles(*ALL_STAFF)
def index():
    return page_cache.remember(
        lambda: htmx.page_or_partial(LIST_PAGE, LIST, **_list_context()))


# -- a new action --------------------------------------------------------------------------------

def _new_answer(state: FormState, status: int = 200) -> Response:
    return htmx.page_or_partial(NEW_PAGE, NEW, status=status, state=state, **_choices(),
                                **_labels())


@bp.route("/actions/new")
@roles(Role.PARTNER)
def new():
    """The form; `?complaint=<reference>` fills in the complaint that prompted it."""
    prefill = " ".join(service.references(request.args.get("complaint", "")))[:200]
    due = (clock.today() + timedelta(days=DEFAULT_DAYS)).isoformat()
    return _new_answer(FormState(values={"complaints": prefill, "kind": "procedure",
                                         "due": due}))


@bp.route("/actions", methods=["POST"])
@roles(Role.PARTNER)
def create():
    state = FormState()
    data = _input(state)
    if state.errors:
        return _new_answer(state, 422)

    def done(action: ImprovementAction) -> Response:
        flash(_("The improvement action is created and %(owner)s owns it.",
                owner=action.owner.name), "ok")
        return htmx.redirect(url_for("improvement.show", action_id=action.id))

    return htmx.write(lambda: service.create(actor(), data), done=done,
                      refused=lambda error, status: _new_answer(refused_state(state, error),
                                                                status))


# -- one action ----------------------------------------------------------------------------------

def _load(action_id: int) -> ImprovementAction:
    action = service.find(actor(), action_id)
    if action is None:
        abort(404)
    return action


def _fresh_edit(action: ImprovementAction, complaints: list[str]) -> FormState:
    return FormState(values={
        "title": action.title, "description": action.description or "", "kind": action.kind,
        "owner": str(action.owner_id), "due": action.due.isoformat(),
        "complaints": " ".join(complaints),
        "root_causes": ",".join(str(c.id) for c in action.root_causes)},
        version=action.version)


def _show_context(action: ImprovementAction, *, edit_form: FormState | None = None,
                  status_form: FormState | None = None, note: str | None = None
                  ) -> dict[str, Any]:
    user = actor()
    complaints = service.complaint_links(user, [action.id]).get(action.id, [])
    partner = service.is_partner(user)
    context = {"action": action, "complaints": complaints,
               "causes_linked": service.cause_links([action.id]).get(action.id, []),
               "may_edit": partner, "may_status": service.may_change_status(action, user),
               "status_state": status_form or FormState(version=action.version),
               "edit_state": edit_form or _fresh_edit(action, complaints), "note": note,
               "choices": [s for s in ActionStatus if s.value != action.status],
               **_labels()}
    if partner:
        context.update(_choices(action))
    return context


def _show_answer(action_id: int, status: int = 200, **context) -> Response:
    action = _load(action_id)
    return htmx.answer(SHOW, SHOW_PAGE, lambda _full: _show_context(action, **context),
                       status=status)


def _noted(action_id: int, note: str) -> Response:
    if not htmx.wants_fragment():
        flash(note, "ok")
        return htmx.redirect(url_for("improvement.show", action_id=action_id))
    return _show_answer(action_id, note=note)


@bp.route("/actions/<int:action_id>")
@roles(*ALL_STAFF)
def show(action_id: int):
    action = _load(action_id)
    return page_cache.remember(
        lambda: htmx.page_or_partial(SHOW_PAGE, SHOW, **_show_context(action)))


@bp.route("/actions/<int:action_id>", methods=["POST"])
@roles(Role.PARTNER)
def update(action_id: int):
    _load(action_id)
    state = FormState(version=posted_version())
    data = _input(state)
    if state.errors:
        return _show_answer(action_id, 422, edit_form=state)
    return htmx.write(
        lambda: service.edit(actor(), action_id, data, expected_version=state.version),
        done=lambda _action: _noted(action_id, _("The action is saved.")),
        refused=lambda error, status: _show_answer(action_id, status,
                                                   edit_form=refused_state(state, error)))


@bp.route("/actions/<int:action_id>/status", methods=["POST"])
@roles(*ALL_STAFF)
def status(action_id: int):
    action = _load(action_id)
    require(service.may_change_status(action, actor()))  # seen (else 404), not theirs to do
    state = FormState(values={"status": request.form.get("status", ""),
                              "note": request.form.get("note", "")},
                      version=posted_version())

    def done(saved: ImprovementAction) -> Response:
        label = ACTION_STATUS_LABELS.get(saved.status, saved.status)
        return _noted(action_id, _("The action is now “%(status)s”.", status=label))

    return htmx.write(
        lambda: service.change_status(actor(), action_id, state.values["status"],
                                      state.values["note"], expected_version=state.version),
        done=done,
        refused=lambda error, code: _show_answer(action_id, code,
                                                 status_form=refused_state(state, error)))


# -- the case file's area ------------------------------------------------------------------------

@case_file.area(AREA, order=95, template=AREA_TEMPLATE)
def improvement_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """The actions this complaint prompted, and a link to start one (partners)."""
    if not service.is_partner(user) or complaint.reference is None:
        return None
    return {"actions": service.for_complaint(complaint), **_labels()}
