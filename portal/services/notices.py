"""Notices: rendered PDFs stored immutably with their SHA-256; a re-issue is a new version.

Registration only *queues* the acknowledgement email (`queue_acknowledgement`), with an
attachment spec naming the notice kind: the outbox worker renders and stores the notice the
first time it sends the message, so registering never waits for WeasyPrint or SMTP.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from portal import clock
from portal.db import db, discard_on_rollback
from portal.documents import acknowledgement_context, render, render_pdf
from portal.documents.progress_notice import progress_context
from portal.models.complaint import Complaint
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import audit, outbox
from portal.services.calendar import first_response_due
from portal.services.progress_notice import progress_facts, progress_stored


class NoticeError(Exception):
    """Unknown kind, or a stored notice that no longer matches its SHA-256."""


class NoticeGone(NoticeError):
    """The notice's file was deleted at the end of its retention period (answered 410)."""


def acknowledgement_facts(complaint: Complaint, config: Mapping) -> dict:
    """What the acknowledgement may say about `complaint`, as plain data for the document
    (strings, dates, numbers; never a model). The deadline is the one on record, or, for a
    complaint not registered yet, the one registration would set."""
    working_days = int(config.get("FIRST_RESPONSE_WORKING_DAYS", 3))
    promised = complaint.deadline("first_response")
    due, provisional = (promised.due, promised.provisional) if promised else (None, False)
    if due is None and complaint.received_at is not None:
        computed = first_response_due(complaint.received_at, working_days)
        due, provisional = computed.due, computed.provisional
    matter = complaint.matter
    return {
        "reference": complaint.reference or f"D{complaint.id}",
        "language": complaint.language,
        "received_at": complaint.received_at,
        "complainant_name": complaint.complainant.name if complaint.complainant else "",
        "respondents": [user.name for user in complaint.respondents],
        "matter": {"reference": matter.reference, "title": matter.title,
                   "case_number": matter.case_number or ""} if matter else None,
        "narrative": complaint.narrative or "",
        "occurred_on": complaint.occurred_on, "occurred_until": complaint.occurred_until,
        "place": complaint.occurred_place or "",
        "remedies": list(complaint.remedies_sought or []),
        "remedy_details": complaint.remedy_details or "",
        "deadline": {"due": due, "provisional": bool(provisional),
                     "working_days": working_days} if due else None,
    }


@dataclass(frozen=True)
class NoticeKind:
    template: str
    facts: Callable[[Complaint, Mapping], dict]  # the service's part: plain data
    context: Callable[[Mapping, Mapping], dict]  # the document's part: formatting
    email: str  # templates/emails/<email>.txt and .html
    subject: dict[str, str]
    # Told when the worker stored the notice it rendered for an email (in that write).
    stored: Callable[[Complaint, Notice], None] | None = None


KINDS: dict[str, NoticeKind] = {
    "acknowledgement": NoticeKind(
        template="pdf/acknowledgement.html",
        facts=acknowledgement_facts,
        context=acknowledgement_context,
        email="acknowledgement",
        subject={"zh": "投诉受理通知", "en": "Acknowledgement of your complaint"},
    ),
    "progress": NoticeKind(
        template="pdf/progress_notice.html",
        facts=progress_facts,
        context=progress_context,
        email="progress_notice",
        subject={"zh": "投诉处理进展通知", "en": "Progress on your complaint"},
        stored=progress_stored,
    ),
}


def kind_of(kind: str) -> NoticeKind:
    try:
        return KINDS[kind]
    except KeyError:
        raise NoticeError(f"unknown notice kind: {kind!r}") from None


def notice_dir() -> Path:
    configured = current_app.config.get("NOTICE_DIR")
    return Path(configured) if configured else Path(current_app.instance_path) / "notices"


def path_of(notice: Notice) -> Path:
    return notice_dir() / notice.stored_name


def context_for(complaint: Complaint, kind: str) -> dict:
    notice = kind_of(kind)
    return notice.context(notice.facts(complaint, current_app.config), current_app.config)


def render_fresh(complaint: Complaint, kind: str) -> bytes:
    """The notice as it would be issued now, without storing anything."""
    return render_context(kind, context_for(complaint, kind))


def _next_version(complaint: Complaint, kind: str) -> int:
    current = db.session.scalar(
        select(func.max(Notice.version)).where(Notice.complaint_id == complaint.id,
                                               Notice.kind == kind))
    return (current or 0) + 1


