"""Drafting a bulletin from the case file, and the partner's review of the draft.

Drafts are for partners who may see the complaint they came from (404 otherwise, as for
the complaint itself). The review page (`review_page`) shows the text with every replacement
and every open flag in place; each verb posts to /bulletins/<id>/review/<verb>, runs one
service in `htmx.write` and answers the review partial (#bulletin-review), or the whole page
without JavaScript. A refused form comes back with what was typed (422, or 409 when someone
changed the draft meanwhile).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _

from portal.db import db
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.complaint import Complaint
from portal.models.investigation import CATEGORY_LABELS
from portal.models.user import Role, User
from portal.privacy import Party, warm_up
from portal.security import roles
from portal.services.bulletins import drafting, publishing, review
from portal.services.bulletins.parties import parties_of
from portal.web import case_file, htmx
from portal.web.bulletins import bp
from portal.web.decision.common import FormState, refused_state
from portal.web.findings.common import area_answer, override, overrides
from portal.web.intake.context import actor, load, posted_version

AREA, AREA_TEMPLATE = "bulletin", "bulletins/_area.html"
PARTIAL, PAGE = "bulletins/_review.html", "bulletins/review.html"


# -- the case file's area ----------------------------------------------------------------------

@case_file.area(AREA, order=80, template=AREA_TEMPLATE)
def bulletin_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    error = overrides(AREA).get("error")  # a refusal is shown even where the area is not
    finished = complaint.state in drafting.FINISHED
    if not user.has_role(Role.PARTNER) or not (finished or error):
        return None
    drafts = db.session.query(Bulletin).filter(
        Bulletin.complaint_id == complaint.id,
        Bulletin.status == BulletinStatus.DRAFT).order_by(Bulletin.id).all()
    return {"drafts": drafts, "error": error, "may_draft": finished}


@bp.route("/complaints/<key>/bulletin", methods=["POST"])
@roles(Role.PARTNER)
def draft(key: str):
    complaint = load(key)
    warm_up()  # the segmenter's dictionary loads before the write, not inside it

    def refused(error: Exception, status: int) -> Response:
        override(AREA, error=str(error))
        return area_answer(AREA_TEMPLATE, bulletin_area, complaint, status=status)

    def done(bulletin: Bulletin) -> Response:
        flash(_("The draft is ready: check every replacement before publishing."), "ok")
        return htmx.redirect(url_for("bulletins.review_page", bulletin_id=bulletin.id))

    return htmx.write(lambda: drafting.draft(actor(), complaint), done=done, refused=refused)


# -- the review ----------------------------------------------------------------------------------

def _draft(bulletin_id: int) -> tuple[Bulletin, list[Party]]:
    """The draft and the parties of its complaint; 404 unless the viewer may see both."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or not bulletin.can_review(actor()):
        abort(404)
    complaint = (db.session.get(Complaint, bulletin.complaint_id)
                 if bulletin.complaint_id else None)
    if complaint is not None and not complaint.can_view(actor()):
        abort(404)
    return bulletin, parties_of(complaint) if complaint else []


def _context(bulletin: Bulletin, parties: list[Party], shown: dict, note: str | None) -> dict:
    open_flags = review.flags(bulletin, parties)
    complaint = (db.session.get(Complaint, bulletin.complaint_id)
                 if bulletin.complaint_id else None)
    return {"bulletin": bulletin, "flags": open_flags, "shown": shown, "note": note,
            "segments": review.segments(bulletin, open_flags),
            "records": bulletin.replacements or [], "kept": bulletin.kept or [],
            "source": complaint, "second_partner": publishing.needs_second_partner(),
            "drafter": bulletin.created_by_id == actor().id,
            "categories": [CATEGORY_LABELS.get(c, c) for c in bulletin.categories],
            "kind_labels": review_kind_labels(), "blank": FormState()}


def review_kind_labels() -> dict[str, str]:
    labels = {"person": _("person"), "organisation": _("organisation"), "phone": _("phone"),
              "email": _("email"), "id_number": _("ID number"), "passport": _("passport"),
              "bank_card": _("bank card"), "licence": _("licence number"),
              "wechat": _("WeChat ID"), "case_number": _("case number"),
              "address": _("address"), "date": _("date"), "marked": _("marked by hand")}
    return labels


def _answer(bulletin: Bulletin, parties: list[Party], *, shown: dict | None = None,
            note: str | None = None, status: int = 200) -> Response:
    return htmx.answer(PARTIAL, PAGE, lambda _full: _context(bulletin, parties, shown or {},
                                                             note),
                       status=status, redirect_to=url_for("bulletins.review_page",
                                                          bulletin_id=bulletin.id))


@bp.route("/bulletins/<int:bulletin_id>/review")
@roles(Role.PARTNER)
def review_page(bulletin_id: int):
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is not None and bulletin.is_published:
        return htmx.redirect(f"/bulletins/{bulletin.id}")
    bulletin, parties = _draft(bulletin_id)
    return htmx.page_or_partial(PAGE, PARTIAL, **_context(bulletin, parties, {}, None))


def _int(value: str | None) -> int | None:
    try:
        return int(value or "")
    except ValueError:
        return None


Verb = Callable[[User, Bulletin, list[Party], Any, int], object]
VERBS: dict[str, Verb] = {
    "undo": lambda u, b, p, f, v: review.undo(u, b, _int(f.get("index")), f.get("reason"),
                                              expected_version=v),
    "keep": lambda u, b, p, f, v: review.keep(u, b, f.get("text"), f.get("reason"),
                                              expected_version=v),
    "replace": lambda u, b, p, f, v: review.replace_flag(u, b, p, f.get("text"),
                                                         expected_version=v),
    "remove": lambda u, b, p, f, v: review.remove(u, b, f.get("remove"), expected_version=v),
    "edit": lambda u, b, p, f, v: review.edit(u, b, title=f.get("title"), body=f.get("body"),
                                              expected_version=v),
    "publish": lambda u, b, p, f, v: publishing.publish(u, b, p, expected_version=v),
    "discard": lambda u, b, p, f, v: publishing.withdraw(u, b, expected_version=v),
}
NOTES = {"undo": lambda: _("The words are back in the text and will not be flagged again."),
         "keep": lambda: _("Kept: it will not be flagged again."),
         "replace": lambda: _("Replaced everywhere it occurs."),
         "remove": lambda: _("Removed everywhere it occurs."),
         "edit": lambda: _("Saved. The text was checked again.")}


@bp.route("/bulletins/<int:bulletin_id>/review/<verb>", methods=["POST"])
@roles(Role.PARTNER)
def act(bulletin_id: int, verb: str):
    change = VERBS.get(verb)
    if change is None:
        abort(404)
    bulletin, parties = _draft(bulletin_id)
    form = request.form
    state = FormState(values={k: form.get(k, "") for k in form if k != "csrf_token"},
                      version=posted_version())

    def done(_result: object) -> Response:
        if verb == "publish":
            flash(_("The bulletin is published on the board. Its link to the complaint and "
                    "the replaced words are deleted."), "ok")
            return htmx.redirect(f"/bulletins/{bulletin_id}")
        if verb == "discard":
            flash(_("The draft was withdrawn and deleted from review."), "ok")
            return htmx.redirect("/bulletins")
        return _answer(bulletin, parties, note=NOTES[verb]())

    def refused(error: Exception, status: int) -> Response:
        return _answer(bulletin, parties, shown={verb: refused_state(state, error)},
                       status=status)

    warm_up()
    return htmx.write(lambda: change(actor(), bulletin, parties, form, state.version),
                      done=done, refused=refused)
