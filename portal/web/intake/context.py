"""What the complaint pages share: loading a complaint the viewer may see, the sections'
forms and the template context of the page and of each partial."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import abort, g, request, url_for
from flask_login import current_user
from sqlalchemy import select

from portal.db import db
from portal.models.complaint import (
    EVIDENCE_CATEGORY_LABELS,
    STATE_LABELS,
    Complaint,
    ConfirmationLink,
)
from portal.models.investigation import SEVERITY_LABELS
from portal.models.user import Role, User
from portal.services import drafts
from portal.services.intake.completeness import (
    PAGE_SECTIONS,
    SECTION_LABELS,
    completeness,
    missing_sections,
)
from portal.services.intake.errors import IntakeError
from portal.services.intake.registration import registration_problems
from portal.services.intake.sections import is_exclusive_client
from portal.services.prevention import history as prevention_history
from portal.web import case_file, mail_display, page_cache
from portal.web.display import PAYLOAD_LABELS, label_of
from portal.web.intake import timeline as history
from portal.web.intake_forms import (
    ChannelForm,
    ComplainantForm,
    DiscardForm,
    EvidenceForm,
    IncidentForm,
    OverrideForm,
    RemedyForm,
    local_input,
)
from portal.web.readback_render import channel_label, remedy_label

# Who builds the record (its forms and actions). The case file's page and its read-only
# partials are open to every signed-in user the visibility rule admits.
STAFF = (Role.RECEPTIONIST, Role.PARTNER)
# Forms on the page that carry the version they were loaded at (ids: version-<slot>).
VERSION_SLOTS = ("complainant-find", "complainant", "respondents", "respondents-find",
                 "matter", "matter-find", "incident", "remedy", "channel", "discard")
SAVED = "complaint-changed, intake-section-saved"
CHANGED = "complaint-changed"


def actor() -> User:
    return current_user._get_current_object()


def load(key: str) -> Complaint:
    """The complaint `key` names, if the viewer may see it; 404 otherwise, so that a hidden
    complaint (a respondent's own case) looks exactly like one that does not exist."""
    named = Complaint.with_key(key)
    complaint = None if named is None else db.session.scalar(
        select(Complaint).where(named, Complaint.visible_to(actor())))
    if complaint is None:
        abort(404)
    return complaint


def visible_key(key: str) -> tuple[int, str | None]:
    """The id and reference of the complaint `key` names, by the same rule as `load`, without
    loading it; 404 when hidden or missing."""
    def lookup() -> tuple[int, str | None] | None:
        named = Complaint.with_key(key)
        row = None if named is None else db.session.execute(
            select(Complaint.id, Complaint.reference).where(named, Complaint.visible_to(actor()))
        ).first()
        return (row[0], row[1]) if row else None

    found = page_cache.remember_value("visible_key", key, lookup)
    if found is None:
        abort(404)
    return found


def load_found(complaint_id: int) -> Complaint:
    """The complaint `visible_key` found in this request (the same read, the same data): by its
    id, without evaluating the rule a second time."""
    complaint = db.session.get(Complaint, complaint_id)
    if complaint is None:
        abort(404)
    return complaint


def posted_version() -> int:
    try:
        return int(request.form.get("version", ""))
    except ValueError:
        return -1


def show_url(complaint: Complaint, anchor: str | None = None) -> str:
    return url_for("intake.show", key=complaint.label, _anchor=anchor)


@dataclass
class SectionView:
    form: Any = None
    note: str | None = None
    conflict: str | None = None
    errors: list[str] = field(default_factory=list)
    suggestions: list | None = None
    query: str = ""
    version: int | None = None


def owns_its_client(complaint: Complaint) -> bool:
    """Whether the complainant is recorded for this complaint alone (or not yet chosen).
    The form and the section both ask; the database is asked once per request."""
    client = complaint.complainant
    if client is None:
        return True
    answers = g.setdefault("exclusive_clients", {})
    key = (complaint.id, client.id)
    if key not in answers:
        answers[key] = is_exclusive_client(client, complaint)
    return answers[key]


def complainant_form(complaint: Complaint) -> ComplainantForm:
    client = complaint.complainant
    data: dict[str, Any] = {"language": complaint.language or "zh"}
    if client is not None and owns_its_client(complaint):
        data.update(name=client.name, phone=client.phone, email=client.email,
                    id_number=client.id_number, address=client.address,
                    language=client.language)
    return ComplainantForm(formdata=None, prefix="complainant", data=data)


def fresh_form(complaint: Complaint, section: str):
    if section == "complainant":
        return complainant_form(complaint)
    if section == "incident":
        return IncidentForm(formdata=None, prefix="incident", data={
            "narrative": complaint.narrative, "occurred_on": complaint.occurred_on,
            "occurred_until": complaint.occurred_until,
            "occurred_place": complaint.occurred_place})
    if section == "remedy":
        return RemedyForm(formdata=None, prefix="remedy", data={
            "remedies_sought": list(complaint.remedies_sought or []),
            "remedy_details": complaint.remedy_details})
    if section == "channel":
        return ChannelForm(formdata=None, prefix="channel", data={
            "channel": complaint.channel, "received_at": local_input(complaint.received_at)})
    if section == "evidence":
        return EvidenceForm(formdata=None, prefix="evidence")
    return None


def _sections(complaint: Complaint, override: dict[str, SectionView] | None = None) -> dict:
    views = {name: SectionView(form=fresh_form(complaint, name)) for name in PAGE_SECTIONS}
    views.update(override or {})
    return views


def common(complaint: Complaint) -> dict:
    return {
        "complaint": complaint,
        "editable": complaint.can_edit_intake(actor()),
        "section_labels": SECTION_LABELS,
        "state_labels": STATE_LABELS,
        "severity_labels": SEVERITY_LABELS,
        "channel_label": channel_label,
        "remedy_label": remedy_label,
        "category_label": lambda code: label_of(EVIDENCE_CATEGORY_LABELS, code),
        "evidence_kinds": EVIDENCE_CATEGORY_LABELS,
        "version_slots": VERSION_SLOTS,
        "owns_its_client": lambda: owns_its_client(complaint),
        "payload_labels": PAYLOAD_LABELS,
        # Called by the complainant section only, so other partials run no extra query.
        "recent_for_client": lambda: drafts.recent_for_client(actor(), complaint),
    }


def _latest_link(complaint: Complaint) -> ConfirmationLink | None:
    return db.session.scalar(
        select(ConfirmationLink).where(ConfirmationLink.complaint_id == complaint.id)
        .order_by(ConfirmationLink.id.desc()).limit(1)
    )


def actions_context(complaint: Complaint, *, note: str | None = None, error: str | None = None,
                    override_form: OverrideForm | None = None,
                    discard_form: DiscardForm | None = None,
                    discard_version: int | None = None) -> dict:
    return {
        "problems": registration_problems(complaint) if complaint.is_draft else [],
        "missing": missing_sections(complaint),
        "latest_link": _latest_link(complaint),
        "can_override": complaint.can_override_confirmation(actor()),
        "override_form": override_form or OverrideForm(formdata=None, prefix="override"),
        "discard_form": discard_form or DiscardForm(formdata=None, prefix="discard"),
        # After a 409 the form keeps the version it was loaded at: deciding again needs a reload.
        "discard_view": SectionView(version=discard_version),
        "action_note": note,
        "action_error": error,
        "method_labels": history.METHOD_LABELS,
    }


def timeline_context(complaint: Complaint) -> dict:
    entries = history.timeline(complaint)
    return {"timeline": entries, "polling": history.has_pending_mail(entries)}


def page(complaint: Complaint, *, sections: dict[str, SectionView] | None = None,
         **actions: Any) -> dict:
    return {
        **common(complaint),
        "sections": _sections(complaint, sections),
        "completeness": completeness(complaint),
        **actions_context(complaint, **actions),
        **timeline_context(complaint),
        "case_areas": case_file.areas_for(complaint, actor()),
        # Called by intake/_prevention.html only when the complaint has a matter.
        "prevention_record": lambda: prevention_history.for_complaint(complaint),
        # Called by intake/_record.html only for a complaint that came by email.
        "email_draft": lambda: mail_display.draft_mail(complaint),
        "mail_candidates": mail_display.candidates,
        "problem_text": mail_display.problem_text,
        "checks": mail_display.checks,
        "automatic_label": mail_display.automatic_label,
    }


def attach(form, error: IntakeError) -> None:
    """Put a refusal's messages beside the fields they name (the rest above the form)."""
    placed = False
    for name, messages in (error.errors or {}).items():
        target = getattr(form, name, None) if name else None
        if target is not None and hasattr(target, "errors"):
            if not isinstance(target.errors, list):
                target.errors = list(target.errors)
            target.errors.extend(messages)
        else:
            form.form_errors.extend(messages)
        placed = True
    if not placed:
        form.form_errors.append(error.message)
