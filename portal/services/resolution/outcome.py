"""The outcome notice: decided -> outcome_sent.

Issuing follows the investigation report's pattern (services/findings.py): the facts are read
first (`prepare`), the PDF and the email are rendered with no transaction open (`render`),
then one write (`issue`) rebuilds the facts, refuses (409) when anything in them changed, and
stores the notice (kind "outcome", the next version), queues the email with the PDF through
the outbox (or, for a client without an email address, stores it for post), sets the
decision's notice and the date the client's answer is due, and moves the state.

The client's page link goes into the notice: a complaint that has no link key yet gets one
drawn when the facts are read, signed into the link, and stored by the write.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.documents import outcome_context, render, render_outcome_notice
from portal.i18n import join_list
from portal.models.complaint import Complaint, State
from portal.models.notice import Notice
from portal.models.resolution import Decision, NegotiationRound
from portal.models.user import User
from portal.services import audit, notices, outbox, postal
from portal.services.calendar import add_working_days, local_day
from portal.services.intake.errors import ConflictError
from portal.services.resolution import client_link, recourse
from portal.services.resolution.common import ResolutionError, check_version

NOTICE_KIND = "outcome"
MAIL_KIND = "outcome"


@dataclass(frozen=True)
class Facts:
    """What was read before rendering: the notice's facts and how it goes out."""

    facts: dict
    at: datetime
    key: str  # the client's page link key signed into the link (stored by the write)
    delivery: str  # email | post


@dataclass(frozen=True)
class PreparedOutcome:
    read: Facts
    pdf: bytes
    subject: str
    body_text: str
    body_html: str


def _lock(complaint: Complaint) -> None:
    db.session.refresh(complaint, with_for_update=True)


def check_issuable(actor: User, complaint: Complaint) -> Decision:
    """The decision to tell the client about, or why the notice cannot be issued."""
    if not complaint.can_issue_outcome(actor):
        raise ConflictError(_("A partner issues the outcome notice once the decision is "
                              "recorded, and this complaint is not waiting for one: reload "
                              "the page."))
    decision = complaint.current_decision
    if decision is None or decision.notice_id is not None:
        raise ConflictError(_("This decision's outcome notice was already issued: reload the "
                              "page."))
    jurisdiction = recourse.jurisdiction_of(complaint)
    missing = recourse.missing_languages(jurisdiction)
    if missing:
        raise ResolutionError(_(
            "The outcome notice cannot be issued: the routes of further recourse for "
            "%(jurisdiction)s are empty in %(languages)s, and every notice must tell the "
            "client where else to turn. A partner fills them in under Recourse texts first.",
            jurisdiction=jurisdiction, languages=join_list(missing)), field="recourse")
    if not postal.has_email(complaint):
        postal.require_address(complaint)
    return decision


def _round_number(decision: Decision) -> int | None:
    return db.session.scalar(select(NegotiationRound.number).where(
        NegotiationRound.revised_decision_id == decision.id))


def _next_version(complaint: Complaint) -> int:
    current = db.session.scalar(select(func.max(Notice.version)).where(
        Notice.complaint_id == complaint.id, Notice.kind == NOTICE_KIND))
    return (current or 0) + 1


def _handler(complaint: Complaint) -> dict | None:
    person = complaint.handler or complaint.lead
    return {"name": person.name, "email": person.email or "", "phone": ""} if person else None


def answer_due(at: datetime) -> date:
    days = int(current_app.config["OUTCOME_ANSWER_WORKING_DAYS"])
    return add_working_days(local_day(at), days)


