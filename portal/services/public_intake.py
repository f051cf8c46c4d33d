"""Complaints sent through the public online form, and the per-address limit on them.

A submission becomes a draft complaint flagged `needs_verification`: a receptionist checks
it, finds or confirms the person, the lawyer(s) and the matter, then reads it back to the
client before it can be registered. Nothing is linked automatically, with one exception for
safety: the staff the visitor names (by exact name, email or a recorded alias) are kept out
of the complaint at once, all of them when several match, until it is verified.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import delete, func, or_, select

from portal import clock
from portal.db import db
from portal.models.complaint import (
    Channel,
    Complaint,
    ComplaintExclusion,
    ExclusionReason,
    State,
)
from portal.models.matter import Client
from portal.models.ratelimit import RateLimitHit
from portal.models.user import User, UserAlias
from portal.services import audit

log = logging.getLogger(__name__)

BUCKET = "public_form"
WINDOW = timedelta(hours=1)


@dataclass
class PublicSubmission:
    """What the visitor typed, cleaned and validated by the form.

    The lawyer(s) and matter they name are free text: they stay in `submitted_payload` for
    the receptionist, who links the real staff members and matter when verifying.
    """

    name: str
    narrative: str
    language: str  # zh | en
    phone: str | None = None
    email: str | None = None
    occurred_on: date | None = None
    place: str | None = None
    remedies: list[str] = field(default_factory=list)
    remedy_details: str | None = None
    lawyers: str | None = None


# How a visitor may list and address the lawyers they name: "刘慧敏律师、王磊", "Liu Huimin
# and Wang Lei", "liu.huimin@firm.example".
_LIST = re.compile(r"[,，、;；/|\n\r]+|\band\b|&", re.IGNORECASE)
_JOINERS = re.compile(r"[和与及]")
_TITLES = re.compile(r"^(?:lawyer|attorney|mr|mrs|ms|dr)\.?\s+|(?:大?律师|主任|合伙人|先生|女士)$")
_EMAIL = re.compile(r"[^\s,，、;；<>()（）]+@[^\s,，、;；<>()（）]+")
MAX_CANDIDATES = 40


def _candidates(text: str) -> set[str]:
    """Each string in `text` that may be one person's name or email, lower-cased."""
    found: set[str] = set()
    for part in _LIST.split(text):
        for piece in {part, *_JOINERS.split(part)}:
            name = _TITLES.sub("", " ".join(piece.split()).lower()).strip()
            if len(name) >= 2:
                found.add(name)
    found.update(email.lower() for email in _EMAIL.findall(text))
    return set(sorted(found)[:MAX_CANDIDATES])


def named_staff(text: str | None) -> list[User]:
    """Staff members the text names exactly: by name, email or a recorded alias."""
    names = _candidates(text or "")
    if not names:
        return []
    by_alias = select(UserAlias.user_id).where(func.lower(UserAlias.alias).in_(names))
    return list(db.session.scalars(
        select(User).where(or_(func.lower(User.name).in_(names),
                               func.lower(User.email).in_(names),
                               User.id.in_(by_alias)))
        .order_by(User.id)
    ))


def visitor_key(address: str, secret: str | bytes) -> str:
    """A keyed hash of the visitor's address: the limit needs equality, not the address."""
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, address.encode(), hashlib.sha256).hexdigest()


def over_limit(key: str, per_hour: int) -> bool:
    """True when this visitor has already sent `per_hour` submissions in the last hour."""
    since = clock.now() - WINDOW
    count = db.session.scalar(
        select(func.count(RateLimitHit.id)).where(
            RateLimitHit.bucket == BUCKET, RateLimitHit.key == key, RateLimitHit.at >= since
        )
    )
    return (count or 0) >= per_hour


def _count_hit(key: str) -> None:
    now = clock.now()
    # Keep nothing longer than the window needs (the privacy notice says so).
    db.session.execute(
        delete(RateLimitHit).where(RateLimitHit.bucket == BUCKET, RateLimitHit.at < now - WINDOW)
    )
    db.session.add(RateLimitHit(bucket=BUCKET, key=key, at=now))
    db.session.flush()


def discard_bot_submission(key: str) -> None:
    """The honeypot was filled: store nothing but the rate-limit hit."""
    log.info("public form: honeypot submission discarded")
    _count_hit(key)


def submit(data: PublicSubmission, payload: dict, key: str) -> Complaint:
    """Create the draft complaint and a new client record from a web submission."""
    _count_hit(key)
    client = Client(
        name=data.name,
        phone=data.phone or None,
        email=(data.email or "").strip() or None,
        language=data.language,
    )
    complaint = Complaint(
        state=State.DRAFT,
        channel=Channel.WEB,
        received_at=clock.now(),
        language=data.language,
        complainant=client,
        narrative=data.narrative,
        occurred_on=data.occurred_on,
        occurred_place=data.place or None,
        remedies_sought=list(data.remedies),
        remedy_details=data.remedy_details or None,
        needs_verification=True,
        submitted_payload=payload,
    )
    # Whoever the visitor names may be the lawyer complained about: keep them all out now,
    # before anyone opens the submission; verification lifts it (intake.mark_verified).
    excluded = named_staff(data.lawyers)
    complaint.exclusions = [
        ComplaintExclusion(user_id=user.id, reason=ExclusionReason.PENDING_MATCH)
        for user in excluded
    ]
    db.session.add_all([client, complaint])
    db.session.flush()
    # No personal data in the audit trail: the record itself holds it.
    audit.record(
        "complaint.submitted_online",
        obj=complaint,
        actor_label="public",
        details={"channel": Channel.WEB.value, "remedies": len(data.remedies),
                 "excluded_pending": [user.id for user in excluded]},
    )
    return complaint


def record_forged_request(path: str) -> None:
    """A POST to the public form without a valid CSRF token (audited like any other)."""
    audit.record("csrf.rejected", details={"method": "POST", "path": path[:200]})
