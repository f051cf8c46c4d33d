"""The register's routes: add an item, open (download) one, and its preview image."""

from __future__ import annotations

from flask import Response, abort, flash, request, send_file
from flask_babel import gettext as _

from portal.db import db, write_transaction
from portal.models.complaint import Complaint, Evidence
from portal.request_bodies import body_too_large, shows_oversize_body
from portal.security import signed_in
from portal.services import evidence as evidence_service
from portal.services.intake.errors import IntakeError
from portal.services.investigation import previews, register
from portal.web import downloads, htmx
from portal.web.intake_forms import EvidenceForm
from portal.web.investigation import bp
from portal.web.investigation.context import (
    CHANGED,
    Section,
    actor,
    blank,
    load,
    page_context,
    refuse,
    row_of,
    workspace_url,
)


def answer(complaint: Complaint, section: Section, status: int = 200) -> Response:
    changed = status == 200
    if changed and not htmx.wants_fragment():
        flash(section.note or _("Done."), "ok")
    return htmx.answer("investigation/_evidence.html", "investigation/workspace.html",
                       lambda _full: page_context(complaint, {"evidence": section}),
                       status=status, trigger=CHANGED if changed else None,
                       redirect_to=workspace_url(complaint, "ws-evidence"))


@bp.route("/complaints/<key>/investigation/evidence", methods=["POST"])
@signed_in
@shows_oversize_body  # a file over the portal's limit: the message beside the file field
def add_evidence(key: str):
    complaint = load(key)
    form = EvidenceForm(prefix="evidence")
    section = Section(form=form)
    if body_too_large() and not request.files:  # over MAX_CONTENT_LENGTH: never read
        refuse(section, evidence_service.too_large())
        return answer(complaint, section, 413)
    if not form.validate_on_submit():
        return answer(complaint, section, 422)
    upload = form.file.data
    try:  # copied, hashed and type-checked before the write starts
        received = evidence_service.receive(upload.stream, upload.filename)
    except evidence_service.EvidenceError as error:
        refuse(section, error)
        return answer(complaint, section, htmx.refusal_status(error) or 422)

    def refused(error: IntakeError, status: int) -> Response:
        refuse(section, error)
        return answer(complaint, section, status)

    return htmx.write(
        lambda: register.add_evidence(actor(), complaint, received,
                                      category=form.category.data,
                                      description=form.description.data),
        done=lambda _item: answer(complaint, Section(form=blank(complaint, "evidence"),
                                                     note=_("The file has been added."))),
        refused=refused)


@bp.route("/complaints/<key>/investigation/evidence/<int:evidence_id>")
@signed_in
def open_evidence(key: str, evidence_id: int):
    """The file itself, always as an attachment (never shown inline); audited."""
    complaint = load(key)
    item = row_of(Evidence, complaint, evidence_id)
    try:
        path = evidence_service.path_of(item)
    except IntakeError:
        abort(404)
    if not path.is_file():
        abort(404)
    user = actor()
    opened = {"actor_id": user.id, "actor_label": user.username or user.name,
              "complaint_id": complaint.id, "evidence_id": item.id, "sha256": item.sha256}
    sent = {"content_type": item.content_type, "name": evidence_service.download_name(item),
            "ascii_name": evidence_service.ascii_download_name(item)}
    with write_transaction():
        register.record_opened(**opened)
    return downloads.attachment(path, **sent)


@bp.route("/complaints/<key>/investigation/evidence/<int:evidence_id>/preview")
@signed_in
def preview(key: str, evidence_id: int):
    """A PNG the portal drew from the file (page 1 of a PDF, a smaller copy of an image)."""
    complaint = load(key)
    item = row_of(Evidence, complaint, evidence_id)
    if previews.kind_of(item.content_type) != previews.IMAGE:
        abort(404)
    try:
        source = evidence_service.path_of(item)
    except IntakeError:
        abort(404)
    content_type, sha256 = item.content_type, item.sha256
    db.session.commit()  # end the read: rendering may take seconds and needs no database
    if not source.is_file():
        abort(404)
    image = previews.render(source, content_type, sha256)
    if image is None:
        abort(404)
    response = send_file(image, mimetype="image/png", conditional=False, etag=False,
                         max_age=0, download_name="preview.png")
    response.headers["Content-Security-Policy"] = downloads.DOWNLOAD_CSP
    return response
