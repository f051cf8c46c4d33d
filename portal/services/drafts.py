"""Drafts that should not go on: discarding one, and noticing that a client already has one.

A discarded draft is kept (state `discarded`, with who, when and why) so that the audit trail
still points at a record; it leaves the home page and the open lists. Duplicate detection
only says so: the receptionist decides, nothing is ever merged.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.matter import Client
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import IntakeError

REASON_MAX = 2000
RECENT = timedelta(days=30)
# States in which a complaint is no longer open: a new draft beside them is no duplicate.
FINISHED = (State.CLOSED, State.WITHDRAWN, State.DISCARDED)


class DraftError(IntakeError):
    """A rule said no; the message is translated. `stale` marks a version conflict (409)."""

    def __init__(self, message: str, *, stale: bool = False,
                 field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.stale = stale


def discard(actor: User, complaint: Complaint, reason: str | None, *,
            expected_version: int | None = None) -> Complaint:
    """Discard a draft with a reason: kept for the audit, gone from the worklists."""
    if not complaint.is_draft:
        raise DraftError(_("Only a draft can be discarded; this complaint is registered."))
    if expected_version is not None and expected_version != complaint.version:
        raise DraftError(_("Someone else changed this draft after you opened it. Reload the "
                           "page and decide again."), stale=True)
    reason = " ".join((reason or "").split())
    if not reason:
        raise DraftError(_("Say why this draft is discarded (for example: a duplicate of "
                           "D12, or a test)."), field="reason")
    if len(reason) > REASON_MAX:
        raise DraftError(_("The reason has at most %(max)d characters.", max=REASON_MAX),
                         field="reason")
    complaint.state = State.DISCARDED
    complaint.discarded_at = clock.now()
    complaint.discarded_by = actor
    complaint.discard_reason = reason
    db.session.flush()
    # The reason is free text that may name people: it stays on the record, not in the trail.
    audit.record("complaint.discarded", actor=actor, obj=complaint,
                 details={"from_state": State.DRAFT.value, "reason_length": len(reason)})
    return complaint


def same_client(client: Client) -> list:
    """SQL conditions naming `client` or another record with the same email or phone."""
    conditions = [Complaint.complainant_id == client.id]
    others = []
    if client.email:
        others.append(func.lower(Client.email) == client.email.strip().lower())
    if client.phone:
        others.append(Client.phone == client.phone.strip())
    if others:
        conditions.append(Complaint.complainant_id.in_(select(Client.id).where(or_(*others))))
    return conditions


def recent_for_client(viewer: User, complaint: Complaint) -> list[Complaint]:
    """The viewer's visible drafts and open complaints of the same client from the last 30
    days, other than `complaint` itself: candidates to open instead of going on."""
    client = complaint.complainant
    if client is None:
        return []
    since = clock.now() - RECENT
    query = (select(Complaint)
             .where(or_(*same_client(client)), Complaint.id != complaint.id,
                    Complaint.state.not_in([s.value for s in FINISHED]),
                    Complaint.created_at >= since, Complaint.visible_to(viewer))
             .order_by(Complaint.created_at.desc()).limit(5))
    return list(db.session.scalars(query))
