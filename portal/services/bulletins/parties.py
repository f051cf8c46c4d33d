"""Everyone the record names, as the redaction engine's parties: the client, the respondents,
the matter's lawyers and team, the staff who handled, investigated or decided the complaint."""

from __future__ import annotations

from collections.abc import Iterable

from portal.models.complaint import Complaint
from portal.models.user import User
from portal.privacy import Party


def _person(user: User, role: str) -> Party:
    aliases = tuple(a.alias for a in getattr(user, "alias_rows", []) or [])
    return Party(role=role, name=user.name, aliases=aliases, email=user.email or "")


def _staff(complaint: Complaint) -> Iterable[User | None]:
    yield complaint.handler
    yield from (a.user for a in complaint.assignments)
    for decision in complaint.decisions:
        yield decision.decided_by


def parties_of(complaint: Complaint) -> list[Party]:
    client = complaint.complainant
    parties = [Party(role="client", name="" if client.organisation else client.name,
                     organisation=client.name if client.organisation else "",
                     phone=client.phone or "", email=client.email or "",
                     id_number=client.id_number or "", address=client.address or "")]
    lawyers: dict[int, User] = {u.id: u for u in complaint.respondents}
    matter = complaint.matter
    if matter is not None:
        for user in (matter.responsible_lawyer, matter.partner, *matter.team):
            if user is not None:
                lawyers.setdefault(user.id, user)
    parties += [_person(u, "lawyer") for u in lawyers.values()]
    staff = {u.id: u for u in _staff(complaint) if u is not None and u.id not in lawyers}
    parties += [_person(u, "staff") for u in staff.values()]
    return parties
