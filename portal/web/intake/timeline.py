"""The record's timeline: its audit trail (record, notices, mail) in words, with each
email's delivery status now, and whether anything is still waiting to be sent."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.audit import AuditEvent
from portal.models.complaint import (
    CLOSURE_LABELS,
    EVIDENCE_CATEGORY_LABELS,
    Complaint,
    ConfirmationMethod,
)
from portal.models.deadline import DEADLINE_LABELS
from portal.models.investigation import SEVERITY_LABELS
from portal.models.mailin import InboundMail
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.services.intake.completeness import SECTION_LABELS
from portal.services.triage.withdrawal import WITHDRAWAL_METHOD_LABELS
from portal.web.audit_labels import action_label
from portal.web.display import label_of

# Reads are not history; who has voted on an open ballot is part of the seal (the ballot page
# shows the count, and the tally after the close shows every vote).
TIMELINE_HIDDEN = {"complaint.viewed", "evidence.downloaded", "evidence.opened",
                   "findings.report_downloaded", "ballot.voted"}

EVENT_LABELS = {
    "complaint.created": _l("Complaint record created"),
    "complaint.submitted_online": _l("Submitted through the online form"),
    "complaint.imported": _l("Imported from another system"),
    "complaint.section_saved": _l("Section saved: %(section)s"),
    "complaint.verified": _l("Online submission verified"),
    "complaint.confirmed": _l("The client confirmed the read-back (%(method)s)"),
    "complaint.confirmation_requested": _l("Confirmation link emailed to the client"),
    "complaint.correction_requested": _l("The client asked for a correction"),
    "complaint.confirmation_overridden": _l("A partner allowed registration without the "
                                            "client's confirmation"),
    "complaint.registered": _l("Registered as %(reference)s"),
    "evidence.added": _l("Evidence added: %(category)s"),
    "evidence.recategorised": _l("Evidence re-categorised as %(category)s"),
    "evidence.removed": _l("Evidence removed: %(category)s"),
    "statement.recorded": _l("Statement recorded in the investigation"),
    "reply.requested": _l("Written reply requested from a respondent"),
    "reply.submitted": _l("A respondent's written reply received"),
    "note.recorded": _l("Interview note recorded"),
    "complaint.discarded": _l("Draft discarded"),
    "notice.issued": _l("Notice issued: %(kind)s, version %(version)s"),
    "mail.queued": _l("Email queued: %(kind)s to %(recipient)s"),
    "mail.resent": _l("Email queued again: %(kind)s to %(recipient)s"),
    "mail.sent": _l("Email delivered: %(kind)s"),
    "mail.failed": _l("Email delivery failed (attempt %(attempts)s); trying again"),
    "mail.dead": _l("Email could not be delivered: %(kind)s; partners alerted"),
    "complaint.triaged": _l("Triaged: %(severity)s"),
    "complaint.triage_revised": _l("Triage revised: %(severity)s"),
    "complaint.closed": _l("Closed at triage: %(closure)s"),
    "complaint.withdrawn": _l("Withdrawn by the client (%(how)s)"),
    "allegation.added": _l("Allegation %(number)s added"),
    "allegation.amended": _l("Allegation %(number)s amended"),
    "allegation.removed": _l("Allegation %(number)s removed; those after it renumbered"),
    "conflict.declared": _l("Conflict of interest declared"),
    "assignment.changed": _l("Investigation team assigned"),
    "first_response.recorded": _l("First response to the client recorded"),
    "findings.saved": _l("Findings saved on allegation %(number)s"),
    "findings.submitted": _l("Findings submitted; the complaint awaits the committee's decision"),
    "clock.paused": _l("Investigation and final-response clocks paused"),
    "clock.resumed": _l("Clocks resumed; the paused deadlines moved %(days)s working days"),
    "clock.reminded": _l("Reminder sent: %(clock)s"),
    "clock.escalated": _l("Escalated to the partners: %(clock)s has passed"),
    "mail.received": _l("Email received"),
}

EVENT_TONES = {
    "complaint.registered": "ok", "mail.sent": "ok", "complaint.correction_requested": "warn",
    "complaint.confirmation_overridden": "warn", "mail.failed": "warn", "mail.dead": "err",
    "complaint.discarded": "warn", "complaint.closed": "warn", "complaint.withdrawn": "warn",
    "conflict.declared": "warn", "assignment.changed": "ok", "findings.submitted": "ok",
    "clock.escalated": "err", "clock.paused": "warn",
}

METHOD_LABELS = {
    ConfirmationMethod.IN_PERSON.value: _l("in person"),
    ConfirmationMethod.PHONE.value: _l("by phone"),
    ConfirmationMethod.SIGNED_LINK.value: _l("through the emailed link"),
    ConfirmationMethod.OVERRIDE.value: _l("partner override"),
    ConfirmationMethod.IMPORTED.value: _l("recorded before import"),
}

KIND_LABELS = {
    "acknowledgement": _l("Acknowledgement"),
    "confirmation_request": _l("Read-back confirmation request"),
    "closure_notice": _l("Closure notice"),
    "withdrawal_confirmation": _l("Withdrawal confirmation"),
    "assignment": _l("Assignment notice"),
    "reply_request": _l("Request for a written reply"),
    "progress": _l("Progress notice"),
    "investigation_report": _l("Investigation report"),
    "outcome": _l("Outcome notice"),
    "apology": _l("Letter of apology"),
    "completion": _l("Completion notice"),
    "remedy_reminder": _l("Remedy task reminder"),
    "ballot_opened": _l("Ballot opened"),
    "ballot_reminder": _l("Ballot reminder"),
    "client_link": _l("New link to the client's page"),
    "survey": _l("Satisfaction survey"),
    "survey_reminder": _l("Satisfaction survey reminder"),
    "callback_due": _l("Call-back due"),
    "sla_reminder": _l("Deadline reminder"),
    "sla_escalation": _l("Overdue deadline"),
    "mail_receipt": _l("Automatic receipt"),
    "mail_reply_received": _l("The client wrote again"),
}

MAIL_STATUS_LABELS = {
    OutboxStatus.PENDING.value: _l("waiting to be sent"),
    OutboxStatus.SENDING.value: _l("sending"),
    OutboxStatus.SENT.value: _l("sent"),
    OutboxStatus.DEAD.value: _l("could not be delivered"),
}


@dataclass
class TimelineEntry:
    at: datetime
    label: str
    actor: str | None = None
    note: str | None = None
    tone: str = ""  # "", "ok", "warn", "err"
    message: OutboxMessage | None = field(default=None, repr=False)
    status: str | None = None  # the message's delivery status now, for mail entries
    inbound: InboundMail | None = field(default=None, repr=False)  # an email received


def _event_label(event: AuditEvent, message: OutboxMessage | None = None) -> str:
    details = event.details or {}
    template = EVENT_LABELS.get(event.action)
    if template is None:  # no sentence of its own: the audit trail's one name for it
        return action_label(event.action)
    kind = details.get("kind", "")
    return str(template) % {
        "section": SECTION_LABELS.get(details.get("section"), details.get("section") or ""),
        "method": METHOD_LABELS.get(details.get("method"), details.get("method") or ""),
        "reference": details.get("reference", ""),
        "kind": KIND_LABELS.get(kind, kind),
        "version": details.get("version", ""),
        "category": label_of(EVIDENCE_CATEGORY_LABELS, details.get("category", "")),
        # events since the audit trail holds no addresses name the message instead
        "recipient": message.recipient if message else details.get("recipient", ""),
        "attempts": details.get("attempts", ""),
        "severity": label_of(SEVERITY_LABELS, details.get("severity") or ""),
        "closure": label_of(CLOSURE_LABELS, details.get("closure_kind") or ""),
        "how": label_of(WITHDRAWAL_METHOD_LABELS, details.get("method") or ""),
        "number": details.get("number", ""),
        "clock": label_of(DEADLINE_LABELS, details.get("kind") or ""),
        "days": details.get("working_days_added", ""),
    }


def _actor_name(event: AuditEvent) -> str | None:
    if event.actor is not None:
        return event.actor.name
    labels = {"client": _("The client"), "public": _("Online form"),
              "respondent": _("The respondent")}
    return labels.get(event.actor_label or "", event.actor_label)


def _received_entry(entry: TimelineEntry, inbound: InboundMail | None) -> TimelineEntry:
    if inbound is None:
        return entry
    entry.inbound = inbound
    sender = inbound.sender or _("an unknown sender")
    entry.label = (_("Email received from %(sender)s; this draft was made from it",
                     sender=sender) if inbound.is_draft
                   else _("Email received from %(sender)s: “%(subject)s”", sender=sender,
                          subject=inbound.subject or "—"))
    if inbound.trust_failed:
        entry.note, entry.tone = _("It failed the sender checks: the sender may be forged."), "warn"
    return entry


def _event_entry(event: AuditEvent, messages: dict[int, OutboxMessage],
                 override_reason: str | None = None,
                 inbound: dict[int, InboundMail] | None = None) -> TimelineEntry:
    details = event.details or {}
    if event.action == "mail.received":
        entry = TimelineEntry(event.at, _event_label(event), _("Email"), tone="ok")
        return _received_entry(entry, (inbound or {}).get(details.get("inbound_id")))
    message = (messages.get(details.get("message_id"))
               if event.action in ("mail.queued", "mail.resent") else None)
    entry = TimelineEntry(event.at, _event_label(event, message), _actor_name(event),
                          tone=EVENT_TONES.get(event.action, ""))
    if event.action == "complaint.section_saved" and details.get("confirmation_withdrawn"):
        entry.note, entry.tone = _("The earlier confirmation no longer applies."), "warn"
    elif event.action == "complaint.confirmation_overridden":
        reason = override_reason or details.get("reason")  # older events carried the text
        if reason:
            entry.note = _("Reason: %(reason)s", reason=reason)
    elif event.action == "first_response.recorded" and details.get("late"):
        entry.note, entry.tone = _("Given after the day promised in the acknowledgement."), "warn"
    elif message is not None:
        entry.message = message
        entry.status = str(MAIL_STATUS_LABELS.get(message.status, message.status))
    return entry


def _override_reasons(complaint: Complaint, events: list[AuditEvent]) -> dict[int, str]:
    """The record keeps the reason of the override in force: it belongs to the last one."""
    overrides = [e.id for e in events if e.action == "complaint.confirmation_overridden"]
    reason = complaint.confirmation_override_reason
    return {overrides[-1]: reason} if overrides and reason else {}


def _orphan_mail(message: OutboxMessage) -> TimelineEntry:
    """A message with no audit event of its own (should not happen; shown all the same)."""
    kind = KIND_LABELS.get(message.kind, message.kind)
    return TimelineEntry(
        message.created_at,
        _("Email queued: %(kind)s to %(recipient)s", kind=kind, recipient=message.recipient),
        message=message, status=str(MAIL_STATUS_LABELS.get(message.status, message.status)),
    )


def timeline(complaint: Complaint) -> list[TimelineEntry]:
    """Every event of the complaint, oldest first: its audit trail (record, notices, mail)
    with each email's current delivery status from the outbox."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint.id),
               AuditEvent.action.not_in(TIMELINE_HIDDEN))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.id)
    ).all()
    messages = {m.id: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id))}
    reasons = _override_reasons(complaint, events)
    inbound = _inbound_mail(events)
    entries = [_event_entry(e, messages, reasons.get(e.id), inbound) for e in events]
    shown = {e.message.id for e in entries if e.message is not None}
    entries.extend(_orphan_mail(m) for i, m in messages.items() if i not in shown)
    entries.sort(key=lambda e: e.at)
    return entries


def _inbound_mail(events: list[AuditEvent]) -> dict[int, InboundMail]:
    """The emails received that the events name (no query when there are none)."""
    ids = [e.details.get("inbound_id") for e in events
           if e.action == "mail.received" and e.details]
    if not ids:
        return {}
    return {m.id: m for m in db.session.scalars(select(InboundMail).where(InboundMail.id.in_(ids)))}


PENDING_MAIL = (OutboxStatus.PENDING.value, OutboxStatus.SENDING.value)


def has_pending_mail(entries: list[TimelineEntry]) -> bool:
    """Whether an email on the timeline is still queued or being sent (the page polls)."""
    return any(e.message is not None and e.message.status in PENDING_MAIL for e in entries)
