"""Exporting a complaint as the import format's JSON, and recording that it was exported."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import select

from portal.db import db
from portal.models.audit import AuditEvent
from portal.models.complaint import EVIDENCE_INTAKE, Complaint
from portal.models.investigation import (
    Allegation,
    Assignment,
    ConflictDeclaration,
    FirstResponse,
    InterviewNote,
    ReplyRequest,
    Statement,
)
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.user import User
from portal.services import audit
from portal.services.findings import REPORT_KIND
from portal.services.transfer.parse import (
    FORMAT,
)
from portal.services.transfer.resolution_export import resolution

# --- export -------------------------------------------------------------------------------


def find(key: str, viewer: User | None = None) -> Complaint | None:
    """A complaint by reference (TS-2026-00001) or draft label (D12); with a viewer, only
    one that they may see (Complaint.visible_to)."""
    named = Complaint.with_key(key)
    if named is None:
        return None
    query = select(Complaint).where(named)
    if viewer is not None:
        query = query.where(Complaint.visible_to(viewer))
    return db.session.scalar(query)


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _person_out(user: User | None) -> dict | None:
    return {"name": user.name, "email": user.email} if user else None


def _timeline(complaint: Complaint, zone: tzinfo) -> list[dict]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == Complaint.__tablename__,
               AuditEvent.object_id == str(complaint.id))
        .order_by(AuditEvent.id)
    ).all()
    return [{"at": _iso(e.at, zone), "action": e.action} for e in events]


def _notice_out(notice: Notice | None) -> dict | None:
    if notice is None:
        return None
    return {"kind": notice.kind, "version": notice.version, "sha256": notice.sha256}


def _notices(complaint: Complaint, shown: _Shown) -> list[dict]:
    notices = db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id)
        .order_by(Notice.kind, Notice.version)
    ).all()
    return [_notice_out(n) for n in notices if shown.decision or n.kind != REPORT_KIND]


def _evidence(complaint: Complaint, zone: tzinfo, shown: _Shown) -> list[dict]:
    return [{"category": e.category, "original_name": e.original_name, "sha256": e.sha256,
             "size": e.size, "content_type": e.content_type, "phase": e.phase,
             "uploaded_at": _iso(e.uploaded_at, zone), "uploaded_by": _person_out(e.uploaded_by)}
            for e in complaint.evidence if shown.workspace or e.phase == EVIDENCE_INTAKE]


def _first_response_provisional(complaint: Complaint) -> bool:
    promised = complaint.deadline("first_response")
    return promised.provisional if promised is not None else False


def _deadlines(complaint: Complaint, zone: tzinfo) -> list[dict]:
    return [{"kind": d.kind, "due": _day(d.due), "provisional": d.provisional,
             "stopped_at": _iso(d.stopped_at, zone), "stopped_late": d.stopped_late}
            for d in complaint.deadlines]


def _pauses(complaint: Complaint, zone: tzinfo) -> list[dict]:
    return [{"paused_at": _iso(p.paused_at, zone), "paused_by": _person_out(p.paused_by),
             "reason": p.reason, "resumed_at": _iso(p.resumed_at, zone),
             "resumed_by": _person_out(p.resumed_by),
             "working_days_added": p.working_days_added}
            for p in complaint.pauses]


def _client_out(client: Client | None) -> dict | None:
    if client is None:
        return None
    return {"name": client.name, "phone": client.phone, "email": client.email,
            "id_number": client.id_number, "address": client.address}


def _matter_out(matter: Matter | None) -> dict | None:
    if matter is None:
        return None
    return {"reference": matter.reference, "title": matter.title,
            "case_number": matter.case_number}


def export_complaint(complaint: Complaint, zone: tzinfo = UTC,
                     viewer: User | None = None) -> dict:
    """The complete record as plain data; the import fields come first, in import form.

    A complaint entered in the portal has no external_id: the export gives it
    "redress:<reference>", so that importing the file elsewhere twice creates it once.
    With a viewer, what the portal would not show them (the investigator's workspace, the
    decision materials) is left out.
    """
    shown = _Shown.of(complaint, viewer)
    return {
        "format": FORMAT,
        "external_id": complaint.external_id or f"redress:{complaint.label}",
        "channel": complaint.channel,
        "received_at": _iso(complaint.received_at, zone),
        "language": complaint.language,
        "complainant": _client_out(complaint.complainant),
        "respondents": [_person_out(u) for u in complaint.respondents],
        "matter": _matter_out(complaint.matter),
        "occurred_on": _day(complaint.occurred_on),
        "occurred_until": _day(complaint.occurred_until),
        "occurred_place": complaint.occurred_place,
        "narrative": complaint.narrative,
        "remedies_sought": list(complaint.remedies_sought or []),
        "remedy_details": complaint.remedy_details,
        "read_back_confirmed": complaint.is_confirmed,
        "reference": complaint.reference,
        "state": complaint.state,
        "created_at": _iso(complaint.created_at, zone),
        "registered_at": _iso(complaint.registered_at, zone),
        "first_response_due": _day(complaint.first_response_due),
        "deadline_provisional": _first_response_provisional(complaint),
        "needs_verification": complaint.needs_verification,
        "submitted_payload": complaint.submitted_payload,
        "confirmation": {
            "confirmed_at": _iso(complaint.confirmed_at, zone),
            "method": complaint.confirmation_method,
            "confirmed_by": _person_out(complaint.confirmed_by),
            "override_reason": complaint.confirmation_override_reason,
            "correction_requested": complaint.correction_requested,
        },
        "handler": _person_out(complaint.handler),
        "evidence": _evidence(complaint, zone, shown),
        "notices": _notices(complaint, shown),
        **_investigation(complaint, zone, shown),
        **resolution(complaint, zone, decision_materials=shown.decision,
                     internal=shown.internal),
        "deadlines": _deadlines(complaint, zone),
        "clock_pauses": _pauses(complaint, zone),
        "timeline": _timeline(complaint, zone),
    }


# --- the investigation (format 2) -----------------------------------------------------------


@dataclass(frozen=True)
class _Shown:
    """What the export includes: everything for the command line; for `--as` a viewer, what
    the portal shows them (the workspace and the decision materials by their predicates)."""

    viewer: User | None
    workspace: bool
    decision: bool
    internal: bool  # internal criticism and disciplinary measures: partners only

    @classmethod
    def of(cls, complaint: Complaint, viewer: User | None) -> _Shown:
        if viewer is None:
            return cls(None, True, True, True)
        return cls(viewer, complaint.can_open_workspace(viewer),
                   complaint.can_see_decision_materials(viewer),
                   complaint.can_see_internal_measures(viewer))


def _user(user_id: int | None) -> dict | None:
    """Someone a row names by id only (the identity map answers the repeats)."""
    return _person_out(db.session.get(User, user_id)) if user_id else None


def _rows(model, complaint: Complaint, order) -> list:
    return list(db.session.scalars(select(model).where(model.complaint_id == complaint.id)
                                   .order_by(order)))


def _triage(complaint: Complaint, zone: tzinfo) -> dict | None:
    if complaint.triaged_at is None and complaint.severity is None:
        return None
    return {"severity": complaint.severity, "categories": list(complaint.categories or []),
            "assessment": complaint.assessment, "triaged_at": _iso(complaint.triaged_at, zone),
            "triaged_by": _person_out(complaint.triaged_by)}


def _closure(complaint: Complaint, zone: tzinfo, shown: _Shown) -> dict | None:
    if complaint.closure_kind is None:
        return None
    other = complaint.duplicate_of
    named = other is not None and (shown.viewer is None or other.can_view(shown.viewer))
    return {"kind": complaint.closure_kind, "reason": complaint.closure_reason,
            "duplicate_of": other.label if named else None,
            "closed_at": _iso(complaint.closed_at, zone)}


def _withdrawal(complaint: Complaint, zone: tzinfo) -> dict | None:
    if complaint.withdrawn_at is None:
        return None
    return {"withdrawn_at": _iso(complaint.withdrawn_at, zone),
            "reason": complaint.withdrawal_reason, "method": complaint.withdrawal_method}


def _finding(allegation: Allegation, zone: tzinfo) -> dict | None:
    if allegation.finding is None and allegation.found_at is None:
        return None
    return {
        "finding": allegation.finding, "reasoning": allegation.reasoning,
        "nature_found": allegation.nature_found, "severity_found": allegation.severity_found,
        "responsibility": allegation.responsibility,
        "rules": [{"source": r.source, "article": r.article, "title_zh": r.title_zh,
                   "title_en": r.title_en, "to_verify": r.to_verify} for r in allegation.rules],
        "remedies_recommended": list(allegation.remedies_recommended or []),
        "remedy_notes": allegation.remedy_notes,
        "found_at": _iso(allegation.found_at, zone), "found_by": _user(allegation.found_by_id),
    }


def _allegations(complaint: Complaint, zone: tzinfo, shown: _Shown) -> list[dict]:
    return [{"number": a.number, "text": a.text, "category": a.category,
             "respondent": _person_out(a.respondent), "created_at": _iso(a.created_at, zone),
             "findings": _finding(a, zone) if shown.decision else None}
            for a in complaint.allegations]


def _findings_submitted(complaint: Complaint, zone: tzinfo, shown: _Shown) -> dict | None:
    if complaint.findings_submitted_at is None or not shown.decision:
        return None
    return {"at": _iso(complaint.findings_submitted_at, zone),
            "by": _user(complaint.findings_submitted_by_id)}


def _assignment(row: Assignment, zone: tzinfo) -> dict:
    return {"person": _person_out(row.user), "role": row.role,
            "assigned_at": _iso(row.assigned_at, zone),
            "assigned_by": _person_out(row.assigned_by), "ended_at": _iso(row.ended_at, zone),
            "ended_by": _user(row.ended_by_id)}


def _conflict(row: ConflictDeclaration, zone: tzinfo) -> dict:
    return {"person": _person_out(row.user), "reason": row.reason,
            "declared_by": _person_out(row.declared_by),
            "declared_at": _iso(row.declared_at, zone)}


def _statements(complaint: Complaint, zone: tzinfo) -> list[dict]:
    attachments: dict[int, list[str]] = {}
    for item in complaint.evidence:
        if item.statement_id is not None:
            attachments.setdefault(item.statement_id, []).append(item.sha256)
    return [{"party": s.party, "respondent": _person_out(s.respondent),
             "given_on": _day(s.given_on), "method": s.method, "text": s.text,
             "recorded_by": _person_out(s.recorded_by), "recorded_at": _iso(s.recorded_at, zone),
             "attachments": attachments.get(s.id, [])}
            for s in _rows(Statement, complaint, Statement.id)]


def _reply_requests(complaint: Complaint, zone: tzinfo) -> list[dict]:
    # The link's nonce is a bearer secret: it never leaves the database.
    return [{"respondent": _person_out(r.respondent), "due_on": _day(r.due_on),
             "expires_at": _iso(r.expires_at, zone), "requested_by": _user(r.requested_by_id),
             "requested_at": _iso(r.requested_at, zone),
             "submitted_at": _iso(r.submitted_at, zone)}
            for r in _rows(ReplyRequest, complaint, ReplyRequest.id)]


def _notes(complaint: Complaint, zone: tzinfo) -> list[dict]:
    return [{"held_on": _day(n.held_on), "participants": n.participants, "text": n.text,
             "author": _person_out(n.author), "created_at": _iso(n.created_at, zone)}
            for n in _rows(InterviewNote, complaint, InterviewNote.id)]


def _first_response(response: FirstResponse | None, zone: tzinfo) -> dict | None:
    if response is None:
        return None
    notice = db.session.get(Notice, response.notice_id) if response.notice_id else None
    return {"method": response.method, "responded_at": _iso(response.responded_at, zone),
            "summary": response.summary, "next_steps": response.next_steps,
            "next_contact_on": _day(response.next_contact_on), "notice": _notice_out(notice),
            "recorded_by": _person_out(response.recorded_by),
            "recorded_at": _iso(response.recorded_at, zone), "late": response.late}


def _investigation(complaint: Complaint, zone: tzinfo, shown: _Shown) -> dict:
    """Triage to findings; null where a `--as` viewer may not look (the workspace's
    statements, replies and notes; the findings)."""
    workspace = shown.workspace
    return {
        "triage": _triage(complaint, zone),
        "closure": _closure(complaint, zone, shown),
        "withdrawal": _withdrawal(complaint, zone),
        "allegations": _allegations(complaint, zone, shown),
        "findings_submitted": _findings_submitted(complaint, zone, shown),
        "assignments": [_assignment(a, zone) for a in complaint.assignments],
        "conflicts": [_conflict(c, zone) for c in complaint.conflicts],
        "statements": _statements(complaint, zone) if workspace else None,
        "reply_requests": _reply_requests(complaint, zone) if workspace else None,
        "interview_notes": _notes(complaint, zone) if workspace else None,
        "first_response": _first_response(complaint.first_response, zone),
    }


def record_export(complaint: Complaint, viewer: User | None = None) -> None:
    """Reading a complaint's record is audited, on the command line too."""
    audit.record("complaint.exported", obj=complaint, actor=viewer,
                 actor_label=None if viewer else "export")
