"""What the analytics know about each complaint, as SQL: one definition that the figures, the
complaints list's filters and the exports all read.

- A complaint counts once it was registered (`registered_at`), by the month it was received
  (the firm's local day).
- Its department: its matter's department, else its first respondent's (the respondent with
  the lowest user id: the respondents are a set without an order).
- Acknowledged: the first day its acknowledgement was sent by email (the outbox message's
  `sent_at`) or posted (the notice's `posted_on`). On time when that day is on or before the
  first-response clock's due day; late when after it, or when the due day has passed with no
  acknowledgement; pending otherwise.
- First response: on time when the first-response clock stopped on time (`stopped_late` is
  false), late when it stopped late or is still running past its due day; pending otherwise.
- Decided: its first decision's day. Closed: `closed_at`'s day.
- Satisfaction: the score of its latest answered call-back.
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
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import aliased

from portal.models.complaint import Complaint, complaint_respondent
from portal.models.deadline import Deadline, DeadlineKind
from portal.models.followup import Callback, WorkingDay
from portal.models.matter import Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.resolution import Decision
from portal.models.user import User
from portal.services.analytics.sql import local_date, local_month

ACKNOWLEDGEMENT = "acknowledgement"
ON_TIME, LATE, PENDING = "on_time", "late", "pending"
TIMELINESS = (ON_TIME, LATE, PENDING)
# The working-day spans: name -> the column of `base()` holding the day it ends.
SPANS = {"acknowledge": "ack_day", "decide": "decided_day", "close": "closed_day"}


def visible(viewer: User | None) -> ColumnElement[bool]:
    """The one visibility rule; None is the whole firm (the command line, no viewer)."""
    return true() if viewer is None else Complaint.visible_to(viewer)


def department_expr() -> ColumnElement:
    matter = (select(Matter.department_id).where(Matter.id == Complaint.matter_id)
              .scalar_subquery())
    respondent = (select(User.department_id)
                  .join(complaint_respondent, complaint_respondent.c.user_id == User.id)
                  .where(complaint_respondent.c.complaint_id == Complaint.id)
                  .order_by(complaint_respondent.c.user_id).limit(1).scalar_subquery())
    return func.coalesce(matter, respondent)


def acknowledged_days() -> Select:
    """(complaint_id, day): the first day each complaint's acknowledgement left the firm."""
    sent = (select(OutboxMessage.complaint_id.label("complaint_id"),
                   local_date(OutboxMessage.sent_at).label("day"))
            .where(OutboxMessage.kind == ACKNOWLEDGEMENT,
                   OutboxMessage.status == OutboxStatus.SENT.value,
                   OutboxMessage.sent_at.is_not(None), OutboxMessage.complaint_id.is_not(None)))
    posted = (select(Notice.complaint_id.label("complaint_id"), Notice.posted_on.label("day"))
              .where(Notice.kind == ACKNOWLEDGEMENT, Notice.posted_on.is_not(None)))
    both = union_all(sent, posted).subquery("acknowledgements")
    return (select(both.c.complaint_id, func.min(both.c.day).label("day"))
            .group_by(both.c.complaint_id))


def ack_status(ack_day: ColumnElement, due: ColumnElement, today: date) -> ColumnElement:
    return case((due.is_(None), None),
                (and_(ack_day.is_not(None), ack_day <= due), ON_TIME),
                (or_(ack_day.is_not(None), due < today), LATE),
                else_=PENDING)


def response_status(stopped_at: ColumnElement, stopped_late: ColumnElement,
                    due: ColumnElement, today: date) -> ColumnElement:
    return case((due.is_(None), None),
                (and_(stopped_at.is_not(None), stopped_late.is_(False)), ON_TIME),
                (or_(stopped_late.is_(True), due < today), LATE),
                else_=PENDING)


def first_decisions() -> Select:
    return (select(Decision.complaint_id, func.min(Decision.decided_at).label("decided_at"))
            .group_by(Decision.complaint_id))


def latest_satisfaction() -> Select:
    latest = (select(func.max(Callback.id)).where(Callback.satisfaction.is_not(None))
              .group_by(Callback.complaint_id))
    return select(Callback.complaint_id, Callback.satisfaction).where(Callback.id.in_(latest))


def base(viewer: User | None, conditions: list[ColumnElement[bool]], today: date) -> Select:
    """One row per registered complaint the viewer may see and the conditions keep."""
    promised = aliased(Deadline, name="promised")
    ack = acknowledged_days().subquery("ack")
    decided = first_decisions().subquery("decided")
    scored = latest_satisfaction().subquery("scored")
    ack_day = ack.c.day
    return (
        select(Complaint.id, Complaint.reference, Complaint.channel, Complaint.severity,
               Complaint.categories, Complaint.received_at,
               local_month(Complaint.received_at).label("month"),
               local_date(Complaint.received_at).label("received_day"),
               department_expr().label("department_id"),
               ack_day.label("ack_day"), promised.due.label("due"),
               ack_status(ack_day, promised.due, today).label("ack_status"),
               response_status(promised.stopped_at, promised.stopped_late, promised.due,
                               today).label("response_status"),
               local_date(decided.c.decided_at).label("decided_day"),
               local_date(Complaint.closed_at).label("closed_day"),
               scored.c.satisfaction.label("satisfaction"))
        .select_from(Complaint)
        .outerjoin(promised, and_(promised.complaint_id == Complaint.id,
                                  promised.kind == DeadlineKind.FIRST_RESPONSE.value))
        .outerjoin(ack, ack.c.complaint_id == Complaint.id)
        .outerjoin(decided, decided.c.complaint_id == Complaint.id)
        .outerjoin(scored, scored.c.complaint_id == Complaint.id)
        .where(Complaint.registered_at.is_not(None), visible(viewer), *conditions)
    )


def span_columns(rows) -> tuple[list, list]:
    """For a select over `rows` (a subquery or CTE of `base()`): the span columns (working days
    from receipt to each end, NULL when it has not ended) and the outer joins they need."""
    start = aliased(WorkingDay, name="wd_received")
    joins = [(start, start.day == rows.c.received_day)]
    columns = []
    for name, end_column in SPANS.items():
        end = aliased(WorkingDay, name=f"wd_{name}")
        joins.append((end, end.day == rows.c[end_column]))
        columns.append((end.number - start.number).label(f"{name}_days"))
    return columns, joins


def with_spans(rows, *columns: ColumnElement) -> Select:
    spans, joins = span_columns(rows)
    query = select(*columns, *spans).select_from(rows)
    for table, on in joins:
        query = query.outerjoin(table, on)
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
