"""A client who lost the link to their page asks for a new one with the complaint's reference
and the email address on file.

When both match a registered complaint, a new link key is drawn (every earlier link stops
working) and the new link is emailed to the address on file through the outbox. The visitor
is told the same thing whatever happened, so the form reveals neither whether a reference
exists nor which address it belongs to. Requests are counted per visitor (a keyed hash of
the address, like the public complaint form) and limited per hour.
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import Mapping
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, select

from portal import clock
from portal.clock import LOCAL_TZ
from portal.db import db
from portal.documents import render
from portal.documents.acknowledgement import bilingual_date, firm_context, languages_for
from portal.locales import html_lang
from portal.models.complaint import Complaint
from portal.models.outbox import OutboxMessage
from portal.models.ratelimit import RateLimitHit
from portal.services import addresses, audit, outbox
from portal.services.public_intake import visitor_key
from portal.services.resolution import client_link

__all__ = ["over_limit", "request_new_link", "visitor_key"]

log = logging.getLogger(__name__)

BUCKET = "lost_link"
WINDOW = timedelta(hours=1)
MAIL_KIND = "client_link"
REFERENCE = re.compile(r"TS-\d{4}-\d{5}")
SUBJECTS = {"zh": "您的投诉页面的新链接", "en": "A new link to your complaint's page"}


def over_limit(key: str, per_hour: int) -> bool:
    """True when this visitor has already asked `per_hour` times in the last hour."""
    count = db.session.scalar(select(func.count(RateLimitHit.id)).where(
        RateLimitHit.bucket == BUCKET, RateLimitHit.key == key,
        RateLimitHit.at >= clock.now() - WINDOW))
    return (count or 0) >= per_hour


def _count_hit(key: str) -> None:
    now = clock.now()
    db.session.execute(delete(RateLimitHit).where(RateLimitHit.bucket == BUCKET,
                                                  RateLimitHit.at < now - WINDOW))
    db.session.add(RateLimitHit(bucket=BUCKET, key=key, at=now))
    db.session.flush()


def _address_key(address: str | None) -> str:
    text = (address or "").strip()
    with contextlib.suppress(addresses.AddressError):
        text = addresses.normalise_address(text)
    return text.casefold()


def _matching(reference: str, email: str) -> Complaint | None:
    wanted = (reference or "").strip().upper()
    if not REFERENCE.fullmatch(wanted) or not _address_key(email):
        return None
    complaint = db.session.scalar(select(Complaint).where(
        Complaint.reference == wanted, Complaint.registered_at.is_not(None)))
    client = complaint.complainant if complaint is not None else None
    if client is None or not client.email:
        return None
    return complaint if _address_key(client.email) == _address_key(email) else None


def link_context(facts: Mapping, config: Mapping, now: datetime) -> dict:
    """The email's context from plain facts (reference, language, name, link, days)."""
    languages = languages_for(facts.get("language"))
    firm = firm_context(config)
    return {
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {lang: f"{SUBJECTS[lang]} {facts['reference']}" for lang in languages},
        "subject": " / ".join(f"{SUBJECTS[lang]} {facts['reference']}" for lang in languages),
        "reference": facts["reference"],
        "complainant_name": facts.get("complainant_name") or "",
        "link": facts["link"],
        "days": facts["days"],
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }


def _send(complaint: Complaint) -> OutboxMessage | None:
    """Draw the new key and queue the email with the new link (the old key stays if the
    address on file cannot be mailed)."""
    previous = complaint.client_link_key
    client_link.rotate_key(complaint)
    client = complaint.complainant
    context = link_context({
        "reference": complaint.label, "language": complaint.language,
        "complainant_name": client.name, "link": client_link.page_url(complaint),
        "days": max(1, client_link.max_age().days)}, current_app.config, clock.now())
    try:
        message = outbox.queue(
            kind=MAIL_KIND, recipient=client.email, recipient_name=client.name,
            subject=context["subject"], body_text=render("emails/client_link.txt", context),
            body_html=render("emails/client_link.html", context), complaint=complaint)
    except outbox.OutboxError:
        log.warning("complaint %s: the client's address is refused, no new link", complaint.id)
        complaint.client_link_key = previous
        return None
    complaint.updated_at = clock.now()
    db.session.flush()
    audit.record("client_link.reissued", actor_label="client", obj=complaint,
                 details={"message_id": message.id})
    return message


def request_new_link(reference: str, email: str, key: str) -> OutboxMessage | None:
    """Count the request; when the reference and the email match a registered complaint,
    revoke its links and email a new one. The caller answers the same whatever this returns."""
    _count_hit(key)
    complaint = _matching(reference, email)
    if complaint is None:
        return None
    db.session.refresh(complaint, with_for_update=True)
    return _send(complaint)
