"""Complaints by the prevention step their matter lacked when they were received: the stored
prevention columns of `complaint_fact` (services/analytics/fact_table.py keeps them; services/
prevention/history.py says how each is judged, and the case file shows the same record).

A SUM per column over the complaints the other figures count (the visibility rule and the
criteria's period, department and severity), whatever their number: /analytics reads them in
the figures' own statement (`aggregates` over its rows, services/analytics/figures.py);
`counts` is the same sums on their own.

Rows (STEPS, in order): complaints about a matter, those whose matter lacked at least one step,
then one per engagement expectation not on file, a progress report overdue, and an engagement
checklist step not done. A complaint counts under every step its matter lacked.

The numbers are not linked to the complaints list: its filters (services/analytics/filters.py)
have no facet for a prevention step.
"""

from __future__ import annotations

from sqlalchemy import case, func, or_, select

from portal.db import db
from portal.models.analytics import ComplaintFact
from portal.models.complaint import Complaint
from portal.models.user import User
from portal.services.analytics import fact_table, facts
from portal.services.analytics.filters import Criteria

WITH_MATTER, ANY = "with_matter", "any_missing"
LACKED = fact_table.PREVENTION_COLUMNS  # missing_<expectation>, report_overdue, ...
STEPS = (WITH_MATTER, ANY, *LACKED)


def aggregates() -> list:
    """The sums, labelled by STEPS, over `complaint_fact` rows joined to the query."""
    table = ComplaintFact.__table__
    lacked = [table.c[name] for name in LACKED]
    return [func.count(table.c[LACKED[0]]).label(WITH_MATTER),
            func.sum(case((or_(*lacked), 1), else_=0)).label(ANY),
            *(func.sum(case((column, 1), else_=0)).label(column.name) for column in lacked)]


def statement(viewer: User | None, criteria: Criteria):
    table = ComplaintFact.__table__
    return (select(*aggregates())
            .select_from(table).join(Complaint, Complaint.id == table.c.complaint_id)
            .where(facts.visible(viewer), *criteria.conditions()))


def counts(viewer: User | None, criteria: Criteria) -> dict[str, int]:
    """STEPS -> complaints, for the complaints `viewer` may see that `criteria` keeps."""
    row = db.session.execute(statement(viewer, criteria)).one()
    return {name: int(row._mapping[name] or 0) for name in STEPS}
