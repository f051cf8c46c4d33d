"""A fetched message becomes a draft complaint or a reply on its complaint's timeline.

`store(fetched)` parses the message and checks and stores its files with no transaction
open (an attachment goes through intake's evidence checks: type by content, size, SHA-256;
the original is kept as an .eml evidence item), then writes everything in one short
transaction. A message already stored, by its place in the mailbox (folder, UIDVALIDITY,
UID) or its Message-ID, is not stored again: the caller only moves it on.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app
from sqlalchemy import case, or_, select
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.db import db, discard_on_rollback, write_transaction
from portal.models.complaint import (
    Channel,
    Complaint,
    ComplaintExclusion,
    EvidenceCategory,
    ExclusionReason,
    State,
)
from portal.models.mailin import InboundMail, MailOutcome
from portal.models.matter import Client
from portal.services import audit, evidence
from portal.services.intake.sections import NARRATIVE_MAX
from portal.services.mailin import notify, receipt, routing
from portal.services.mailin.parse import ParsedMessage, parse
from portal.services.mailin.staff import staff_named_in

CJK = re.compile(r"[\u3400-\u9fff]")
ORIGINAL_NAME = "original-message.eml"


@dataclass(frozen=True)
class Fetched:
    """One message as the IMAP server gave it, and where it sits in the mailbox."""

    mailbox: str  # user@host
    folder: str
    uidvalidity: int
    uid: int
    received_at: datetime  # INTERNALDATE
    size: int
    raw: bytes  # the whole message, or only its header when it is over the size limit
    truncated: bool = False


@dataclass
class _Files:
    """What was stored on disk before the write: accepted attachments, refusals, the .eml."""

    accepted: list[evidence.ReceivedFile] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)
    original: evidence.ReceivedFile | None = None

    def paths(self) -> list:
        files = [*self.accepted, *([self.original] if self.original else [])]
        return [evidence.storage_dir() / f.stored_name for f in files]


class _AlreadyStored(Exception):
    """Found inside the write: roll back (which deletes the files stored for nothing)."""


def stored_as(fetched: Fetched, message_id: str | None) -> str | None:
    """How this message is already on file (a read): "here" when this very message (this UID of
    this folder) was stored, "twin" when only another with its Message-ID was, else None."""
    place = ((InboundMail.mailbox == fetched.mailbox) & (InboundMail.folder == fetched.folder)
             & (InboundMail.uidvalidity == fetched.uidvalidity) & (InboundMail.uid == fetched.uid))
    condition = or_(place, InboundMail.message_id == message_id) if message_id else place
    here = case((place, 1), else_=0)
    found = db.session.scalar(select(here).where(condition).order_by(here.desc()).limit(1))
    return None if found is None else "here" if found else "twin"


def is_stored(fetched: Fetched, message_id: str | None) -> bool:
    """Whether this message is already on file (a read)."""
    return stored_as(fetched, message_id) is not None


def _receive_attachments(parsed: ParsedMessage, files: _Files) -> None:
    for attachment in parsed.attachments:
        name = evidence.safe_filename(attachment.filename, fallback="attachment")
        if name != attachment.filename:
            files.problems.append({"code": "attachment_renamed", "name": name})
        try:
            files.accepted.append(evidence.receive(io.BytesIO(attachment.data), name))
        except evidence.EvidenceError as error:
            files.problems.append({"code": "attachment_refused", "name": name,
                                   "reason": error.code})


def _receive_files(fetched: Fetched, parsed: ParsedMessage) -> _Files:
    files = _Files(problems=[{"code": code} for code in parsed.problems])
    if fetched.truncated:
        files.problems.append({"code": "too_large", "size": fetched.size})
    else:
        _receive_attachments(parsed, files)
    files.original = evidence.receive(io.BytesIO(fetched.raw), ORIGINAL_NAME,
                                      kind=evidence.EML)
    return files


def store(fetched: Fetched) -> InboundMail | None:
    """Store the message; None when it was already on file (nothing is written then). The
    caller asked `is_stored` before downloading it; asked again inside the write, the answer
    settles a race with another fetcher."""
    parsed = parse(fetched.raw, current_app.config.get("MAIL_INBOX_AUTHSERV_ID"))
    db.session.rollback()  # no read stays open while the files are checked and stored
    files = _receive_files(fetched, parsed)
    try:
        with write_transaction():
            for path in files.paths():
                discard_on_rollback(path)
            if is_stored(fetched, parsed.message_id):
                raise _AlreadyStored
            return _record(fetched, parsed, files)
    except (_AlreadyStored, IntegrityError):  # another worker stored it first
        db.session.rollback()
        return None


def _record(fetched: Fetched, parsed: ParsedMessage, files: _Files) -> InboundMail:
    route = routing.route(parsed)
    if route.foreign_reference:
        files.problems.append({"code": "reference_not_sender",
                               "reference": route.foreign_reference})
    candidates = [] if route.complaint else routing.clients_with_address(parsed.sender_address)
    complaint = route.complaint or _new_draft(fetched, parsed, candidates, files)
    inbound = InboundMail(
        mailbox=fetched.mailbox, folder=fetched.folder, uidvalidity=fetched.uidvalidity,
        uid=fetched.uid, message_id=parsed.message_id, received_at=fetched.received_at,
        sender=parsed.sender_address, sender_name=(parsed.sender_name or "")[:200] or None,
        subject=parsed.subject[:300], body=parsed.text, size=fetched.size,
        auth={"spf": parsed.auth.spf, "dkim": parsed.auth.dkim, "dmarc": parsed.auth.dmarc},
        trust_failed=parsed.auth.failed, automatic=parsed.automatic, problems=files.problems,
        candidate_client_ids=[c.id for c in candidates] if len(candidates) > 1 else [],
        outcome=MailOutcome.CORRESPONDENCE if route.complaint else MailOutcome.DRAFT,
        complaint_id=complaint.id,
    )
    db.session.add(inbound)
    db.session.flush()
    # first on the timeline: what came, then its files and the mail it caused
    audit.record("mail.received", obj=complaint, actor_label="email", details={
        "inbound_id": inbound.id, "outcome": inbound.outcome,
        "attachments": len(files.accepted),
        "refused": sum(1 for p in files.problems if p["code"] == "attachment_refused"),
        "trust_failed": inbound.trust_failed})
    _record_files(complaint, inbound, files)
    inbound.receipt_sent = receipt.send_if_due(inbound, parsed)
    if route.complaint is not None:
        complaint.updated_at = clock.now()
        notify.reply_received(complaint, inbound)
    return inbound


def _record_files(complaint: Complaint, inbound: InboundMail, files: _Files) -> None:
    for received in files.accepted:
        evidence.record_received(None, complaint, received,
                                 category=EvidenceCategory.COMMUNICATIONS.value)
    if files.original is not None:
        inbound.original = evidence.record_received(
            None, complaint, files.original, category=EvidenceCategory.COMMUNICATIONS.value)


def _language(parsed: ParsedMessage) -> str:
    return "zh" if CJK.search(parsed.subject + parsed.text) else "en"


def _narrative(parsed: ParsedMessage, files: _Files) -> str:
    narrative = "\n\n".join(part for part in (parsed.subject, parsed.text.strip()) if part)
    if len(narrative) > NARRATIVE_MAX:
        files.problems.append({"code": "narrative_cut", "max": NARRATIVE_MAX})
        narrative = narrative[:NARRATIVE_MAX]
    return narrative


def _new_client(parsed: ParsedMessage, language: str) -> Client | None:
    if not parsed.sender_address:
        return None
    name = parsed.sender_name or parsed.sender_address.split("@", 1)[0]
    client = Client(name=name[:100], email=parsed.sender_address[:254], language=language)
    db.session.add(client)
    return client


def _new_draft(fetched: Fetched, parsed: ParsedMessage, candidates: list[Client],
               files: _Files) -> Complaint:
    """A draft to verify. The one client on file with the sender's address is its
    complainant; with several, none is chosen (the draft lists them); with none, a new
    record holds the sender's name and address."""
    language = _language(parsed)
    if len(candidates) == 1:
        client = candidates[0]
    else:
        client = None if candidates else _new_client(parsed, language)
    complaint = Complaint(
        state=State.DRAFT, channel=Channel.EMAIL, received_at=fetched.received_at,
        language=language, complainant=client, narrative=_narrative(parsed, files),
        remedies_sought=[], needs_verification=True,
    )
    # Whoever the message names may be the lawyer complained about: kept out until verified,
    # as with the online form (services/public_intake.py).
    complaint.exclusions = [
        ComplaintExclusion(user_id=user_id, reason=ExclusionReason.PENDING_MATCH)
        for user_id in staff_named_in(f"{parsed.subject}\n{parsed.text}")]
    db.session.add(complaint)
    db.session.flush()
    return complaint
