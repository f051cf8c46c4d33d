"""The bulletin board: every staff member reads the published bulletins (/bulletins), one
bulletin (/bulletins/<id>) and its PDF for circulation (/bulletins/<id>.pdf); a partner
withdraws one (/bulletins/<id>/withdraw) and sees the drafts waiting for review.

A published bulletin keeps no link to its complaint, so nothing here can name one: the board
and the page show the title, the month, the categories, the rules engaged and the text. Drafts
are the partners' (404 for everyone else) and withdrawn bulletins are nobody's (404).
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, current_app, flash, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import Select, Text, cast, func, or_, select
from sqlalchemy.orm import selectinload
from werkzeug.http import dump_options_header

from portal.db import contains, db
from portal.documents import bulletin_pdf
from portal.locales import locale_of
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.complaint import Complaint
from portal.models.investigation import CATEGORY_LABELS
from portal.models.user import Role, User
from portal.security import roles, signed_in
from portal.services.bulletins import publishing
from portal.web import downloads, htmx, page_cache
from portal.web.bulletins import bp
from portal.web.decision.common import FormState, refused_state
from portal.web.display import label_of
from portal.web.intake.context import posted_version
from portal.web.params import page_number

PAGE_SIZE = 20
QUERY_MAX = 200
EXCERPT = 160
BOARD, LIST = "bulletins/board.html", "bulletins/_list.html"
READ, WITHDRAW = "bulletins/read.html", "bulletins/_withdraw.html"


def _actor() -> User:
    return current_user._get_current_object()


# -- the board ----------------------------------------------------------------------------------

def published_query(q: str, category: str | None) -> Select:
    """Published bulletins, newest first, matching the search words (title or text) and the
    category. Categories are stored as a JSON list of codes: the code, quoted as JSON writes
    it, is looked for in the list's text (only known codes get here)."""
    query = select(Bulletin).where(Bulletin.status == BulletinStatus.PUBLISHED)
    if q:
        query = query.where(or_(contains(Bulletin.title, q), contains(Bulletin.body, q)))
    if category:
        query = query.where(cast(Bulletin.categories, Text).like(f'%"{category}"%'))
    return query.order_by(Bulletin.published_at.desc(), Bulletin.id.desc())


def drafts_for(user: User) -> list[Bulletin]:
    """The drafts a partner may review: those of complaints the partner may see (a draft
    still holds its complaint's words), with who drafted them."""
    if not user.has_role(Role.PARTNER):
        return []
    visible = select(Complaint.id).where(Complaint.visible_to(user))
    return list(db.session.scalars(
        select(Bulletin).where(Bulletin.status == BulletinStatus.DRAFT,
                               or_(Bulletin.complaint_id.is_(None),
                                   Bulletin.complaint_id.in_(visible)))
        .options(selectinload(Bulletin.created_by))
        .order_by(Bulletin.created_at.desc(), Bulletin.id.desc())))


def category_choices() -> list[tuple[str, str]]:
    return [(str(code), str(label)) for code, label in CATEGORY_LABELS.items()]


def category_names(codes: list[str] | None) -> list[str]:
    return [label_of(CATEGORY_LABELS, code) for code in codes or []]


