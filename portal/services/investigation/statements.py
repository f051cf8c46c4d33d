"""Statements from the complainant and from each respondent, recorded by the investigators,
with their attachments (evidence rows that name the statement)."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from portal.db import db
from portal.models.complaint import EVIDENCE_INVESTIGATION, Complaint, EvidenceCategory
from portal.models.investigation import Party, Statement, StatementMethod
from portal.models.user import User
from portal.services import audit
from portal.services.evidence import ReceivedFile, record_received
from portal.services.intake.errors import FieldErrors
from portal.services.investigation.common import (
    clean_text,
    past_date,
    require_open,
    require_workspace,
)
from portal.services.investigation.register import follow_transaction

# How staff take a statement; an online reply comes only through the respondent's link.
STAFF_METHODS = tuple(m for m in StatementMethod if m is not StatementMethod.ONLINE_REPLY)


def record_statement(actor: User, complaint: Complaint, *, party: str | None,
                     respondent_id: int | None, given_on: date | None, method: str | None,
                     text: str | None, attachments: list[ReceivedFile] | None = None,
                     attachment_category: str | None = None) -> Statement:
    """Record a statement (audited as statement.recorded) and its attachments (each an
    evidence.added of the register)."""
    attachments = attachments or []
    follow_transaction(attachments)
    require_workspace(actor, complaint)
    require_open(complaint)
    errors = FieldErrors()
    respondent_id = _who(complaint, party, respondent_id, errors)
    if method not in {m.value for m in STAFF_METHODS}:
        errors.add("method", _("Choose how the statement was given."))
    given_on = past_date(given_on, "given_on", errors,
                         missing=_("Enter the date the statement was given."))
    text = clean_text(text, "text", errors, missing=_("Write down the statement."))
    if attachments and attachment_category not in {c.value for c in EvidenceCategory}:
        errors.add("attachment_category", _("Choose what kind of evidence the attachments are."))
    errors.raise_if_any()
    statement = Statement(complaint_id=complaint.id, party=party, respondent_id=respondent_id,
                          given_on=given_on, method=method, text=text,
                          recorded_by_id=actor.id)
    db.session.add(statement)
    db.session.flush()
    added = [record_received(actor, complaint, item, category=attachment_category or "",
                             phase=EVIDENCE_INVESTIGATION, statement_id=statement.id).id
             for item in attachments]
    audit.record("statement.recorded", actor=actor, obj=complaint, details={
        "statement_id": statement.id, "party": party, "method": method,
        "respondent_id": respondent_id, "evidence_ids": added})
    return statement


def _who(complaint: Complaint, party: str | None, respondent_id: int | None,
         errors: FieldErrors) -> int | None:
    """The respondent who gave it (None for the complainant's own statement)."""
    if party == Party.COMPLAINANT:
        return None
    if party != Party.RESPONDENT:
        errors.add("party", _("Choose whose statement this is."))
        return None
    if respondent_id not in {r.id for r in complaint.respondents}:
        errors.add("respondent_id", _("Choose which of the complaint's respondents gave it."))
        return None
    return respondent_id
