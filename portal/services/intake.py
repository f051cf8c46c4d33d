"""Intake: the complaint record built section by section, read back, confirmed, registered.

Every function here is a verb called by a route (or the import command): it takes the
actor and plain data, checks the rules, changes the record, writes the audit event and
flushes. It never commits and never reads `flask.request`.

Optimistic locking: `Complaint.version` is SQLAlchemy's version column. A page carries the
version it was loaded at; a save whose `expected_version` is no longer current raises
`ConflictError` and changes nothing. Any saved change to the record's content withdraws an
earlier read-back confirmation and cancels unanswered confirmation links, because the
client confirmed something that no longer reads the same.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from markupsafe import Markup
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from portal.db import db, utcnow
from portal.i18n import join_list
from portal.models.audit import AuditEvent
from portal.models.complaint import (
    CHANNEL_LABELS,
    REMEDY_LABELS,
    Channel,
    Complaint,
    ConfirmationLink,
    ConfirmationMethod,
    ExclusionReason,
    ReferenceCounter,
    Remedy,
    State,
)
from portal.models.matter import Client, Matter
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import User
from portal.services import addresses, audit
from portal.services.calendar import LOCAL_TZ

CONFIRMATION_SALT = "redress.intake.confirmation-link.v1"
ID_MAX = 2**63 - 1  # PostgreSQL's BIGINT, SQLite's INTEGER
SEARCH_LIMIT = 10

# Sections saved by save_section, in page order. Evidence has its own service.
SECTIONS = ("complainant", "respondents", "matter", "incident", "remedy", "channel")
REQUIRED_SECTIONS = ("complainant", "respondents", "incident", "remedy", "channel")

SECTION_LABELS = {
    "complainant": _l("Complainant"),
    "respondents": _l("Lawyers complained about"),
    "matter": _l("Matter"),
    "incident": _l("What happened"),
    "evidence": _l("Evidence"),
    "remedy": _l("Remedy sought"),
    "channel": _l("Channel and time received"),
}

# A refund or "other" means nothing without the details.
REMEDIES_NEEDING_DETAILS = {Remedy.PARTIAL_REFUND, Remedy.FULL_REFUND, Remedy.OTHER}
LANGUAGES = ("zh", "en")
NARRATIVE_MAX = 20_000

_PHONE = re.compile(r"^\+?[0-9\s().\-/]{5,30}(\s*(ext\.?|x|#|转|分机)\s*[0-9]{1,6})?$", re.I)
_ID_NUMBER = re.compile(r"^[0-9A-Za-z\-]{4,40}$")


# --- errors -----------------------------------------------------------------------------


class IntakeError(Exception):
    """A rule said no. `message` is translated; `errors` maps field names to messages."""

    def __init__(self, message: str, *, field: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.errors = errors if errors is not None else ({field: [self.message]} if field else {})

    def __str__(self) -> str:
        return self.message


class ConflictError(IntakeError):
    """Someone else saved the record after this page loaded it (optimistic locking)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _(
            "Someone else saved this complaint after you opened it, so your changes were not "
            "saved. What you typed is still on screen: copy what you need, then reload the "
            "page to see the latest version."
        ))


class LinkUnavailable(IntakeError):
    """A confirmation link that was used, cancelled or expired."""


class _Errors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise IntakeError(first, errors=self.errors)


# --- small helpers ------------------------------------------------------------------------


def local_today() -> date:
    return utcnow().astimezone(LOCAL_TZ).date()


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _as_date(value: Any, name: str, errors: _Errors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(name, _("Enter a date such as 2026-03-01."))
        return None


def _as_moment(value: Any, name: str, errors: _Errors) -> datetime | None:
    if value in (None, ""):
        return None
    moment = value
    if not isinstance(value, datetime):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            errors.add(name, _("Enter a date and time."))
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)  # what the receptionist's clock said
    return moment