def _write_once(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = False
    try:
        with open(path, "xb") as handle:  # never overwrite a stored notice
            created = True
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:  # e.g. a full disk (ENOSPC): no half-written notice stays behind
        if created:
            path.unlink(missing_ok=True)
        raise
    path.chmod(0o440)


def issue(complaint: Complaint, kind: str, actor: User | None = None) -> Notice:
    """Render and store the next version of a notice in the caller's write transaction.

    The outbox worker renders outside any transaction and calls `store` instead.
    """
    return store(complaint, kind, render_fresh(complaint, kind), actor)


def store(complaint: Complaint, kind: str, pdf: bytes, actor: User | None = None, *,
          delivery: str = "email") -> Notice:
    """Store a rendered notice as the next version (flush, audit "notice.issued").
    `delivery` is "post" for a notice printed for a client without an email address.

    If the caller's transaction rolls back, the file is removed with it.
    """
    version = _next_version(complaint, kind)
    label = re.sub(r"[^A-Za-z0-9-]", "", complaint.label)
    stored_name = f"{label}-{kind}-v{version}-{secrets.token_hex(6)}.pdf"
    _write_once(notice_dir() / stored_name, pdf)
    discard_on_rollback(notice_dir() / stored_name)
    notice = Notice(complaint_id=complaint.id, kind=kind, version=version,
                    stored_name=stored_name, sha256=hashlib.sha256(pdf).hexdigest(),
                    size=len(pdf), created_at=clock.now(),
                    created_by_id=actor.id if actor else None, delivery=delivery)
    db.session.add(notice)
    db.session.flush()
    audit.record("notice.issued", actor=actor, obj=complaint,
                 details={"notice_id": notice.id, "kind": kind, "version": version,
                          "sha256": notice.sha256, "size": notice.size, "delivery": delivery})
    return notice


def render_context(kind: str, context: dict) -> bytes:
    """The PDF from the plain context `context_for` built; touches no database."""
    return render_pdf(kind_of(kind).template, context)


def read_bytes(notice: Notice) -> bytes:
    """The stored PDF, after checking it still matches the SHA-256 recorded at issue. A file
    deleted by the retention run (services/retention.py) answers 410 Gone."""
    path = path_of(notice)
    if not path.exists():
        raise NoticeGone(f"notice {notice.id}: its file is no longer kept")
    data = path.read_bytes()
    if hashlib.sha256(data).hexdigest() != notice.sha256:
        raise NoticeError(f"notice {notice.id} does not match its SHA-256: file altered")
    return data


# -- the outbox's attachment provider: a notice rendered when its email is first sent ------

def _attachment_pending(spec: dict) -> bool:
    return not spec.get("notice_id")


def _prepare_attachment(message: OutboxMessage, spec: dict) -> Callable[[], bytes]:
    if message.complaint is None:
        raise NoticeError("a notice attachment needs a complaint")
    kind = spec["notice_kind"]
    context = context_for(message.complaint, kind)
    return lambda: render_context(kind, context)


def _store_attachment(message: OutboxMessage, spec: dict, pdf: bytes) -> dict:
    complaint = db.session.get(Complaint, message.complaint_id)
    notice = store(complaint, spec["notice_kind"], pdf)
    stored = kind_of(spec["notice_kind"]).stored
    if stored is not None:
        stored(complaint, notice)
    return {**spec, "notice_id": notice.id}


def _load_attachment(spec: dict) -> tuple[str, str, bytes]:
    notice = db.session.get(Notice, spec["notice_id"]) if spec.get("notice_id") else None
    if notice is None:
        raise NoticeError("the notice to attach was not issued")
    return notice.filename, "application/pdf", read_bytes(notice)


ATTACHMENTS = outbox.AttachmentProvider(
    keys=frozenset({"notice_kind", "notice_id"}), pending=_attachment_pending,
    prepare=_prepare_attachment, store=_store_attachment, load=_load_attachment)


def register_attachments() -> None:
    """At app start: the outbox asks this module for notice attachments."""
    outbox.register_attachments("notice", ATTACHMENTS)


def queue_acknowledgement(actor: User | None, complaint: Complaint) -> OutboxMessage | None:
    """Queue the bilingual acknowledgement email (the PDF is rendered later, by the worker).

    When the complainant has no email address, queues nothing and records that the
    acknowledgement goes by post: the case file then offers it printed for post and a form
    for the day it was posted (services/postal.py). Raises outbox.OutboxError when the
    address on record is not a valid one.
    """
    client = complaint.complainant
    if client is None or not (client.email or "").strip():
        audit.record("notice.post_required", actor=actor, obj=complaint,
                     details={"kind": "acknowledgement"})
        return None
    kind = kind_of("acknowledgement")
    context = context_for(complaint, "acknowledgement")
    reference = context["reference"]
    subject = " / ".join(f"{kind.subject[lang]} {reference}" for lang in context["languages"])
    return outbox.queue(
        kind="acknowledgement", recipient=client.email, recipient_name=client.name,
        subject=subject,
        body_text=render(f"emails/{kind.email}.txt", context),
        body_html=render(f"emails/{kind.email}.html", context),
        complaint=complaint,
        attachments=[{"notice_kind": "acknowledgement", "notice_id": None}],
        actor=actor,
    )
