"""Importing a parsed complaint: what the file refers to is resolved read-only first (staff,
matter, client), then the complaint is written, confirmed and registered in one go."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from flask_babel import gettext as _
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

Found = TypeVar("Found")

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


class Directory:
    """Staff and clients as the imports find them. Each question is one query; a file of many
    rows preloads the answers instead (`preload_staff`, `preload_clients`): one query for all
    staff, a few for the clients the file names."""

    def __init__(self) -> None:
        self._users_by_email: dict[str, User] | None = None
        self._users_by_name: dict[str, list[User]] = {}
        self._clients: dict[str, dict[str, list[Client]]] | None = None

    def preload_staff(self) -> None:
        self._users_by_email, self._users_by_name = {}, {}
        for user in db.session.scalars(select(User).order_by(User.id)):
            if user.email:
                self._users_by_email.setdefault(user.email.lower(), user)
            self._users_by_name.setdefault(user.name, []).append(user)

    def preload_clients(self, names: set[str], id_numbers: set[str]) -> None:
        found: dict[int, Client] = {}
        for column, values in ((Client.name, sorted(names)),
                               (Client.id_number, sorted(id_numbers))):
            for start in range(0, len(values), 500):
                found.update((c.id, c) for c in db.session.scalars(
                    select(Client).where(column.in_(values[start:start + 500]))))
        self._clients = {"name": {}, "id_number": {}}
        for key in sorted(found):
            client = found[key]
            self._clients["name"].setdefault(client.name, []).append(client)
            if client.id_number:
                self._clients["id_number"].setdefault(client.id_number, []).append(client)

    def user_by_email(self, email: str) -> User | None:
        if self._users_by_email is not None:
            return self._users_by_email.get(email.lower())
        return db.session.scalar(select(User).where(func.lower(User.email) == email.lower()))

    def users_named(self, name: str) -> list[User]:
        if self._users_by_email is not None:
            return self._users_by_name.get(name, [])
        return list(db.session.scalars(select(User).where(User.name == name).order_by(User.id)))

    def clients(self, *, name: str | None = None, email: str | None = None,
                id_number: str | None = None) -> list[Client]:
        """The clients with all of the given values (the email ignoring case), oldest first;
        a name or an ID number is needed."""
        if self._clients is not None:
            pool = (self._clients["id_number"].get(id_number, []) if id_number is not None
                    else self._clients["name"].get(name or "", []))
            return [c for c in pool
                    if (name is None or c.name == name)
                    and (email is None or (c.email or "").lower() == email.lower())]
        query = select(Client).order_by(Client.id)
        if name is not None:
            query = query.where(Client.name == name)
        if email is not None:
            query = query.where(func.lower(Client.email) == email.lower())
        if id_number is not None:
            query = query.where(Client.id_number == id_number)
        return list(db.session.scalars(query))


@dataclass(frozen=True)
class Match(Generic[Found]):
    """What a name in a file leads to: the record (or None), a refusal, a note."""

    found: Found | None = None
    error: str | None = None
    note: str | None = None


def find_client(person: PersonData, directory: Directory) -> Match[Client]:
    """By ID number (the name must match too), else by name and email; else nothing."""
    if person.id_number:
        same_id = directory.clients(id_number=person.id_number)
        if same_id and same_id[0].name != person.name:
            return Match(error=_("belongs to existing client #%(id)d, whose name is different",
                                 id=same_id[0].id))
        if same_id:
            return Match(same_id[0], note=_("existing client #%(id)d (same ID number)",
                                            id=same_id[0].id))
    if person.email:
        same = directory.clients(name=person.name, email=person.email)
        if same:
            return Match(same[0], note=_("existing client #%(id)d (same name and email)",
                                         id=same[0].id))
    return Match()


def find_staff(person: PersonData, directory: Directory) -> Match[User]:
    """By email, ignoring case; without one, by exact name when one staff member has it."""
    if person.email:
        user = directory.user_by_email(person.email)
        if user and person.name and user.name != person.name:
            return Match(user, note=_("%(email)s is %(name)s in the portal; their record is used",
                                      email=person.email, name=user.name))
        return Match(user)
    users = directory.users_named(person.name)
    if len(users) > 1:
        return Match(error=_("%(count)d staff members have this name; add their email to say "
                             "which one", count=len(users)))
    return Match(users[0] if users else None)


def _match_client(person: PersonData, plan: _Plan, errors: list[FieldError]) -> None:
    match = find_client(person, Directory())
    if match.error:
        errors.append(FieldError("complainant.id_number", match.error))
    plan.client = match.found
    if match.note:
        plan.notes.append(f"complainant: {match.note}")


def _match_respondent(person: PersonData, path: str, plan: _Plan,
                      errors: list[FieldError]) -> User | None:
    """The staff member named, or None when a lawyer without a login is to be created."""
    match = find_staff(person, Directory())
    if match.error:
        errors.append(FieldError(f"{path}.name", match.error))
    elif match.note:
        plan.notes.append(f"{path}: {match.note}")
    if match.found is None:
        plan.notes.append(f"{path}: {person.name} is not on file; "
                          "recorded as a lawyer without a login")
    return match.found


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