def _row_id(value: Any) -> int | None:
    """A value that can be a row's id: a database integer holds at most 2**63 - 1, and a
    larger one would end in an OverflowError inside the driver (a 500), not a "not found"."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= ID_MAX else None


def _as_ids(values: Any) -> list[int]:
    ids: list[int] = []
    for value in values or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number not in ids:
            ids.append(number)
    return ids


def _flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError() from None


def _require_draft(complaint: Complaint) -> None:
    if not complaint.is_draft:
        raise IntakeError(_("This complaint is registered: its intake record can no longer "
                            "be changed here."))


def _check_version(complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise ConflictError()


def _touch(complaint: Complaint) -> None:
    """Mark the row changed so that its version moves on (association rows alone do not)."""
    complaint.updated_at = utcnow()


# --- creating a draft -------------------------------------------------------------------


def create_draft(actor: User | None, *, channel: str, received_at: datetime,
                 language: str = "zh") -> Complaint:
    errors = _Errors()
    _check_channel(channel, received_at, errors)
    if language not in LANGUAGES:
        errors.add("language", _("Choose Chinese or English."))
    errors.raise_if_any()
    complaint = Complaint(
        state=State.DRAFT, channel=Channel(channel).value, received_at=received_at,
        language=language, created_by=actor, remedies_sought=[],
    )
    db.session.add(complaint)
    db.session.flush()
    audit.record("complaint.created", actor=actor, obj=complaint, details={"channel": channel})
    return complaint


def _check_channel(channel: Any, received_at: Any, errors: _Errors) -> None:
    if channel not in {c.value for c in Channel}:
        errors.add("channel", _("Choose how the complaint came in."))
    if not isinstance(received_at, datetime) or received_at.tzinfo is None:
        errors.add("received_at", _("Enter when the complaint was received."))
    elif received_at > utcnow() + timedelta(minutes=5):
        errors.add("received_at", _("The time received cannot be in the future."))
    elif received_at.astimezone(LOCAL_TZ).year < 2000:
        errors.add("received_at", _("Check the year: this date is too far in the past."))


# --- sections ---------------------------------------------------------------------------


def _client_snapshot(client: Client | None) -> tuple:
    if client is None:
        return (None,)
    return (client.id, client.name, client.phone, client.email, client.id_number,
            client.address, client.language)


def _snapshot(complaint: Complaint, section: str) -> tuple:
    if section == "complainant":
        return (*_client_snapshot(complaint.complainant), complaint.language)
    if section == "respondents":
        return tuple(sorted(r.id for r in complaint.respondents))
    if section == "matter":
        return (complaint.matter_id,)
    if section == "incident":
        return (complaint.narrative, complaint.occurred_on, complaint.occurred_until,
                complaint.occurred_place)
    if section == "remedy":
        return (tuple(complaint.remedies_sought or []), complaint.remedy_details)
    return (complaint.channel, complaint.received_at)


def is_exclusive_client(client: Client, complaint: Complaint) -> bool:
    """A person recorded for this complaint alone: editing them changes nothing else."""
    if client.id is None:
        return True
    shared = or_(
        exists().where(Matter.client_id == client.id),
        exists().where(Complaint.complainant_id == client.id, Complaint.id != complaint.id),
    )
    return not db.session.scalar(select(shared))


def _apply_complainant(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = _Errors()
    client_id = data.get("client_id")
    if client_id not in (None, ""):
        row_id = _row_id(client_id)
        client = db.session.get(Client, row_id) if row_id is not None else None
        if client is None:
            raise IntakeError(_("This client is no longer on file. Search again."),
                              field="client_id")
        complaint.complainant = client
        complaint.language = client.language if client.language in LANGUAGES else "zh"
        return
    person = _check_person(data, errors)
    errors.raise_if_any()
    current = complaint.complainant
    if current is not None and is_exclusive_client(current, complaint):
        client = current
    else:
        client = Client()
        db.session.add(client)
    for name, value in person.items():
        setattr(client, name, value)
    complaint.complainant = client
    complaint.language = person["language"]


def _check_person(data: dict, errors: _Errors) -> dict:
    name = _text(data.get("name"))
    phone = _text(data.get("phone"))
    email = _text(data.get("email"))
    id_number = _text(data.get("id_number"))
    address = _text(data.get("address"))
    language = _text(data.get("language")) or "zh"
    if not name:
        errors.add("name", _("Enter the complainant's name."))
    elif len(name) > 100:
        errors.add("name", _("A name has at most %(max)d characters.", max=100))
    elif not addresses.is_single_line(name):  # the name goes into the To: of every email
        errors.add("name", _("A name is written on one line, without line breaks or "
                             "control characters."))
    if phone and (len(phone) > 40 or not _PHONE.match(phone)):
        errors.add("phone", _("Enter a phone number with digits only, for example "
                              "138 0013 8000 or +86 21 5000 0000."))
    if email:
        try:  # the outbox's own rule: an address accepted here is one it can send to
            email = addresses.normalise_address(email)
        except addresses.AddressError as error:
            errors.add("email", error.message)
    if not phone and not email and "phone" not in errors.errors:
        errors.add("phone", _("Give a phone number or an email address so that the firm "
                              "can reply."))
    if id_number and not _ID_NUMBER.match(id_number):
        errors.add("id_number", _("An ID number has 4 to 40 letters, digits or hyphens."))
    if address and len(address) > 300:
        errors.add("address", _("An address has at most %(max)d characters.", max=300))
    elif not addresses.is_single_line(address):
        errors.add("address", _("Write the address on one line, without line breaks or "
                                "control characters."))
    if language not in LANGUAGES:
        errors.add("language", _("Choose Chinese or English."))
    return {"name": name, "phone": phone, "email": email, "id_number": id_number,
            "address": address, "language": language}


def _apply_respondents(actor: User | None, complaint: Complaint, data: dict) -> None:
    ids = _as_ids(data.get("user_ids"))
    if len(ids) > 10:
        raise IntakeError(_("Name at most 10 lawyers."), field="user_ids")
    known = [i for i in ids if _row_id(i) is not None]
    users = db.session.scalars(select(User).where(User.id.in_(known))).all() if known else []
    if len(users) != len(ids):
        raise IntakeError(_("One of these people is no longer on file. Search again."),
                          field="user_ids")
    if actor is not None and actor.id in ids:
        raise IntakeError(_("You cannot record a complaint about yourself. Ask a colleague "
                            "to take it."), field="user_ids")
    by_id = {u.id: u for u in users}
    complaint.respondents = [by_id[i] for i in ids]


def _apply_matter(actor: User | None, complaint: Complaint, data: dict) -> None:
    matter_id = data.get("matter_id")
    if matter_id in (None, ""):
        complaint.matter = None
        return
    row_id = _row_id(matter_id)
    matter = db.session.get(Matter, row_id) if row_id is not None else None
    if matter is None:
        raise IntakeError(_("This matter is no longer on file. Search again."),
                          field="matter_id")
    complaint.matter = matter


def _apply_incident(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = _Errors()
    narrative = _text(data.get("narrative"))
    occurred_on = _as_date(data.get("occurred_on"), "occurred_on", errors)
    occurred_until = _as_date(data.get("occurred_until"), "occurred_until", errors)
    place = _text(data.get("occurred_place"))
    today = local_today()
    if not narrative:
        errors.add("narrative", _("Describe what happened, in the client's words."))
    elif len(narrative) > NARRATIVE_MAX:
        errors.add("narrative", _("The description has at most %(max)d characters.",
                                  max=NARRATIVE_MAX))
    if occurred_on is None and "occurred_on" not in errors.errors:
        errors.add("occurred_on", _("Enter when it happened (the first day, if it went on "
                                    "for a while)."))
    elif occurred_on and occurred_on > today:
        errors.add("occurred_on", _("This date is in the future."))
    if occurred_until and occurred_on and occurred_until < occurred_on:
        errors.add("occurred_until", _("The last day cannot be before the first day."))
    elif occurred_until and occurred_until > today:
        errors.add("occurred_until", _("This date is in the future."))
    if place and len(place) > 200:
        errors.add("occurred_place", _("A place has at most %(max)d characters.", max=200))
    errors.raise_if_any()
    complaint.narrative = narrative
    complaint.occurred_on = occurred_on
    complaint.occurred_until = occurred_until
    complaint.occurred_place = place


def _apply_remedy(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = _Errors()
    codes = [str(c) for c in (data.get("remedies_sought") or [])]
    valid = [r.value for r in Remedy]
    details = _text(data.get("remedy_details"))
    if not codes:
        errors.add("remedies_sought", _("Choose at least one thing the client wants."))
    elif any(c not in valid for c in codes):
        errors.add("remedies_sought", _("Choose from the list."))
    if {c for c in codes} & {r.value for r in REMEDIES_NEEDING_DETAILS} and not details:
        errors.add("remedy_details", _("Give the details: for a refund, how much and why; "
                                       "for “other”, what the client wants."))
    if details and len(details) > 2000:
        errors.add("remedy_details", _("The details have at most %(max)d characters.",
                                       max=2000))
    errors.raise_if_any()
    complaint.remedies_sought = [c for c in valid if c in codes]  # canonical order
    complaint.remedy_details = details


def _apply_channel(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = _Errors()
    received_at = _as_moment(data.get("received_at"), "received_at", errors)
    channel = data.get("channel")
    if "received_at" not in errors.errors:
        _check_channel(channel, received_at, errors)
    errors.raise_if_any()
    complaint.channel = channel
    complaint.received_at = received_at


_APPLY: dict[str, Callable[[User | None, Complaint, dict], None]] = {
    "complainant": _apply_complainant,
    "respondents": _apply_respondents,
    "matter": _apply_matter,
    "incident": _apply_incident,
    "remedy": _apply_remedy,
    "channel": _apply_channel,
}


def save_section(actor: User | None, complaint: Complaint, section: str, data: dict,
                 expected_version: int | None) -> Complaint:
    """Validate and store one section. Data per section:

    complainant: {"client_id"} for a client on file, or {"name", "phone", "email",
        "id_number", "address", "language" ("zh"|"en")} for a new person;
    respondents: {"user_ids": [...]}; matter: {"matter_id"} (None to unlink);
    incident: {"narrative", "occurred_on", "occurred_until", "occurred_place"};
    remedy: {"remedies_sought": [codes], "remedy_details"};
    channel: {"channel", "received_at" (aware datetime; naive means Asia/Shanghai)}.
    """
    if section not in _APPLY:
        raise IntakeError(_("There is no such section."))
    _require_draft(complaint)
    _check_version(complaint, expected_version)
    before = _snapshot(complaint, section)
    _APPLY[section](actor, complaint, data)
    if _snapshot(complaint, section) == before:
        return complaint  # nothing changed: no new version, no event
    reset = complaint.is_confirmed
    withdraw_confirmation(complaint)
    _touch(complaint)
    _flush()
    audit.record("complaint.section_saved", actor=actor, obj=complaint,
                 details={"section": section, "confirmation_withdrawn": reset})
    return complaint


def withdraw_confirmation(complaint: Complaint) -> None:
    """The content changed: an earlier confirmation and any unanswered link no longer hold."""
    complaint.confirmed_at = None
    complaint.confirmation_method = None
    complaint.confirmed_by = None
    complaint.confirmation_override_reason = None
    _cancel_open_links(complaint)


def _cancel_open_links(complaint: Complaint) -> None:
    if complaint.id is None:
        return
    with db.session.no_autoflush:  # one UPDATE of the complaint (one new version) per change
        db.session.execute(
            update(ConfirmationLink)
            .where(ConfirmationLink.complaint_id == complaint.id,
                   ConfirmationLink.used_at.is_(None))
            .values(used_at=utcnow(), outcome="cancelled")
            .execution_options(synchronize_session="fetch")
        )


# --- completeness -----------------------------------------------------------------------


def section_complete(complaint: Complaint, section: str) -> bool:
    if section == "complainant":
        client = complaint.complainant
        return bool(client and client.name and (client.phone or client.email))
    if section == "respondents":
        return bool(complaint.respondents)
    if section == "matter":
        return complaint.matter_id is not None
    if section == "incident":
        return bool(complaint.narrative and complaint.occurred_on)
    if section == "remedy":
        codes = set(complaint.remedies_sought or [])
        needs_details = bool(codes & {r.value for r in REMEDIES_NEEDING_DETAILS})
        return bool(codes) and (bool(complaint.remedy_details) or not needs_details)
    if section == "channel":
        return bool(complaint.channel and complaint.received_at)
    return True


def missing_sections(complaint: Complaint) -> list[str]:
    """Required sections not yet complete, in page order (the matter is optional)."""
    return [s for s in REQUIRED_SECTIONS if not section_complete(complaint, s)]


def _unmailable(client: Client | None) -> bool:
    """A record saved before intake applied the outbox's rules, which the outbox would refuse
    (registration queues the acknowledgement to this name and address)."""
    if client is None or not client.email:
        return False
    try:
        addresses.normalise_address(client.email)
    except addresses.AddressError:
        return True
    return not addresses.is_single_line(client.name)


def registration_problems(complaint: Complaint) -> list[str]:
    """Why this complaint cannot be registered yet, in words for the receptionist."""
    if not complaint.is_draft:
        return [_("This complaint is already registered as %(reference)s.",
                  reference=complaint.reference or "")]
    problems = []
    missing = missing_sections(complaint)
    if missing:
        names = join_list(SECTION_LABELS[s] for s in missing)
        problems.append(_("Complete these sections first: %(sections)s.", sections=names))
    if complaint.needs_verification:
        problems.append(_("This complaint came in through the online form: check it and mark "
                          "it as verified first."))
    if _unmailable(complaint.complainant):
        problems.append(_("The complainant's name or email address cannot be used in an "
                          "email (a line break, or an address our mail cannot reach): "
                          "correct the complainant section first."))
    if not complaint.is_confirmed:
        problems.append(_("The client has not confirmed the read-back. Read the key points "
                          "back and record their confirmation (in person, by phone or "
                          "through an emailed link), or ask a partner to override with a "
                          "reason."))
    return problems


# --- verification, confirmation ---------------------------------------------------------


def mark_verified(actor: User | None, complaint: Complaint) -> Complaint:
    _require_draft(complaint)
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
    _touch(complaint)
    _flush()
    audit.record("complaint.verified", actor=actor, obj=complaint,
                 details={"exclusions_lifted": lifted} if lifted else None)
    return complaint


def _require_complete(complaint: Complaint) -> None:
    missing = missing_sections(complaint)
    if missing:
        names = join_list(SECTION_LABELS[s] for s in missing)
        raise IntakeError(_("The key points are not complete yet: %(sections)s.",
                            sections=names))


def confirm_read_back(actor: User | None, complaint: Complaint, method: ConfirmationMethod,
                      *, expected_version: int | None = None) -> Complaint:
    """The client confirmed the read-back in person or by phone (or, imported, elsewhere)."""
    method = ConfirmationMethod(method)
    if method not in (ConfirmationMethod.IN_PERSON, ConfirmationMethod.PHONE,
                      ConfirmationMethod.IMPORTED):
        raise IntakeError(_("Choose how the client confirmed: in person or by phone."),
                          field="method")
    _require_draft(complaint)
    _check_version(complaint, expected_version)
    _require_complete(complaint)
    _cancel_open_links(complaint)
    complaint.confirmed_at = utcnow()
    complaint.confirmation_method = method.value
    complaint.confirmed_by = actor
    complaint.confirmation_override_reason = None
    complaint.correction_requested = None
    _touch(complaint)
    _flush()
    audit.record("complaint.confirmed", actor=actor, obj=complaint,
                 details={"method": method.value})
    return complaint


def override_confirmation(actor: User, complaint: Complaint, reason: str | None) -> Complaint:
    """A partner lets the complaint be registered without the client's confirmation."""
    if actor is None or not complaint.can_override_confirmation(actor):
        raise IntakeError(_("Only a partner who is not complained about can register a "
                            "complaint without the client's confirmation."))
    reason = _text(reason)
    if not reason:
        raise IntakeError(_("Give the reason for registering without the client's "
                            "confirmation."), field="reason")
    if len(reason) > 2000:
        raise IntakeError(_("The reason has at most %(max)d characters.", max=2000),
                          field="reason")
    _require_complete(complaint)
    _cancel_open_links(complaint)
    complaint.confirmed_at = utcnow()
    complaint.confirmation_method = ConfirmationMethod.OVERRIDE.value
    complaint.confirmed_by = actor
    complaint.confirmation_override_reason = reason
    _touch(complaint)
    _flush()
    # The reason may name people: the record holds it, the audit trail only its length.
    audit.record("complaint.confirmation_overridden", actor=actor, obj=complaint,
                 details={"reason_length": len(reason)})
    return complaint


