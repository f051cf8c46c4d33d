"""Reading matters: the list at /matters (what the viewer may see, filtered, searched and in
pages, in a fixed number of queries whatever the number of matters) and the choices the forms
offer."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import joinedload

from portal import clock
from portal.db import contains, db
from portal.models.matter import Client, Matter
from portal.models.prevention import MatterStatus, MatterType
from portal.models.user import Department, User

PAGE_SIZE = 25
QUERY_MAX = 100


# -- choices on the forms ------------------------------------------------------------------

def staff() -> list[User]:
    """Who may be a matter's lawyer, team member or supervising partner: every active staff
    member, with or without a login, by name (one query)."""
    return list(db.session.scalars(select(User).where(User.active.is_(True))
                                   .order_by(User.name, User.id)))


def departments() -> list[Department]:
    return list(db.session.scalars(select(Department).order_by(Department.name_en)))


def matter_types(keep: str | None = None) -> list[MatterType]:
    """The types to choose from: active ones, and the one a matter has already."""
    return list(db.session.scalars(
        select(MatterType).where(MatterType.active | (MatterType.code == (keep or "")))
        .order_by(MatterType.position, MatterType.code)))



# -- the list ------------------------------------------------------------------------------

@dataclass(frozen=True)
class MatterFilters:
    status: str = ""
    department_id: int | None = None
    lawyer_id: int | None = None
    type_code: str = ""
    overdue: bool = False  # the next progress report's day has passed
    gaps: bool = False  # engagement expectations incomplete
    q: str = ""

    @property
    def active(self) -> bool:
        return bool(self.status or self.department_id or self.lawyer_id or self.type_code
                    or self.overdue or self.gaps or self.q)

    def args(self) -> dict[str, str]:
        """The query string that asks for these filters again (for the pager)."""
        values = {"status": self.status, "department": self.department_id or "",
                  "lawyer": self.lawyer_id or "", "type": self.type_code,
                  "overdue": "1" if self.overdue else "", "gaps": "1" if self.gaps else "",
                  "q": self.q}
        return {name: str(value) for name, value in values.items() if value}


def _number(raw: str) -> int | None:
    raw = (raw or "").strip()
    return int(raw) if raw.isdigit() and len(raw) < 10 else None


def filters_from(args: dict[str, str]) -> tuple[MatterFilters, list[str]]:
    """Filters from the query string; what names nothing is dropped with a message."""
    problems = []
    status = args.get("status", "")
    if status and status not in {s.value for s in MatterStatus}:
        problems.append(_("Unknown status: all statuses are shown."))
        status = ""
    department, lawyer = _number(args.get("department", "")), _number(args.get("lawyer", ""))
    if args.get("department") and department is None or args.get("lawyer") and lawyer is None:
        problems.append(_("Choose a department and a lawyer from the lists."))
    type_code = (args.get("type") or "").strip()[:40]
    return MatterFilters(status=status, department_id=department, lawyer_id=lawyer,
                         type_code=type_code, overdue=bool(args.get("overdue")),
                         gaps=bool(args.get("gaps")),
                         q=" ".join((args.get("q") or "").split())[:QUERY_MAX]), problems


@dataclass
class MatterPage:
    rows: list[Matter]
    total: int
    page: int
    pages: int


def matters_query(viewer: User, filters: MatterFilters):
    """The matters `viewer` may see that meet `filters` (a SELECT of Matter)."""
    query = select(Matter).where(Matter.visible_to(viewer))
    if filters.status:
        query = query.where(Matter.status == filters.status)
    if filters.department_id is not None:
        query = query.where(Matter.department_id == filters.department_id)
    if filters.lawyer_id is not None:
        query = query.where(Matter.responsible_lawyer_id == filters.lawyer_id)
    if filters.type_code:
        query = query.where(Matter.matter_type_code == filters.type_code)
    if filters.overdue:
        query = query.where(Matter.report_due_on < clock.today())
    if filters.gaps:
        query = query.where(Matter.expectation_gaps > 0)
    if filters.q:
        client = select(Client.id).where(contains(Client.name, filters.q))
        query = query.where(or_(contains(Matter.reference, filters.q),
                                contains(Matter.title, filters.q),
                                contains(Matter.case_number, filters.q),
                                Matter.client_id.in_(client)))
    return query


def listing(viewer: User, filters: MatterFilters, page: int = 1) -> MatterPage:
    """A page of the matters `viewer` may see: open ones first, the next report due earliest
    first. Two queries (the count, then the page with its client, lawyer, department and
    type joined), whatever the number of matters."""
    query = matters_query(viewer, filters)
    total = db.session.scalar(query.with_only_columns(func.count(Matter.id))) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = list(db.session.scalars(
        query.options(joinedload(Matter.client), joinedload(Matter.responsible_lawyer),
                      joinedload(Matter.department), joinedload(Matter.matter_type))
        .order_by(case((Matter.status == MatterStatus.OPEN.value, 0), else_=1),
                  Matter.report_due_on.asc().nulls_last(), Matter.reference)
        .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)))
    return MatterPage(rows, total, page, pages)

