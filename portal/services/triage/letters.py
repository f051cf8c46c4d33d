"""The triage's mail, through the outbox: the client's bilingual emails (closure at triage,
withdrawal confirmed) and the email telling someone they were assigned (in their language).

A client without an email address, or with one the outbox refuses, gets nothing here: the
caller records that no email went (the page says so, so that staff tell the client another
way)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.documents import render
from portal.documents.triage_letters import closure_context, withdrawal_context
from portal.locales import html_lang
from portal.models.complaint import Complaint
from portal.models.investigation import SEVERITY_LABELS, Assignment, AssignmentRole
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import outbox

log = logging.getLogger(__name__)


def _facts(complaint: Complaint) -> dict:
    client = complaint.complainant
    return {"reference": complaint.label, "language": complaint.language,
            "received_at": complaint.received_at,
            "complainant_name": client.name if client else "",
            "handler_name": complaint.handler.name if complaint.handler else ""}


def _to_client(actor: User, complaint: Complaint, context: dict) -> OutboxMessage | None:
    client = complaint.complainant
    if client is None or not (client.email or "").strip():
        return None
    kind = context["kind"]
    try:
        return outbox.queue(
            kind=kind, recipient=client.email, recipient_name=client.name,
            subject=context["subject"], body_text=render(f"emails/{kind}.txt", context),
            body_html=render(f"emails/{kind}.html", context), complaint=complaint, actor=actor)
    except outbox.OutboxError:
        log.warning("complaint %s: the client's address is refused, no %s", complaint.id, kind)
        return None


def queue_closure_notice(actor: User, complaint: Complaint) -> OutboxMessage | None:
    duplicate = complaint.duplicate_of
    facts = {**_facts(complaint), "closure_kind": complaint.closure_kind,
             "reason": complaint.closure_reason,
             "duplicate_reference": duplicate.label if duplicate else ""}
    return _to_client(actor, complaint, closure_context(facts, current_app.config))


def queue_withdrawal_confirmation(actor: User, complaint: Complaint) -> OutboxMessage | None:
    facts = {**_facts(complaint), "method": complaint.withdrawal_method,
             "withdrawn_at": complaint.withdrawn_at}
    return _to_client(actor, complaint, withdrawal_context(facts, current_app.config))


def _role_label(role: str) -> str:
    return _("the lead") if role == AssignmentRole.LEAD else _("an investigator")


def queue_assignment_email(actor: User, complaint: Complaint, row: Assignment,
                           case_url: Callable[[Complaint], str] | None) -> OutboxMessage | None:
    """Tell `row.user` they were assigned, in their own language."""
    user = row.user
    if not user.email:
        return None
    locale = user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]
    with force_locale(locale):
        severity = SEVERITY_LABELS.get(complaint.severity)
        subject = _("Complaint %(reference)s: you are assigned as %(role)s",
                    reference=complaint.label, role=_role_label(row.role))
        context = {
            "name": user.name, "reference": complaint.label, "role": _role_label(row.role),
            "assigned_by": actor.name, "severity": str(severity) if severity else "",
            "lead": complaint.lead.name if complaint.lead and row.role != "lead" else "",
            "url": case_url(complaint) if case_url else "", "subject": subject,
            "lang_tag": html_lang(locale),
        }
        try:
            return outbox.queue(
                kind="assignment", recipient=user.email, recipient_name=user.name,
                subject=subject, body_text=render_template("emails/assignment.txt", **context),
                body_html=render_template("emails/assignment.html", **context),
                complaint=complaint, actor=actor)
        except outbox.OutboxError:
            log.warning("user %s has an address the outbox refuses: no assignment email",
                        user.id)
            return None
