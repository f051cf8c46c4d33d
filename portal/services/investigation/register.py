"""The evidence register: intake's items and the ones the investigators add, each opened
(downloaded) with an audit event of its own."""

from __future__ import annotations

from collections.abc import Iterable

from portal.db import discard_on_rollback
from portal.models.complaint import EVIDENCE_INVESTIGATION, Complaint, Evidence
from portal.models.user import User
from portal.services import audit
from portal.services import evidence as evidence_service
from portal.services.evidence import ReceivedFile
from portal.services.investigation.common import require_open, require_workspace


def receive_all(uploads: Iterable[tuple]) -> list[ReceivedFile]:
    """Copy, hash and type-check each (stream, filename) before any transaction starts; when
    one is refused, the ones already stored are removed and the error goes up."""
    received: list[ReceivedFile] = []
    try:
        for stream, filename in uploads:
            received.append(evidence_service.receive(stream, filename))
    except Exception:
        discard(received)
        raise
    return received


def discard(received: Iterable[ReceivedFile]) -> None:
    """Remove stored uploads that no row will name (the request was refused first)."""
    directory = evidence_service.storage_dir()
    for item in received:
        (directory / item.stored_name).unlink(missing_ok=True)


def follow_transaction(received: Iterable[ReceivedFile]) -> None:
    """The files go if the write that should record them rolls back."""
    directory = evidence_service.storage_dir()
    for item in received:
        discard_on_rollback(directory / item.stored_name)


def add_evidence(actor: User, complaint: Complaint, received: ReceivedFile, *,
                 category: str | None, description: str | None = None) -> Evidence:
    """A new item of the register (audited as evidence.added, with its phase)."""
    follow_transaction([received])
    require_workspace(actor, complaint)
    require_open(complaint)
    return evidence_service.record_received(
        actor, complaint, received, category=category or "", description=description,
        phase=EVIDENCE_INVESTIGATION)


def record_opened(*, actor_id: int, actor_label: str, complaint_id: int, evidence_id: int,
                  sha256: str) -> None:
    """Opening an item is audited; the ids were read before this short write began, so
    nothing is reloaded to name them."""
    audit.record("evidence.opened", actor_id=actor_id, actor_label=actor_label,
                 object_type="complaint", object_id=complaint_id,
                 details={"evidence_id": evidence_id, "sha256": sha256})
