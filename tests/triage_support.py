"""Helpers for the triage tests: registered complaints made directly, users by username or
name, and the triage's services run as a given user."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import AuditEvent, Client, Complaint, Matter, State, User
from portal.models.outbox import OutboxMessage
from portal.services.triage.triage import AllegationInput
from portal.services.triage.triage import triage as triage_service

HX = {"HX-Request": "true"}
RECEIVED = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)  # a Monday, 10:00 in Beijing


def person(key: str) -> User:
    """A user by username, or by name (lawyers without a login have no username)."""
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def registered(app, reference: str = "TS-2026-00101", *, matter: str | None = "M-2025-0142",
               respondents: tuple[str, ...] = ("王磊",), client: str = "李明",
               email: str | None = "li.ming@example.com", language: str = "zh") -> int:
    """A registered complaint (its id). By default about M-2025-0142, whose supervising
    partner is "partner" (陈志远), against 王磊, by 李明."""
    with app.app_context(), write_transaction():
        complainant = db.session.scalar(select(Client).where(Client.name == client)) \
            or Client(name=client)
        complainant.email = email
        complaint = Complaint(
            state=State.REGISTERED, reference=reference, channel="phone",
            received_at=RECEIVED, registered_at=RECEIVED, language=language,
            complainant=complainant, narrative="律师未按约定时间提交材料，且多收了律师费。",
            matter=db.session.scalar(select(Matter).where(Matter.reference == matter))
            if matter else None,
            respondents=[person(n) for n in respondents])
        db.session.add(complaint)
        db.session.flush()
        return complaint.id


def triaged(app, complaint_id: int, *, severity: str = "serious", by: str = "partner2",
            handler: str | None = None, allegations: int = 2) -> None:
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        respondent = complaint.respondents[0].id if complaint.respondents else None
        triage_service(
            person(by), complaint, severity=severity, categories=["fees", "delay"],
            assessment="Fees charged above the engagement letter; filing late.",
            allegations=[AllegationInput(f"Allegation {n}", "fees", respondent)
                         for n in range(1, allegations + 1)],
            handler_id=person(handler or by).id)


def load(app, complaint_id: int) -> Complaint:
    """A detached copy with what the tests read."""
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        _ = (list(complaint.allegations), [a.user for a in complaint.assignments],
             list(complaint.conflicts), list(complaint.deadlines), complaint.handler,
             complaint.duplicate_of)
        db.session.expunge_all()
        return complaint


def events(app, action: str, complaint_id: int) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == action,
                                     AuditEvent.object_type == "complaint",
                                     AuditEvent.object_id == str(complaint_id))
            .order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def mail(app, kind: str, complaint_id: int | None = None) -> list[OutboxMessage]:
    with app.app_context():
        query = select(OutboxMessage).where(OutboxMessage.kind == kind)
        if complaint_id is not None:
            query = query.where(OutboxMessage.complaint_id == complaint_id)
        rows = db.session.scalars(query.order_by(OutboxMessage.id)).all()
        db.session.expunge_all()
        return rows


def version(app, complaint_id: int) -> int:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).version


def user_id(app, key: str) -> int:
    with app.app_context():
        return person(key).id
