"""Closing a complaint at triage, without an investigation: out of scope, or a duplicate of
another complaint the partner can see (linked). The clocks stop and the client gets a
bilingual notice by email."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models.complaint import UNSORTED_STATES, ClosureKind, Complaint, State
from portal.models.user import Role, User
from portal.services import audit, deadlines
from portal.services.triage import letters
from portal.services.triage.common import (
    REASON_MAX,
    TriageError,
    check_version,
    required_text,
    touch,
)

CLOSABLE = (State.REGISTERED, State.TRIAGED)


def may_close(complaint: Complaint, user: User) -> bool:
    """A partner, before anyone is assigned to investigate."""
    return (complaint.state in CLOSABLE and user.has_role(Role.PARTNER)
            and complaint.can_view(user))


def find_duplicate(actor: User, complaint: Complaint, key: str | None) -> Complaint:
    """The other complaint `key` names, if `actor` can see it: never this one, never a draft."""
    named = Complaint.with_key(key or "")
    if named is None:
        raise TriageError(_("Enter the reference of the complaint this one duplicates, "
                            "for example TS-2026-00012."), field="duplicate_of")
    other = db.session.scalar(select(Complaint).where(named, Complaint.visible_to(actor)))
    if other is None or other.state in UNSORTED_STATES or not other.reference:
        raise TriageError(_("No registered complaint you can see has the reference "
                            "%(key)s.", key=key.strip()), field="duplicate_of")
    if other.id == complaint.id:
        raise TriageError(_("A complaint cannot be a duplicate of itself."),
                          field="duplicate_of")
    if other.duplicate_of_id == complaint.id:
        raise TriageError(_("%(reference)s is already closed as a duplicate of this one.",
                            reference=other.label), field="duplicate_of")
    return other


def close(actor: User, complaint: Complaint, *, kind: str | None, reason: str | None,
          duplicate_of: str | None = None, expected_version: int | None = None) -> Complaint:
    """Close at triage: state `closed`, every clock stopped, the client's notice queued."""
    check_version(complaint, expected_version)
    if not may_close(complaint, actor):
        raise TriageError(_("A partner may close a complaint at triage, before the "
                            "investigation is assigned."))
    if kind not in set(ClosureKind):
        raise TriageError(_("Choose why the complaint is closed."), field="kind")
    other = find_duplicate(actor, complaint, duplicate_of) \
        if kind == ClosureKind.DUPLICATE else None
    text = required_text(reason, field="reason", limit=REASON_MAX,
                         missing=_("Explain the decision to the client."))
    from_state, now = complaint.state, clock.now()
    complaint.state = State.CLOSED
    complaint.closure_kind, complaint.closure_reason = kind, text
    complaint.duplicate_of = other
    complaint.closed_at = now
    complaint.triaged_at = complaint.triaged_at or now
    complaint.triaged_by_id = complaint.triaged_by_id or actor.id
    complaint.handler = complaint.handler or actor
    touch(complaint)
    db.session.flush()
    deadlines.stop_all(complaint, now)
    audit.record("complaint.closed", actor=actor, obj=complaint, details={
        "closure_kind": kind, "duplicate_of_id": other.id if other else None,
        "from_state": from_state, "reason_length": len(text)})
    letters.queue_closure_notice(actor, complaint)
    return complaint
