"""The rows of the courses portal/demo_outcomes.py draws for `flask demo seed --complaints N`:
the triage on the complaint, the lead's assignment, the acknowledgement email, the
allegations with their findings, the decision with its remedies, the client's answer and a
negotiation round, the root causes and the call-back.

Written with one bulk statement per table in the batch's write transaction (the complaints are
flushed; the ballots and the notices are written first, for the ids they give). The ids of the
rows the audit trail names are kept on each course (`Course.ids`); `fact_table.refresh`
rewrites the batch's analytics rows afterwards (bulk statements bypass the ORM's hook).
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, update

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.followup import Callback, CallbackStatus, ComplaintRootCause
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
from portal.models.resolution import (
    AnswerKind,
    AnswerMethod,
    ClientAnswer,
    DecidedRemedy,
    Decision,
    NegotiationRound,
)

if TYPE_CHECKING:
    from portal.demo_outcomes import Course

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
ASSESSMENT = {
    Severity.MINOR: "服务态度与沟通问题，未造成实际损失，由牵头调查人核实后答复。",
    Severity.GENERAL: "投诉事项有书面记录可查，需调取案卷和通话记录核实。",
    Severity.SERIOUS: "可能影响案件结果或涉及收费争议，需全面调查并听取承办律师陈述。",
    Severity.CRITICAL: "涉及重大损失或职业操守，调查期间由合伙人直接督导。",
}
WITHDRAWAL_REASON = "客户来电表示已与承办律师沟通解决，不再需要律所处理。"
SUMMARY = "经调查，律所决定采取以下补救措施。"
DISPUTE_REASON = "客户认为退费金额过低，要求重新考虑。"
DISCUSSION = "与客户电话沟通，客户同意在原决定基础上再行协商退费金额。"


def bulk_insert(model: Any, rows: list[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """One INSERT of `rows` into the model's table; their ids, in order, when asked."""
    if not rows:
        return []
    table = model.__table__
    if not ids:
        db.session.execute(insert(table), rows)
        return []
    return list(db.session.scalars(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows))


def _keep(courses: Sequence[Course], name: str, ids: list[int]) -> None:
    for course, row_id in zip(courses, ids, strict=True):
        course.ids[name] = row_id


def write(courses: Sequence[Course]) -> None:
    """Every row of the courses but the ballots and the notices (written before)."""
    _update_complaints([c for c in courses if c.triaged is not None])
    led = [c for c in courses if c.assigned is not None]
    _keep(led, "lead_assignment", bulk_insert(Assignment, [{
        "complaint_id": c.complaint.id, "user_id": c.lead.id,
        "role": AssignmentRole.LEAD.value, "assigned_at": c.assigned,
        "assigned_by_id": c.partner.id} for c in led], ids=True))
    mailed = [c for c in courses if c.acknowledged is not None]
    _keep(mailed, "ack_message", bulk_insert(OutboxMessage, [_mail(c) for c in mailed], ids=True))
    _allegations([c for c in courses if c.triaged is not None])
    _decisions([c for c in courses if c.decided is not None])
    _answers([c for c in courses if c.answered is not None])
    _follow_up([c for c in courses if c.completed is not None])


def _update_complaints(courses: Sequence[Course]) -> None:
    if not courses:
        return
    rows = []
    for c in courses:
        closing = c.closed or c.withdrawn
        rows.append({
            "cid": c.complaint.id, "state": c.state.value, "severity": c.severity.value,
            "categories": [category.value for category in c.categories],
            "triaged_at": c.triaged, "triaged_by_id": c.partner.id,
            "handler_id": c.lead.id if c.lead else None, "assessment": ASSESSMENT[c.severity],
            "findings_submitted_at": c.found,
            "findings_submitted_by_id": c.lead.id if c.found and c.lead else None,
            "closed_at": c.closed, "closure_kind": "resolved" if c.closed else None,
            "withdrawn_at": c.withdrawn, "withdrawal_method": c.withdrawal_method,
            "withdrawal_reason": WITHDRAWAL_REASON if c.withdrawn else None,
            "client_link_key": secrets.token_hex(16) if c.issued else None,
            "updated_at": closing or c.last_moment})
    table = Complaint.__table__
    names = [name for name in rows[0] if name != "cid"]
    db.session.execute(update(table).where(table.c.id == bindparam("cid"))
                       .values({name: bindparam(name) for name in names}),
                       rows, execution_options={"synchronize_session": False})


