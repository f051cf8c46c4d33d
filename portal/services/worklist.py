"""What each role has to do next, for the home page."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import Role, User

SHOWN = 10  # items per home-page section; the section links to the full list beyond that


@dataclass
class Section:
    items: list[Complaint] = field(default_factory=list)
    total: int = 0  # how many the viewer may see in all

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    def __contains__(self, complaint: object) -> bool:
        return complaint in self.items

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class WorkList:
    drafts: Section = field(default_factory=Section)
    to_verify: Section = field(default_factory=Section)
    registered: Section = field(default_factory=Section)
    dead_mail: int = 0


def _section(user: User, query: Select) -> Section:
    """The first SHOWN complaints of `query` that `user` may see, and how many there are."""
    query = query.where(Complaint.visible_to(user))
    items = db.session.scalars(
        query.options(selectinload(Complaint.complainant)).limit(SHOWN)).all()
    # A separate count: a window count would make the database read every row before LIMIT.
    total = db.session.scalar(select(func.count()).select_from(
        query.order_by(None).with_only_columns(Complaint.id).subquery()))
    return Section(list(items), total or 0)


def for_user(user: User) -> WorkList:
    work = WorkList()
    if user.has_role(Role.RECEPTIONIST, Role.PARTNER):
        drafts = select(Complaint).where(
            Complaint.state == State.DRAFT, Complaint.needs_verification.is_(False)
        )
        work.drafts = _section(user, drafts.order_by(Complaint.updated_at.desc(), Complaint.id))
    if user.has_role(Role.RECEPTIONIST):
        # Unverified submissions are for the reception desk only (Complaint.is_unsorted).
        to_verify = select(Complaint).where(Complaint.state == State.DRAFT,
                                            Complaint.needs_verification.is_(True))
        work.to_verify = _section(user, to_verify.order_by(Complaint.created_at, Complaint.id))
    if user.has_role(Role.PARTNER):
        registered = select(Complaint).where(Complaint.state == State.REGISTERED)
        work.registered = _section(
            user, registered.order_by(Complaint.first_response_due, Complaint.id)
        )
        work.dead_mail = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.DEAD)
        ) or 0
    return work
