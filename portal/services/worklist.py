"""What each role has to do next, for the home page."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, State
from portal.models.deadline import Deadline
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import Role, User
from portal.services import deadlines
from portal.services.intake.search import by_first_response_due

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


@dataclass(frozen=True)
class ClockItem:
    label: str  # the complaint's reference
    kind: str  # which clock (DeadlineKind)
    due: date


@dataclass
class ClockSection:
    items: list[ClockItem] = field(default_factory=list)
    total: int = 0

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self):
        return iter(self.items)

    @property
    def more(self) -> int:
        return self.total - len(self.items)


@dataclass
class WorkList:
    drafts: Section = field(default_factory=Section)
    to_verify: Section = field(default_factory=Section)
    registered: Section = field(default_factory=Section)
    # Running clocks past their day / due within two working days: the viewer's own work,
    # or the whole firm's for a partner (`firm`).
    overdue: ClockSection = field(default_factory=ClockSection)
    due_soon: ClockSection = field(default_factory=ClockSection)
    firm: bool = False
    dead_mail: int = 0
    ballots: list = field(default_factory=list)  # a committee member's (MemberBallot)


def _section(user: User, query: Select, *load: ORMOption) -> Section:
    """The first SHOWN complaints of `query` that `user` may see, and how many there are."""
    query = query.where(Complaint.visible_to(user))
    # Joined, not a second SELECT: an empty section then costs the same statements as a full
    # one, and the page's count does not depend on what there is to do.
    items = db.session.scalars(
        query.options(joinedload(Complaint.complainant), *load).limit(SHOWN)).unique().all()
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
        work.registered = _section(user, registered.order_by(*by_first_response_due()),
                                   joinedload(Complaint.deadlines))
        work.dead_mail = db.session.scalar(
            select(func.count(OutboxMessage.id)).where(OutboxMessage.status == OutboxStatus.DEAD)
        ) or 0
    if user.has_role(Role.COMMITTEE):
        from portal.services.resolution.ballots import for_member

        work.ballots = for_member(user)
    _clocks(user, work)
    return work


def _clock_section(user: User, which: ColumnElement[bool], mine: bool) -> ClockSection:
    """The first SHOWN running clocks meeting `which` (one row per clock, the earliest
    first) on complaints `user` may see, and how many there are: two queries, whatever the
    number of clocks."""
    query = (select(Complaint.reference, Deadline.kind, Deadline.due)
             .join(Deadline, Deadline.complaint_id == Complaint.id)
             .where(Complaint.visible_to(user), Deadline.stopped_at.is_(None), which))
    if mine:
        query = query.where(deadlines.own_work_sql(user))
    rows = db.session.execute(query.order_by(Deadline.due, Complaint.id, Deadline.kind)
                              .limit(SHOWN)).all()
    total = db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Deadline.id).subquery()))
    return ClockSection([ClockItem(r.reference or "", r.kind, r.due) for r in rows], total or 0)


def _clocks(user: User, work: WorkList) -> None:
    """What is overdue and what is due soon: everyone's own work, the firm's for partners."""
    work.firm = user.has_role(Role.PARTNER)
    today = clock.today()
    soon = deadlines.soon_limit(today)
    work.overdue = _clock_section(user, deadlines.clock_due_sql(before=today), not work.firm)
    work.due_soon = _clock_section(user, deadlines.clock_due_sql(start=today, end=soon),
                                   not work.firm)
