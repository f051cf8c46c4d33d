"""Confirmation of the read-back: in person or by phone, by a partner's override, or by the
client through a signed, expiring, single-use link; and verification of an online submission.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from flask_babel import pgettext
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal import clock
from portal.clock import ClockSigner
from portal.db import db
from portal.models.complaint import (
    CHANNEL_LABELS,
    Channel,
    Complaint,
    ConfirmationLink,
    ConfirmationMethod,
    ExclusionReason,
)
from portal.models.user import User
from portal.services import audit
from portal.services.intake.completeness import require_complete, unmailable
from portal.services.intake.errors import IntakeError, LinkUnavailable
from portal.services.intake.record import (
    cancel_open_links,
    check_version,
    clean_text,
    flush,
    require_draft,
    touch,
    withdraw_confirmation,
)

CONFIRMATION_SALT = "redress.intake.confirmation-link.v1"

# Subject, text and HTML of the confirmation request, from the complaint and the link's URL.
ComposeEmail = Callable[[Complaint, str], tuple[str, str, str]]


def mark_verified(actor: User | None, complaint: Complaint) -> Complaint:
    require_draft(complaint)
    if not complaint.needs_verification:
        raise IntakeError(_("This complaint does not need verifying."))
    if not complaint.respondents:
        raise IntakeError(_("Record the lawyer(s) the complaint is about first: until the "
                            "submission is verified, the staff it names are kept out of it."),
                          field="user_ids")
    # The receptionist has resolved who the complaint is about: the respondents stay out
    # (as respondents); the others matched on arrival may see it again.
    lifted = [e.user_id for e in complaint.exclusions
              if e.reason == ExclusionReason.PENDING_MATCH]
    complaint.exclusions = [e for e in complaint.exclusions
                            if e.reason != ExclusionReason.PENDING_MATCH]
    complaint.needs_verification = False
    touch(complaint)
    flush()
    audit.record("complaint.verified", actor=actor, obj=complaint,
                 details={"exclusions_lifted": lifted} if lifted else None)
    return complaint


# How a client confirms the read-back on each channel without further explanation: in
# person at a walk-in or with client-relations staff, by phone on a phone call. Any other
# pairing (a phone complaint confirmed "in person", an emailed one by phone) needs a note.
CONFIRMATION_FOR_CHANNEL = {
    Channel.WALK_IN: ConfirmationMethod.IN_PERSON,
    Channel.CLIENT_RELATIONS: ConfirmationMethod.IN_PERSON,
    Channel.PHONE: ConfirmationMethod.PHONE,
}
NOTE_MAX = 2000


def needs_confirmation_note(channel: str | None, method: str) -> bool:
    """Whether confirming a complaint received on `channel` by `method` needs a note."""
    if method == ConfirmationMethod.IMPORTED:
        return False
    return CONFIRMATION_FOR_CHANNEL.get(channel) != method


def confirm_read_back(actor: User | None, complaint: Complaint, method: ConfirmationMethod,
                      *, note: str | None = None,
                      expected_version: int | None = None) -> Complaint:
    """The client confirmed the read-back in person or by phone (or, imported, elsewhere);
    a `note` says why when the way does not match the channel."""
    method = ConfirmationMethod(method)
    if method not in (ConfirmationMethod.IN_PERSON, ConfirmationMethod.PHONE,
                      ConfirmationMethod.IMPORTED):
        raise IntakeError(_("Choose how the client confirmed: in person or by phone."),
                          field="method")
    require_draft(complaint)
    check_version(complaint, expected_version)
    require_complete(complaint)
    note = clean_text(note)
    if note is None and needs_confirmation_note(complaint.channel, method):
        raise IntakeError(_("Received: %(channel)s; confirmed: %(method)s. These do not "
                            "match: add a note saying how the client confirmed and why.",
                            channel=CHANNEL_LABELS.get(complaint.channel, complaint.channel),
                            method=_confirmation_label(method)), field="note")
    if note is not None and len(note) > NOTE_MAX:
        raise IntakeError(_("The note has at most %(max)d characters.", max=NOTE_MAX),
                          field="note")
    cancel_open_links(complaint)
    complaint.confirmed_at = clock.now()
    complaint.confirmation_method = method.value
    complaint.confirmed_by = actor
    complaint.confirmation_override_reason = None
    complaint.confirmation_note = note
    complaint.correction_requested = None
    touch(complaint)
    flush()
    details: dict[str, Any] = {"method": method.value}
    if note is not None:  # the note may name people: the audit trail holds its length only
        details["note_length"] = len(note)
    audit.record("complaint.confirmed", actor=actor, obj=complaint, details=details)
    return complaint


def _confirmation_label(method: ConfirmationMethod) -> str:
    return (pgettext("confirmation", "In person") if method == ConfirmationMethod.IN_PERSON
            else pgettext("confirmation", "By phone"))


def override_confirmation(actor: User, complaint: Complaint, reason: str | None) -> Complaint:
    """A partner lets the complaint be registered without the client's confirmation."""
    if actor is None or not complaint.can_override_confirmation(actor):
        raise IntakeError(_("Only a partner who is not complained about can register a "
                            "complaint without the client's confirmation."))
    reason = clean_text(reason)
    if not reason:
        raise IntakeError(_("Give the reason for registering without the client's "
                            "confirmation."), field="reason")
    if len(reason) > 2000:
        raise IntakeError(_("The reason has at most %(max)d characters.", max=2000),
                          field="reason")
    require_complete(complaint)
    cancel_open_links(complaint)
    complaint.confirmed_at = clock.now()
    complaint.confirmation_method = ConfirmationMethod.OVERRIDE.value
    complaint.confirmed_by = actor
    complaint.confirmation_override_reason = reason
    touch(complaint)
    flush()
    # The reason may name people: the record holds it, the audit trail only its length.
    audit.record("complaint.confirmation_overridden", actor=actor, obj=complaint,
                 details={"reason_length": len(reason)})
    return complaint


