"""What happened to the complaints `flask demo seed --complaints N` generates
(portal/demo_complaints.py), so that the case files, the lists and the analytics have every
phase to show: triage (severity, categories, a lead investigator with no conflict), the
acknowledgement email, the allegations and the lead's findings, the committee's decision with
its remedies, closing with root causes and the call-back's satisfaction score.

The older a complaint, the further it went: most complaints of past years are closed, the
last weeks' are still being investigated or decided. Written with bulk inserts in the batch's
write transaction (the complaints are already flushed), then the analytics rows of the batch
are rewritten (services/analytics/fact_table.py: bulk inserts bypass the ORM's hook).
Deterministic: the same random seed and database give the same outcomes.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from portal.db import db
from portal.models.complaint import Complaint, Remedy, State
from portal.models.followup import (
    ActionKind,
    Callback,
    CallbackStatus,
    ComplaintRootCause,
    ImprovementAction,
    RootCause,
)
from portal.models.investigation import (
    Allegation,
    Assignment,
    AssignmentRole,
    Category,
    Finding,
    Responsibility,
    Severity,
)
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.resolution import DecidedRemedy, Decision
from portal.models.user import User
from portal.services.analytics import fact_table

SEVERITY_WEIGHTS = {Severity.MINOR: 40, Severity.GENERAL: 35, Severity.SERIOUS: 18,
                    Severity.CRITICAL: 7}
CATEGORY_WEIGHTS = {Category.COMMUNICATION: 30, Category.FEES: 25, Category.DELAY: 18,
                    Category.ATTITUDE: 10, Category.COMPETENCE: 10, Category.CONFLICT: 3,
                    Category.CONFIDENTIALITY: 2, Category.OTHER: 2}
ALLEGATION_TEXT = {
    Category.COMMUNICATION: "承办律师长期不回复客户的电话和消息，未告知案件进展。",
    Category.FEES: "律师费收取超出委托合同约定，且未事先书面说明。",
    Category.DELAY: "未在约定期限内完成工作，导致程序延误。",
    Category.ATTITUDE: "承办律师对客户态度冷淡、不耐烦。",
    Category.COMPETENCE: "法律文书存在明显错误，准备不充分。",
    Category.CONFLICT: "律所同时为对方当事人的关联公司提供服务，未作利益冲突审查。",
    Category.CONFIDENTIALITY: "客户的案件信息被透露给无关人员。",
    Category.OTHER: "客户原件未按约定退还。",
}
REASONING = {
    Finding.ESTABLISHED: "通话记录和邮件往来证实了投诉所述情况。",
    Finding.PARTLY: "部分情况属实，但客户所述的时间和金额与记录不完全一致。",
    Finding.NOT_ESTABLISHED: "案卷和双方陈述均不能证实该项投诉。",
}
FINDING_WEIGHTS = {Finding.ESTABLISHED: 40, Finding.PARTLY: 35, Finding.NOT_ESTABLISHED: 25}
SATISFACTION = (2, 3, 4, 4, 4, 5, 5, 5)
ACTIONS = ("更新委托合同中的收费说明", "进度报告提醒制度", "新入职律师沟通培训",
           "利益冲突检索工具升级", "结案归档清单", "客户投诉处理流程宣讲")


@dataclass
class _Rows:
    """The rows of one batch, by table; written with one bulk statement each."""

    triage: list[dict[str, Any]] = field(default_factory=list)
    leads: list[dict[str, Any]] = field(default_factory=list)
    mails: list[dict[str, Any]] = field(default_factory=list)
    allegations: list[dict[str, Any]] = field(default_factory=list)
    decisions: list[dict[str, Any]] = field(default_factory=list)
    remedies: list[tuple[int, str, Any, int | None]] = field(default_factory=list)
    root_causes: list[dict[str, Any]] = field(default_factory=list)
    callbacks: list[dict[str, Any]] = field(default_factory=list)


class Outcomes:
    """Draws each complaint's course from its own random number generator."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.now = now
        users = {u.username: u for u in db.session.scalars(select(User)) if u.username}
        self.partners = [users["partner"], users["partner2"]]
        self.investigators = [users["investigator"], users["investigator2"]]
        self.causes = list(db.session.scalars(
            select(RootCause.id).where(RootCause.active, RootCause.needs_text.is_(False))))

    def _pick(self, weights: dict) -> Any:
        return self.rng.choices(list(weights), list(weights.values()))[0]

    def add(self, complaints: Sequence[Complaint]) -> None:
        """Give the flushed complaints their course, and their analytics rows."""
        rows = _Rows()
        for complaint in complaints:
            self._course(complaint, rows)
        _write(rows)
        fact_table.refresh(db.session.connection(), [c.id for c in complaints])

    def _course(self, complaint: Complaint, rows: _Rows) -> None:
        rng, now = self.rng, self.now
        received = complaint.received_at
        age = (now - received).days
        if age < 3:
            return  # still registered: triage has not happened yet
        severity = self._pick(SEVERITY_WEIGHTS)
        categories = sorted({self._pick(CATEGORY_WEIGHTS) for _ in range(rng.choice((1, 1, 2)))})
        respondent_ids = {r.id for r in complaint.respondents}
        lead = next((u for u in self.investigators if u.id not in respondent_ids), None)
        triaged = received + timedelta(hours=rng.randint(2, 48))
        if lead is not None:
            rows.leads.append({"complaint_id": complaint.id, "user_id": lead.id,
                               "role": AssignmentRole.LEAD.value, "assigned_at": triaged,
                               "assigned_by_id": self.partners[0].id})
        email = complaint.complainant.email
        acknowledged = received + timedelta(hours=rng.randint(4, 24 * 9))
        if email and acknowledged < now and rng.random() < 0.92:
            rows.mails.append({
                "kind": "acknowledgement", "recipient": email, "subject": "投诉受理通知",
                "body_text": "您的投诉已受理。", "attachments": [], "complaint_id": complaint.id,
                "status": OutboxStatus.SENT.value, "attempts": 1,
                "next_attempt_at": acknowledged, "created_at": acknowledged,
                "sent_at": acknowledged})
        decided = received + timedelta(days=rng.randint(15, 60))
        found = decided - timedelta(days=rng.randint(2, 10))
        goes_to_decision = decided < now and rng.random() < (0.97 if age > 120 else 0.6)
        has_findings = goes_to_decision or (found < now and rng.random() < 0.5)
        for number, category in enumerate(categories, start=1):
            finding = self._pick(FINDING_WEIGHTS) if has_findings else None
            rows.allegations.append({
                "complaint_id": complaint.id, "number": number, "category": category.value,
                "text": ALLEGATION_TEXT[category], "respondent_id": complaint.respondents[0].id,
                "created_at": triaged, "finding": finding and finding.value,
                "reasoning": finding and REASONING[finding],
                "responsibility": finding and (Responsibility.NO_FAULT.value
                                               if finding == Finding.NOT_ESTABLISHED
                                               else Responsibility.INDIVIDUAL.value),
                "nature_found": finding and category.value,
                "severity_found": finding and severity.value,
                "remedies_recommended": [], "found_at": found if finding else None,
                "found_by_id": lead.id if finding and lead else None,
                "findings_version": 1 if finding else 0})
        closed = None
        if goes_to_decision:
            state, closed = self._decide(complaint, rows, decided)
        else:
            state = State.AWAITING_DECISION if has_findings else State.INVESTIGATING
        rows.triage.append({"cid": complaint.id, "severity": severity.value,
                            "categories": [c.value for c in categories], "state": state.value,
                            "closed_at": closed})

    def _decide(self, complaint: Complaint, rows: _Rows,
                decided: datetime) -> tuple[State, datetime | None]:
        """The decision and what followed it: the state reached, and when it was closed."""
        rng, now = self.rng, self.now
        partner = rng.choice(self.partners)
        rows.decisions.append({"complaint_id": complaint.id, "number": 1,
                               "client_summary": "经调查，律所决定采取以下补救措施。",
                               "decided_by_id": partner.id, "decided_at": decided})
        kinds = [r for r in complaint.remedies_sought if r != Remedy.OTHER.value] or [
            Remedy.EXPLANATION.value]
        for kind in kinds[:2]:
            amount = (rng.randrange(1_000, 50_000, 500)
                      if kind in (Remedy.PARTIAL_REFUND.value, Remedy.FULL_REFUND.value) else None)
            rows.remedies.append((complaint.id, kind, (decided + timedelta(days=20)).date(),
                                  amount))
        done = decided + timedelta(days=rng.randint(20, 50))
        if done >= now:
            return State.REMEDIES_IN_PROGRESS, None
        if rng.random() >= 0.9:
            return rng.choice((State.OUTCOME_SENT, State.REMEDIES_IN_PROGRESS,
                               State.FOLLOW_UP)), None
        for cause in rng.sample(self.causes, rng.choice((1, 1, 2))):
            rows.root_causes.append({"complaint_id": complaint.id, "root_cause_id": cause,
                                     "recorded_by_id": partner.id, "recorded_at": done})
        rows.callbacks.append({
            "complaint_id": complaint.id, "due": (done - timedelta(days=3)).date(),
            "status": CallbackStatus.SATISFIED.value, "created_at": done - timedelta(days=17),
            "method": "phone", "satisfaction": rng.choice(SATISFACTION), "answered_at": done,
            "version": 1})
        return State.CLOSED, done


