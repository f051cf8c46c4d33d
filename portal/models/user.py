"""Staff members: users who log in, and lawyers recorded without a login."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db


class Role(StrEnum):
    RECEPTIONIST = "receptionist"
    INVESTIGATOR = "investigator"
    COMMITTEE = "committee"
    PARTNER = "partner"


ROLE_LABELS = {
    Role.RECEPTIONIST: _l("Receptionist"),
    Role.INVESTIGATOR: _l("Investigator"),
    Role.COMMITTEE: _l("Committee member"),
    Role.PARTNER: _l("Partner"),
}


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class Department(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    head_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", use_alter=True))


class User(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    title: Mapped[str | None] = mapped_column(String(100))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    # Stored in the session cookie instead of the id; rotating it kills every copy of the cookie.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    locale: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department | None] = relationship(foreign_keys=[department_id])
    role_rows: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    alias_rows: Mapped[list[UserAlias]] = relationship(
        cascade="all, delete-orphan", order_by="UserAlias.id"
    )

    # Flask-Login interface
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    @property
    def is_active(self) -> bool:
        return self.active and self.can_log_in

    def get_id(self) -> str:
        return self.session_token

    @property
    def can_log_in(self) -> bool:
        return bool(self.username and self.password_hash)

    @property
    def roles(self) -> set[Role]:
        return {Role(r.role) for r in self.role_rows}

    def has_role(self, *roles: Role | str) -> bool:
        return bool(self.roles & {Role(r) for r in roles})

    def set_roles(self, roles: set[Role]) -> None:
        current = self.roles
        self.role_rows = [r for r in self.role_rows if Role(r.role) in roles]
        for role in sorted(roles - current):
            self.role_rows.append(UserRole(role=role.value))

    @property
    def aliases(self) -> list[str]:
        """Other spellings of the name (pinyin, an English or former name)."""
        return [a.alias for a in self.alias_rows]

    def set_aliases(self, aliases: list[str]) -> None:
        keep = {a.alias: a for a in self.alias_rows}
        self.alias_rows = [keep.get(a) or UserAlias(alias=a) for a in dict.fromkeys(aliases)]

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def __repr__(self) -> str:
        return f"<User {self.username or self.name}>"


class UserRole(db.Model):
    __table_args__ = (UniqueConstraint("user_id", "role"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(20))
    user: Mapped[User] = relationship(back_populates="role_rows")


class UserAlias(db.Model):
    """Another spelling of a staff member's name: a client who names them that way in an
    online complaint is recognised, and they are kept out of it until it is verified."""

    __table_args__ = (UniqueConstraint("user_id", "alias"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    alias: Mapped[str] = mapped_column(String(100), index=True)


class LoginAttempt(db.Model):
    """Kept in the database so that throttling holds across worker processes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), index=True)
    ip: Mapped[str] = mapped_column(String(45), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    succeeded: Mapped[bool] = mapped_column(default=False)
