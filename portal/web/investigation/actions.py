"""Recording a statement (with attachments), asking a respondent for a written reply, and
recording an interview note. Each answers with its own partial: 200 and a fresh form when
saved, 422 (413 for a file too large) with the messages beside the fields and the input
kept, 409 when the investigation closed meanwhile."""

from __future__ import annotations

from collections.abc import Callable

from flask import Response, current_app, flash, request
from flask_babel import gettext as _

from portal.links import external_url
from portal.request_bodies import body_too_large, shows_oversize_body
from portal.security import signed_in
from portal.services import evidence as evidence_service
from portal.services.intake.errors import IntakeError
from portal.services.investigation import notes, register, replies, statements
from portal.web import htmx
from portal.web.investigation import bp
from portal.web.investigation.context import (
    CHANGED,
    Section,
    actor,
    blank,
    load,
    page_context,
    refuse,
    workspace_url,
)
from portal.web.investigation.forms import NoteForm, ReplyRequestForm, StatementForm
from portal.web.investigation.mail import reply_email

# name → (partial, anchor on the page, what else on the page changes)
PARTS = {
    "statement": ("investigation/_statements.html", "ws-statements"),
    "reply": ("investigation/_replies.html", "ws-replies"),
    "note": ("investigation/_notes.html", "ws-notes"),
}
STATEMENT_FIELDS = {"party": "speaker", "respondent_id": "speaker"}


def answer(complaint, name: str, section: Section, status: int = 200,
           trigger: str = CHANGED) -> Response:
    partial, anchor = PARTS[name]
    saved = status == 200
    if saved and not htmx.wants_fragment():
        flash(section.note or _("Done."), "ok")
    return htmx.answer(partial, "investigation/workspace.html",
                       lambda _full: page_context(complaint, {name: section}), status=status,
                       trigger=trigger if saved else None,
                       redirect_to=workspace_url(complaint, anchor))


def _write(complaint, name: str, section: Section, change: Callable[[], object], note: str,
           renames: dict[str, str] | None = None, trigger: str = CHANGED) -> Response:
    def refused(error: IntakeError, status: int) -> Response:
        refuse(section, error, renames)
        return answer(complaint, name, section, status)

    return htmx.write(change, refused=refused, done=lambda _row: answer(
        complaint, name, Section(form=blank(complaint, name), note=note), trigger=trigger))


@bp.route("/complaints/<key>/investigation/statements", methods=["POST"])
@signed_in
@shows_oversize_body
def add_statement(key: str):
    complaint = load(key)
    form = StatementForm(complaint, prefix="statement")
    section = Section(form=form)
    if body_too_large() and not request.files:  # the files were over the limit: not read
        refuse(section, _attachments_error(evidence_service.too_large()))
        return answer(complaint, "statement", section, 413)
    if not form.validate_on_submit():
        return answer(complaint, "statement", section, 422)
    try:  # copied, hashed and type-checked before the write starts
        received = register.receive_all((f.stream, f.filename) for f in form.uploads())
    except evidence_service.EvidenceError as error:
        refuse(section, _attachments_error(error))
        return answer(complaint, "statement", section, htmx.refusal_status(error) or 422)
    party, respondent_id = form.party_and_respondent()
    return _write(
        complaint, "statement", section,
        lambda: statements.record_statement(
            actor(), complaint, party=party, respondent_id=respondent_id,
            given_on=form.given_on.data, method=form.method.data, text=form.text.data,
            attachments=received, attachment_category=form.attachment_category.data),
        _("The statement has been recorded."), STATEMENT_FIELDS,
        trigger=f"{CHANGED}, evidence-changed" if received else CHANGED)


def _attachments_error(error: IntakeError) -> IntakeError:
    """The evidence service names its field "file"; here it is "attachments"."""
    error.errors = {"attachments": [error.message]}
    return error


def _reply_link(token: str) -> str:
    return external_url("investigation.reply", token=token)


@bp.route("/complaints/<key>/investigation/replies", methods=["POST"])
@signed_in
def request_reply(key: str):
    complaint = load(key)
    form = ReplyRequestForm(complaint, prefix="reply")
    section = Section(form=form)
    if not form.validate_on_submit():
        return answer(complaint, "reply", section, 422)
    config = current_app.config
    return _write(
        complaint, "reply", section,
        lambda: replies.request_reply(
            actor(), complaint, respondent_id=form.respondent(), due_on=form.due_on.data,
            max_age=config["REPLY_LINK_MAX_AGE"], secret_key=config["SECRET_KEY"],
            link_url=_reply_link, compose=reply_email),
        _("The respondent has been emailed a link to reply in writing."))


@bp.route("/complaints/<key>/investigation/notes", methods=["POST"])
@signed_in
def add_note(key: str):
    complaint = load(key)
    form = NoteForm(prefix="note")
    section = Section(form=form)
    if not form.validate_on_submit():
        return answer(complaint, "note", section, 422)
    return _write(
        complaint, "note", section,
        lambda: notes.record_note(actor(), complaint, held_on=form.held_on.data,
                                  participants=form.participants.data, text=form.text.data),
        _("The interview note has been recorded."))
