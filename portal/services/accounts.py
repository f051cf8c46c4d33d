"""Signing in and out, passwords, and user administration."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select

from portal import clock
from portal.db import begin_write, db
from portal.models.access_request import AccessRequest, AccessRequestKind
from portal.models.user import LoginAttempt, Role, User
from portal.services import approvals, audit

# OWASP's argon2id recommendation: 19 MiB, 2 iterations, 1 lane.
hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_DUMMY_HASH = hasher.hash("timing-equaliser")

PASSWORD_MIN = 8
PASSWORD_MAX = 128
NAME_MAX = 100
USERNAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$"
USERNAME_RE = re.compile(USERNAME_PATTERN)


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
    since = clock.now() - throttle.window
    return (
        _recent_failures(since, username=username, ip=ip) >= throttle.per_account
        or _recent_failures(since, ip=ip) >= throttle.per_ip
    )


def _forget_old_attempts(throttle: Throttle) -> None:
    """Attempts older than a few windows no longer count; the audit trail keeps the history."""
    cutoff = clock.now() - 4 * throttle.window
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.at < cutoff))


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
    """The write part of signing in: the attempt, the audit event, a rehash.

    The throttle is asked again here, under the audit chain's lock (every sign-in writes an
    audit event, so sign-ins are serialised there on both databases): guesses sent in
    parallel all pass the read-only check before any failure is written, and without this
    second look a burst of them would each get an answer."""
    audit.lock_chain()
    if check is not None and is_throttled(check.username, ip, throttle):
        check = None
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
    user.password_changed_at = clock.now()
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


def _person_without_login(email: str | None) -> User | None:
    """The person already on file with this email but no sign-in (a lawyer recorded as a
    respondent or on a matter's team): their account is made on that record, so that their
    matters, complaints and history stay theirs."""
    if not email:
        return None
    return db.session.scalar(select(User).where(func.lower(User.email) == email,
                                                User.username.is_(None)).limit(1))


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


def check_account_fields(
    *, username: str | None = None, name: str | None = None, email: str | None = None,
    password: str | None = None,
) -> None:
    """The rules for an account's fields, whoever asks (the admin form, `flask users create`).
    Raises AccountError for the first field that breaks one; None means "not given"."""
    if username is not None and not USERNAME_RE.fullmatch(username.strip()):
        raise AccountError("username", "format")
    if name is not None:
        _check_name(name)
    if email:
        _check_email(email)
    if password is not None and not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise AccountError("password", "length")


def _check_name(name: str) -> None:
    if not name.strip():
        raise AccountError("name", "required")
    if len(name.strip()) > NAME_MAX:
        raise AccountError("name", "length")
    if any(c in name for c in "\r\n\0"):  # names go into mail headers (alerts to partners)
        raise AccountError("name", "single_line")


def _check_email(email: str) -> None:
    """Staff receive mail through the outbox: an address it could not send to is refused
    here, by the outbox's own rule."""
    from portal.services.outbox import OutboxError, normalise_address

    try:
        normalise_address(email)
    except OutboxError as error:
        raise AccountError("email", "invalid") from error


def create_user(
    actor: User | None,
    *,
    username: str,
    name: str,
    email: str | None,
    password: str | None = None,
    password_hash: str | None = None,
    roles: set[Role],
    department_id: int | None = None,
    actor_label: str | None = None,
) -> User:
    """Create an account. `password_hash` (from `hash_password`) lets the caller do the slow
    hashing before its write transaction; otherwise `password` is hashed here.

    A partner's new account waits for a second partner (portal.services.approvals): it is
    created disabled and without roles, and an approval request holds the roles. The command
    line (`actor` None, `actor_label` "cli") creates it at once: whoever runs it administers
    the server and could change the database anyway.
    """
    username, email = normalise_username(username), normalise_email(email)
    check_account_fields(username=username, name=name, email=email, password=password)
    on_file = _person_without_login(email)
    _check_unique(username, email, exclude_id=on_file.id if on_file else None)
    if password_hash is None:
        if password is None:
            raise ValueError("create_user needs a password or its hash")
        password_hash = hash_password(password)
    pending = actor is not None and approvals.approval_required()
    user = on_file or User()
    user.username, user.name, user.email = username, name.strip(), email
    user.password_hash, user.department_id, user.active = password_hash, department_id, not pending
    user.set_roles(set() if pending else roles)
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created", actor=actor, obj=user, actor_label=actor_label,
        details={"roles": [] if pending else sorted(r.value for r in roles),
                 "approval": "pending" if pending else "not_required",
                 "person_on_file": on_file is not None},
    )
    if pending:
        approvals.request_change(actor, user, AccessRequestKind.CREATE_ACCOUNT, roles=roles)
    return user


