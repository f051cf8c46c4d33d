"""Two-partner approval: a change that grants access waits for a second partner.

Creating an account, enabling a disabled one, granting roles and resetting someone's password
all let the partner who asks act as (or through) that account, so each is recorded here as a
pending request and takes effect only once another partner, who is neither the requester nor
the account concerned, approves it. Disabling and revoking take effect at once elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import Role, User


class AccessRequestKind(StrEnum):
    CREATE_ACCOUNT = "create_account"
    ENABLE_ACCOUNT = "enable_account"
    GRANT_ROLES = "grant_roles"
    RESET_PASSWORD = "reset_password"  # noqa: S105 - a kind of request, not a password


class AccessRequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # a newer request of the same kind for the same account


ACCESS_REQUEST_LABELS = {
    AccessRequestKind.CREATE_ACCOUNT: _l("New account"),
    AccessRequestKind.ENABLE_ACCOUNT: _l("Enable account"),
    AccessRequestKind.GRANT_ROLES: _l("Grant roles"),
    AccessRequestKind.RESET_PASSWORD: _l("Password reset"),
}


class AccessRequest(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    # the roles to add (create_account, grant_roles)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    # the new password's hash (reset_password); cleared once the request is decided
    password_hash: Mapped[str | None] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(
        String(12), default=AccessRequestStatus.PENDING, index=True
    )
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])

    @property
    def is_pending(self) -> bool:
        return self.status == AccessRequestStatus.PENDING

    @property
    def role_set(self) -> set[Role]:
        return {Role(value) for value in self.roles or []}

    def approval_refusal(self, partner: User) -> str | None:
        """Why `partner` may not approve this request (a code), or None if they may.

        Nobody approves a request they made, or one that concerns their own account: that is
        the whole point of a second partner.
        """
        if not self.is_pending:
            return "decided"
        if not (partner.active and partner.has_role(Role.PARTNER)):
            return "not_partner"
        if partner.id == self.requested_by_id:
            return "own_request"
        if partner.id == self.user_id:
            return "own_account"
        return None

    def can_approve(self, partner: User) -> bool:
        return self.approval_refusal(partner) is None

    def can_reject(self, partner: User) -> bool:
        """Any partner may turn a request down, the requester included (withdrawing it)."""
        return self.is_pending and partner.active and partner.has_role(Role.PARTNER)
