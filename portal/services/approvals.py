"""Two-partner approval of changes that grant access (see portal/models/access_request.py).

`request_change` records what a partner asked for; `approve` (by another partner) applies it,
`reject` drops it. Services flush and audit, never commit. Every event is recorded against the
account concerned, so that account's audit history tells the whole story.
"""

from __future__ import annotations

from collections import defaultdict

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import selectinload

from portal import clock
from portal.config import second_partner_approval
from portal.db import db
from portal.models.access_request import AccessRequest, AccessRequestKind, AccessRequestStatus
from portal.models.user import Role, User
from portal.services import audit


class ApprovalError(ValueError):
    """The request cannot be decided as asked; `code` names the rule (see the model)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def approval_required() -> bool:
    return second_partner_approval(current_app.config)


def _role_values(roles: set[Role]) -> list[str]:
    return sorted(role.value for role in roles)


def request_change(
    actor: User,
    user: User,
    kind: AccessRequestKind,
    *,
    roles: set[Role] | None = None,
    password_hash: str | None = None,
    supersedes: list[int] | None = None,
) -> AccessRequest:
    """Record one pending request and audit it against the account concerned."""
    request = AccessRequest(
        kind=kind.value, user_id=user.id, roles=_role_values(roles or set()),
        password_hash=password_hash, status=AccessRequestStatus.PENDING.value,
        requested_by_id=actor.id, requested_at=clock.now(),
    )
    db.session.add(request)
    db.session.flush()
    details: dict = {"request_id": request.id, "kind": kind.value}
    if request.roles:
        details["roles"] = request.roles
    if supersedes:
        details["supersedes"] = supersedes
    audit.record("access.requested", actor=actor, obj=user, details=details)
    return request


def _pending(user: User, kind: AccessRequestKind) -> list[AccessRequest]:
    return list(db.session.scalars(
        select(AccessRequest).where(
            AccessRequest.user_id == user.id, AccessRequest.kind == kind.value,
            AccessRequest.status == AccessRequestStatus.PENDING.value)
        .order_by(AccessRequest.id)))


def pending_creation(user: User) -> AccessRequest | None:
    pending = _pending(user, AccessRequestKind.CREATE_ACCOUNT)
    return pending[0] if pending else None


def request_roles(actor: User, user: User, wanted: set[Role]) -> list[AccessRequest]:
    """One request per role not held and not already waiting; a waiting role that is no
    longer wanted is withdrawn. Returns the new requests."""
    waiting: dict[Role, AccessRequest] = {}
    for request in _pending(user, AccessRequestKind.GRANT_ROLES):
        for role in request.role_set:
            waiting[role] = request
    for role, request in waiting.items():
        if role not in wanted and request.is_pending:
            reject(actor, request)
    return [request_change(actor, user, AccessRequestKind.GRANT_ROLES, roles={role})
            for role in sorted(wanted - waiting.keys())]


def request_enable(actor: User, user: User) -> list[AccessRequest]:
    if _pending(user, AccessRequestKind.ENABLE_ACCOUNT):
        return []
    return [request_change(actor, user, AccessRequestKind.ENABLE_ACCOUNT)]


def withdraw_enable(actor: User, user: User) -> None:
    for request in _pending(user, AccessRequestKind.ENABLE_ACCOUNT):
        reject(actor, request)


def request_password(actor: User, user: User, password_hash: str) -> AccessRequest:
    """A new password replaces one still waiting: only the latest may be approved."""
    earlier = [r.id for r in _pending(user, AccessRequestKind.RESET_PASSWORD)]
    if earlier:
        _close(earlier, AccessRequestStatus.SUPERSEDED, actor)
    return request_change(actor, user, AccessRequestKind.RESET_PASSWORD,
                          password_hash=password_hash, supersedes=earlier)


def _close(ids: list[int], status: AccessRequestStatus, actor: User | None) -> int:
    """pending → decided, only if still pending: two partners deciding at the same moment
    cannot both win (the loser's conditional UPDATE matches no row)."""
    result = db.session.execute(
        update(AccessRequest)
        .where(AccessRequest.id.in_(ids),
               AccessRequest.status == AccessRequestStatus.PENDING.value)
        .values(status=status.value, decided_by_id=actor.id if actor else None,
                decided_at=clock.now(), password_hash=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def _decide(actor: User, request: AccessRequest, status: AccessRequestStatus) -> None:
    if _close([request.id], status, actor) != 1:
        raise ApprovalError("decided")
    db.session.refresh(request)


def approve(actor: User, request: AccessRequest) -> AccessRequest:
    """Apply the request. Refused (ApprovalError) to its requester, to the account concerned,
    and once it has been decided."""
    refusal = request.approval_refusal(actor)
    if refusal:
        raise ApprovalError(refusal)
    user = request.user
    password_hash = request.password_hash
    _decide(actor, request, AccessRequestStatus.APPROVED)
    _apply(request, user, password_hash)
    audit.record("access.approved", actor=actor, obj=user, details=_details(request))
    return request


def _apply(request: AccessRequest, user: User, password_hash: str | None) -> None:
    kind = AccessRequestKind(request.kind)
    if kind in (AccessRequestKind.CREATE_ACCOUNT, AccessRequestKind.ENABLE_ACCOUNT):
        user.active = True
    if kind in (AccessRequestKind.CREATE_ACCOUNT, AccessRequestKind.GRANT_ROLES):
        user.set_roles(user.roles | request.role_set)
    if kind is AccessRequestKind.RESET_PASSWORD and password_hash:
        user.password_hash = password_hash
        user.password_changed_at = clock.now()
        user.rotate_session_token()
    db.session.flush()


def reject(actor: User, request: AccessRequest) -> AccessRequest:
    if not request.can_reject(actor):
        raise ApprovalError("decided" if not request.is_pending else "not_partner")
    _decide(actor, request, AccessRequestStatus.REJECTED)
    audit.record("access.rejected", actor=actor, obj=request.user, details=_details(request))
    return request


def record_refusal(actor: User, request: AccessRequest, code: str) -> None:
    """Audit an approval refused by the rules (e.g. a partner approving their own change)."""
    audit.record("access.approval_refused", actor=actor, obj=request.user,
                 details={**_details(request), "reason": code})


def _details(request: AccessRequest) -> dict:
    details: dict = {"request_id": request.id, "kind": request.kind,
                     "requested_by": request.requested_by_id}
    if request.roles:
        details["roles"] = list(request.roles)
    return details


# -- reading -------------------------------------------------------------------------------

def pending_requests() -> list[AccessRequest]:
    return list(db.session.scalars(
        select(AccessRequest)
        .where(AccessRequest.status == AccessRequestStatus.PENDING.value)
        .options(selectinload(AccessRequest.user), selectinload(AccessRequest.requested_by))
        .order_by(AccessRequest.requested_at, AccessRequest.id)))


def pending_by_user(user_ids: list[int] | None = None) -> dict[int, list[AccessRequest]]:
    """Pending requests grouped by the account concerned (for the user list: one query)."""
    query = select(AccessRequest).where(
        AccessRequest.status == AccessRequestStatus.PENDING.value)
    if user_ids is not None:
        query = query.where(AccessRequest.user_id.in_(user_ids))
    grouped: dict[int, list[AccessRequest]] = defaultdict(list)
    for request in db.session.scalars(query.order_by(AccessRequest.id)):
        grouped[request.user_id].append(request)
    return dict(grouped)


def pending_for(user: User) -> list[AccessRequest]:
    return pending_by_user([user.id]).get(user.id, [])
