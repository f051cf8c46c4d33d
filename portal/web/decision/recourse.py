"""Partners keep the routes of further recourse per jurisdiction (/admin/recourse): edit a
jurisdiction's text in both languages, add a jurisdiction. Each save is audited; a save from a
page loaded before someone else's is refused (409) with the text kept."""

from __future__ import annotations

from flask import Response, abort, flash, url_for
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.db import db
from portal.models.user import Role
from portal.security import roles
from portal.services.resolution import recourse as service
from portal.web import htmx
from portal.web.decision import bp
from portal.web.decision.common import FormState, refused_state, text
from portal.web.intake.context import actor, posted_version

PAGE = "decision/recourse.html"
PARTIAL = "decision/_recourse.html"


def _context(edits: dict[str, FormState] | None = None, added: FormState | None = None,
             note: str | None = None) -> dict:
    edits = dict(edits or {})
    rows = []
    for row in service.all_texts():
        state = edits.get(row.jurisdiction) or FormState(
            values={"text_zh": row.text_zh, "text_en": row.text_en}, version=row.version)
        rows.append({"row": row, "state": state,
                     "missing": service.missing_languages(row.jurisdiction)})
    return {"rows": rows, "added": added or FormState(), "note": note}


def _answer(status: int = 200, **context) -> Response:
    return htmx.answer(PARTIAL, PAGE, lambda _full: _context(**context), status=status)


@bp.route("/admin/recourse")
@roles(Role.PARTNER)
def recourse_index():
    return htmx.page_or_partial(PAGE, PARTIAL, **_context())


@bp.route("/admin/recourse/<jurisdiction>", methods=["POST"])
@roles(Role.PARTNER)
def recourse_update(jurisdiction: str):
    if service.text_for(jurisdiction) is None:
        abort(404)
    state = FormState(values={"text_zh": text("text_zh"), "text_en": text("text_en")},
                      version=posted_version())

    def done(_row) -> Response:
        note = _("The recourse text for %(code)s is saved.", code=jurisdiction)
        if not htmx.wants_fragment():
            flash(note, "ok")
        return htmx.answer(PARTIAL, PAGE, lambda _full: _context(note=note),
                           redirect_to=url_for("decision.recourse_index"))

    def refused(error: Exception, status: int) -> Response:
        return _answer(status, edits={jurisdiction: refused_state(state, error)})

    return htmx.write(
        lambda: service.update(actor(), jurisdiction, text_zh=state.values["text_zh"],
                               text_en=state.values["text_en"],
                               expected_version=state.version),
        done=done, refused=refused)


@bp.route("/admin/recourse", methods=["POST"])
@roles(Role.PARTNER)
def recourse_add():
    state = FormState(values={"jurisdiction": text("jurisdiction"),
                              "text_zh": text("text_zh"), "text_en": text("text_en")})

    def done(row) -> Response:
        note = _("%(code)s is added.", code=row.jurisdiction)
        if not htmx.wants_fragment():
            flash(note, "ok")
        return htmx.answer(PARTIAL, PAGE, lambda _full: _context(note=note),
                           redirect_to=url_for("decision.recourse_index"))

    def refused(error: Exception, status: int) -> Response:
        return _answer(status, added=refused_state(state, error))

    try:
        return htmx.write(
            lambda: service.add(actor(), state.values["jurisdiction"],
                                text_zh=state.values["text_zh"], text_en=state.values["text_en"]),
            done=done, refused=refused)
    except IntegrityError:  # two partners adding the same jurisdiction at once
        db.session.rollback()
        state.add("jurisdiction", _("This jurisdiction was just added by someone else: edit "
                                    "it instead."))
        return _answer(409, added=state)