def _write(rows: _Rows) -> None:
    complaint = Complaint.__table__
    if rows.triage:
        db.session.execute(
            update(complaint).where(complaint.c.id == bindparam("cid"))
            .values(severity=bindparam("severity"), categories=bindparam("categories"),
                    state=bindparam("state"), closed_at=bindparam("closed_at")),
            rows.triage, execution_options={"synchronize_session": False})
    for model, values in ((Assignment, rows.leads), (OutboxMessage, rows.mails),
                          (Allegation, rows.allegations), (Decision, rows.decisions),
                          (ComplaintRootCause, rows.root_causes), (Callback, rows.callbacks)):
        if values:
            db.session.execute(insert(model.__table__), values)
    if rows.remedies:
        decision_ids = dict(db.session.execute(
            select(Decision.complaint_id, Decision.id)
            .where(Decision.complaint_id.in_({cid for cid, *_ in rows.remedies}))).all())
        db.session.execute(insert(DecidedRemedy.__table__), [
            {"decision_id": decision_ids[cid], "kind": kind, "currency": "CNY", "due": due,
             "amount": amount} for cid, kind, due, amount in rows.remedies])


def seed_actions(rng: random.Random, today: date) -> None:
    """A few improvement actions, some of them overdue, owned by the partners."""
    partners = list(db.session.scalars(
        select(User).where(User.username.in_(("partner", "partner2")))))
    statuses = ("planned", "in_progress", "done")
    db.session.add_all(ImprovementAction(
        title=title,
        kind=ActionKind.TRAINING.value if "培训" in title or "宣讲" in title
        else ActionKind.PROCEDURE.value,
        owner_id=rng.choice(partners).id, created_by_id=partners[0].id,
        due=today + timedelta(days=rng.randint(-60, 90)), status=rng.choice(statuses))
        for title in ACTIONS)

