"""The findings: the lead's (or a partner's) answer on each allegation, saved as a draft one
allegation at a time, then submitted together with the internal investigation report.

Submitting renders the report *before* the write (`prepare_report`: plain facts, then the PDF
with no transaction open) and stores it in the write (`submit`), which first rebuilds the
facts and refuses (409) when anything in them changed in between, so the stored report
always says exactly what was submitted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.documents import render_pdf
from portal.documents.investigation_report import report_context
from portal.models.complaint import Complaint, Remedy, State
from portal.models.deadline import DeadlineKind
from portal.models.investigation import (
    Allegation,
    Category,
    Finding,
    Responsibility,
    RuleArticle,
    Severity,
)
from portal.models.notice import Notice
from portal.models.user import User
from portal.services import audit, deadlines, notices
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

REPORT_KIND = "investigation_report"
REASONING_MAX = 20_000
NOTES_MAX = 4_000


class FindingsError(IntakeError):
    """The findings as typed are refused (422, what was typed kept)."""


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise FindingsError(first, errors=errors.errors)


class FindingsConflict(ConflictError):
    """Someone changed the findings or the complaint after the page was loaded (409)."""


@dataclass
class Answer:
    """One allegation's findings as a form sends them (codes and text; empty = not yet)."""

    finding: str = ""
    reasoning: str = ""
    nature_found: str = ""
    severity_found: str = ""
    responsibility: str = ""
    rule_ids: list[int] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)
    remedy_notes: str = ""


def lock(complaint: Complaint) -> None:
    """Reload the complaint in the write, its row locked on PostgreSQL (SQLite's writers
    are one at a time already), so that saves and the submission follow one another."""
    db.session.refresh(complaint, with_for_update=True)


def _require_recording(actor: User, complaint: Complaint) -> None:
    if complaint.state != State.INVESTIGATING:
        raise FindingsConflict(_(
            "The findings can no longer be changed: they were submitted, or the complaint is "
            "no longer being investigated. What you typed is still on screen: copy what you "
            "need, then reload the page."))
    if not complaint.can_record_findings(actor):
        raise FindingsConflict(_(
            "Only the investigation's lead or a partner may record the findings, and that "
            "changed after you opened the page. Reload it to see who leads now."))


def find(complaint: Complaint, allegation_id: int) -> Allegation | None:
    return next((a for a in complaint.allegations if a.id == allegation_id), None)


def _choice(value: str, allowed: type, name: str, errors: FieldErrors) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    if value not in {member.value for member in allowed}:
        errors.add(name, _("Choose one of the options shown."))
        return None
    return value


def _text(value: str, name: str, limit: int, errors: FieldErrors) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        errors.add(name, _("At most %(max)d characters (this has %(count)d).",
                           max=limit, count=len(text)))
    return text or None


def _rules(allegation: Allegation, rule_ids: list[int], errors: FieldErrors
           ) -> list[RuleArticle]:
    """Active catalogue entries, or ones this allegation already cites (an entry
    deactivated since stays where it was chosen)."""
    wanted = sorted(set(rule_ids))
    if not wanted:
        return []
    found = {r.id: r for r in db.session.scalars(
        select(RuleArticle).where(RuleArticle.id.in_(wanted)))}
    kept = {r.id for r in allegation.rules}
    if any(i not in found or not (found[i].active or i in kept) for i in wanted):
        errors.add("rule_ids", _("Choose rules from the catalogue's active entries."))
        return []
    return [found[i] for i in wanted]


def save_answer(actor: User, complaint: Complaint, allegation_id: int, answer: Answer, *,
                expected_version: int) -> Allegation:
    """Save one allegation's findings as they stand (a draft: any part may still be empty).
    `expected_version` is the allegation's findings_version the form was loaded with."""
    lock(complaint)
    _require_recording(actor, complaint)
    allegation = find(complaint, allegation_id)
    if allegation is None:
        raise FindingsConflict(_("This allegation no longer exists: reload the page."))
    if allegation.findings_version != expected_version:
        raise FindingsConflict(_(
            "Someone else saved the findings on allegation %(number)d after you opened it, so "
            "yours were not saved. What you typed is still on screen: copy what you need, "
            "then reload the page.", number=allegation.number))
    errors = FieldErrors()
    values = {
        "finding": _choice(answer.finding, Finding, "finding", errors),
        "nature_found": _choice(answer.nature_found, Category, "nature_found", errors),
        "severity_found": _choice(answer.severity_found, Severity, "severity_found", errors),
        "responsibility": _choice(answer.responsibility, Responsibility, "responsibility",
                                  errors),
        "reasoning": _text(answer.reasoning, "reasoning", REASONING_MAX, errors),
        "remedy_notes": _text(answer.remedy_notes, "remedy_notes", NOTES_MAX, errors),
    }
    remedies = [r for r in Remedy if r.value in set(answer.remedies)]  # in the catalogue's order
    if len(remedies) != len(set(answer.remedies)):
        errors.add("remedies", _("Choose one of the options shown."))
    rules = _rules(allegation, answer.rule_ids, errors)
    _refuse_if_any(errors)
    for name, value in values.items():
        setattr(allegation, name, value)
    allegation.remedies_recommended = [r.value for r in remedies]
    allegation.rules = rules
    allegation.found_at = clock.now()
    allegation.found_by_id = actor.id
    allegation.findings_version += 1
    db.session.flush()
    audit.record("findings.saved", actor=actor, obj=complaint, details={
        "allegation_id": allegation.id, "number": allegation.number,
        "finding": allegation.finding, "responsibility": allegation.responsibility,
        "rule_ids": [r.id for r in rules], "remedies": allegation.remedies_recommended,
        "answered": allegation.is_answered, "findings_version": allegation.findings_version})
    return allegation