def _board_context() -> dict[str, Any]:
    q = " ".join((request.args.get("q") or "").split())[:QUERY_MAX]
    category = request.args.get("category") or None
    category = category if category in CATEGORY_LABELS else None
    page = page_number()
    query = published_query(q, category)
    total = db.session.scalar(query.with_only_columns(func.count(Bulletin.id))
                              .order_by(None)) or 0
    rows = db.session.scalars(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return {"rows": rows, "q": q, "category": category, "page_no": page, "total": total,
            "pages": max(1, -(-total // PAGE_SIZE)), "categories": category_choices(),
            "category_names": category_names, "excerpt_length": EXCERPT,
            "drafts": drafts_for(_actor())}


@bp.route("/bulletins")
@signed_in
def board():
    return page_cache.remember(lambda: htmx.page_or_partial(BOARD, LIST, **_board_context()))


# -- one bulletin -------------------------------------------------------------------------------

def _readable(bulletin_id: int) -> Bulletin:
    """A published bulletin; 404 for a draft (the review is the partners' page) or a
    withdrawn one."""
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is None or not bulletin.is_published:
        abort(404)
    return bulletin


def _draft_for_review(bulletin: Bulletin, user: User) -> bool:
    """A partner reading a draft is sent to its review, when they may see its complaint."""
    if not bulletin.can_review(user):
        return False
    if bulletin.complaint_id is None:
        return True
    return db.session.scalar(select(Complaint.id).where(
        Complaint.id == bulletin.complaint_id, Complaint.visible_to(user))) is not None


def _read_context(bulletin: Bulletin, state: FormState | None = None) -> dict[str, Any]:
    return {"bulletin": bulletin, "categories": category_names(bulletin.categories),
            "paragraphs": bulletin_pdf.paragraphs(bulletin.body),
            "may_withdraw": _actor().has_role(Role.PARTNER),
            "state": state or FormState(version=bulletin.version)}


@bp.route("/bulletins/<int:bulletin_id>")
@signed_in
def read(bulletin_id: int):
    bulletin = db.session.get(Bulletin, bulletin_id)
    if bulletin is not None and bulletin.is_draft and _draft_for_review(bulletin, _actor()):
        return htmx.redirect(url_for("bulletins.review_page", bulletin_id=bulletin.id))
    bulletin = _readable(bulletin_id)
    return page_cache.remember(lambda: render_template(READ, **_read_context(bulletin)))


@bp.route("/bulletins/<int:bulletin_id>/withdraw", methods=["POST"])
@roles(Role.PARTNER)
def withdraw(bulletin_id: int):
    bulletin = _readable(bulletin_id)
    state = FormState(values={"confirm": request.form.get("confirm", "")},
                      version=posted_version())
    if not state.values["confirm"]:
        state.add("confirm", _("Tick the box to confirm that the bulletin leaves the board."))
        return _withdraw_answer(bulletin, state, 422)

    def done(_result: object) -> Response:
        flash(_("The bulletin is withdrawn: it is no longer on the board."), "ok")
        return htmx.redirect(url_for("bulletins.board"))

    def refused(error: Exception, status: int) -> Response:
        current = db.session.get(Bulletin, bulletin_id)
        if current is None or not current.is_published:  # withdrawn by someone else
            flash(str(error), "error")
            return htmx.redirect(url_for("bulletins.board"))
        return _withdraw_answer(current, refused_state(state, error), status)

    return htmx.write(
        lambda: publishing.withdraw(_actor(), bulletin, expected_version=state.version),
        done=done, refused=refused)


def _withdraw_answer(bulletin: Bulletin, state: FormState, status: int) -> Response:
    return htmx.answer(WITHDRAW, READ, lambda _full: _read_context(bulletin, state),
                       status=status)


# -- the PDF ------------------------------------------------------------------------------------

def bulletin_facts(bulletin: Bulletin) -> dict[str, Any]:
    """What the PDF shows, as plain data: no model object reaches the document."""
    names = {}
    for language in ("zh", "en"):
        with force_locale(locale_of(language)):
            names[language] = category_names(bulletin.categories)
    return {"id": bulletin.id, "title": bulletin.title, "body": bulletin.body,
            "language": bulletin.language, "month": bulletin.month,
            "categories": [{"zh": zh, "en": en} for zh, en in zip(names["zh"], names["en"],
                                                                  strict=True)],
            "rules": list(bulletin.rules or []), "published_at": bulletin.published_at}


@bp.route("/bulletins/<int:bulletin_id>.pdf")
@signed_in
def pdf(bulletin_id: int):
    """Read the facts, end the read, then render with no transaction open."""
    facts = bulletin_facts(_readable(bulletin_id))
    db.session.commit()  # end the read before rendering
    context = bulletin_pdf.bulletin_context(facts, current_app.config)
    data = bulletin_pdf.render_bulletin(context)
    name = f"bulletin-{facts['id']}.pdf"
    response = Response(data, mimetype="application/pdf")
    response.headers["Content-Disposition"] = dump_options_header("inline", {"filename": name})
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = downloads.DOWNLOAD_CSP
    response.headers["Cache-Control"] = "no-store"
    return response