# --- the read-back ----------------------------------------------------------------------


def client_locale(complaint: Complaint) -> str:
    return "en" if complaint.language == "en" else "zh_CN"


def locales_client_first(complaint: Complaint) -> list[str]:
    first = client_locale(complaint)
    return [first, "zh_CN" if first == "en" else "en"]


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


def remedy_label(code: str) -> str:
    label = REMEDY_LABELS.get(Remedy(code)) if code in {r.value for r in Remedy} else None
    return str(label() if callable(label) else label) if label else code


def channel_label(code: str | None) -> str:
    if code in {c.value for c in Channel}:
        return str(CHANNEL_LABELS[Channel(code)])
    return code or ""


def render_read_back(complaint: Complaint, template: str, locale: str | None = None,
                     **context) -> str:
    """Render a read-back template in the client's language, whatever the UI language."""
    with force_locale(locale or client_locale(complaint)):
        return render_template(template, points=read_back_points(complaint),
                               remedy_label=remedy_label, channel_label=channel_label,
                               **context)


# --- confirmation by signed link --------------------------------------------------------


class LinkStatus(StrEnum):
    VALID = "valid"
    USED = "used"
    CANCELLED = "cancelled"  # a newer link was sent, the record changed, or it was registered
    EXPIRED = "expired"
    INVALID = "invalid"  # forged, mangled or unknown


