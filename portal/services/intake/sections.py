"""The draft and its sections: each section saved on its own, with its rules.

Optimistic locking: `Complaint.version` is SQLAlchemy's version column. A page carries the
version it was loaded at; a save whose `expected_version` is no longer current raises
`ConflictError` and changes nothing. Any saved change to the record's content withdraws an
earlier read-back confirmation and cancels unanswered confirmation links, because the
client confirmed something that no longer reads the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import exists, or_, select

from portal import clock
from portal.db import db
from portal.locales import LANGUAGES
from portal.models.complaint import Channel, Complaint, Remedy, State
from portal.models.matter import Client, Matter
from portal.models.user import User
from portal.services import addresses, audit
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.completeness import REMEDIES_NEEDING_DETAILS
from portal.services.intake.errors import FieldErrors, IntakeError
from portal.services.intake.record import (
    as_date,
    as_ids,
    as_moment,
    check_version,
    clean_text,
    flush,
    local_today,
    require_draft,
    row_id,
    touch,
    withdraw_confirmation,
)

NARRATIVE_MAX = 20_000
_ID_NUMBER = re.compile(r"^[0-9A-Za-z\-]{4,40}$")



def create_draft(actor: User | None, *, channel: str, received_at: datetime,
                 language: str = "zh") -> Complaint:
    errors = FieldErrors()
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


def _check_channel(channel: Any, received_at: Any, errors: FieldErrors) -> None:
    if channel not in {c.value for c in Channel}:
        errors.add("channel", _("Choose how the complaint came in."))
    if not isinstance(received_at, datetime) or received_at.tzinfo is None:
        errors.add("received_at", _("Enter when the complaint was received."))
    elif received_at > clock.now() + timedelta(minutes=5):
        errors.add("received_at", _("The time received cannot be in the future."))
    elif received_at.astimezone(LOCAL_TZ).year < 2000:
        errors.add("received_at", _("Check the year: this date is too far in the past."))



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


def _on_file(model: type, value: Any, field: str, missing: str):
    """The row a form's hidden id names; a stale or out-of-range id is a field error."""
    number = row_id(value)
    row = db.session.get(model, number) if number is not None else None
    if row is None:
        raise IntakeError(missing, field=field)
    return row


def _apply_complainant(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = FieldErrors()
    client_id = data.get("client_id")
    if client_id not in (None, ""):
        client = _on_file(Client, client_id, "client_id",
                          _("This client is no longer on file. Search again."))
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


def _check_person(data: dict, errors: FieldErrors) -> dict:
    name = clean_text(data.get("name"))
    phone = clean_text(data.get("phone"))
    email = clean_text(data.get("email"))
    id_number = clean_text(data.get("id_number"))
    address = clean_text(data.get("address"))
    language = clean_text(data.get("language")) or "zh"
    if not name:
        errors.add("name", _("Enter the complainant's name."))
    elif len(name) > 100:
        errors.add("name", _("A name has at most %(max)d characters.", max=100))
    elif not addresses.is_single_line(name):  # the name goes into the To: of every email
        errors.add("name", _("A name is written on one line, without line breaks or "
                             "control characters."))
    if phone and not addresses.plausible_phone(phone):
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
    ids = as_ids(data.get("user_ids"))
    if len(ids) > 10:
        raise IntakeError(_("Name at most 10 lawyers."), field="user_ids")
    known = [i for i in ids if row_id(i) is not None]
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
    complaint.matter = _on_file(Matter, matter_id, "matter_id",
                                _("This matter is no longer on file. Search again."))


def _apply_incident(actor: User | None, complaint: Complaint, data: dict) -> None:
    errors = FieldErrors()
    narrative = clean_text(data.get("narrative"))
    occurred_on = as_date(data.get("occurred_on"), "occurred_on", errors)
    occurred_until = as_date(data.get("occurred_until"), "occurred_until", errors)
    place = clean_text(data.get("occurred_place"))
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
    errors = FieldErrors()
    codes = [str(c) for c in (data.get("remedies_sought") or [])]
    valid = [r.value for r in Remedy]
    details = clean_text(data.get("remedy_details"))
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
    errors = FieldErrors()
    received_at = as_moment(data.get("received_at"), "received_at", errors)
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
    require_draft(complaint)
    check_version(complaint, expected_version)
    before = _snapshot(complaint, section)
    _APPLY[section](actor, complaint, data)
    if _snapshot(complaint, section) == before:
        return complaint  # nothing changed: no new version, no event
    reset = complaint.is_confirmed
    withdraw_confirmation(complaint)
    touch(complaint)
    flush()
    audit.record("complaint.section_saved", actor=actor, obj=complaint,
                 details={"section": section, "confirmation_withdrawn": reset})
    return complaint

