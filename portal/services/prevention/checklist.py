"""A matter's stage checklist: its own copy of its type's template (core.start_checklist), so
that editing the template never rewrites a matter's record.

Whoever may record on the matter ticks a step (who and when), unticks one ticked by mistake,
and keeps a document with it (the signed engagement contract, ...). A document is checked
like evidence (services/evidence.py: by its content, within the size limit, hashed, stored
under a random name) before the write starts; a step whose template says it needs a document
is ticked only with one. An item is always looked up within its matter: another matter's item
id is not found. Each change checks the item's version (409) and is audited without names.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import db, discard_on_rollback, remove_after_commit
from portal.models.matter import Matter
from portal.models.prevention import STAGE_LABELS, MatterChecklistItem, Stage
from portal.models.user import User
from portal.services import audit, evidence
from portal.services.evidence import ReceivedFile
from portal.services.intake.errors import ConflictError
from portal.services.prevention.matters import PreventionError, locked


class ItemChanged(ConflictError):
    def __init__(self) -> None:
        super().__init__(_("Someone else changed this step of the checklist after you opened "
                           "the page, so nothing was saved. Reload the page to see it as it is "
                           "now, then try again."))


def grouped(matter: Matter) -> list[tuple[str, str, list[MatterChecklistItem]]]:
    """(stage, its label, its items in order) for each stage the checklist has, in the
    standard procedure's order (one query)."""
    items = db.session.scalars(
        select(MatterChecklistItem).where(MatterChecklistItem.matter_id == matter.id)
        .options(joinedload(MatterChecklistItem.ticked_by))
        .order_by(MatterChecklistItem.position, MatterChecklistItem.id))
    stages: dict[str, list[MatterChecklistItem]] = {stage.value: [] for stage in Stage}
    for item in items:
        stages.setdefault(item.stage, []).append(item)
    return [(stage, str(STAGE_LABELS.get(stage, stage)), rows)
            for stage, rows in stages.items() if rows]


def find(matter: Matter, item_id: int) -> MatterChecklistItem | None:
    """The item, only when it is on this matter's checklist."""
    item = db.session.get(MatterChecklistItem, item_id)
    return item if item is not None and item.matter_id == matter.id else None


def _locked(actor: User, matter_id: int, item_id: int,
            expected_version: int | None) -> tuple[Matter, MatterChecklistItem]:
    matter = locked(matter_id, actor)
    item = db.session.get(MatterChecklistItem, item_id, with_for_update=True,
                          populate_existing=True)
    if item is None or item.matter_id != matter.id:
        raise PreventionError(_("This step is not on the matter's checklist."))
    if expected_version is None or item.version != expected_version:
        raise ItemChanged()
    return matter, item


def _keep(item: MatterChecklistItem, document: ReceivedFile) -> Path | None:
    """Put `document` on the item; the path of the file it replaces (removed after commit)."""
    discard_on_rollback(evidence.storage_dir() / document.stored_name)
    replaced = path_of(item) if item.document_stored else None
    item.document_name, item.document_stored = document.original_name, document.stored_name
    item.document_type, item.document_size = document.content_type, document.size
    item.document_sha256 = document.sha256
    return replaced


def _details(matter: Matter, item: MatterChecklistItem, **more) -> dict:
    details = {"matter_id": matter.id, "item_id": item.id, "stage": item.stage,
               "template_item_id": item.template_item_id, **more}
    if item.document_stored:
        details.update(sha256=item.document_sha256, size=item.document_size,
                       content_type=item.document_type)
    return details


def tick(actor: User, matter_id: int, item_id: int, *, expected_version: int | None,
         document: ReceivedFile | None = None) -> MatterChecklistItem:
    """Tick a step (with its document, when one is sent); a step that needs a document is
    refused without one."""
    if document is not None:
        discard_on_rollback(evidence.storage_dir() / document.stored_name)
    matter, item = _locked(actor, matter_id, item_id, expected_version)
    if item.is_ticked:
        raise PreventionError(_("This step is ticked already."))
    if item.needs_document and document is None and not item.document_stored:
        raise PreventionError(_("This step keeps a document: attach it (for example the "
                                "signed contract), then tick it."), field="document")
    replaced = _keep(item, document) if document is not None else None
    item.ticked_at, item.ticked_by_id = clock.now(), actor.id
    db.session.flush()
    audit.record("matter.checklist_ticked", actor=actor, obj=matter,
                 details=_details(matter, item, document_added=document is not None))
    if replaced is not None:
        remove_after_commit(replaced)
    return item


def untick(actor: User, matter_id: int, item_id: int, *,
           expected_version: int | None) -> MatterChecklistItem:
    """Take a tick back (ticked by mistake); its document stays with the step."""
    matter, item = _locked(actor, matter_id, item_id, expected_version)
    if not item.is_ticked:
        raise PreventionError(_("This step is not ticked."))
    ticked_by = item.ticked_by_id
    item.ticked_at, item.ticked_by_id = None, None
    db.session.flush()
    audit.record("matter.checklist_unticked", actor=actor, obj=matter,
                 details=_details(matter, item, ticked_by_id=ticked_by))
    return item


def attach(actor: User, matter_id: int, item_id: int, document: ReceivedFile, *,
           expected_version: int | None) -> MatterChecklistItem:
    """Keep a document with a step, replacing the one it had (whose file is removed once the
    change is committed)."""
    discard_on_rollback(evidence.storage_dir() / document.stored_name)
    matter, item = _locked(actor, matter_id, item_id, expected_version)
    previous = item.document_sha256
    replaced = _keep(item, document)
    db.session.flush()
    audit.record("matter.checklist_document_added", actor=actor, obj=matter,
                 details=_details(matter, item, replaces_sha256=previous))
    if replaced is not None:
        remove_after_commit(replaced)
    return item


# -- the document ----------------------------------------------------------------------------

def path_of(item: MatterChecklistItem) -> Path:
    return evidence.path_of(SimpleNamespace(stored_name=item.document_stored or ""))


def download_names(item: MatterChecklistItem) -> tuple[str, str]:
    """The name to download the document under, and its plain-ASCII form."""
    as_file = SimpleNamespace(original_name=item.document_name, id=item.id,
                              content_type=item.document_type)
    return evidence.download_name(as_file), evidence.ascii_download_name(as_file)


def record_download(actor_id: int, actor_label: str, matter_id: int, item_id: int,
                    sha256: str | None) -> None:
    """Audit a download (ids read before the write began, so nothing reloads inside it)."""
    audit.record("matter.checklist_document_downloaded", actor_id=actor_id,
                 actor_label=actor_label, object_type="matter", object_id=matter_id,
                 details={"matter_id": matter_id, "item_id": item_id, "sha256": sha256})
