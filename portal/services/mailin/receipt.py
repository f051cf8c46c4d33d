"""The automatic receipt: a short bilingual note that a message reached the complaints team.

Marked `Auto-Submitted: auto-replied` (RFC 3834) and sent at most once a day to an address.
Never sent to auto-replies, bounces or mailing lists, to the firm's own domains, or when the
message fails SPF or DMARC: a forged sender must not make the portal mail an innocent person.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from portal import clock
from portal.clock import LOCAL_TZ
from portal.db import db
from portal.documents import render
from portal.documents.acknowledgement import bilingual_date, firm_context, languages_for
from portal.locales import html_lang
from portal.models.mailin import InboundMail
from portal.models.outbox import OutboxMessage
from portal.services import outbox
from portal.services.calendar import add_working_days
from portal.services.mailin.parse import ParsedMessage

KIND = "mail_receipt"
ONCE_PER = timedelta(hours=24)
SUBJECTS = {"zh": "已收到您的来信", "en": "We have received your message"}


def own_domains() -> set[str]:
    config = current_app.config
    addresses = (config.get("FIRM_COMPLAINTS_EMAIL"), config.get("MAIL_INBOX_ADDRESS"),
                 outbox.sender_address())
    domains = {a.rsplit("@", 1)[1] for a in addresses if a and "@" in a}
    domains.update(config.get("FIRM_MAIL_DOMAINS") or ())
    return {d.strip().lower() for d in domains if d and d.strip()}


def _is_own(address: str) -> bool:
    domain = address.rsplit("@", 1)[-1].lower()
    return any(domain == own or domain.endswith("." + own) for own in own_domains())


def _sent_lately(address: str) -> bool:
    since = clock.now() - ONCE_PER
    return db.session.scalar(
        select(OutboxMessage.id).where(OutboxMessage.kind == KIND,
                                       OutboxMessage.recipient == address,
                                       OutboxMessage.created_at >= since).limit(1)) is not None


def reason_not_to_send(parsed: ParsedMessage) -> str | None:
    """Why no receipt goes to this message's sender, or None when one may."""
    if parsed.automatic:
        return "automatic"
    if parsed.auth.forged:
        return "forged"
    if not parsed.sender_address:
        return "no_sender"
    try:
        address = outbox.normalise_address(parsed.sender_address)
    except outbox.OutboxError:
        return "bad_address"
    if _is_own(address):
        return "own_domain"
    if _sent_lately(address):
        return "sent_lately"
    return None


def receipt_context(language: str, name: str, reply_by, config) -> dict:
    languages = languages_for(language)
    now = clock.now()
    return {
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {lang: SUBJECTS[lang] for lang in languages},
        "subject": " / ".join(SUBJECTS[lang] for lang in languages),
        "name": name,
        "reply_by": bilingual_date(reply_by),
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "firm": firm_context(config),
    }


def send_if_due(inbound: InboundMail, parsed: ParsedMessage) -> bool:
    """Queue the receipt in the caller's transaction when nothing forbids it."""
    if reason_not_to_send(parsed) is not None:
        return False
    config = current_app.config
    language = inbound.complaint.language if inbound.complaint else "zh"
    reply_by = add_working_days(clock.today(), int(config["FIRST_RESPONSE_WORKING_DAYS"]))
    context = receipt_context(language, inbound.sender_name or "", reply_by, config)
    headers = {"Auto-Submitted": "auto-replied"}
    if parsed.message_id:
        headers |= {"In-Reply-To": parsed.message_id, "References": parsed.message_id}
    outbox.queue(kind=KIND, recipient=inbound.sender, recipient_name=inbound.sender_name,
                 subject=context["subject"], complaint=inbound.complaint, headers=headers,
                 body_text=render("emails/mail_receipt.txt", context),
                 body_html=render("emails/mail_receipt.html", context))
    return True
