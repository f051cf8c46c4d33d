"""Keeping `complaint_fact` (portal/models/analytics.py) true: one row per registered complaint,
rewritten in the same transaction as any change to what it is made of.

After every flush, the complaints whose rows may have changed are rewritten from the source
tables (DELETE, then INSERT ... SELECT): the complaint itself, its first-response clock, its
acknowledgement emails and notices, its decisions and call-backs, and, when a matter's or a
user's department changes, the complaints of that matter or with that respondent. Writers that
bypass the ORM (the bulk demo seed) call `refresh` or `refresh_all` themselves. `drift` lists
the complaints whose stored row differs from a fresh computation (the tests check it is empty).

The prevention columns (what the complaint's matter lacked when the complaint was received:
services/prevention/history.py defines each judgement) are rewritten when a flush touches the
matter's expectation entries, reports or checklist, the matter's opening or closing day,
interval or type, or a type's default interval. A migration older than the one that adds
those columns backfills without them (`refresh_all` looks at the table).

The computation uses correlated subqueries on indexed keys, so rewriting one complaint reads
only that complaint's rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import chain
from typing import Any

from sqlalchemy import (
    Connection,
    Date,
    Select,
    and_,
    case,
    delete,
    event,
    except_,
    exists,
    func,
    insert,
    inspect,
    null,
    or_,
    select,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, aliased
from sqlalchemy.sql.functions import FunctionElement

from portal.models.analytics import ComplaintFact
from portal.models.complaint import Complaint, complaint_respondent
from portal.models.deadline import Deadline, DeadlineKind
from portal.models.followup import Callback
from portal.models.matter import Matter
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.prevention import (
    Expectation,
    ExpectationEntry,
    MatterChecklistItem,
    MatterType,
    ProgressReport,
)
from portal.models.resolution import Decision
from portal.models.user import User
from portal.services.analytics.sql import local_date, local_month
from portal.services.prevention.history import (
    ENGAGEMENT_STAGES,
    has_content_sql,
    interval_sql,
    reported_until_sql,
)

ACKNOWLEDGEMENT = "acknowledgement"
CHUNK = 500  # complaint ids per statement
_LEFT_TO_CALLER = "complaint_fact_left_to_caller"
BASE_COLUMNS = ("complaint_id", "month", "received_day", "department_id", "ack_day", "due",
                "response_stopped", "response_late", "decided_day", "closed_day",
                "satisfaction")
# One column per engagement expectation: True when nothing was on file for it at receipt.
MISSING = {item.value: f"missing_{item.value}" for item in Expectation}
PREVENTION_COLUMNS = (*MISSING.values(), "report_overdue", "checklist_incomplete")
COLUMNS = BASE_COLUMNS + PREVENTION_COLUMNS
# Rows that carry a complaint_id whose change may change that complaint's facts.
_OWNED = (Deadline, OutboxMessage, Notice, Decision, Callback)
# Rows that carry a matter_id whose change may change the facts of the matter's complaints.
_MATTER_ROWS = (ExpectationEntry, ProgressReport, MatterChecklistItem)
_MATTER_FIELDS = ("department_id", "opened_on", "closed_on", "report_interval_days",
                  "matter_type_code")


class add_days(FunctionElement):  # noqa: N801 - reads as a SQL function
    """A day plus a number of days (both columns or expressions)."""

    type = Date()
    inherit_cache = True
    name = "add_days"


@compiles(add_days, "sqlite")
def _add_days_sqlite(element: add_days, compiler: Any, **kw: Any) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"date({day}, '+' || ({days}) || ' days')"


@compiles(add_days, "postgresql")
def _add_days_postgresql(element: add_days, compiler: Any, **kw: Any) -> str:
    day, days = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"({day} + ({days}))"


def earlier(first, second):
    """The earlier of two days, either of which may be NULL."""
    return case((first.is_(None), second), (second.is_(None), first),
                (first <= second, first), else_=second)


def _prevention(matter) -> list:
    """PREVENTION_COLUMNS of a complaint (over Complaint outer-joined with its `matter`): its
    matter's record as it stood when the complaint was received (services/prevention/
    history.py says how each is judged; the case file shows the same)."""
    received = Complaint.received_at

    def on_matter(judgement):
        return case((Complaint.matter_id.is_(None), null()), else_=judgement)

    entry = ExpectationEntry
    found = []
    for item in MISSING:
        latest = (select(case((has_content_sql(), 1), else_=0))
                  .where(entry.matter_id == Complaint.matter_id, entry.item == item,
                         entry.recorded_at <= received)
                  .order_by(entry.recorded_at.desc(), entry.id.desc()).limit(1)
                  .scalar_subquery())
        found.append(on_matter(func.coalesce(latest, 0) == 0))
    since = func.coalesce(reported_until_sql(Complaint.matter_id, received), matter.opened_on)
    until = earlier(local_date(received), matter.closed_on)
    found.append(case((Complaint.matter_id.is_(None), null()), (since.is_(None), null()),
                      else_=add_days(since, interval_sql(matter)) < until))
    step = MatterChecklistItem
    found.append(on_matter(exists(
        select(step.id).where(step.matter_id == Complaint.matter_id,
                              step.stage.in_(ENGAGEMENT_STAGES),
                              or_(step.ticked_at.is_(None), step.ticked_at > received)))))
    return found


def computed(prevention: bool = True) -> Select:
    """(COLUMNS) of every registered complaint, computed from the source tables (BASE_COLUMNS
    only without `prevention`)."""
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
    query = (
        select(Complaint.id, local_month(Complaint.received_at),
               local_date(Complaint.received_at), department, earlier(sent, posted),
               Deadline.due, Deadline.stopped_at.is_not(None),
               Deadline.stopped_late, decided, local_date(Complaint.closed_at), satisfaction)
        .select_from(Complaint)
        .outerjoin(Deadline, and_(Deadline.complaint_id == Complaint.id,
                                  Deadline.kind == DeadlineKind.FIRST_RESPONSE.value))
        .where(Complaint.registered_at.is_not(None))
    )
    if prevention:
        matter = aliased(Matter, name="fact_matter")
        query = (query.add_columns(*_prevention(matter))
                 .outerjoin(matter, matter.id == Complaint.matter_id))
    return query


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    ordered = sorted(set(ids))
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


def refresh(connection: Connection, complaint_ids: Iterable[int]) -> None:
    """Rewrite the rows of these complaints (drops those no longer registered or gone).

    On PostgreSQL two transactions rewriting the same complaint's row would both delete it and
    both insert it (the second's DELETE does not see the first's new row): the refresh takes
    the audit chain's lock first, which every such write takes anyway when it records its
    event, so that they follow one another and the second computes from the first's result."""
    from portal.services import audit

    audit.lock_chain_on(connection)
    table = ComplaintFact.__table__
    for ids in _chunks(complaint_ids):
        connection.execute(delete(table).where(table.c.complaint_id.in_(ids)))
        connection.execute(insert(table).from_select(
            COLUMNS, computed().where(Complaint.id.in_(ids))))


