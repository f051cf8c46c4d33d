"""The client withdraws the complaint, at any stage before it is closed: how they said so
and why are recorded, every clock stops and the client gets a bilingual confirmation."""

from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
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


class WithdrawalMethod(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    LETTER = "letter"
    IN_PERSON = "in_person"
    ONLINE = "online"


WITHDRAWAL_METHOD_LABELS = {
    WithdrawalMethod.PHONE: _l("By phone"),
    WithdrawalMethod.EMAIL: _l("By email"),
    WithdrawalMethod.LETTER: _l("By letter"),
    WithdrawalMethod.IN_PERSON: _l("In person"),
    WithdrawalMethod.ONLINE: _l("Online"),
}

# Not yet a complaint, or already finished: nothing to withdraw.
NOT_WITHDRAWABLE = (State.DRAFT, State.DISCARDED, State.CLOSED, State.WITHDRAWN)


def may_record(complaint: Complaint, user: User) -> bool:
    """Reception, a partner, the handler or the lead records what the client said."""
    if not complaint.can_view(user):
        return False
    lead = complaint.lead
    return (user.has_role(Role.RECEPTIONIST, Role.PARTNER) or complaint.handler_id == user.id
            or (lead is not None and lead.id == user.id))


def may_withdraw(complaint: Complaint, user: User) -> bool:
    return complaint.state not in NOT_WITHDRAWABLE and may_record(complaint, user)


def withdraw(actor: User, complaint: Complaint, *, reason: str | None, method: str | None,
             expected_version: int | None = None) -> Complaint:
    check_version(complaint, expected_version)
    if not may_record(complaint, actor):
        raise TriageError(_("Reception, a partner, the handler or the lead records a "
                            "withdrawal."))
    if complaint.state in NOT_WITHDRAWABLE:
        raise TriageError(_("This complaint cannot be withdrawn: it is closed, withdrawn or "
                            "not registered yet."))
    if method not in set(WithdrawalMethod):
        raise TriageError(_("Choose how the client said they withdraw."), field="method")
    text = required_text(reason, field="reason", limit=REASON_MAX,
                         missing=_("Record the client's reason (or that they gave none)."))
    from_state, now = complaint.state, clock.now()
    complaint.state = State.WITHDRAWN
    complaint.withdrawn_at, complaint.withdrawal_method = now, method
    complaint.withdrawal_reason = text
    touch(complaint)
    db.session.flush()
    deadlines.stop_all(complaint, now)
    audit.record("complaint.withdrawn", actor=actor, obj=complaint, details={
        "from_state": from_state, "method": method, "reason_length": len(text)})
    letters.queue_withdrawal_confirmation(actor, complaint)
    return complaint
