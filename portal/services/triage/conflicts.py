"""Declared conflicts: staff declare their own on a complaint they can see, a partner records
someone else's. The declaration hides the whole case file from that person (the visibility
rule) and ends any assignment they held on it, which stays in the history."""

from __future__ import annotations

from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint
from portal.models.investigation import Assignment, ConflictDeclaration
from portal.models.user import Role, User
from portal.services import audit
from portal.services.triage import people
from portal.services.triage.common import REASON_MAX, TriageError, required_text, touch


def may_declare_own(complaint: Complaint, user: User) -> bool:
    return complaint.can_view(user)


def may_record_others(complaint: Complaint, user: User) -> bool:
    return user.has_role(Role.PARTNER) and complaint.can_view(user)


def end_assignments(actor: User, complaint: Complaint, user: User) -> list[Assignment]:
    """End `user`'s current assignments on `complaint` (the rows stay, as history)."""
    now = clock.now()
    ended = [a for a in complaint.current_assignments if a.user_id == user.id]
    for row in ended:
        row.ended_at, row.ended_by_id = now, actor.id
    return ended


def declare(actor: User, complaint: Complaint, user_id: int | None, reason: str | None
            ) -> ConflictDeclaration:
    """Record that the user `user_id` has a conflict on `complaint` (their own when it is
    the actor's id)."""
    own = user_id == actor.id
    user = actor if own else people.user_named(user_id)
    if user is None:
        raise TriageError(_("Choose whose conflict it is."), field="user")
    if own and not may_declare_own(complaint, actor):
        raise TriageError(_("A conflict is declared on a complaint one can see."))
    if not own and not may_record_others(complaint, actor):
        raise TriageError(_("Only a partner can record someone else's conflict."))
    if complaint.declared_conflict(user):
        raise TriageError(_("A conflict of %(name)s is already recorded on this complaint.",
                            name=user.name), field="user")
    text = required_text(reason, field="reason", limit=REASON_MAX,
                         missing=_("Say what the conflict is."))
    declaration = ConflictDeclaration(user=user, reason=text, declared_by_id=actor.id)
    complaint.conflicts.append(declaration)
    ended = end_assignments(actor, complaint, user)
    handler_cleared = complaint.handler_id == user.id
    if handler_cleared:  # a conflicted person can no longer be the client's contact
        complaint.handler = None
    touch(complaint)
    db.session.flush()
    audit.record("conflict.declared", actor=actor, obj=complaint, details={
        "declaration_id": declaration.id, "user_id": user.id, "own": own,
        "reason_length": len(text), "ended_assignment_ids": [a.id for a in ended],
        "handler_cleared": handler_cleared})
    return declaration
