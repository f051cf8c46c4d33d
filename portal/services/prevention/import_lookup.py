"""The matter import's step 2, first half: what each row names (staff, client, type,
department), found as the complaint import finds people (`transfer.importing.find_staff`,
`find_client`), with everything the file may name read at once. Never creates staff nor
clients."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.matter import Client, Matter
from portal.models.prevention import MatterType
from portal.models.user import Department, Role, User
from portal.services.prevention.import_file import MatterRow, RowError
from portal.services.transfer.importing import Directory, find_client, find_staff
from portal.services.transfer.parse import PersonData

CHUNK = 500
# The file's column → the matter's attribute, for what the file names by a name.
NAMED = {"client": "client_id", "matter_type": "matter_type_code",
         "department": "department_id", "responsible_lawyer": "responsible_lawyer_id",
         "partner": "partner_id", "fees_excess_confirmed_by": "fees_excess_confirmed_by_id"}


class Lookup:
    """Everything the rows may name, read once (a handful of queries for the whole file)."""

    def __init__(self, rows: list[MatterRow]) -> None:
        self.directory = Directory()
        self.directory.preload_staff()
        clients = [row.client for row in rows if row.client]
        self.directory.preload_clients({c.name for c in clients},
                                       {c.id_number for c in clients if c.id_number})
        self.departments: dict[str, list[Department]] = {}
        for department in db.session.scalars(select(Department).order_by(Department.id)):
            for name in {department.name_zh, department.name_en.casefold()}:
                self.departments.setdefault(name, []).append(department)
        self.types: dict[str, MatterType] = {}
        for matter_type in db.session.scalars(select(MatterType).order_by(MatterType.position)):
            for name in (matter_type.label_en.casefold(), matter_type.label_zh,
                         matter_type.code):
                self.types[name] = matter_type
        # References are compared in capitals, as the portal does (an index on upper() would
        # be needed to ask for them; reading every id and reference is one light query).
        references = {row.reference for row in rows if row.reference}
        ids = [matter_id for matter_id, reference in db.session.execute(
            select(Matter.id, Matter.reference)) if reference.upper() in references]
        self.matters: dict[str, Matter] = {}
        for start in range(0, len(ids), CHUNK):
            self.matters.update((m.reference.upper(), m) for m in db.session.scalars(
                select(Matter).where(Matter.id.in_(ids[start:start + CHUNK]))
                .options(selectinload(Matter.team))))

    def department(self, name: str) -> tuple[int | None, str | None]:
        found = self.departments.get(name) or self.departments.get(name.casefold(), [])
        if len(found) > 1:
            return None, _("%(count)d departments have this name", count=len(found))
        if not found:
            return None, _("no department named %(name)s", name=name)
        return found[0].id, None

    def matter_type(self, name: str, current: str | None) -> tuple[str | None, str | None]:
        found = self.types.get(name) or self.types.get(name.casefold())
        if found is None:
            return None, _("no matter type %(name)s (give its code, such as litigation, or "
                           "its name)", name=name)
        if not found.active and found.code != current:
            return None, _("the matter type %(code)s is no longer in use", code=found.code)
        return found.code, None


def _staff(lookup: Lookup, person: PersonData, column: str, line: int,
           errors: list[RowError], notes: list[str]) -> User | None:
    match = find_staff(person, lookup.directory)
    if match.note:
        notes.append(str(RowError(column, match.note, line)))
    if match.error or match.found is None:
        errors.append(RowError(column, match.error or (
            _("no staff member with the email %(email)s", email=person.email) if person.email
            else _("no staff member named %(name)s", name=person.name)), line))
    return match.found


def _client(lookup: Lookup, person: PersonData, line: int,
            errors: list[RowError]) -> Client | None:
    """As the complaint import finds a client; a name alone finds the one client of that
    name. Never creates one."""
    match = find_client(person, lookup.directory)
    if match.error:
        errors.append(RowError("client_id_number", match.error, line))
        return None
    if match.found is not None:
        return match.found
    if person.email or person.id_number:
        errors.append(RowError("client", _("no client on file with this ID number, or with "
                                           "this name and email"), line))
        return None
    named = lookup.directory.clients(name=person.name)
    if len(named) != 1:
        errors.append(RowError("client", _(
            "%(count)d clients have this name: add client_email or client_id_number to say "
            "which one", count=len(named)) if named else _("no client named %(name)s on file",
                                                           name=person.name), line))
        return None
    return named[0]


def resolve(lookup: Lookup, row: MatterRow, notes: list[str]) -> tuple[dict, list[RowError]]:
    """The row's values as the matter stores them (names replaced by ids)."""
    errors: list[RowError] = []
    values = dict(row.values)
    if row.client is not None:
        client = _client(lookup, row.client, row.line, errors)
        values["client_id"] = client.id if client else None
    existing = lookup.matters.get(row.reference)
    if row.matter_type:
        code, error = lookup.matter_type(row.matter_type,
                                         existing.matter_type_code if existing else None)
        errors += [RowError("matter_type", error, row.line)] if error else []
        values["matter_type_code"] = code
    if row.department:
        values["department_id"], error = lookup.department(row.department)
        errors += [RowError("department", error, row.line)] if error else []
    for column, person in row.staff.items():
        user = _staff(lookup, person, column, row.line, errors, notes) if person else None
        values[NAMED[column]] = user.id if user else None
        if column == "fees_excess_confirmed_by" and user and not (
                user.active and user.has_role(Role.PARTNER)):
            errors.append(RowError(column, _("%(name)s is not an active partner: fees paid "
                                             "above the fees agreed are confirmed by a partner",
                                             name=user.name), row.line))
    if row.team is not None:
        team: list[int] = []
        for person in row.team:
            user = _staff(lookup, person, "team", row.line, errors, notes)
            if user and user.id in team:
                errors.append(RowError("team", _("%(name)s is named twice", name=user.name),
                                       row.line))
            elif user:
                team.append(user.id)
        values["team"] = tuple(sorted(team))
    return values, errors
