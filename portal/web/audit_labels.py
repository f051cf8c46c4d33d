"""What the audit actions and object types are called, in the reader's language: the one
list, for the audit browser and anything else that names an event by its action. (The
record's timeline says more about each event, from its details: web/intake/timeline.py.)"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

ACTION_LABELS = {
    "login.succeeded": _l("Signed in"),
    "login.failed": _l("Sign-in failed"),
    "login.throttled": _l("Sign-in refused: too many attempts"),
    "logout": _l("Signed out"),
    "password.changed": _l("Changed own password"),
    "password.change_failed": _l("Password change failed"),
    "user.created": _l("User created"),
    "user.updated": _l("User changed"),
    "user.password_reset": _l("Password reset by a partner"),
    "access.requested": _l("Access change requested"),
    "access.approved": _l("Access change approved by a second partner"),
    "access.rejected": _l("Access change rejected or withdrawn"),
    "access.approval_refused": _l("Approval refused: a partner cannot approve their own change"),
    "access.denied": _l("Access denied"),
    "csrf.rejected": _l("Forged or expired form rejected"),
    "complaint.created": _l("Complaint draft created"),
    "complaint.submitted_online": _l("Complaint submitted online"),
    "complaint.imported": _l("Complaint imported"),
    "complaint.exported": _l("Complaint exported"),
    "complaint.section_saved": _l("Complaint section saved"),
    "complaint.viewed": _l("Complaint record viewed"),
    "complaint.verified": _l("Online submission verified"),
    "complaint.confirmed": _l("Read-back confirmed"),
    "complaint.confirmation_requested": _l("Confirmation link sent"),
    "complaint.correction_requested": _l("Client asked for a correction"),
    "complaint.confirmation_overridden": _l("Confirmation overridden by a partner"),
    "complaint.registered": _l("Complaint registered"),
    "complaint.discarded": _l("Draft discarded"),
    "evidence.added": _l("Evidence uploaded"),
    "evidence.downloaded": _l("Evidence downloaded"),
    "evidence.recategorised": _l("Evidence re-categorised"),
    "evidence.removed": _l("Evidence removed"),
    "evidence.opened": _l("Evidence opened in the investigation"),
    "statement.recorded": _l("Statement recorded"),
    "reply.requested": _l("Written reply requested from a respondent"),
    "reply.submitted": _l("Respondent's written reply received"),
    "note.recorded": _l("Interview note recorded"),
    "notice.issued": _l("Notice issued"),
    "mail.queued": _l("Email queued"),
    "mail.sent": _l("Email sent"),
    "mail.failed": _l("Email delivery failed"),
    "mail.dead": _l("Email undeliverable"),
    "mail.resent": _l("Email resent"),
    "matter.created": _l("Matter created"),
    "calendar.override_set": _l("Working-day override set"),
    "calendar.override_removed": _l("Working-day override removed"),
    "calendar.year_confirmed": _l("Year's working-day schedule confirmed"),
    "complaint.triaged": _l("Complaint triaged"),
    "complaint.triage_revised": _l("Triage revised"),
    "complaint.closed": _l("Complaint closed at triage"),
    "complaint.withdrawn": _l("Complaint withdrawn by the client"),
    "allegation.added": _l("Allegation added"),
    "allegation.amended": _l("Allegation amended"),
    "allegation.removed": _l("Allegation removed"),
    "conflict.declared": _l("Conflict of interest declared"),
    "assignment.changed": _l("Investigation team assigned"),
    "routing.updated": _l("Routing table changed"),
    "first_response.recorded": _l("First response to the client recorded"),
    "findings.saved": _l("Findings on an allegation saved"),
    "findings.submitted": _l("Findings submitted"),
    "findings.report_downloaded": _l("Investigation report downloaded"),
    "clock.paused": _l("Deadline clocks paused"),
    "clock.resumed": _l("Deadline clocks resumed"),
    "clock.reminded": _l("Deadline reminder sent"),
    "clock.escalated": _l("Passed deadline escalated to the partners"),
    "regulatory_period.set": _l("Regulatory period of a jurisdiction set"),
    "rule.added": _l("Rules catalogue entry added"),
    "rule.updated": _l("Rules catalogue entry changed"),
    "audit.rekeyed": _l("Audit trail keyed: later events are signed with the firm's key"),
    "audit.head_mailed": _l("Audit trail's newest event emailed to the partners"),
}

OBJECT_LABELS = {
    "user": _l("User"),
    "complaint": _l("Complaint"),
    "evidence": _l("Evidence"),
    "outbox_message": _l("Email"),
    "matter": _l("Matter"),
    "calendar_override": _l("Working-day override"),
    "confirmed_year": _l("Working-day schedule"),
    "routing_rule": _l("Routing table row"),
    "rule_article": _l("Rules catalogue entry"),
    "regulatory_period": _l("Regulatory period"),
}


def action_label(action: str) -> str:
    """The action's name, or its code when it has none yet."""
    label = ACTION_LABELS.get(action)
    return str(label) if label else action