@dataclass
class UserChange:
    user: User
    requests: list[AccessRequest]  # what now waits for a second partner


def update_user(
    actor: User,
    user: User,
    *,
    name: str,
    email: str | None,
    roles: set[Role],
    active: bool,
    department_id: int | None | object = _KEEP,
) -> UserChange:
    """Change a user's details. A partner cannot disable themselves or drop their own
    partner role: the firm would risk having nobody left who can administer users.

    Revoking roles and disabling take effect at once. With second-partner approval, added
    roles and enabling become requests (`UserChange.requests`); `roles` may list roles already
    waiting for approval (the form shows them ticked), and a waiting role left out is withdrawn.
    """
    if actor.id == user.id and not active:
        raise AccountError("active", "self_disable")
    if actor.id == user.id and Role.PARTNER not in roles:
        raise AccountError("roles", "self_demote")
    _check_name(name)
    email = normalise_email(email)
    if email:
        _check_email(email)
    _check_unique(None, email, exclude_id=user.id)
    if not approvals.approval_required():
        _update_now(actor, user, name, email, roles, active, department_id)
        return UserChange(user, [])
    creation = approvals.pending_creation(user)
    if creation is not None:
        # The creator chose the password: the request is approved as made, or rejected.
        if active:
            raise AccountError("active", "awaiting_approval")
        if roles != creation.role_set:
            raise AccountError("roles", "awaiting_approval")
        _update_now(actor, user, name, email, user.roles, False, department_id)
        return UserChange(user, [])
    _update_now(actor, user, name, email, roles & user.roles, active and user.active,
                department_id)
    requests = approvals.request_roles(actor, user, roles - user.roles)
    if active and not user.active:
        requests += approvals.request_enable(actor, user)
    elif not active:
        approvals.withdraw_enable(actor, user)
    return UserChange(user, requests)


def _update_now(actor: User, user: User, name: str, email: str | None, roles: set[Role],
                active: bool, department_id: int | None | object) -> None:
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


PERSONAL_FIELDS = {"name", "email"}  # the audit trail says that they changed, not to what
ALIAS_MAX = 100  # characters in one other spelling of a name
ALIASES_MAX = 10


def set_aliases(actor: User, user: User, aliases: list[str]) -> bool:
    """Record the other spellings of a staff member's name (public_intake.named_staff matches
    them); returns whether anything changed. The form checks the lengths."""
    cleaned = list(dict.fromkeys(" ".join(a.split()) for a in aliases if a.strip()))
    if cleaned == user.aliases:
        return False
    user.set_aliases(cleaned[:ALIASES_MAX])
    audit.record("user.updated", actor=actor, obj=user,
                 details={"changed": {"aliases": "changed"}})
    return True


def _snapshot(user: User, roles: set[Role] | None = None) -> dict:
    return {
        "name": user.name,
        "email": user.email,
        "department_id": user.department_id,
        "roles": sorted(r.value for r in (roles if roles is not None else user.roles)),
        "active": user.active,
    }


def reset_password(
    actor: User, user: User, new_password: str | None = None, *, password_hash: str | None = None
) -> UserChange:
    """A partner sets a new password; every open session of that user ends.

    Knowing the new password lets the partner sign in as that person, so with second-partner
    approval it becomes a request (in `UserChange.requests`) and applies once approved.
    """
    if not user.username:
        raise AccountError("password", "no_login")
    if password_hash is None:
        if new_password is None:
            raise ValueError("reset_password needs a password or its hash")
        check_account_fields(password=new_password)
        password_hash = hash_password(new_password)
    if approvals.approval_required():
        return UserChange(user, [approvals.request_password(actor, user, password_hash)])
    user.password_hash = password_hash
    user.password_changed_at = clock.now()
    user.rotate_session_token()
    audit.record("user.password_reset", actor=actor, obj=user)
    return UserChange(user, [])


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
