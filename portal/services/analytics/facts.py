"""What the analytics know about each complaint, as SQL: one definition that the figures, the
complaints list's filters and the exports all read.

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


def with_department(query: Select) -> tuple[Select, ColumnElement]:
    """`query` (over Complaint) joined with what names the department, and the department's
    expression: the matter's department, else the first respondent's. Joins rather than
    correlated subqueries: PostgreSQL then hashes them instead of probing per complaint."""
    matter = aliased(Matter, name="dept_matter")
    first = (select(complaint_respondent.c.complaint_id,
                    func.min(complaint_respondent.c.user_id).label("user_id"))
             .group_by(complaint_respondent.c.complaint_id).subquery("first_respondent"))
    person = aliased(User, name="dept_person")
    query = (query.outerjoin(matter, matter.id == Complaint.matter_id)
             .outerjoin(first, first.c.complaint_id == Complaint.id)
             .outerjoin(person, person.id == first.c.user_id))
    return query, func.coalesce(matter.department_id, person.department_id)


def in_department(department_id: int) -> ColumnElement[bool]:
    """Complaint.id among the complaints of this department (the same joins as the facts)."""
    query, department = with_department(select(Complaint.id))
    return Complaint.id.in_(query.where(department == department_id))


def acknowledgements_sent() -> Select:
    """(complaint_id, day): the first day an acknowledgement email was sent."""
    return (select(OutboxMessage.complaint_id.label("complaint_id"),
                   func.min(local_date(OutboxMessage.sent_at)).label("day"))
            .where(OutboxMessage.kind == ACKNOWLEDGEMENT,
                   OutboxMessage.status == OutboxStatus.SENT.value,
                   OutboxMessage.sent_at.is_not(None), OutboxMessage.complaint_id.is_not(None))
            .group_by(OutboxMessage.complaint_id))


def acknowledgements_posted() -> Select:
    """(complaint_id, day): the first day an acknowledgement was posted."""
    return (select(Notice.complaint_id.label("complaint_id"),
                   func.min(Notice.posted_on).label("day"))
            .where(Notice.kind == ACKNOWLEDGEMENT, Notice.posted_on.is_not(None))
            .group_by(Notice.complaint_id))


def earlier(first: ColumnElement, second: ColumnElement) -> ColumnElement:
    """The earlier of two days, either of which may be NULL."""
    return case((first.is_(None), second), (second.is_(None), first),
                (first <= second, first), else_=second)


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


def latest_answers() -> Select:
    """(complaint_id, id): each complaint's latest answered call-back. Joined like the
    acknowledgements (SQLite indexes the grouped rows on the fly), then the call-back by its
    primary key; a join with a joined subquery was scanned whole for every complaint."""
    return (select(Callback.complaint_id, func.max(Callback.id).label("id"))
            .where(Callback.satisfaction.is_not(None)).group_by(Callback.complaint_id))


def base(viewer: User | None, conditions: list[ColumnElement[bool]], today: date, *,
         spans: bool = False) -> Select:
    """One row per registered complaint the viewer may see and the conditions keep; with
    `spans`, also the working days from receipt to each end (`<name>_days` for each of SPANS,
    NULL until it ends): differences of the working-day table's numbers."""
    promised = aliased(Deadline, name="promised")
    sent = acknowledgements_sent().subquery("sent")
    posted = acknowledgements_posted().subquery("posted")
    decided = aliased(Decision, name="decided")  # the first decision: number 1
    latest = latest_answers().subquery("latest")
    scored = aliased(Callback, name="scored")
    days = {"received_day": local_date(Complaint.received_at),
            "ack_day": earlier(sent.c.day, posted.c.day),
            "decided_day": local_date(decided.decided_at),
            "closed_day": local_date(Complaint.closed_at)}
    query = (
        select(Complaint.id, Complaint.reference, Complaint.channel, Complaint.severity,
               Complaint.categories, Complaint.received_at,
               local_month(Complaint.received_at).label("month"),
               promised.due.label("due"),
               ack_status(days["ack_day"], promised.due, today).label("ack_status"),
               response_status(promised.stopped_at, promised.stopped_late, promised.due,
                               today).label("response_status"),
               scored.satisfaction.label("satisfaction"),
               *(day.label(name) for name, day in days.items()))
        .select_from(Complaint)
        .outerjoin(promised, and_(promised.complaint_id == Complaint.id,
                                  promised.kind == DeadlineKind.FIRST_RESPONSE.value))
        .outerjoin(sent, sent.c.complaint_id == Complaint.id)
        .outerjoin(posted, posted.c.complaint_id == Complaint.id)
        .outerjoin(decided, and_(decided.complaint_id == Complaint.id, decided.number == 1))
        .outerjoin(latest, latest.c.complaint_id == Complaint.id)
        .outerjoin(scored, scored.id == latest.c.id)
        .where(Complaint.registered_at.is_not(None), visible(viewer), *conditions)
    )
    query, department = with_department(query)
    query = query.add_columns(department.label("department_id"))
    if spans:
        received = aliased(WorkingDay, name="wd_received")
        query = query.outerjoin(received, received.day == days["received_day"])
        for name, end_day in SPANS.items():
            end = aliased(WorkingDay, name=f"wd_{name}")
            query = (query.outerjoin(end, end.day == days[end_day])
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