def _serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=CONFIRMATION_SALT)


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


def confirmation_token(link: ConfirmationLink) -> str:
    return _serializer(current_app.config["SECRET_KEY"]).dumps(link.nonce)


def request_confirmation_link(actor: User | None, complaint: Complaint,
                              link_url_builder: Callable[[str], str]) -> ConfirmationLink:
    """Email the client the read-back with a signed, expiring, single-use link."""
    from portal.services import outbox

    _require_draft(complaint)
    _require_complete(complaint)
    client = complaint.complainant
    if client is None or not client.email:
        raise IntakeError(_("No email address is recorded for the complainant. Read the key "
                            "points back in person or by phone instead."))
    if _unmailable(client):
        raise IntakeError(_("The complainant's name or email address cannot be used in an "
                            "email (a line break, or an address our mail cannot reach): "
                            "correct the complainant section first."))
    _cancel_open_links(complaint)  # only the newest link counts
    link = ConfirmationLink(complaint_id=complaint.id, nonce=secrets.token_urlsafe(32))
    db.session.add(link)
    db.session.flush()
    url = link_url_builder(confirmation_token(link))
    subject, text, html = confirmation_email(complaint, url)
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


def confirmation_email(complaint: Complaint, url: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the bilingual request (the client's language first)."""
    max_age = current_app.config["CONFIRMATION_LINK_MAX_AGE"]
    days = max(1, _seconds(max_age) // 86400)
    subjects, texts, htmls = [], [], []
    locales = locales_client_first(complaint)
    for locale in locales:
        with force_locale(locale):
            subjects.append(_("Please confirm your complaint"))
        context = {"url": url, "days": days, "config": current_app.config}
        texts.append(render_read_back(complaint, "readback/_email_part.txt", locale, **context))
        part = render_read_back(complaint, "readback/_email_part.html", locale,
                                lang=locale, **context)
        htmls.append(Markup(part))  # noqa: S704 - the output of an autoescaped template
    subject = " / ".join(subjects)
    text = render_template("emails/confirmation_request.txt", parts=texts)
    first = locales[0]
    html = render_template("emails/confirmation_request.html", parts=htmls, subject=subject,
                           lang="zh-CN" if first == "zh_CN" else "en")
    return subject, text, html


def answer_confirmation_link(link: ConfirmationLink, *, confirmed: bool,
                             correction: str | None = None) -> Complaint:
    """The client's answer through the link: recorded once, never twice."""
    complaint = link.complaint
    text = _text(correction)
    if not confirmed:
        if not text:
            raise IntakeError(_("Please write what should be corrected."), field="correction")
        if len(text) > 5000:
            raise IntakeError(_("Please keep it under %(max)d characters.", max=5000),
                              field="correction")
    if not complaint.is_draft:
        raise LinkUnavailable(_("This complaint has already been registered."))
    now = utcnow()
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
    _touch(complaint)
    _flush()
    action = "complaint.confirmed" if confirmed else "complaint.correction_requested"
    details = {"method": ConfirmationMethod.SIGNED_LINK.value, "link_id": link.id}
    audit.record(action, obj=complaint, actor_label="client", details=details)
    return complaint


# --- registration -----------------------------------------------------------------------


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def next_reference(year: int) -> str:
    """Take the next number of the year, holding the counter row until commit.

    SQLite: every write transaction starts with BEGIN IMMEDIATE, so registrations queue up.
    PostgreSQL: the row is created if missing (ON CONFLICT DO NOTHING waits for a racing
    insert to commit) and then locked with SELECT ... FOR UPDATE until this transaction ends.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        statement = _insert(dialect)(ReferenceCounter).values(year=year, last_number=0)
        db.session.execute(statement.on_conflict_do_nothing(index_elements=["year"]))
    else:  # pragma: no cover - other databases are not supported targets
        if db.session.get(ReferenceCounter, year) is None:
            db.session.add(ReferenceCounter(year=year, last_number=0))
            db.session.flush()
    counter = db.session.execute(
        select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if counter.last_number >= 99_999:
        raise IntakeError(_("No reference numbers are left for %(year)d.", year=year))
    counter.last_number += 1
    db.session.flush()
    return f"TS-{year}-{counter.last_number:05d}"


def register(actor: User | None, complaint: Complaint) -> Complaint:
    """Give the complaint its reference and deadline and queue the acknowledgement."""
    from portal.services import calendar, notices

    problems = registration_problems(complaint)
    if problems:
        raise IntakeError(" ".join(problems))
    working_days = int(current_app.config["FIRST_RESPONSE_WORKING_DAYS"])
    if not 1 <= working_days <= 3:
        raise RuntimeError("FIRST_RESPONSE_WORKING_DAYS must be 1, 2 or 3")
    deadline = calendar.first_response_due(complaint.received_at, working_days)
    now = utcnow()
    _cancel_open_links(complaint)
    complaint.reference = next_reference(now.astimezone(LOCAL_TZ).year)
    complaint.state = State.REGISTERED.value
    complaint.registered_at = now
    complaint.first_response_due = deadline.due
    complaint.deadline_provisional = deadline.provisional
    _touch(complaint)
    _flush()
    audit.record("complaint.registered", actor=actor, obj=complaint, details={
        "reference": complaint.reference,
        "first_response_due": deadline.due.isoformat(),
        "provisional": deadline.provisional,
        "working_days": working_days,
    })
    notices.queue_acknowledgement(actor, complaint)
    return complaint


# --- searches ---------------------------------------------------------------------------


def _like(q: str) -> str:
    escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _clean_query(q: str | None) -> str | None:
    q = (q or "").strip()
    return q[:100] or None


def search_clients(q: str | None) -> list[Client]:
    q = _clean_query(q)
    if not q:
        return []
    pattern = _like(q)
    digits = re.sub(r"\D", "", q)
    conditions = [func.lower(Client.name).like(pattern, escape="\\"),
                  func.lower(Client.email).like(pattern, escape="\\")]
    if len(digits) >= 3:
        conditions.append(func.replace(Client.phone, " ", "").like(f"%{digits}%"))
    return list(db.session.scalars(
        select(Client).where(or_(*conditions)).order_by(Client.name).limit(SEARCH_LIMIT)
    ))


def search_staff(q: str | None) -> list[User]:
    q = _clean_query(q)
    if not q:
        return []
    pattern = _like(q)
    return list(db.session.scalars(
        select(User)
        .where(or_(func.lower(User.name).like(pattern, escape="\\"),
                   func.lower(User.email).like(pattern, escape="\\"),
                   func.lower(User.username).like(pattern, escape="\\")))
        .order_by(User.active.desc(), User.name)
        .limit(SEARCH_LIMIT)
    ))


def search_matters(q: str | None) -> list[Matter]:
    q = _clean_query(q)
    if not q:
        return []
    pattern = _like(q)
    return list(db.session.scalars(
        select(Matter)
        .outerjoin(Client, Matter.client_id == Client.id)
        .where(or_(func.lower(Matter.reference).like(pattern, escape="\\"),
                   func.lower(Matter.case_number).like(pattern, escape="\\"),
                   func.lower(Matter.title).like(pattern, escape="\\"),
                   func.lower(Client.name).like(pattern, escape="\\")))
        .order_by(Matter.reference.desc())
        .limit(SEARCH_LIMIT)
    ))


# --- the timeline -----------------------------------------------------------------------

TIMELINE_HIDDEN = {"complaint.viewed", "evidence.downloaded"}

EVENT_LABELS = {
    "complaint.created": _l("Complaint record created"),
    "complaint.submitted_online": _l("Submitted through the online form"),
    "complaint.imported": _l("Imported from another system"),
    "complaint.section_saved": _l("Section saved: %(section)s"),
    "complaint.verified": _l("Online submission verified"),
    "complaint.confirmed": _l("The client confirmed the read-back (%(method)s)"),
    "complaint.confirmation_requested": _l("Confirmation link emailed to the client"),
    "complaint.correction_requested": _l("The client asked for a correction"),
    "complaint.confirmation_overridden": _l("A partner allowed registration without the "
                                            "client's confirmation"),
    "complaint.registered": _l("Registered as %(reference)s"),
    "evidence.added": _l("Evidence added: %(category)s"),
    "notice.issued": _l("Notice issued: %(kind)s, version %(version)s"),
    "mail.queued": _l("Email queued: %(kind)s to %(recipient)s"),
    "mail.resent": _l("Email queued again: %(kind)s to %(recipient)s"),
    "mail.sent": _l("Email delivered: %(kind)s"),
    "mail.failed": _l("Email delivery failed (attempt %(attempts)s); trying again"),
    "mail.dead": _l("Email could not be delivered: %(kind)s; partners alerted"),
}

EVENT_TONES = {
    "complaint.registered": "ok", "mail.sent": "ok", "complaint.correction_requested": "warn",
    "complaint.confirmation_overridden": "warn", "mail.failed": "warn", "mail.dead": "err",
}

METHOD_LABELS = {
    ConfirmationMethod.IN_PERSON.value: _l("in person"),
    ConfirmationMethod.PHONE.value: _l("by phone"),
    ConfirmationMethod.SIGNED_LINK.value: _l("through the emailed link"),
    ConfirmationMethod.OVERRIDE.value: _l("partner override"),
    ConfirmationMethod.IMPORTED.value: _l("recorded before import"),
}

KIND_LABELS = {
    "acknowledgement": _l("Acknowledgement"),
    "confirmation_request": _l("Read-back confirmation request"),
}

MAIL_STATUS_LABELS = {
    OutboxStatus.PENDING.value: _l("waiting to be sent"),
    OutboxStatus.SENDING.value: _l("sending"),
    OutboxStatus.SENT.value: _l("sent"),
    OutboxStatus.DEAD.value: _l("could not be delivered"),
}


@dataclass
class TimelineEntry:
    at: datetime
    label: str
    actor: str | None = None
    note: str | None = None
    tone: str = ""  # "", "ok", "warn", "err"
    message: OutboxMessage | None = field(default=None, repr=False)
    status: str | None = None  # the message's delivery status now, for mail entries


def _category_label(code: str) -> str:
    from portal.models.complaint import EVIDENCE_CATEGORY_LABELS, EvidenceCategory

    if code in {c.value for c in EvidenceCategory}:
        label = EVIDENCE_CATEGORY_LABELS[EvidenceCategory(code)]
        return str(label() if callable(label) else label)
    return code


def _event_label(event: AuditEvent, message: OutboxMessage | None = None) -> str:
    details = event.details or {}
    template = EVENT_LABELS.get(event.action)
    if template is None:
        return _("Event: %(action)s", action=event.action)
    kind = details.get("kind", "")
    return str(template) % {
        "section": SECTION_LABELS.get(details.get("section"), details.get("section") or ""),
        "method": METHOD_LABELS.get(details.get("method"), details.get("method") or ""),
        "reference": details.get("reference", ""),
        "kind": KIND_LABELS.get(kind, kind),
        "version": details.get("version", ""),
        "category": _category_label(details.get("category", "")),
        # events since the audit trail holds no addresses name the message instead
        "recipient": message.recipient if message else details.get("recipient", ""),
        "attempts": details.get("attempts", ""),
    }


def _actor_name(event: AuditEvent) -> str | None:
    if event.actor is not None:
        return event.actor.name
    labels = {"client": _("The client"), "public": _("Online form")}
    return labels.get(event.actor_label or "", event.actor_label)


def _event_entry(event: AuditEvent, messages: dict[int, OutboxMessage],
                 override_reason: str | None = None) -> TimelineEntry:
    details = event.details or {}
    message = (messages.get(details.get("message_id"))
               if event.action in ("mail.queued", "mail.resent") else None)
    entry = TimelineEntry(event.at, _event_label(event, message), _actor_name(event),
                          tone=EVENT_TONES.get(event.action, ""))
    if event.action == "complaint.section_saved" and details.get("confirmation_withdrawn"):
        entry.note, entry.tone = _("The earlier confirmation no longer applies."), "warn"
    elif event.action == "complaint.confirmation_overridden":
        reason = override_reason or details.get("reason")  # older events carried the text
        if reason:
            entry.note = _("Reason: %(reason)s", reason=reason)
    elif message is not None:
        entry.message = message
        entry.status = str(MAIL_STATUS_LABELS.get(message.status, message.status))
    return entry


def _override_reasons(complaint: Complaint, events: list[AuditEvent]) -> dict[int, str]:
    """The record keeps the reason of the override in force: it belongs to the last one."""
    overrides = [e.id for e in events if e.action == "complaint.confirmation_overridden"]
    reason = complaint.confirmation_override_reason
    return {overrides[-1]: reason} if overrides and reason else {}


def _orphan_mail(message: OutboxMessage) -> TimelineEntry:
    """A message with no audit event of its own (should not happen; shown all the same)."""
    kind = KIND_LABELS.get(message.kind, message.kind)
    return TimelineEntry(
        message.created_at,
        _("Email queued: %(kind)s to %(recipient)s", kind=kind, recipient=message.recipient),
        message=message, status=str(MAIL_STATUS_LABELS.get(message.status, message.status)),
    )


def timeline(complaint: Complaint) -> list[TimelineEntry]:
    """Every event of the complaint, oldest first: its audit trail (record, notices, mail)
    with each email's current delivery status from the outbox."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint.id),
               AuditEvent.action.not_in(TIMELINE_HIDDEN))
        .options(selectinload(AuditEvent.actor))
        .order_by(AuditEvent.id)
    ).all()
    messages = {m.id: m for m in db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id))}
    reasons = _override_reasons(complaint, events)
    entries = [_event_entry(e, messages, reasons.get(e.id)) for e in events]
    shown = {e.message.id for e in entries if e.message is not None}
    entries.extend(_orphan_mail(m) for i, m in messages.items() if i not in shown)
    entries.sort(key=lambda e: e.at)
    return entries


def mail_for(complaint: Complaint, message_id: int) -> OutboxMessage | None:
    message = db.session.get(OutboxMessage, message_id)
    return message if message is not None and message.complaint_id == complaint.id else None


def resend_mail(actor: User, complaint: Complaint, message: OutboxMessage) -> OutboxMessage:
    from portal.services import outbox

    if message.complaint_id != complaint.id:
        raise IntakeError(_("This email does not belong to this complaint."))
    if message.status not in (OutboxStatus.SENT.value, OutboxStatus.DEAD.value):
        raise IntakeError(_("This email is still waiting to be sent."))
    return outbox.resend(actor, message)
