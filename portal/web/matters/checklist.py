"""A matter's stage checklist: tick a step (with its document, when one is sent), untick it,
keep a document with it, and download that document (whoever may see the matter; audited).
A step is always looked up within the matter named in the URL: another matter's step id is a
404, like a matter the viewer may not see."""

from __future__ import annotations

from flask import Response, abort, request
from flask_babel import gettext as _

from portal.db import write_transaction
from portal.models.matter import Matter
from portal.models.prevention import MatterChecklistItem
from portal.request_bodies import body_too_large, shows_oversize_body
from portal.security import signed_in
from portal.services import evidence
from portal.services.intake.errors import IntakeError
from portal.services.prevention import checklist as service
from portal.web import downloads, htmx
from portal.web.decision.common import refused_state
from portal.web.intake.context import posted_version
from portal.web.matters import bp
from portal.web.matters.forms import FormState, actor, load
from portal.web.matters.page import section_answer


def _item(matter: Matter, item_id: int) -> MatterChecklistItem:
    item = service.find(matter, item_id)
    if item is None:
        abort(404)
    return item


def _refused(matter: Matter, item_id: int, state: FormState):
    def refused(error: Exception, status: int) -> Response:
        return section_answer(matter, "checklist", status,
                              item_forms={item_id: refused_state(state, error)})
    return refused


def _received(matter: Matter, item_id: int, state: FormState, *, required: bool
              ) -> evidence.ReceivedFile | Response | None:
    """The uploaded document, checked and stored before the write starts; or the answer that
    refuses it (413 too large, 422 not accepted or missing)."""
    upload = request.files.get("document")
    if body_too_large() and not request.files:  # over MAX_CONTENT_LENGTH: never read
        return _refused(matter, item_id, state)(evidence.too_large(), 413)
    if upload is None or not upload.filename:
        if required:
            error = IntakeError(_("Choose the file to keep with this step."), field="document")
            return _refused(matter, item_id, state)(error, 422)
        return None
    try:
        return evidence.receive(upload.stream, upload.filename)
    except evidence.EvidenceError as error:
        error.errors = {"document": [error.message]}
        return _refused(matter, item_id, state)(error, htmx.refusal_status(error) or 422)


@bp.route("/matters/<reference>/checklist/<int:item_id>/tick", methods=["POST"])
@signed_in
@shows_oversize_body  # a document over the portal's limit: the message beside the file field
def tick(reference: str, item_id: int):
    matter = load(reference)
    item = _item(matter, item_id)
    state = FormState(version=posted_version())
    received = _received(matter, item.id, state, required=False)
    if isinstance(received, Response):
        return received
    matter_id = matter.id
    return htmx.write(
        lambda: service.tick(actor(), matter_id, item_id, expected_version=state.version,
                             document=received),
        done=lambda _item: section_answer(matter, "checklist", note=_("The step is ticked.")),
        refused=_refused(matter, item_id, state))


@bp.route("/matters/<reference>/checklist/<int:item_id>/untick", methods=["POST"])
@signed_in
def untick(reference: str, item_id: int):
    matter = load(reference)
    _item(matter, item_id)
    state = FormState(version=posted_version())
    matter_id = matter.id
    return htmx.write(
        lambda: service.untick(actor(), matter_id, item_id, expected_version=state.version),
        done=lambda _item: section_answer(matter, "checklist",
                                          note=_("The tick is taken back.")),
        refused=_refused(matter, item_id, state))


@bp.route("/matters/<reference>/checklist/<int:item_id>/document", methods=["POST"])
@signed_in
@shows_oversize_body
def attach(reference: str, item_id: int):
    matter = load(reference)
    _item(matter, item_id)
    state = FormState(version=posted_version())
    received = _received(matter, item_id, state, required=True)
    if isinstance(received, Response):
        return received
    matter_id = matter.id
    return htmx.write(
        lambda: service.attach(actor(), matter_id, item_id, received,
                               expected_version=state.version),
        done=lambda _item: section_answer(matter, "checklist",
                                          note=_("The document is kept with the step.")),
        refused=_refused(matter, item_id, state))


@bp.route("/matters/<reference>/checklist/<int:item_id>/document")
@signed_in
def document(reference: str, item_id: int):
    """The step's document, always as an attachment; each download is audited."""
    matter = load(reference)
    item = _item(matter, item_id)
    if not item.document_stored:
        abort(404)
    try:
        path = service.path_of(item)
    except IntakeError:
        abort(404)
    if not path.is_file():
        abort(404)
    name, ascii_name = service.download_names(item)
    content_type = item.document_type or "application/octet-stream"
    user = actor()
    seen = (user.id, user.username or user.name, matter.id, item.id, item.document_sha256)
    with write_transaction():
        service.record_download(*seen)
    return downloads.attachment(path, content_type=content_type, name=name,
                                ascii_name=ascii_name)
