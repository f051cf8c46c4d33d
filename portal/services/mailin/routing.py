"""Where a message belongs: the complaint it answers, or the clients its sender may be.

A reply is recognised by the thread (its In-Reply-To or References names a message Redress
sent about a complaint, or one the same sender wrote earlier about it) or by a reference
`TS-YYYY-NNNNN` in its subject, which counts only when the sender is that complaint's
complainant: anyone can type a reference, so anyone else starts a draft that says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.mailin import InboundMail
from portal.models.matter import Client
from portal.models.outbox import OutboxMessage
from portal.services.mailin.parse import ParsedMessage

REFERENCE = re.compile(r"\bTS-\d{4}-\d{5}\b", re.IGNORECASE)
MAX_THREAD_IDS = 50  # a References header can be long; the newest ids are at its end


@dataclass(frozen=True)
class Route:
    """The complaint a message answers (None: a new draft), and what to warn about."""

    complaint: Complaint | None
    foreign_reference: str | None = None  # a reference in the subject, not the sender's


def _thread_ids(parsed: ParsedMessage) -> list[str]:
    return list(dict.fromkeys(parsed.in_reply_to + parsed.references[-MAX_THREAD_IDS:]))


def _by_thread(parsed: ParsedMessage) -> Complaint | None:
    ids = _thread_ids(parsed)
    if not ids:
        return None
    sent = db.session.scalar(
        select(OutboxMessage.complaint_id)
        .where(OutboxMessage.message_id.in_(ids), OutboxMessage.complaint_id.is_not(None))
        .order_by(OutboxMessage.id.desc()).limit(1))
    if sent is None and parsed.sender_address:
        sent = db.session.scalar(
            select(InboundMail.complaint_id)
            .where(InboundMail.message_id.in_(ids), InboundMail.sender == parsed.sender_address)
            .order_by(InboundMail.id.desc()).limit(1))
    return db.session.get(Complaint, sent) if sent is not None else None


def _by_reference(parsed: ParsedMessage) -> Route | None:
    match = REFERENCE.search(parsed.subject)
    if match is None:
        return None
    reference = match.group(0).upper()
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    if complaint is None:
        return None
    complainant = complaint.complainant
    if (parsed.sender_address and complainant is not None and complainant.email
            and complainant.email.strip().lower() == parsed.sender_address):
        return Route(complaint)
    return Route(None, foreign_reference=reference)


def route(parsed: ParsedMessage) -> Route:
    complaint = _by_thread(parsed)
    if complaint is not None:
        return Route(complaint)
    return _by_reference(parsed) or Route(None)


def clients_with_address(address: str | None) -> list[Client]:
    """Every client on file with this email address (case does not matter)."""
    if not address:
        return []
    return list(db.session.scalars(
        select(Client).where(func.lower(Client.email) == address.lower())
        .order_by(Client.id).limit(20)))