def read_back_points(complaint: Complaint) -> dict:
    """The key points as plain data (who, against whom, what, when, what they want)."""
    client = complaint.complainant
    matter = complaint.matter
    return {
        "complainant": client.name if client else None,
        "phone": client.phone if client else None,
        "email": client.email if client else None,
        "respondents": [r.name for r in complaint.respondents],
        "matter": ({"reference": matter.reference, "title": matter.title,
                    "case_number": matter.case_number} if matter else None),
        "narrative": complaint.narrative,
        "occurred_on": complaint.occurred_on,
        "occurred_until": complaint.occurred_until,
        "occurred_place": complaint.occurred_place,
        "remedies": list(complaint.remedies_sought or []),
        "remedy_details": complaint.remedy_details,
        "channel": complaint.channel,
        "received_at": complaint.received_at,
        "label": complaint.label,
    }


class LinkStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    CANCELLED = "cancelled"  # a newer link was sent, the record changed, or it was registered
    EXPIRED = "expired"
    INVALID = "invalid"  # forged, mangled or unknown


def _serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    # Its timestamps come from the portal's clock, so that tests and the demo move them too.
    return URLSafeTimedSerializer(secret_key, salt=CONFIRMATION_SALT, signer=ClockSigner)


def _seconds(max_age: timedelta | int | float) -> int:
    return int(max_age.total_seconds()) if isinstance(max_age, timedelta) else int(max_age)


def _link_by_nonce(nonce: Any) -> ConfirmationLink | None:
    if not isinstance(nonce, str) or not nonce:
        return None
    return db.session.scalar(select(ConfirmationLink).where(ConfirmationLink.nonce == nonce))


def check_confirmation_token(
    token: str, secret_key: str | bytes, max_age: timedelta | int
) -> tuple[LinkStatus, ConfirmationLink | None]:
    """What a token is worth, and its link when the signature is genuine."""
    serializer = _serializer(secret_key)
    try:
        nonce = serializer.loads(token, max_age=_seconds(max_age))
    except SignatureExpired as expired:
        try:
            link = _link_by_nonce(serializer.load_payload(expired.payload))
        except BadSignature:
            link = None
        return LinkStatus.EXPIRED, link
    except BadSignature:
        return LinkStatus.INVALID, None
    link = _link_by_nonce(nonce)
    if link is None:
        return LinkStatus.INVALID, None
    if link.used_at is not None:
        return (LinkStatus.USED if link.outcome in ("confirmed", "correction")
                else LinkStatus.CANCELLED), link
    if not link.complaint.is_draft:
        return LinkStatus.CANCELLED, link
    return LinkStatus.VALID, link


