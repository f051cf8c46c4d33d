"""Partners keep the root-cause catalogue (/admin/root-causes): the causes in order with both
labels, add one, edit its labels (/admin/root-causes/<id>), deactivate or reactivate it, move
it up or down. Each change runs one service in `htmx.write`; a refusal shows the form again
with what was typed (422), a change from a page loaded before someone else's is a 409."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.db import db
from portal.i18n import client_language
from portal.models.followup import RootCause
from portal.models.user import Role
from portal.security import roles
from portal.services.followup import catalogue
from portal.web import htmx
from portal.web.decision.common import FormState, refused_state, text
from portal.web.improvement import bp
from portal.web.intake.context import actor, posted_version

PAGE, PARTIAL = "improvement/causes.html", "improvement/_causes.html"
EDIT_PAGE, EDIT = "improvement/cause.html", "improvement/_cause.html"
LABELS = ("label_zh", "label_en")


def _context(added: FormState | None = None, problem: FormState | None = None,
             note: str | None = None) -> dict:
    return {"causes": catalogue.catalogue(), "added": added or FormState(),
            "problem": problem or FormState(), "note": note, "lang": client_language(),
            "code_max": catalogue.CODE_MAX, "label_max": catalogue.LABEL_MAX}


def _catalogue(status: int = 200, **context) -> Response:
    return htmx.answer(PARTIAL, PAGE, lambda _full: _context(**context), status=status)


def _saved(note: str) -> Response:
    """After a change: the catalogue with a note (htmx), or back to the page (no JS)."""
    if not htmx.wants_fragment():
        flash(note, "ok")
    return htmx.answer(PARTIAL, PAGE, lambda _full: _context(note=note),
                       redirect_to=url_for("improvement.causes"))


def _labels(state: FormState) -> catalogue.CauseLabels:
    for name in (*LABELS, "needs_text"):
        state.values[name] = text(name)
    return catalogue.CauseLabels(state.values["label_zh"], state.values["label_en"],
                                 bool(state.values["needs_text"]))


def _cause(cause_id: int) -> RootCause:
    cause = catalogue.find(cause_id)
    if cause is None:
        abort(404)
    return cause


@bp.route("/admin/root-causes")
@roles(Role.PARTNER)
def causes():
    return htmx.page_or_partial(PAGE, PARTIAL, **_context())


@bp.route("/admin/root-causes", methods=["POST"])
@roles(Role.PARTNER)
def cause_add():
    state = FormState(values={"code": text("code")})
    labels = _labels(state)

    def refused(error: Exception, status: int) -> Response:
        return _catalogue(status, added=refused_state(state, error))

    try:
        return htmx.write(
            lambda: catalogue.add_cause(actor(), labels, code=state.values["code"]),
            done=lambda cause: _saved(_("“%(label)s” is added to the catalogue.",
                                        label=cause.label(client_language()))),
            refused=refused)
    except IntegrityError:  # two partners adding the same code at once
        db.session.rollback()
        state.conflict = _("Someone else added a cause with this code at the same moment: "
                           "reload the page, then add yours again if it is still missing.")
        return _catalogue(409, added=state)


def _edit_answer(cause: RootCause, state: FormState, status: int = 200) -> Response:
    return htmx.page_or_partial(EDIT_PAGE, EDIT, status=status, cause=cause, state=state,
                                label_max=catalogue.LABEL_MAX, lang=client_language())


@bp.route("/admin/root-causes/<int:cause_id>")
@roles(Role.PARTNER)
def cause_edit(cause_id: int):
    cause = _cause(cause_id)
    state = FormState(values={"label_zh": cause.label_zh, "label_en": cause.label_en,
                              "needs_text": "y" if cause.needs_text else ""},
                      version=cause.version)
    return _edit_answer(cause, state)


@bp.route("/admin/root-causes/<int:cause_id>", methods=["POST"])
@roles(Role.PARTNER)
def cause_update(cause_id: int):
    _cause(cause_id)
    state = FormState(version=posted_version())
    labels = _labels(state)

    def done(cause: RootCause) -> Response:
        flash(_("“%(label)s” is saved.", label=cause.label(client_language())), "ok")
        return htmx.redirect(url_for("improvement.causes"))

    def refused(error: Exception, status: int) -> Response:
        return _edit_answer(_cause(cause_id), refused_state(state, error), status)

    return htmx.write(
        lambda: catalogue.update_cause(actor(), cause_id, labels,
                                       expected_version=state.version),
        done=done, refused=refused)


@bp.route("/admin/root-causes/<int:cause_id>/active", methods=["POST"])
@roles(Role.PARTNER)
def cause_set_active(cause_id: int):
    _cause(cause_id)
    active = request.form.get("active") == "1"
    version = posted_version()

    def done(cause: RootCause) -> Response:
        label = cause.label(client_language())
        return _saved(_("“%(label)s” is active again: it may be chosen.", label=label)
                      if active else
                      _("“%(label)s” is deactivated: it is no longer offered, and what names "
                        "it keeps it.", label=label))

    return htmx.write(
        lambda: catalogue.set_active(actor(), cause_id, active, expected_version=version),
        done=done,
        refused=lambda error, status: _catalogue(status,
                                                 problem=refused_state(FormState(), error)))


@bp.route("/admin/root-causes/<int:cause_id>/move", methods=["POST"])
@roles(Role.PARTNER)
def cause_move(cause_id: int):
    _cause(cause_id)
    direction = request.form.get("direction")
    step = {"up": -1, "down": 1}.get(direction or "", 0)
    version = posted_version()

    def done(cause: RootCause) -> Response:
        return _saved(_("“%(label)s” is now number %(position)d.",
                        label=cause.label(client_language()), position=cause.position))

    return htmx.write(
        lambda: catalogue.move(actor(), cause_id, step, expected_version=version),
        done=done,
        refused=lambda error, status: _catalogue(status,
                                                 problem=refused_state(FormState(), error)))
