"""Importing a parsed complaint: what the file refers to is resolved read-only first (staff,
matter, client), then the complaint is written, confirmed and registered in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select

from portal.db import db
from portal.models.complaint import Complaint, ConfirmationMethod
from portal.models.matter import Client, Matter
from portal.models.user import User
from portal.services import audit
from portal.services.transfer.parse import (
    ACTOR_LABEL,
    FieldError,
    ImportData,
    ImportRejected,
    ImportResult,
    MatterData,
    PersonData,
    parse,
)

# --- resolving what the file refers to (read-only), then writing --------------------------


@dataclass
class _Plan:
    client: Client | None = None  # None: create a new client
    respondents: list[tuple[PersonData, User | None]] = field(default_factory=list)
    matter: Matter | None = None
    create_matter: bool = False
    notes: list[str] = field(default_factory=list)


def find_by_external_id(external_id: str) -> Complaint | None:
    return db.session.scalar(select(Complaint).where(Complaint.external_id == external_id))


def _match_client(person: PersonData, plan: _Plan, errors: list[FieldError]) -> None:
    if person.id_number:
        found = db.session.scalar(select(Client).where(Client.id_number == person.id_number))
        if found and found.name != person.name:
            errors.append(FieldError("complainant.id_number",
                                     f"belongs to existing client #{found.id}, "
                                     "whose name is different"))
            return
        if found:
            plan.client = found
            plan.notes.append(f"complainant: existing client #{found.id} (same ID number)")
            return
    if person.email:
        found = db.session.scalar(select(Client).where(
            func.lower(Client.email) == person.email, Client.name == person.name,
        ).order_by(Client.id).limit(1))
        if found:
            plan.client = found
            plan.notes.append(f"complainant: existing client #{found.id} (same name and email)")


def _match_respondent(person: PersonData, path: str, plan: _Plan,
                      errors: list[FieldError]) -> User | None:
    """The staff member named, or None when a lawyer without a login is to be created."""
    if person.email:
        user = db.session.scalar(select(User).where(func.lower(User.email) == person.email))
        if user and user.name != person.name:
            plan.notes.append(f"{path}: {person.email} is {user.name} in the portal; "
                              "their record is used")
    else:
        users = db.session.scalars(select(User).where(User.name == person.name)).all()
        if len(users) > 1:
            errors.append(FieldError(f"{path}.name", f"{len(users)} staff members have this "
                                     "name; add their email to say which one"))
        user = users[0] if len(users) == 1 else None
    if user is None:
        plan.notes.append(f"{path}: {person.name} is not on file; "
                          "recorded as a lawyer without a login")
    return user


def _match_matter(data: MatterData, plan: _Plan, errors: list[FieldError]) -> None:
    matter = db.session.scalar(select(Matter).where(Matter.reference == data.reference))
    if matter is None:
        if not data.title:
            errors.append(FieldError("matter.title", f"is required to create the new matter "
                                     f"{data.reference} (no matter has this reference)"))
        plan.create_matter = True
        return
    plan.matter = matter
    differs = (data.title and data.title != matter.title) or (
        data.case_number and data.case_number != matter.case_number)
    if differs:
        plan.notes.append(f"matter: {data.reference} exists with a different title or case "
                          "number; the portal's record is kept")


def _plan(data: ImportData) -> _Plan:
    plan = _Plan()
    errors: list[FieldError] = []
    _match_client(data.complainant, plan, errors)
    seen: set[int] = set()
    for index, person in enumerate(data.respondents):
        user = _match_respondent(person, f"respondents[{index}]", plan, errors)
        if user is not None and user.id in seen:
            errors.append(FieldError(f"respondents[{index}]", "names the same person twice"))
        seen.update([user.id] if user is not None else [])
        plan.respondents.append((person, user))
    if data.matter:
        _match_matter(data.matter, plan, errors)
    if errors:
        raise ImportRejected(errors)
    return plan


def _new_client(person: PersonData, language: str) -> Client:
    client = Client(name=person.name, phone=person.phone, email=person.email,
                    id_number=person.id_number, address=person.address, language=language)
    db.session.add(client)
    return client


def _new_lawyer(person: PersonData) -> User:
    lawyer = User(name=person.name, email=person.email)  # no username, no password: no login
    db.session.add(lawyer)
    db.session.flush()
    audit.record("user.created", obj=lawyer, actor_label=ACTOR_LABEL,
                 details={"login": False, "source": "import"})
    return lawyer


def _new_matter(data: MatterData) -> Matter:
    matter = Matter(reference=data.reference, title=data.title or data.reference,
                    case_number=data.case_number)
    db.session.add(matter)
    db.session.flush()
    audit.record("matter.created", obj=matter, actor_label=ACTOR_LABEL,
                 details={"source": "import"})
    return matter


def import_complaint(data: Any, *, working_days: int) -> ImportResult:
    """Check, create and register one complaint. Writes, audits and flushes; never commits.

    Re-importing an external_id already on file changes nothing and returns that complaint.
    """
    parsed = parse(data)
    existing = find_by_external_id(parsed.external_id)
    if existing is not None:
        return ImportResult(existing, created=False, notes=[
            f"external_id {parsed.external_id} was imported before; nothing changed"])
    plan = _plan(parsed)
    complaint = Complaint(
        external_id=parsed.external_id,
        channel=parsed.channel,
        received_at=parsed.received_at,
        language=parsed.language,
        complainant=plan.client or _new_client(parsed.complainant, parsed.language),
        respondents=[user or _new_lawyer(person) for person, user in plan.respondents],
        matter=plan.matter or (_new_matter(parsed.matter) if plan.create_matter else None),
        narrative=parsed.narrative,
        occurred_on=parsed.occurred_on,
        occurred_until=parsed.occurred_until,
        occurred_place=parsed.occurred_place,
        remedies_sought=parsed.remedies_sought,
        remedy_details=parsed.remedy_details,
        created_by=None,
        needs_verification=False,
    )
    db.session.add(complaint)
    db.session.flush()
    audit.record("complaint.imported", obj=complaint, actor_label=ACTOR_LABEL,
                 details={"external_id": parsed.external_id, "channel": parsed.channel})
    _confirm_and_register(complaint, working_days)
    return ImportResult(complaint, created=True, notes=plan.notes)


def _confirm_and_register(complaint: Complaint, working_days: int) -> None:
    """The source system says the client confirmed the read-back: record it as imported,
    then register (reference, deadline, acknowledgement) through the intake service."""
    from portal.services.intake.confirmation import confirm_read_back
    from portal.services.intake.errors import IntakeError
    from portal.services.intake.registration import register

    try:
        confirm_read_back(None, complaint, ConfirmationMethod.IMPORTED)
        register(None, complaint, working_days=working_days)
    except IntakeError as error:
        fields = [FieldError(name or "(registration)", message)
                  for name, messages in error.errors.items() for message in messages]
        raise ImportRejected(fields or [FieldError("(registration)", str(error))]) from None
