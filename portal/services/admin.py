"""Read-only queries behind the partners' user list and audit-trail browser."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_sqlalchemy.pagination import Pagination
from sqlalchemy import ColumnElement, Integer, Select, and_, case, cast, exists, func, or_, select
from sqlalchemy.orm import selectinload

from portal.db import contains, db
from portal.models.access_request import AccessRequest, AccessRequestStatus
from portal.models.audit import AuditEvent
from portal.models.complaint import Complaint
from portal.models.user import Department, Role, User, UserRole

AUDIT_PAGE_SIZE = 50


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.id)))


def search_users(text: str = "", role: str = "", status: str = "") -> list[User]:
    """Staff whose name, username or email contains `text`, optionally by role and status."""
    query = select(User).options(selectinload(User.department))
    if text:
        needle = text.strip()
        query = query.where(
            or_(contains(User.name, needle), contains(User.username, needle),
                contains(User.email, needle))
        )
    if role in {r.value for r in Role}:
        query = query.where(User.role_rows.any(UserRole.role == role))
    if status == "active":
        query = query.where(User.active.is_(True), User.username.is_not(None))
    elif status == "disabled":
        query = query.where(User.active.is_(False))
    elif status == "nologin":
        query = query.where(User.username.is_(None))
    elif status == "pending":
        query = query.where(User.id.in_(select(AccessRequest.user_id).where(
            AccessRequest.status == AccessRequestStatus.PENDING.value)))
    # accounts first (by username), then lawyers recorded without a login (by name)
    query = query.order_by(User.username.is_(None), User.username, User.name)
    return list(db.session.scalars(query))


@dataclass
class AuditFilter:
    action: str | None = None
    actor: str | None = None
    object_type: str | None = None
    object_id: str | None = None
    since: datetime | None = None  # inclusive, aware
    until: datetime | None = None  # exclusive, aware


def withheld_from(viewer: User) -> ColumnElement[bool]:
    """An event about a complaint `viewer` may not see (Complaint.visible_to): the audit
    browser shows only its action and time, never who, which complaint or the details."""
    # CASE keeps PostgreSQL from casting the object ids of other kinds of objects.
    complaint_id = case((AuditEvent.object_type == "complaint",
                         cast(AuditEvent.object_id, Integer)))
    visible = exists().where(Complaint.id == complaint_id, Complaint.visible_to(viewer))
    return and_(AuditEvent.object_type == "complaint", ~visible)


def _audit_query(f: AuditFilter, viewer: User) -> Select:
    query = select(AuditEvent).options(selectinload(AuditEvent.actor))
    if f.actor or f.object_type or f.object_id:
        # A withheld event can be found only by what it shows (its action and time): a
        # search by actor or object would tell which complaint it concerns.
        query = query.where(~withheld_from(viewer))
    if f.action:
        query = query.where(AuditEvent.action == f.action)
    if f.actor:
        name = f.actor.strip().lower()
        query = query.where(
            or_(
                func.lower(AuditEvent.actor_label) == name,
                AuditEvent.actor_id.in_(select(User.id).where(func.lower(User.username) == name)),
            )
        )
    if f.object_type:
        query = query.where(AuditEvent.object_type == f.object_type)
    if f.object_id:
        query = query.where(AuditEvent.object_id == f.object_id.strip())
    if f.since:
        query = query.where(AuditEvent.at >= f.since)
    if f.until:
        query = query.where(AuditEvent.at < f.until)
    return query.order_by(AuditEvent.id.desc())  # newest first


def search_audit(f: AuditFilter, viewer: User, page: int = 1) -> Pagination:
    """One page (50 rows) of matching events, newest first; a page past the end shows the last.
    Show the events in `withheld_events(page.items, viewer)` by their action and time only."""
    query = _audit_query(f, viewer)
    result = db.paginate(query, page=max(page, 1), per_page=AUDIT_PAGE_SIZE, error_out=False)
    if result.pages and result.page > result.pages:
        result = db.paginate(query, page=result.pages, per_page=AUDIT_PAGE_SIZE, error_out=False)
    return result


def withheld_events(events: list[AuditEvent], viewer: User) -> frozenset[int]:
    """The ids of those `events` that concern a complaint `viewer` may not see (one query)."""
    ids = [e.id for e in events if e.object_type == "complaint"]
    if not ids:
        return frozenset()
    return frozenset(db.session.scalars(
        select(AuditEvent.id).where(AuditEvent.id.in_(ids), withheld_from(viewer))))


def audit_actions() -> list[str]:
    query = select(AuditEvent.action).distinct().order_by(AuditEvent.action)
    return list(db.session.scalars(query))


def audit_object_types() -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.object_type)
            .where(AuditEvent.object_type.is_not(None))
            .distinct()
            .order_by(AuditEvent.object_type)
        )
    )