def unanswered(complaint: Complaint) -> list[Allegation]:
    """The allegations still lacking a finding, its reasoning or the responsibility."""
    return [a for a in complaint.allegations if not a.is_answered]


def fingerprint(complaint: Complaint) -> str:
    """Names the allegations and their findings as this page shows them: a submission from
    a page that showed other ones is stale."""
    digest = hashlib.sha256()
    for a in complaint.allegations:
        digest.update(f"{a.id}:{a.number}:{a.findings_version}:{a.text}\x00".encode())
    return digest.hexdigest()[:32]


# -- the report ------------------------------------------------------------------------

def _names(users) -> list[str]:
    return [u.name for u in users]


def _allegation_facts(a: Allegation) -> dict:
    return {
        "number": a.number, "text": a.text, "category": a.category,
        "respondent": a.respondent.name if a.respondent else "",
        "finding": a.finding, "reasoning": a.reasoning or "",
        "nature_found": a.nature_found, "severity_found": a.severity_found,
        "responsibility": a.responsibility,
        "rules": [{"source": r.source, "article": r.article, "title_zh": r.title_zh,
                   "title_en": r.title_en, "to_verify": r.to_verify} for r in a.rules],
        "remedies": list(a.remedies_recommended or []),
        "remedy_notes": a.remedy_notes or "",
    }


def _deadline_facts(complaint: Complaint, kind: str) -> dict | None:
    row = complaint.deadline(kind)
    if row is None:
        return None
    return {"due": row.due, "stopped_at": row.stopped_at, "late": row.stopped_late}


def report_facts(complaint: Complaint, submitted_by: User, at: datetime) -> dict:
    """What the report may say, as plain data (never a model)."""
    matter = complaint.matter
    first = complaint.first_response
    lead = complaint.lead
    return {
        "reference": complaint.label,
        "complainant_name": complaint.complainant.name if complaint.complainant else "",
        "respondents": _names(complaint.respondents),
        "matter": {"reference": matter.reference, "title": matter.title} if matter else None,
        "received_at": complaint.received_at,
        "severity": complaint.severity, "categories": list(complaint.categories or []),
        "lead": lead.name if lead else "",
        "investigators": _names(complaint.investigators),
        "first_response": {"method": first.method, "responded_at": first.responded_at,
                           "late": first.late} if first else None,
        "investigation_deadline": _deadline_facts(complaint, DeadlineKind.INVESTIGATION),
        "allegations": [_allegation_facts(a) for a in complaint.allegations],
        "submitted_at": at,
        "submitted_by": submitted_by.name,
    }


@dataclass(frozen=True)
class PreparedReport:
    facts: dict
    pdf: bytes
    at: datetime


def build_facts(complaint: Complaint, actor: User) -> tuple[dict, datetime]:
    at = clock.now()
    return report_facts(complaint, actor, at), at


def render_report(facts: dict) -> bytes:
    """The PDF from the facts; touches no database (call it with no transaction open)."""
    return render_pdf("pdf/investigation_report.html",
                      report_context(facts, current_app.config))


def _require_answers(complaint: Complaint) -> None:
    missing = unanswered(complaint)
    if missing:
        numbers = ", ".join(str(a.number) for a in missing)
        message = _("Every allegation needs a finding, the reasoning and the responsibility "
                    "before the findings can be submitted. Still to answer: allegation "
                    "%(numbers)s.", numbers=numbers)
        raise FindingsError(message, errors={
            f"allegation-{a.id}": [_("This allegation is not answered yet.")] for a in missing})


def check_submittable(actor: User, complaint: Complaint) -> None:
    """The checks a submission must pass, asked before the report is rendered."""
    _require_recording(actor, complaint)
    if not complaint.allegations:
        raise FindingsError(_("There are no allegations to answer: the triage records them."))
    _require_answers(complaint)


def submit(actor: User, complaint: Complaint, report: PreparedReport, *,
           expected_version: int, expected_fingerprint: str) -> Notice:
    """Submit the findings: the report stored, the complaint awaiting the committee's
    decision, the investigation clock stopped."""
    lock(complaint)
    check_submittable(actor, complaint)
    if complaint.version != expected_version or fingerprint(complaint) != expected_fingerprint:
        raise FindingsConflict(_(
            "The allegations or their findings changed after you opened this page, so the "
            "findings were not submitted. Reload the page, read them again, then submit."))
    if report_facts(complaint, actor, report.at) != report.facts:
        raise FindingsConflict(_(
            "The findings changed while the report was being prepared, so nothing was "
            "submitted. Reload the page and submit again."))
    notice = notices.store(complaint, REPORT_KIND, report.pdf, actor)
    complaint.state = State.AWAITING_DECISION
    complaint.findings_submitted_at = report.at
    complaint.findings_submitted_by_id = actor.id
    deadlines.stop(complaint, DeadlineKind.INVESTIGATION, at=report.at)
    db.session.flush()
    audit.record("findings.submitted", actor=actor, obj=complaint, details={
        "from_state": State.INVESTIGATING.value, "to_state": State.AWAITING_DECISION.value,
        "allegations": len(complaint.allegations), "notice_id": notice.id,
        "sha256": notice.sha256})
    return notice


def report_notice(complaint: Complaint) -> Notice | None:
    """The stored report (its latest version), if the findings were submitted."""
    return db.session.scalar(
        select(Notice).where(Notice.complaint_id == complaint.id, Notice.kind == REPORT_KIND)
        .order_by(Notice.version.desc()).limit(1))
