"""Partners keep the matter types (/admin/matter-types): each type's labels, default report
interval and whether it is offered, and its checklist template (/admin/matter-types/<code>):
add a step, edit one (stage, labels, document, active), move it up or down. Every form carries
the type's version; a change answers the type's partial with the new one, a refusal the same
partial with what was typed (422), a stale form a 409. Matters keep their own checklists."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.db import db
from portal.i18n import client_language
from portal.models.prevention import STAGE_LABELS, MatterType, Stage
from portal.models.user import Role
from portal.security import roles
from portal.services.prevention import types as service
from portal.web import htmx
from portal.web.decision.common import refused_state
from portal.web.intake.context import posted_version
from portal.web.matters import bp
from portal.web.matters.forms import FormState, actor
from portal.web.remedies.forms import text

PAGE, PARTIAL = "matter_types/index.html", "matter_types/_types.html"
TYPE_PAGE, TYPE = "matter_types/type.html", "matter_types/_type.html"


def _flag(name: str, state: FormState) -> bool:
    state.values[name] = "y" if request.form.get(name) else ""
    return bool(state.values[name])


def _type_input(state: FormState) -> service.TypeInput:
    return service.TypeInput(text("label_zh", state), text("label_en", state),
                             text("interval", state), active=_flag("active", state))


def _step_input(state: FormState) -> service.StepInput:
    return service.StepInput(text("stage", state), text("label_zh", state),
                             text("label_en", state), _flag("needs_document", state),
                             active=_flag("active", state))


# -- the list of types ---------------------------------------------------------------------------

def _catalogue(added: FormState | None = None, status: int = 200) -> Response:
    return htmx.page_or_partial(PAGE, PARTIAL, status=status, types=service.catalogue(),
                                added=added or FormState(values={"interval": "30"}),
                                lang=client_language())


@bp.route("/admin/matter-types")
@roles(Role.PARTNER)
def types_index():
    return _catalogue()


@bp.route("/admin/matter-types", methods=["POST"])
@roles(Role.PARTNER)
def type_add():
    state = FormState()
    text("code", state)
    data = service.TypeInput(text("label_zh", state), text("label_en", state),
                             text("interval", state))

    def done(kind: MatterType) -> Response:
        flash(_("The type “%(label)s” is added with the standard procedure as its checklist.",
                label=kind.label(client_language())), "ok")
        return htmx.redirect(url_for("matters.type_show", code=kind.code))

    try:
        return htmx.write(lambda: service.add_type(actor(), state.values["code"], data),
                          done=done, refused=lambda error, status: _catalogue(
                              refused_state(state, error), status))
    except IntegrityError:  # two partners adding the same code at once
        db.session.rollback()
        state.conflict = _("Someone else added a type with this code at the same moment: "
                           "reload the page, then add yours again if it is still missing.")
        return _catalogue(state, 409)


# -- one type and its checklist template -------------------------------------------------------

def _kind(code: str) -> MatterType:
    kind = service.find(code)
    if kind is None:
        abort(404)
    return kind


def _step_state(step, version: int) -> FormState:
    return FormState(values={"stage": step.stage, "label_zh": step.label_zh,
                             "label_en": step.label_en,
                             "needs_document": "y" if step.needs_document else "",
                             "active": "y" if step.active else ""}, version=version)


def _type_context(kind: MatterType, *, type_form: FormState | None = None,
                  step_forms: dict[int, FormState] | None = None,
                  new_step: FormState | None = None, note: str | None = None,
                  problem: FormState | None = None) -> dict[str, Any]:
    steps = sorted(kind.items, key=lambda s: (s.position, s.id))
    typed = step_forms or {}
    return {"kind": kind, "steps": steps,
            "type_form": type_form or FormState(values={
                "label_zh": kind.label_zh, "label_en": kind.label_en,
                "interval": str(kind.report_interval_days),
                "active": "y" if kind.active else ""}, version=kind.version),
            "step_forms": {step.id: typed.get(step.id) or _step_state(step, kind.version)
                           for step in steps},
            "new_step": new_step or FormState(values={"stage": "engagement"},
                                              version=kind.version),
            "problem": problem or FormState(), "note": note, "stage_labels": STAGE_LABELS,
            "stage_options": [(stage.value, STAGE_LABELS[stage]) for stage in Stage],
            "lang": client_language()}


def _type_answer(code: str, status: int = 200, **context) -> Response:
    kind = _kind(code)
    return htmx.answer(TYPE, TYPE_PAGE, lambda _full: _type_context(kind, **context),
                       status=status)


def _changed(code: str, note: str) -> Response:
    if not htmx.wants_fragment():
        flash(note, "ok")
    return htmx.answer(TYPE, TYPE_PAGE, lambda _full: _type_context(_kind(code), note=note),
                       redirect_to=url_for("matters.type_show", code=code))


@bp.route("/admin/matter-types/<code>")
@roles(Role.PARTNER)
def type_show(code: str):
    kind = _kind(code)
    return htmx.page_or_partial(TYPE_PAGE, TYPE, **_type_context(kind))


@bp.route("/admin/matter-types/<code>", methods=["POST"])
@roles(Role.PARTNER)
def type_update(code: str):
    _kind(code)
    state = FormState(version=posted_version())
    data = _type_input(state)
    return htmx.write(
        lambda: service.update_type(actor(), code, data, expected_version=state.version),
        done=lambda _kind_saved: _changed(code, _("The type is saved. Matters keep their "
                                                  "own checklists.")),
        refused=lambda error, status: _type_answer(code, status,
                                                   type_form=refused_state(state, error)))


@bp.route("/admin/matter-types/<code>/steps", methods=["POST"])
@roles(Role.PARTNER)
def step_add(code: str):
    _kind(code)
    state = FormState(version=posted_version())
    data = _step_input(state)
    return htmx.write(
        lambda: service.add_step(actor(), code, data, expected_version=state.version),
        done=lambda _step: _changed(code, _("The step is added: matters created from now on "
                                            "get it.")),
        refused=lambda error, status: _type_answer(code, status,
                                                   new_step=refused_state(state, error)))


@bp.route("/admin/matter-types/<code>/steps/<int:step_id>", methods=["POST"])
@roles(Role.PARTNER)
def step_update(code: str, step_id: int):
    kind = _kind(code)
    if all(step.id != step_id for step in kind.items):
        abort(404)
    state = FormState(version=posted_version())
    data = _step_input(state)
    return htmx.write(
        lambda: service.update_step(actor(), code, step_id, data,
                                    expected_version=state.version),
        done=lambda _step: _changed(code, _("The step is saved: matters created from now on "
                                            "get it as it is now.")),
        refused=lambda error, status: _type_answer(
            code, status, step_forms={step_id: refused_state(state, error)}))


@bp.route("/admin/matter-types/<code>/steps/<int:step_id>/move", methods=["POST"])
@roles(Role.PARTNER)
def step_move(code: str, step_id: int):
    kind = _kind(code)
    if all(step.id != step_id for step in kind.items):
        abort(404)
    direction = {"up": -1, "down": 1}.get(request.form.get("direction") or "", 0)
    version = posted_version()
    return htmx.write(
        lambda: service.move_step(actor(), code, step_id, direction, expected_version=version),
        done=lambda step: _changed(code, _("The step is now number %(position)d.",
                                           position=step.position)),
        refused=lambda error, status: _type_answer(code, status,
                                                   problem=refused_state(FormState(), error)))
