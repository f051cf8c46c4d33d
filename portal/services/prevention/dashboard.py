"""Early warnings on the home page: open matters whose progress report is overdue
(`Matter.report_due_on` before today) and open matters with engagement expectations missing
(`Matter.expectation_gaps` above 0). Both are stored columns the report and expectation verbs
keep (services/prevention/core.py), so nothing here reads the history.

- A partner sees the whole firm (the partners' dashboard): the two counts by department and
  by responsible lawyer, and the first overdue matters.
- Anyone else sees the matters they are the responsible lawyer of: the two counts and the
  first overdue ones.

Two statements whatever the number of matters: one GROUP BY (department, lawyer) with the
names joined, from which both breakdowns and the totals are summed, and the first SHOWN
overdue matters in due order (the `report_due_on` index). Matters are filtered by
`Matter.visible_to`, like every list of matters.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased

from portal import clock
from portal.db import db
from portal.models.matter import Matter
from portal.models.prevention import MatterStatus
from portal.models.user import Department, Role, User

SHOWN = 10  # overdue matters listed
LAWYERS_SHOWN = 20  # lawyers in the breakdown, the most overdue first


@dataclass(frozen=True)
class OverdueMatter:
    reference: str
    title: str
    due: date
    days: int  # overdue by
    lawyer: str | None


@dataclass(frozen=True)
class Tally:
    key: int | None  # the department's or the lawyer's id
    label: str
    overdue: int
    gaps: int


@dataclass
class Board:
    firm: bool  # the whole firm's (a partner's) or the viewer's own matters
    overdue: int = 0  # open matters whose report is overdue
    gaps: int = 0  # open matters with expectations missing
    by_department: list[Tally] = field(default_factory=list)
    by_lawyer: list[Tally] = field(default_factory=list)
    lawyers: int = 0  # lawyers counted (by_lawyer shows LAWYERS_SHOWN of them)
    first: list[OverdueMatter] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.overdue or self.gaps)

    @property
    def more(self) -> int:
        return self.overdue - len(self.first)

    @property
    def more_lawyers(self) -> int:
        return self.lawyers - len(self.by_lawyer)


def _scope(user: User, firm: bool) -> list:
    conditions = [Matter.status == MatterStatus.OPEN.value, Matter.visible_to(user)]
    if not firm:
        conditions.append(Matter.responsible_lawyer_id == user.id)
    return conditions


def for_user(user: User, language: str = "zh", today: date | None = None) -> Board:
    """The firm's board for a partner, the viewer's own matters for anyone else."""
    today = today or clock.today()
    firm = user.has_role(Role.PARTNER)
    board = Board(firm=firm)
    scope = _scope(user, firm)
    overdue = Matter.report_due_on < today
    grouped = (select(Matter.department_id.label("department_id"),
                      Matter.responsible_lawyer_id.label("lawyer_id"),
                      func.sum(case((overdue, 1), else_=0)).label("overdue"),
                      func.sum(case((Matter.expectation_gaps > 0, 1), else_=0)).label("gaps"))
               .where(*scope, or_(overdue, Matter.expectation_gaps > 0))
               .group_by(Matter.department_id, Matter.responsible_lawyer_id)
               .subquery("grouped"))
    lawyer = aliased(User, name="lawyer")
    rows = db.session.execute(
        select(grouped, Department.name_zh, Department.name_en, lawyer.name)
        .outerjoin(Department, Department.id == grouped.c.department_id)
        .outerjoin(lawyer, lawyer.id == grouped.c.lawyer_id)).all()
    departments: dict[int | None, list] = {}
    lawyers: dict[int | None, list] = {}
    for row in rows:
        board.overdue += int(row.overdue or 0)
        board.gaps += int(row.gaps or 0)
        if not firm:
            continue
        name = (row.name_en if language == "en" else row.name_zh) if row.name_zh else None
        for tallies, key, label in ((departments, row.department_id, name),
                                    (lawyers, row.lawyer_id, row.name)):
            counted = tallies.setdefault(key, [label, 0, 0])
            counted[1] += int(row.overdue or 0)
            counted[2] += int(row.gaps or 0)
    board.by_department = sorted(
        (Tally(key, label or _("No department"), n, gaps)
         for key, (label, n, gaps) in departments.items()),
        key=lambda t: (t.key is None, t.key or 0))
    by_lawyer = sorted((Tally(key, label or _("No responsible lawyer"), n, gaps)
                        for key, (label, n, gaps) in lawyers.items()),
                       key=lambda t: (-t.overdue, -t.gaps, t.label))
    board.lawyers, board.by_lawyer = len(by_lawyer), by_lawyer[:LAWYERS_SHOWN]
    if board.overdue:
        board.first = [
            OverdueMatter(r.reference, r.title, r.report_due_on,
                          (today - r.report_due_on).days, r.name)
            for r in db.session.execute(
                select(Matter.reference, Matter.title, Matter.report_due_on, lawyer.name)
                .outerjoin(lawyer, lawyer.id == Matter.responsible_lawyer_id)
                .where(*scope, overdue)
                .order_by(Matter.report_due_on, Matter.id).limit(SHOWN))]
    return board