def _mail(course: Course) -> dict[str, Any]:
    notice_id = course.ids["notices"]["acknowledgement"]
    return {"kind": "acknowledgement", "recipient": course.complaint.complainant.email,
            "subject": "投诉受理通知", "body_text": "您的投诉已受理。",
            "attachments": [{"notice_kind": "acknowledgement", "notice_id": notice_id}],
            "complaint_id": course.complaint.id, "status": OutboxStatus.SENT.value,
            "attempts": 1, "next_attempt_at": course.acknowledged,
            "created_at": course.acknowledged, "sent_at": course.acknowledged}


def _allegations(courses: Sequence[Course]) -> None:
    rows, owners = [], []
    for c in courses:
        findings = c.findings or [None] * len(c.categories)
        for number, (category, finding) in enumerate(zip(c.categories, findings, strict=True),
                                                     start=1):
            owners.append(c)
            rows.append({
                "complaint_id": c.complaint.id, "number": number, "category": category.value,
                "text": ALLEGATION_TEXT[category],
                "respondent_id": c.complaint.respondents[0].id, "created_at": c.triaged,
                "finding": finding and finding.value, "reasoning": finding and REASONING[finding],
                "responsibility": finding and (Responsibility.NO_FAULT.value
                                               if finding == Finding.NOT_ESTABLISHED
                                               else Responsibility.INDIVIDUAL.value),
                "nature_found": finding and category.value,
                "severity_found": finding and c.severity.value, "remedies_recommended": [],
                "found_at": c.found if finding else None,
                "found_by_id": c.lead.id if finding and c.lead else None,
                "findings_version": 1 if finding else 0})
    for course in courses:
        course.ids["allegations"] = []
    for course, allegation_id in zip(owners, bulk_insert(Allegation, rows, ids=True),
                                     strict=True):
        course.ids["allegations"].append(allegation_id)


def _decisions(courses: Sequence[Course]) -> None:
    _keep(courses, "decision", bulk_insert(Decision, [{
        "complaint_id": c.complaint.id, "number": 1,
        "ballot_id": c.ballot.id if c.ballot else None, "client_summary": SUMMARY,
        "decided_by_id": c.decider.id, "decided_at": c.decided,
        "notice_id": c.ids["notices"].get("outcome"), "answer_due": c.answer_due}
        for c in courses], ids=True))
    bulk_insert(DecidedRemedy, [
        {"decision_id": c.ids["decision"], "kind": terms.kind, "currency": "CNY",
         "due": (c.decided + timedelta(days=20)).date(), "amount": terms.amount,
         "scope": terms.scope}
        for c in courses for terms in c.remedies])


def _answers(courses: Sequence[Course]) -> None:
    _keep(courses, "answer", bulk_insert(ClientAnswer, [{
        "complaint_id": c.complaint.id, "decision_id": c.ids["decision"],
        "kind": (AnswerKind.DISPUTED if c.disputed else AnswerKind.ACCEPTED).value,
        "method": _answer_method(c).value,
        "reason": DISPUTE_REASON if c.disputed else None,
        "recorded_by_id": None if _answer_method(c) == AnswerMethod.LINK else c.decider.id,
        "answered_at": c.answered} for c in courses], ids=True))
    disputed = [c for c in courses if c.disputed]
    _keep(disputed, "round", bulk_insert(NegotiationRound, [{
        "complaint_id": c.complaint.id, "number": 1, "answer_id": c.ids["answer"],
        "opened_at": c.answered, "discussion": DISCUSSION if c.discussed else None,
        "discussed_by_id": c.decider.id if c.discussed else None,
        "discussed_at": c.discussed} for c in disputed], ids=True))


def _answer_method(course: Course) -> AnswerMethod:
    """On the client's page when the outcome was emailed, else by phone (a partner notes it)."""
    return AnswerMethod.LINK if course.complaint.complainant.email else AnswerMethod.PHONE


def _follow_up(courses: Sequence[Course]) -> None:
    bulk_insert(ComplaintRootCause, [
        {"complaint_id": c.complaint.id, "root_cause_id": cause,
         "recorded_by_id": c.decider.id, "recorded_at": c.closed}
        for c in courses if c.closed for cause in c.root_causes])
    _keep(courses, "callback", bulk_insert(Callback, [{
        "complaint_id": c.complaint.id, "owner_id": c.lead.id if c.lead else None,
        "due": (c.completed + timedelta(days=14)).date(), "created_at": c.completed,
        "status": (CallbackStatus.SATISFIED if c.closed else CallbackStatus.OPEN).value,
        "method": "phone" if c.closed else None, "satisfaction": c.satisfaction,
        "answered_at": c.closed, "recorded_by_id": c.lead.id if c.closed and c.lead else None,
        "version": 1} for c in courses], ids=True))
