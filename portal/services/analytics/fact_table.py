"""Keeping `complaint_fact` (portal/models/analytics.py) true: one row per registered complaint,
rewritten in the same transaction as any change to what it is made of.

After every flush, the complaints whose rows may have changed are rewritten from the source
tables (DELETE, then INSERT ... SELECT): the complaint itself, its first-response clock, its
acknowledgement emails and notices, its decisions and call-backs, and, when a matter's or a
user's department changes, the complaints of that matter or with that respondent. Writers that
bypass the ORM (the bulk demo seed) call `refresh` or `refresh_all` themselves. `drift` lists
the complaints whose stored row differs from a fresh computation (the tests check it is empty).

The computation uses correlated subqueries on indexed keys, so rewriting one complaint reads
only that complaint's rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import chain

from sqlalchemy import (
    Connection,
    Select,
    and_,
    case,
    delete,
    event,
    except_,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.orm import Session

from portal.models.analytics import ComplaintFact
from portal.models.complaint import Complaint, complaint_respondent
from portal.models.deadline import Deadline, DeadlineKind
from portal.models.followup import Callback
from portal.models.matter import Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.resolution import Decision
from portal.models.user import User
from portal.services.analytics.sql import local_date, local_month

ACKNOWLEDGEMENT = "acknowledgement"
CHUNK = 500  # complaint ids per statement
COLUMNS = ("complaint_id", "month", "received_day", "department_id", "ack_day", "due",
           "response_stopped", "response_late", "decided_day", "closed_day", "satisfaction")
# Rows that carry a complaint_id whose change may change that complaint's facts.
_OWNED = (Deadline, OutboxMessage, Notice, Decision, Callback)


def earlier(first, second):
    """The earlier of two days, either of which may be NULL."""
    return case((first.is_(None), second), (second.is_(None), first),
                (first <= second, first), else_=second)


def computed() -> Select:
    """(COLUMNS) of every registered complaint, computed from the source tables."""
    first_respondent = (select(User.department_id)
                        .join(complaint_respondent, complaint_respondent.c.user_id == User.id)
                        .where(complaint_respondent.c.complaint_id == Complaint.id)
                        .order_by(complaint_respondent.c.user_id).limit(1).scalar_subquery())
    department = func.coalesce(
        select(Matter.department_id).where(Matter.id == Complaint.matter_id).scalar_subquery(),
        first_respondent)
    sent = (select(func.min(local_date(OutboxMessage.sent_at)))
            .where(OutboxMessage.complaint_id == Complaint.id,
                   OutboxMessage.kind == ACKNOWLEDGEMENT,
                   OutboxMessage.status == OutboxStatus.SENT.value,
                   OutboxMessage.sent_at.is_not(None)).scalar_subquery())
    posted = (select(func.min(Notice.posted_on))
              .where(Notice.complaint_id == Complaint.id, Notice.kind == ACKNOWLEDGEMENT,
                     Notice.posted_on.is_not(None)).scalar_subquery())
    decided = (select(local_date(Decision.decided_at))
               .where(Decision.complaint_id == Complaint.id, Decision.number == 1)
               .scalar_subquery())
    satisfaction = (select(Callback.satisfaction)
                    .where(Callback.complaint_id == Complaint.id,
                           Callback.satisfaction.is_not(None))
                    .order_by(Callback.id.desc()).limit(1).scalar_subquery())
    return (
        select(Complaint.id, local_month(Complaint.received_at),
               local_date(Complaint.received_at), department, earlier(sent, posted),
               Deadline.due, Deadline.stopped_at.is_not(None),
               Deadline.stopped_late, decided, local_date(Complaint.closed_at), satisfaction)
        .select_from(Complaint)
        .outerjoin(Deadline, and_(Deadline.complaint_id == Complaint.id,
                                  Deadline.kind == DeadlineKind.FIRST_RESPONSE.value))
        .where(Complaint.registered_at.is_not(None))
    )


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def refresh(connection: Connection, complaint_ids: Iterable[int]) -> None:
    """Rewrite the rows of these complaints (drops those no longer registered or gone)."""
    table = ComplaintFact.__table__
    for ids in _chunks(complaint_ids):
        connection.execute(delete(table).where(table.c.complaint_id.in_(ids)))
        connection.execute(insert(table).from_select(
            COLUMNS, computed().where(Complaint.id.in_(ids))))


def refresh_all(connection: Connection) -> None:
    table = ComplaintFact.__table__
    connection.execute(delete(table))
    connection.execute(insert(table).from_select(COLUMNS, computed()))


def drift(connection: Connection) -> list[int]:
    """Complaint ids whose stored row differs from a fresh computation (empty when true)."""
    stored = select(*(ComplaintFact.__table__.c[name] for name in COLUMNS))
    fresh = computed()
    either = chain(connection.execute(except_(fresh, stored)),
                   connection.execute(except_(stored, fresh)))
    return sorted({row[0] for row in either})


def _changed(obj: object, attribute: str) -> bool:
    return inspect(obj).attrs[attribute].history.has_changes()


def touched(session: Session) -> set[int]:
    """The complaints whose facts this flush may have changed."""
    ids: set[int] = set()
    matters: set[int] = set()
    users: set[int] = set()
    dirty = (obj for obj in session.dirty if session.is_modified(obj))
    for obj in chain(session.new, dirty, session.deleted):
        if isinstance(obj, Complaint):
            ids.add(obj.id)
        elif isinstance(obj, _OWNED) and obj.complaint_id is not None:
            ids.add(obj.complaint_id)
        elif isinstance(obj, Matter) and _changed(obj, "department_id"):
            matters.add(obj.id)
        elif isinstance(obj, User) and _changed(obj, "department_id"):
            users.add(obj.id)
    connection = session.connection()
    if matters:
        ids.update(connection.scalars(select(Complaint.id).where(Complaint.matter_id.in_(matters))))
    if users:
        ids.update(connection.scalars(select(complaint_respondent.c.complaint_id)
                                      .where(complaint_respondent.c.user_id.in_(users))))
    ids.discard(None)
    return ids


@event.listens_for(Session, "after_flush")
def _refresh_touched(session: Session, _context: object) -> None:
    ids = touched(session)
    if ids:
        refresh(session.connection(), ids)