def outcome_facts(complaint: Complaint, decision: Decision, *, at: datetime, link: str,
                  delivery: str) -> dict:
    """What the outcome notice may say, as plain data (never a model). Internal measures
    are left out here already; the document drops them again."""
    text = recourse.text_for(recourse.jurisdiction_of(complaint))
    client = complaint.complainant
    return {
        "reference": complaint.label,
        "language": complaint.language,
        "complainant_name": client.name if client else "",
        "received_at": complaint.received_at,
        "handler": _handler(complaint),
        "notice_version": _next_version(complaint),
        "round_number": _round_number(decision),
        "decision_number": decision.number,
        "client_summary": decision.client_summary,
        "remedies": [{"kind": r.kind, "amount": r.amount, "currency": r.currency,
                      "scope": r.scope, "due": r.due} for r in decision.client_remedies],
        "recourse": {"zh": text.text_zh, "en": text.text_en} if text else None,
        "answer_by": answer_due(at),
        "client_link": link,
        "postal_address": postal.postal_address(complaint) if delivery == postal.POST else None,
    }


def prepare(actor: User, complaint: Complaint) -> Facts:
    """Read what the notice will say (no write: a missing link key is drawn, not stored)."""
    decision = check_issuable(actor, complaint)
    at = clock.now()
    key = complaint.client_link_key or secrets.token_hex(16)
    delivery = postal.delivery_for(complaint)
    link = client_link.page_url(complaint, key)
    return Facts(outcome_facts(complaint, decision, at=at, link=link, delivery=delivery),
                 at, key, delivery)


def render_notice(read: Facts, config: Mapping) -> PreparedOutcome:
    """The PDF and the email from the facts; touches no database."""
    context = outcome_context(read.facts, config, now=read.at)
    return PreparedOutcome(read, render_outcome_notice(context), context["subject"],
                           render("emails/outcome.txt", context),
                           render("emails/outcome.html", context))


def issue(actor: User, complaint: Complaint, prepared: PreparedOutcome, *,
          expected_version: int) -> Notice:
    """Store and send the notice prepared from the facts read before (see the module)."""
    _lock(complaint)
    check_version(complaint, expected_version)
    decision = check_issuable(actor, complaint)
    read = prepared.read
    now_facts = outcome_facts(complaint, decision, at=read.at, link=read.facts["client_link"],
                              delivery=postal.delivery_for(complaint))
    if postal.delivery_for(complaint) != read.delivery or now_facts != read.facts:
        raise ConflictError(_("The decision, the client's details or the recourse text changed "
                              "while the notice was being prepared, so nothing was issued. "
                              "Reload the page and issue it again."))
    if complaint.client_link_key is None:
        complaint.client_link_key = read.key
    elif complaint.client_link_key != read.key:
        raise ConflictError(_("A new link to the client's page was issued meanwhile, so "
                              "nothing was issued. Reload the page and issue it again."))
    notice = notices.store(complaint, NOTICE_KIND, prepared.pdf, actor, delivery=read.delivery)
    if read.delivery == postal.EMAIL:
        client = complaint.complainant
        try:
            outbox.queue(kind=MAIL_KIND, recipient=client.email, recipient_name=client.name,
                         subject=prepared.subject, body_text=prepared.body_text,
                         body_html=prepared.body_html, complaint=complaint,
                         attachments=[{"notice_kind": NOTICE_KIND, "notice_id": notice.id}],
                         actor=actor)
        except outbox.OutboxError:
            raise ResolutionError(_("The client's email address on record cannot be used: "
                                    "correct it in the complainant section first.")) from None
    decision.notice_id = notice.id
    decision.answer_due = read.facts["answer_by"]
    complaint.state = State.OUTCOME_SENT
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("outcome.issued", actor=actor, obj=complaint, details={
        "decision_id": decision.id, "number": decision.number, "notice_id": notice.id,
        "version": notice.version, "delivery": read.delivery,
        "answer_due": decision.answer_due.isoformat(),
        "from_state": State.DECIDED.value, "to_state": State.OUTCOME_SENT.value})
    return notice


def outcome_notices(complaint: Complaint) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id, Notice.kind == NOTICE_KIND)
        .order_by(Notice.version)))
