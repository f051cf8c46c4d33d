"""What each role has to do next, for the home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import Role, User


@dataclass
class WorkList:
    drafts: list[Complaint] = field(default_factory=list)
    to_verify: list[Complaint] = field(default_factory=list)
    registered: list[Complaint] = field(default_factory=list)
    dead_mail: int = 0


def _visible(user: User, query):
    # can_view asks for the respondents and the page shows the complainant: load both at once.
    query = query.options(selectinload(Complaint.respondents), selectinload(Complaint.complainant))
    rows = db.session.scalars(query.limit(50)).all()
    return [c for c in rows if c.can_view(user)][:10]


def for_user(user: User) -> WorkList:
    work = WorkList()
    if user.has_role(Role.RECEPTIONIST, Role.PARTNER):
        drafts = select(Complaint).where(
            Complaint.state == State.DRAFT, Complaint.needs_verification.is_(False)
        )
        work.drafts = _visible(user, drafts.order_by(Complaint.updated_at.desc()))
        to_verify = select(Complaint).where(Complaint.needs_verification.is_(True))
        work.to_verify = _visible(user, to_verify.order_by(Complaint.created_at))
    if user.has_role(Role.PARTNER):
        registered = select(Complaint).where(Complaint.state == State.REGISTERED)
        work.registered = _visible(user, registered.order_by(Complaint.first_response_due))
        work.dead_mail = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.DEAD)
        ) or 0
    return work
