"""Exporting a complaint as the import format's JSON, and recording that it was exported."""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import select

from portal.db import db
from portal.models.audit import AuditEvent
from portal.models.complaint import Complaint
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.user import User
from portal.services import audit
from portal.services.transfer.parse import (
    FORMAT,
)

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


def _notices(complaint: Complaint) -> list[dict]:
    notices = db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id)
        .order_by(Notice.kind, Notice.version)
    ).all()
    return [{"kind": n.kind, "version": n.version, "sha256": n.sha256} for n in notices]


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


def export_complaint(complaint: Complaint, zone: tzinfo = UTC) -> dict:
    """The complete record as plain data; the import fields come first, in import form.

    A complaint entered in the portal has no external_id: the export gives it
    "redress:<reference>", so that importing the file elsewhere twice creates it once.
    """
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
        "evidence": [
            {"category": e.category, "original_name": e.original_name, "sha256": e.sha256,
             "size": e.size, "content_type": e.content_type}
            for e in complaint.evidence
        ],
        "notices": _notices(complaint),
        "deadlines": _deadlines(complaint, zone),
        "clock_pauses": _pauses(complaint, zone),
        "timeline": _timeline(complaint, zone),
    }


def record_export(complaint: Complaint, viewer: User | None = None) -> None:
    """Reading a complaint's record is audited, on the command line too."""
    audit.record("complaint.exported", obj=complaint, actor=viewer,
                 actor_label=None if viewer else "export")
