"""Signing in and out, passwords, and user administration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from portal.db import begin_write, db, utcnow
from portal.models.user import LoginAttempt, Role, User
from portal.services import audit

# OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = hasher.hash("timing-equaliser")

PASSWORD_MIN = 8
PASSWORD_MAX = 128


class LoginResult(Enum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    THROTTLED = "throttled"


@dataclass
class Throttle:
    window: timedelta
    per_account: int
    per_ip: int


def hash_password(password: str) -> str:
    return hasher.hash(password)


def _password_matches(user: User | None, password: str) -> bool:
    try:
        if user is None or not user.password_hash:
            hasher.verify(_DUMMY_HASH, password)  # same work for unknown users
            return False
        return hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def _recent_failures(since, **where) -> int:
    query = select(func.count(LoginAttempt.id)).where(
        LoginAttempt.at >= since, LoginAttempt.succeeded.is_(False)
    )
    for column, value in where.items():
        query = query.where(getattr(LoginAttempt, column) == value)
    return db.session.scalar(query) or 0


def is_throttled(username: str, ip: str, throttle: Throttle) -> bool:
    """Failures count per (account, address) and per address.

    Counting per account alone would let anyone lock a lawyer out by typing wrong
    passwords from another machine; scoping it to the address keeps the owner's own
    computer usable while the attacker's is slowed down.
    """
    since = utcnow() - throttle.window
    return (
        _recent_failures(since, username=username, ip=ip) >= throttle.per_account
        or _recent_failures(since, ip=ip) >= throttle.per_ip
    )


def _forget_old_attempts(throttle: Throttle) -> None:
    """Attempts older than a few windows no longer count; the audit trail keeps the history."""
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - 4 * throttle.window))


@dataclass(frozen=True)
class LoginCheck:
    """What the slow, read-only part of signing in found (see `check_login`)."""

    username: str
    user_id: int | None
    password_ok: bool
    new_hash: str | None  # a rehash with today's parameters, computed outside the write


def check_login(username: str, password: str, ip: str, throttle: Throttle) -> LoginCheck | None:
    """Read-only: None when throttled, else whether the password matches.

    Hashing takes tens of milliseconds on purpose, so it happens before the write
    transaction, never while holding SQLite's write lock.
    """
    username = username.strip().lower()
    if is_throttled(username, ip, throttle):
        return None
    user = db.session.scalar(select(User).where(func.lower(User.username) == username))
    ok = _password_matches(user, password) and user is not None and user.active
    rehash = ok and hasher.check_needs_rehash(user.password_hash)
    return LoginCheck(username, user.id if user else None, ok,
                      hash_password(password) if rehash else None)


def record_login(
    check: LoginCheck | None, username: str, ip: str, throttle: Throttle
) -> tuple[LoginResult, User | None]:
    """The write part of signing in: the attempt, the audit event, a rehash."""
    if check is None:
        username = username.strip().lower()
        audit.record("login.throttled", actor_label=username[:100])
        return LoginResult.THROTTLED, None
    _forget_old_attempts(throttle)
    user = db.session.get(User, check.user_id) if check.user_id else None
    ok = check.password_ok and user is not None and user.active
    db.session.add(LoginAttempt(username=check.username[:64], ip=ip, succeeded=ok))
    if not ok:
        audit.record("login.failed", actor_label=check.username[:100])
        return LoginResult.BAD_CREDENTIALS, None
    if check.new_hash:
        user.password_hash = check.new_hash
    audit.record("login.succeeded", actor=user)
    return LoginResult.OK, user


def authenticate(
    username: str, password: str, ip: str, throttle: Throttle
) -> tuple[LoginResult, User | None]:
    """Both parts of signing in, for callers without a request (the caller commits)."""
    check = check_login(username, password, ip, throttle)
    begin_write()
    return record_login(check, username, ip, throttle)


def logout(user: User) -> None:
    user.rotate_session_token()
    audit.record("logout", actor=user)


def new_password_hash(user: User, current: str, new: str) -> str | None:
    """Read-only and slow (two argon2 runs): the new hash, or None when `current` is wrong."""
    return hash_password(new) if _password_matches(user, current) else None


def change_password(user: User, new_hash: str | None) -> bool:
    """Apply what `new_password_hash` computed; a wrong current password is audited."""
    if new_hash is None:
        audit.record("password.change_failed", actor=user)
        return False
    user.password_hash = new_hash
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    audit.record("password.changed", actor=user, obj=user)
    return True


class AccountError(ValueError):
    """A user-administration request the rules refuse; `code` names the rule for the form."""

    def __init__(self, field: str, code: str) -> None:
        super().__init__(f"{field}: {code}")
        self.field = field
        self.code = code


_KEEP = object()


def normalise_username(username: str) -> str:
    return username.strip().lower()


def normalise_email(email: str | None) -> str | None:
    return (email or "").strip().lower() or None


def _check_unique(username: str | None, email: str | None, exclude_id: int | None) -> None:
    """Refuse a username or email already in use (case-insensitively), before the database
    constraint would turn it into an IntegrityError."""
    for field, column, value in (("username", User.username, username),
                                 ("email", User.email, email)):
        if not value:
            continue
        query = select(User.id).where(func.lower(column) == value)
        if exclude_id is not None:
            query = query.where(User.id != exclude_id)
        if db.session.scalar(query.limit(1)) is not None:
            raise AccountError(field, "taken")


def create_user(
    actor: User,
    *,
    username: str,
    name: str,
    email: str | None,
    password: str,
    roles: set[Role],
    department_id: int | None = None,
) -> User:
    username, email = normalise_username(username), normalise_email(email)
    _check_unique(username, email, exclude_id=None)
    user = User(
        username=username,
        name=name.strip(),
        email=email,
        password_hash=hash_password(password),
        department_id=department_id,
    )
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created", actor=actor, obj=user, details={"roles": sorted(r.value for r in roles)}
    )
    return user


def update_user(
    actor: User,
    user: User,
    *,
    name: str,
    email: str | None,
    roles: set[Role],
    active: bool,
    department_id: int | None | object = _KEEP,
) -> User:
    """Change a user's details. A partner cannot disable themselves or drop their own
    partner role: the firm would risk having nobody left who can administer users."""
    if actor.id == user.id and not active:
        raise AccountError("active", "self_disable")
    if actor.id == user.id and Role.PARTNER not in roles:
        raise AccountError("roles", "self_demote")
    email = normalise_email(email)
    _check_unique(None, email, exclude_id=user.id)
    before = _snapshot(user)
    user.name = name.strip()
    user.email = email
    if department_id is not _KEEP:
        user.department_id = department_id  # type: ignore[assignment]
    user.set_roles(roles)
    if user.active and not active:
        user.rotate_session_token()  # a disabled user's open sessions end now
    user.active = active
    after = _snapshot(user, roles)
    changed = {key: "changed" if key in PERSONAL_FIELDS else [before[key], after[key]]
               for key in after if before[key] != after[key]}
    audit.record("user.updated", actor=actor, obj=user, details={"changed": changed})
    return user


PERSONAL_FIELDS = {"name", "email"}  # the audit trail says that they changed, not to what


def _snapshot(user: User, roles: set[Role] | None = None) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "department_id": user.department_id,
        "roles": sorted(r.value for r in (roles if roles is not None else user.roles)),
        "active": user.active,
    }


def reset_password(actor: User, user: User, new_password: str) -> User:
    """A partner sets a new password; every open session of that user ends."""
    if not user.username:
        raise AccountError("password", "no_login")
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()
    user.rotate_session_token()
    audit.record("user.password_reset", actor=actor, obj=user)
    return user


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
