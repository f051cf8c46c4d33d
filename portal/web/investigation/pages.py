"""The workspace page, a statement or a note in full, and the partials that refresh after
a change elsewhere on the page (the register, the chronology)."""

from __future__ import annotations

from portal.models.complaint import Complaint
from portal.models.investigation import InterviewNote, Statement
from portal.security import signed_in
from portal.services.investigation import workspace as workspace_service
from portal.web import htmx
from portal.web.investigation import bp
from portal.web.investigation.context import actor, labels, load, page_context, row_of


@bp.route("/complaints/<key>/investigation")
@signed_in
def workspace(key: str):
    complaint = load(key)
    response = htmx.page_or_partial("investigation/workspace.html",
                                    "investigation/_workspace.html", **page_context(complaint))
    _audit_view(complaint, "workspace")
    return response


@bp.route("/complaints/<key>/investigation/evidence")
@signed_in
def register(key: str):
    """The register alone: it refreshes when a statement brought attachments."""
    return htmx.partial("investigation/_evidence.html", **page_context(load(key)))


@bp.route("/complaints/<key>/investigation/chronology")
@signed_in
def chronology(key: str):
    """The chronology alone: it refreshes after every change on the page."""
    return htmx.partial("investigation/_chronology.html", **page_context(load(key)))


@bp.route("/complaints/<key>/investigation/statements/<int:statement_id>")
@signed_in
def statement(key: str, statement_id: int):
    complaint = load(key)
    item = row_of(Statement, complaint, statement_id)
    attachments = workspace_service.statement_attachments(item)
    response = htmx.page_or_partial(
        "investigation/statement.html", "investigation/_statement_full.html",
        complaint=complaint, statement=item, attachments=attachments, **labels())
    _audit_view(complaint, "statement", statement_id=item.id)
    return response


@bp.route("/complaints/<key>/investigation/notes/<int:note_id>")
@signed_in
def note(key: str, note_id: int):
    complaint = load(key)
    item = row_of(InterviewNote, complaint, note_id)
    response = htmx.page_or_partial("investigation/note.html", "investigation/_note_full.html",
                                    complaint=complaint, note=item, **labels())
    _audit_view(complaint, "note", note_id=item.id)
    return response


def _audit_view(complaint: Complaint, view: str, **ids: int) -> None:
    """After rendering, in a short write of its own (as opening the record does)."""
    user = actor()
    who = {"actor_id": user.id, "actor_label": user.username or user.name}
    complaint_id = complaint.id
    workspace_service.record_view(**who, complaint_id=complaint_id, view=view, **ids)
