"""What the analytics know about each complaint, as SQL: one definition that the figures, the
complaints list's filters and the exports all read. The costly parts are stored per complaint
in `complaint_fact` (services/analytics/fact_table.py keeps it, and defines each of them);
this module adds what is read from the complaint itself and what depends on the day of the
view.

- A complaint counts once it was registered (`registered_at`), by the month it was received
  (the firm's local day).
- Its department: its matter's department, else its first respondent's (the respondent with
  the lowest user id: the respondents are a set without an order).
- Acknowledged: the first day its acknowledgement was sent by email (the outbox message's
  `sent_at`, the firm's local day) or posted (the notice's `posted_on`), whichever is
  earlier. On time when that day is on or before the first-response clock's due day; late
  when after it, or when the due day has passed with no acknowledgement; pending otherwise.
- First response: on time when the first-response clock stopped on time (`stopped_late` is
  false), late when it stopped late or is still running past its due day; pending otherwise.
- Decided: its first decision's day. Closed: `closed_at`'s day.
- Satisfaction: the score of its latest answered call-back.
- Working-day spans (receipt to acknowledgement, decision, closing) are differences of the
  working-day table's numbers, joined when read: a calendar override renumbers that table.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from portal.models.analytics import ComplaintFact
from portal.models.complaint import Complaint
from portal.models.followup import WorkingDay
from portal.models.user import User
from portal.services.analytics import fact_table  # noqa: F401 - its hook keeps the table

ON_TIME, LATE, PENDING = "on_time", "late", "pending"
TIMELINESS = (ON_TIME, LATE, PENDING)
# The working-day spans: name -> the column of `base()` holding the day it ends.
SPANS = {"acknowledge": "ack_day", "decide": "decided_day", "close": "closed_day"}


def visible(viewer: User | None) -> ColumnElement[bool]:
    """The one visibility rule; None is the whole firm (the command line, no viewer)."""
    return true() if viewer is None else Complaint.visible_to(viewer)


def in_department(department_id: int) -> ColumnElement[bool]:
    """Complaint.id among the complaints of this department."""
    return Complaint.id.in_(select(ComplaintFact.complaint_id)
                            .where(ComplaintFact.department_id == department_id))


def ack_status(ack_day: ColumnElement, due: ColumnElement, today: date) -> ColumnElement:
    return case((due.is_(None), None),
                (and_(ack_day.is_not(None), ack_day <= due), ON_TIME),
                (or_(ack_day.is_not(None), due < today), LATE),
                else_=PENDING)


def response_status(stopped: ColumnElement, late: ColumnElement, due: ColumnElement,
                    today: date) -> ColumnElement:
    return case((due.is_(None), None),
                (and_(stopped.is_(True), late.is_(False)), ON_TIME),
                (or_(late.is_(True), due < today), LATE),
                else_=PENDING)


def base(viewer: User | None, conditions: list[ColumnElement[bool]], today: date, *,
         spans: bool = False) -> Select:
    """One row per registered complaint the viewer may see and the conditions keep; with
    `spans`, also the working days from receipt to each end (`<name>_days` for each of SPANS,
    NULL until it ends)."""
    fact = ComplaintFact
    query = (
        select(Complaint.id, Complaint.reference, Complaint.channel, Complaint.severity,
               Complaint.categories, Complaint.received_at, fact.month, fact.due,
               ack_status(fact.ack_day, fact.due, today).label("ack_status"),
               response_status(fact.response_stopped, fact.response_late, fact.due,
                               today).label("response_status"),
               fact.satisfaction, fact.received_day, fact.ack_day, fact.decided_day,
               fact.closed_day, fact.department_id)
        .select_from(fact).join(Complaint, Complaint.id == fact.complaint_id)
        .where(visible(viewer), *conditions)
    )
    if spans:
        received = aliased(WorkingDay, name="wd_received")
        query = query.outerjoin(received, received.day == fact.received_day)
        for name, end_day in SPANS.items():
            end = aliased(WorkingDay, name=f"wd_{name}")
            query = (query.outerjoin(end, end.day == getattr(fact, end_day))
                     .add_columns((end.number - received.number).label(f"{name}_days")))
    return query


def status_in(status_column: str, value: str, viewer: User | None, today: date
              ) -> ColumnElement[bool]:
    """Complaint.id among those whose acknowledgement or first response has this status."""
    rows = base(viewer, [], today).subquery("timely")
    return Complaint.id.in_(select(rows.c.id).where(rows.c[status_column] == value))


def as_text(column: ColumnElement) -> ColumnElement:
    return cast(column, String)


def text_literal(value: str) -> ColumnElement:
    return literal(value, String)
