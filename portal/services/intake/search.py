"""Suggestions while typing: clients, staff and matters whose words contain the query."""

from __future__ import annotations

import re

from sqlalchemy import ColumnElement, Integer, Select, and_, column, func, or_, select, text
from sqlalchemy.orm import aliased

from portal import clock
from portal.db import contains, db
from portal.models import search_index
from portal.models.complaint import Complaint, State, complaint_respondent
from portal.models.deadline import Deadline, DeadlineKind
from portal.models.matter import Client, Matter
from portal.models.user import User
from portal.services.analytics.filters import Facets

SEARCH_LIMIT = 10
QUERY_MAX = 100


def clean_query(q: str | None) -> str | None:
    q = (q or "").strip()
    return q[:QUERY_MAX] or None


def search_clients(q: str | None) -> list[Client]:
    q = clean_query(q)
    if not q:
        return []
    digits = re.sub(r"\D", "", q)
    conditions = [contains(Client.name, q), contains(Client.email, q)]
    if len(digits) >= 3:
        conditions.append(func.replace(Client.phone, " ", "").like(f"%{digits}%"))
    return list(db.session.scalars(
        select(Client).where(or_(*conditions)).order_by(Client.name).limit(SEARCH_LIMIT)
    ))


def search_staff(q: str | None) -> list[User]:
    q = clean_query(q)
    if not q:
        return []
    return list(db.session.scalars(
        select(User)
        .where(or_(contains(User.name, q), contains(User.email, q), contains(User.username, q)))
        .order_by(User.active.desc(), User.name)
        .limit(SEARCH_LIMIT)
    ))


def search_matters(q: str | None) -> list[Matter]:
    q = clean_query(q)
    if not q:
        return []
    return list(db.session.scalars(
        select(Matter)
        .outerjoin(Client, Matter.client_id == Client.id)
        .where(or_(contains(Matter.reference, q), contains(Matter.case_number, q),
                   contains(Matter.title, q), contains(Client.name, q)))
        .order_by(Matter.reference.desc())
        .limit(SEARCH_LIMIT)
    ))


LIST_FILTERS = ("open", "draft", "to_verify", "registered", "all")
# The columns the list may be sorted by (the query string's `sort`), each with its keys.
LIST_SORTS = ("reference", "received", "complainant", "due")
# The deadline filters: a running clock past its day, or due within two working days.
LIST_CLOCKS = ("overdue", "due_soon")
# The first-response clock, joined for the "due" order (unique per complaint and kind).
PROMISED = aliased(Deadline, name="promised")


def join_first_response(query: Select, outer: bool) -> Select:
    on = and_(PROMISED.complaint_id == Complaint.id,
              PROMISED.kind == DeadlineKind.FIRST_RESPONSE.value)
    return query.outerjoin(PROMISED, on) if outer else query.join(PROMISED, on)


def count_up_to(query: Select, limit: int) -> int:
    """The rows of `query`, counted up to `limit`: the database stops reading there. Counting
    every complaint a partner may see reads ten years of rows (85 ms at 100,000 on SQLite)."""
    return db.session.scalar(select(func.count()).select_from(
        query.with_only_columns(Complaint.id).order_by(None).limit(limit).subquery())) or 0


def first_response_due() -> ColumnElement:
    """The first-response clock's due day, looked up per complaint. For the registered ones
    (every one has the clock): they are few, since triage follows within days, so the
    database starts from them by state, not from ten years of clocks in due order, which it
    would walk to the end when the join offers it that path."""
    return (select(PROMISED.due).where(PROMISED.complaint_id == Complaint.id,
                                       PROMISED.kind == DeadlineKind.FIRST_RESPONSE.value)
            .scalar_subquery())


def by_first_response_due(descending: bool = False) -> list:
    due = first_response_due()
    return [due.desc(), Complaint.id.desc()] if descending else [due, Complaint.id]


def _sort_keys(sort: str, descending: bool) -> list:
    column = {"reference": Complaint.reference, "received": Complaint.received_at,
              "complainant": Client.name, "due": PROMISED.due}[sort]
    ordered = column.desc() if descending else column.asc()
    # Drafts have no reference and no due date yet: they go last whichever the direction.
    tie = Complaint.id.desc() if descending else Complaint.id.asc()
    return [ordered.nulls_last(), tie]