def load_confirmation_link(token: str, secret_key: str | bytes,
                           max_age: timedelta | int) -> ConfirmationLink | None:
    """The link a genuine, unexpired token names (check `used_at` before answering)."""
    status, link = check_confirmation_token(token, secret_key, max_age)
    return link if status in (LinkStatus.VALID, LinkStatus.USED, LinkStatus.CANCELLED) else None


def confirmation_token(link: ConfirmationLink, secret_key: str | bytes) -> str:
    return _serializer(secret_key).dumps(link.nonce)


def request_confirmation_link(actor: User | None, complaint: Complaint,
                              link_url_builder: Callable[[str], str], *,
                              secret_key: str | bytes, compose: ComposeEmail) -> ConfirmationLink:
    """Email the client the read-back with a signed, expiring, single-use link.

    `link_url_builder` turns the token into the link's address; `compose` writes the email
    (subject, text, HTML) from the complaint and that address.
    """
    from portal.services import outbox

    require_draft(complaint)
    require_complete(complaint)
    client = complaint.complainant
    if client is None or not client.email:
        raise IntakeError(_("No email address is recorded for the complainant. Read the key "
                            "points back in person or by phone instead."))
    if unmailable(client):
        raise IntakeError(_("The complainant's name or email address cannot be used in an "
                            "email (a line break, or an address our mail cannot reach): "
                            "correct the complainant section first."))
    cancel_open_links(complaint)  # only the newest link counts
    link = ConfirmationLink(complaint_id=complaint.id, nonce=secrets.token_urlsafe(32))
    db.session.add(link)
    db.session.flush()
    url = link_url_builder(confirmation_token(link, secret_key))
    subject, text, html = compose(complaint, url)
    outbox.queue(
        kind="confirmation_request",
        recipient=client.email,
        recipient_name=re.sub(r"[\r\n\t]+", " ", client.name)[:100],
        subject=subject,
        body_text=text,
        body_html=html,
        complaint=complaint,
        actor=actor,
    )
    audit.record("complaint.confirmation_requested", actor=actor, obj=complaint,
                 details={"link_id": link.id})
    return link


def answer_confirmation_link(link: ConfirmationLink, *, confirmed: bool,
                             correction: str | None = None) -> Complaint:
    """The client's answer through the link: recorded once, never twice."""
    complaint = link.complaint
    text = clean_text(correction)
    if not confirmed:
        if not text:
            raise IntakeError(_("Please write what should be corrected."), field="correction")
        if len(text) > 5000:
            raise IntakeError(_("Please keep it under %(max)d characters.", max=5000),
                              field="correction")
    if not complaint.is_draft:
        raise LinkUnavailable(_("This complaint has already been registered."))
    now = clock.now()
    outcome = "confirmed" if confirmed else "correction"
    claimed = db.session.execute(
        update(ConfirmationLink)
        .where(ConfirmationLink.id == link.id, ConfirmationLink.used_at.is_(None))
        .values(used_at=now, outcome=outcome)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:
        raise LinkUnavailable(_("This link has already been used."))
    if confirmed:
        complaint.confirmed_at = now
        complaint.confirmation_method = ConfirmationMethod.SIGNED_LINK.value
        complaint.confirmed_by = None
        complaint.confirmation_override_reason = None
        complaint.correction_requested = None
    else:
        withdraw_confirmation(complaint)
        complaint.correction_requested = text
    touch(complaint)
    flush()
    action = "complaint.confirmed" if confirmed else "complaint.correction_requested"
    details = {"method": ConfirmationMethod.SIGNED_LINK.value, "link_id": link.id}
    audit.record(action, obj=complaint, actor_label="client", details=details)
    return complaint


