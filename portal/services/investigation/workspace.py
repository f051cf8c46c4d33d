"""Everything the workspace shows, loaded in a fixed number of queries whatever the number
of items (each list is one query, the people it names one more), and the case file's
short summary of it."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, Evidence
from portal.models.investigation import InterviewNote, ReplyRequest, Statement
from portal.models.user import User
from portal.services.audit_alone import record_alone

LATEST = 3  # items the case file's summary lists


@dataclass
class Workspace:
    complaint: Complaint
    evidence: list[Evidence]
    statements: list[Statement]
    notes: list[InterviewNote]
    replies: list[ReplyRequest]
    attachments: dict[int, list[Evidence]] = field(default_factory=dict)  # by statement id

    @property
    def replies_by_statement(self) -> dict[int, ReplyRequest]:
        return {r.statement_id: r for r in self.replies if r.statement_id is not None}

    @property
    def pending_replies(self) -> list[ReplyRequest]:
        now = clock.now()
        return [r for r in self.replies if r.submitted_at is None and r.expires_at > now]


def load(complaint: Complaint) -> Workspace:
    def rows(model, *order) -> list:
        return list(db.session.scalars(
            select(model).where(model.complaint_id == complaint.id).order_by(*order)))

    evidence = rows(Evidence, Evidence.id)
    statements = rows(Statement, Statement.given_on, Statement.id)
    notes = rows(InterviewNote, InterviewNote.held_on, InterviewNote.id)
    replies = rows(ReplyRequest, ReplyRequest.id)
    # Everyone the lists name, in one query: each row's person is then found in the
    # session's identity map instead of one query per row (or per list).
    people = {e.uploaded_by_id for e in evidence} | {n.author_id for n in notes}
    people |= {r.respondent_id for r in replies}
    people |= {s.recorded_by_id for s in statements} | {s.respondent_id for s in statements}
    people.discard(None)
    if people:
        db.session.scalars(select(User).where(User.id.in_(people))).all()
    attachments: dict[int, list[Evidence]] = defaultdict(list)
    for item in evidence:
        if item.statement_id is not None:
            attachments[item.statement_id].append(item)
    return Workspace(complaint, evidence, statements, notes, replies, dict(attachments))


def statement_attachments(statement: Statement) -> list[Evidence]:
    return list(db.session.scalars(
        select(Evidence).where(Evidence.statement_id == statement.id,
                               Evidence.complaint_id == statement.complaint_id)
        .order_by(Evidence.id)))


@dataclass(frozen=True)
class Latest:
    kind: str  # "evidence", "statement", "note"
    at: datetime
    item: Evidence | Statement | InterviewNote


def summary(complaint: Complaint) -> dict:
    """Counts and the latest items, for the case file's area (five small queries; six while
    a request for a reply is unanswered)."""
    cid = complaint.id

    def count(model, *where):
        return (select(func.count()).select_from(model)
                .where(model.complaint_id == cid, *where).scalar_subquery())

    unanswered = ReplyRequest.submitted_at.is_(None)
    row = db.session.execute(select(
        count(Evidence), count(Statement), count(InterviewNote), count(ReplyRequest, unanswered),
    )).one()
    # Whether a link has expired is a question for the clock, asked only when one is unanswered:
    # a case file that reads the time is kept for a minute only (portal/web/page_cache.py).
    pending = row[3] and db.session.scalar(
        select(count(ReplyRequest, unanswered, ReplyRequest.expires_at > clock.now())))
    latest = [
        *(Latest("evidence", e.uploaded_at, e)
          for e in _newest(Evidence, Evidence.uploaded_at, cid)),
        *(Latest("statement", s.recorded_at, s)
          for s in _newest(Statement, Statement.recorded_at, cid)),
        *(Latest("note", n.created_at, n)
          for n in _newest(InterviewNote, InterviewNote.created_at, cid)),
    ]
    latest.sort(key=lambda entry: entry.at, reverse=True)
    return {"evidence": row[0], "statements": row[1], "notes": row[2],
            "pending_replies": pending, "latest": latest[:LATEST]}


def _newest(model, column, complaint_id: int) -> list:
    return list(db.session.scalars(
        select(model).where(model.complaint_id == complaint_id)
        .order_by(column.desc(), model.id.desc()).limit(LATEST)))


def record_view(*, actor_id: int, actor_label: str, complaint_id: int, view: str,
                **ids: int) -> None:
    """Opening the workspace (or one statement or note in full) is audited, in its own short
    write after the page was rendered; the ids were read before, so nothing reloads."""
    record_alone("complaint.viewed", actor_id=actor_id, actor_label=actor_label,
                 object_type="complaint", object_id=complaint_id,
                 details={"view": view, **ids})
