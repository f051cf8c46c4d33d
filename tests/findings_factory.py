"""Complaints under investigation, built directly in the database for the first-response and
findings tests (triage and assignment have their own services and tests)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import (
    Allegation,
    Assignment,
    Client,
    Complaint,
    Deadline,
    Matter,
    RuleArticle,
    State,
    User,
)

CST = timezone(timedelta(hours=8))


def user(username_or_name: str) -> User:
    return db.session.scalar(select(User).where(
        (User.username == username_or_name) | (User.name == username_or_name)))


def rule(source: str, article: str) -> RuleArticle:
    return db.session.scalar(select(RuleArticle).where(RuleArticle.source == source,
                                                       RuleArticle.article == article))


def make_investigation(*, reference: str = "TS-2026-00077", lead: str | None = "investigator",
                       allegations: int = 2, state: str = State.INVESTIGATING,
                       received_at: datetime | None = None,
                       first_response_due: date | None = None,
                       client_email: str | None = "li.ming@example.com") -> int:
    """A complaint on matter M-2025-0142 (王磊 responsible, 陈志远 its partner) against 王磊,
    its lead and handler `lead`, with `allegations` numbered allegations; returns its id."""
    received_at = received_at or clock.now() - timedelta(days=1)
    with writes_by_default():
        respondent = user("王磊")
        complaint = Complaint(
            reference=reference, state=state, language="zh", channel="phone",
            received_at=received_at, registered_at=received_at,
            complainant=Client(name="李明", email=client_email, phone="13800138000",
                               language="zh"),
            matter=db.session.scalar(select(Matter).where(Matter.reference == "M-2025-0142")),
            respondents=[respondent], narrative="王律师多次未按约定时间回复我的询问。",
            severity="serious", categories=["communication", "fees"],
            triaged_at=received_at, triaged_by_id=user("partner2").id)
        db.session.add(complaint)
        db.session.flush()
        if lead:
            complaint.assignments.append(Assignment(user_id=user(lead).id, role="lead"))
            complaint.handler_id = user(lead).id
        for number in range(1, allegations + 1):
            complaint.allegations.append(Allegation(
                number=number, text=f"第{number}项：律师未及时回复委托人的询问。",
                category="communication", respondent_id=respondent.id))
        local = received_at.astimezone(CST).date()
        complaint.deadlines.append(Deadline(
            kind="first_response", due=first_response_due or local + timedelta(days=3)))
        complaint.deadlines.append(Deadline(kind="investigation",
                                            due=local + timedelta(days=40)))
        db.session.commit()
        return complaint.id


def answer_all(complaint_id: int, actor_name: str = "investigator") -> None:
    """Every allegation answered (as the lead would), written directly."""
    with writes_by_default():
        complaint = db.session.get(Complaint, complaint_id)
        for a in complaint.allegations:
            a.finding, a.responsibility = "partly_established", "individual"
            a.reasoning = f"往来邮件显示律师迟延回复（第{a.number}项）。"
            a.nature_found, a.severity_found = "communication", "general"
            a.remedies_recommended = ["apology"]
            a.rules = [rule("acla_rules", "37")]
            a.found_by_id, a.found_at = user(actor_name).id, clock.now()
            a.findings_version += 1
        db.session.commit()