def refresh_all(connection: Connection, *, prevention: bool | None = None) -> None:
    """Rewrite every row. `prevention` None: with the prevention columns when the table has
    them (a migration older than the one adding them backfills without)."""
    if prevention is None:
        present = {column["name"] for column in inspect(connection).get_columns(
            ComplaintFact.__tablename__)}
        prevention = set(PREVENTION_COLUMNS) <= present
    table = ComplaintFact.__table__
    connection.execute(delete(table))
    columns = COLUMNS if prevention else BASE_COLUMNS
    connection.execute(insert(table).from_select(columns, computed(prevention)))


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
    types: set[str] = set()
    dirty = (obj for obj in session.dirty if session.is_modified(obj))
    for obj in chain(session.new, dirty, session.deleted):
        if isinstance(obj, Complaint):
            ids.add(obj.id)
        elif isinstance(obj, _OWNED) and obj.complaint_id is not None:
            ids.add(obj.complaint_id)
        elif isinstance(obj, _MATTER_ROWS) and obj.matter_id is not None:
            matters.add(obj.matter_id)
        elif isinstance(obj, Matter) and any(_changed(obj, name) for name in _MATTER_FIELDS):
            matters.add(obj.id)
        elif isinstance(obj, MatterType) and _changed(obj, "report_interval_days"):
            types.add(obj.code)
        elif isinstance(obj, User) and _changed(obj, "department_id"):
            users.add(obj.id)
    connection = session.connection()
    matters.discard(None)
    if matters:
        ids.update(connection.scalars(select(Complaint.id).where(Complaint.matter_id.in_(matters))))
    if types:  # the matters that take their type's interval
        ids.update(connection.scalars(select(Complaint.id).join(
            Matter, Matter.id == Complaint.matter_id).where(
            Matter.matter_type_code.in_(types), Matter.report_interval_days.is_(None))))
    if users:
        ids.update(connection.scalars(select(complaint_respondent.c.complaint_id)
                                      .where(complaint_respondent.c.user_id.in_(users))))
    ids.discard(None)
    return ids


@contextmanager
def left_to_caller(session: Session) -> Iterator[None]:
    """Flushes inside skip the hook: the caller (a bulk writer that goes on with Core inserts)
    calls `refresh` itself once it has written everything, instead of refreshing twice."""
    session.info[_LEFT_TO_CALLER] = True
    try:
        yield
    finally:
        session.info.pop(_LEFT_TO_CALLER, None)


@event.listens_for(Session, "after_flush")
def _refresh_touched(session: Session, _context: object) -> None:
    if session.info.get(_LEFT_TO_CALLER):
        return
    ids = touched(session)
    if ids:
        refresh(session.connection(), ids)