def _narrative_contains(q: str) -> ColumnElement:
    """Complaints whose narrative contains `q`, through the trigram index when it can serve
    (three characters or more; models/search_index.py)."""
    if len(q) >= search_index.MIN_LENGTH and db.session.get_bind().dialect.name == "sqlite":
        phrase = '"' + q.replace('"', '""') + '"'  # an FTS5 phrase: the text as typed
        matching = text("SELECT rowid FROM complaint_search WHERE complaint_search MATCH :phrase")
        return Complaint.id.in_(matching.bindparams(phrase=phrase)
                                .columns(column("rowid", Integer)))
    return contains(Complaint.narrative, q)  # PostgreSQL's pg_trgm index serves this LIKE


def complaints_query(actor: User, state: str, q: str | None, sort: str | None = None,
                     descending: bool = False, *, clock_filter: str | None = None,
                     mine: bool = False, facets: Facets | None = None) -> Select:
    """The complaints list: what `actor` may see, filtered by state and searched by the
    complainant's or a respondent's name, the reference, the matter's reference or title, the
    draft label (D12) or the narrative; sorted by one of LIST_SORTS when `sort` names one.
    `clock_filter`
    (one of LIST_CLOCKS) keeps the overdue or soon-due ones, most urgent first; `mine` the
    actor's own work (handler, lead or investigator). `facets` are the analytics' filters
    (month, department, category, root cause, on time or late...: a figure's complaints)."""
    from portal.services import deadlines

    query = select(Complaint).where(Complaint.visible_to(actor))
    if facets is not None and facets.active:
        query = query.where(*facets.conditions(actor, clock.today()))
    if mine:
        query = query.where(deadlines.own_work_sql(actor))
    if clock_filter in LIST_CLOCKS:
        today = clock.today()
        query = query.where(deadlines.overdue_sql(today) if clock_filter == "overdue"
                            else deadlines.due_soon_sql(today, deadlines.soon_limit(today)))
    if state == "open":
        query = query.where(Complaint.state == State.DRAFT)
    elif state == "draft":
        query = query.where(Complaint.state == State.DRAFT,
                            Complaint.needs_verification.is_(False))
    elif state == "to_verify":
        query = query.where(Complaint.state == State.DRAFT,
                            Complaint.needs_verification.is_(True))
    elif state == "registered":
        query = query.where(Complaint.state == State.REGISTERED)
    q = clean_query(q)
    if q:
        # Uncorrelated IN (subquery): the few matching clients and matters are found once,
        # instead of once per complaint row. References are ASCII: a query with any other
        # character cannot match one, so those columns are not even read.
        conditions = [
            Complaint.complainant_id.in_(select(Client.id).where(contains(Client.name, q))),
            # The few staff so named first, then their complaints by index (a join let the
            # planner read every respondent row and look each one's name up).
            Complaint.id.in_(select(complaint_respondent.c.complaint_id).where(
                complaint_respondent.c.user_id.in_(select(User.id)
                                                   .where(contains(User.name, q))))),
        ]
        matter_terms = [contains(Matter.title, q)]
        if q.isascii():
            conditions.append(contains(Complaint.reference, q))
            matter_terms.append(contains(Matter.reference, q))
        # An anonymized complaint is not found through its matter: the matter names the client.
        conditions.append(and_(Complaint.anonymized_at.is_(None),
                               Complaint.matter_id.in_(select(Matter.id)
                                                       .where(or_(*matter_terms)))))
        named = Complaint.with_key(q)  # a draft's label (D12) or a whole reference
        if named is not None:
            conditions.append(named)
        # A query too short for the trigram index (most Chinese names have two characters)
        # reads narratives only within a narrower list than "all complaints".
        narrowed = (state != "all" or mine or clock_filter in LIST_CLOCKS
                    or (facets is not None and facets.active))
        if len(q) >= search_index.MIN_LENGTH or narrowed:
            conditions.append(_narrative_contains(q))
        query = query.where(or_(*conditions))
    if sort in LIST_SORTS:
        if sort == "complainant":
            query = query.outerjoin(Client, Complaint.complainant_id == Client.id)
        elif sort == "due":
            if state == "registered":
                return query.order_by(*by_first_response_due(descending))
            query = join_first_response(query, outer=True)  # drafts have no clock yet
        return query.order_by(*_sort_keys(sort, descending))
    if clock_filter in LIST_CLOCKS:
        return query.order_by(deadlines.next_due_sql(), Complaint.id)
    if state == "registered":
        return query.order_by(*by_first_response_due())
    return query.order_by(Complaint.created_at.desc(), Complaint.id.desc())
