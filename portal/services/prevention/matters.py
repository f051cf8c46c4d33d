"""Matters: who may do what on them, finding one, a new matter and its edits (the list and
the forms' choices are in listing.py, the fees' rules in fees.py).

Everyone sees matters through `Matter.visible_to` / `can_view` (partners all; anyone else the
matters they are responsible for, supervise or are on the team of); a matter they may not see
is not found. Partners create and edit matters; whoever may see a matter records its
expectations, ticks its checklist and logs its reports (expectations.py, checklist.py,
reports.py). Fees paid above the fees agreed need a partner's confirmation with a reason. A
new matter gets its checklist from its type and its next report day (core.py). Every change is
audited with ids and codes; an edit checks the version the form was loaded with (409).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from portal import clock
from portal.db import db
from portal.models.matter import Client, Matter
from portal.models.prevention import MatterStatus, MatterType
from portal.models.user import Department, Role, User
from portal.services import addresses, audit
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError
from portal.services.prevention import core, fees

REFERENCE = re.compile(r"[A-Z0-9][A-Z0-9._-]{0,39}")
TITLE_MAX, CASE_NUMBER_MAX, TEAM_MAX, INTERVAL_MAX = 200, 80, 30, 366
EARLIEST = date(1900, 1, 1)


class PreventionError(IntakeError):
    """A prevention rule said no (422); messages translated, by field."""


class MatterChanged(ConflictError):
    """Someone else changed the matter after the form was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this matter after you opened the page, so "
                           "nothing was saved. What you typed is still on screen: reload the "
                           "page to see the matter as it is now, then try again."))


# -- who may do what -----------------------------------------------------------------------

def may_manage(user: User) -> bool:
    """Partners create and edit matters, and keep the matter types."""
    return user.has_role(Role.PARTNER)


def may_record(matter: Matter, user: User) -> bool:
    """Expectations, ticks and reports: partners, and the matter's responsible lawyer, team
    and supervising partner (exactly those who may see it)."""
    return matter.can_view(user)


def find(viewer: User, reference: str) -> Matter | None:
    """The matter `reference` names, when `viewer` may see it (else None: the route's 404)."""
    if not reference or len(reference) > 40:
        return None
    return db.session.scalar(
        select(Matter).where(Matter.reference == reference, Matter.visible_to(viewer))
        .options(selectinload(Matter.team)))


def locked(matter_id: int, actor: User, *, expected_version: int | None = None) -> Matter:
    """The matter reloaded in the write, if `actor` may record on it; its version checked
    when one is given."""
    matter = db.session.get(Matter, matter_id, with_for_update=True, populate_existing=True)
    if matter is None or not may_record(matter, actor):
        raise PreventionError(_("This matter is not on file."))
    if expected_version is not None and matter.version != expected_version:
        raise MatterChanged()
    return matter


def refuse_if_any(errors: FieldErrors, error: type[PreventionError] = PreventionError) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise error(first, errors=errors.errors)


def line(value: str | None) -> str:
    return " ".join((value or "").split())


def checked_day(value: date | None, name: str, errors: FieldErrors, *,
                not_before: date | None = None, required: bool = True) -> date | None:
    """A day that has come (today at the latest), from 1900 on."""
    if value is None:
        if required:
            errors.add(name, _("Enter the day."))
        return None
    if value > clock.today():
        errors.add(name, _("The day cannot be in the future."))
    elif value < max(EARLIEST, not_before or EARLIEST):
        errors.add(name, _("The day cannot be before %(day)s.",
                           day=max(EARLIEST, not_before or EARLIEST).isoformat()))
    return value


# -- a matter's fields ---------------------------------------------------------------------

@dataclass(frozen=True)
class MatterInput:
    """A matter's fields as the form sends them (ids as numbers, -1 for one that names
    nothing; amounts and the interval as typed)."""

    reference: str
    title: str
    client_id: int | None
    case_number: str
    type_code: str
    department_id: int | None
    lawyer_id: int | None
    partner_id: int | None
    team_ids: tuple[int, ...]
    opened_on: date | None
    status: str
    closed_on: date | None
    interval: str
    fees_agreed: str
    fees_paid: str
    currency: str
    excess_reason: str = ""
    excess_confirmed: bool = False


def _person(user_id: int | None, name: str, errors: FieldErrors, message: str,
            required: bool) -> User | None:
    person = db.session.get(User, user_id) if user_id and user_id > 0 else None
    if person is None and (required or user_id):
        errors.add(name, message)
    return person


def _identity(data: MatterInput, errors: FieldErrors, matter: Matter | None) -> dict:
    reference = "".join((data.reference or "").split()).upper()
    if not REFERENCE.fullmatch(reference):
        errors.add("reference", _("A matter number is 1 to 40 letters, digits, dots, dashes "
                                  "or underscores, for example M-2026-0101."))
    elif db.session.scalar(select(Matter.id).where(
            func.upper(Matter.reference) == reference,
            Matter.id != (matter.id if matter else -1)).limit(1)) is not None:
        errors.add("reference", _("Another matter has the number %(reference)s.",
                                  reference=reference))
    title = line(data.title)
    if not title:
        errors.add("title", _("Give the matter a title."))
    elif len(title) > TITLE_MAX or not addresses.is_single_line(title):
        errors.add("title", _("A title is one line of at most %(max)d characters.",
                              max=TITLE_MAX))
    case_number = line(data.case_number)
    if len(case_number) > CASE_NUMBER_MAX:
        errors.add("case_number", _("At most %(max)d characters.", max=CASE_NUMBER_MAX))
    client = db.session.get(Client, data.client_id) if data.client_id and data.client_id > 0 \
        else None
    if client is None:
        errors.add("client", _("Choose the client from those on file."))
    kind = db.session.get(MatterType, data.type_code) if data.type_code else None
    if kind is None or not (kind.active or (matter and matter.matter_type_code == kind.code)):
        errors.add("type_code", _("Choose the type of matter."))
    return {"reference": reference, "title": title, "case_number": case_number or None,
            "client": client, "matter_type": kind}


def _people(data: MatterInput, errors: FieldErrors) -> dict:
    department = db.session.get(Department, data.department_id) \
        if data.department_id and data.department_id > 0 else None
    if department is None and data.department_id:
        errors.add("department", _("Choose a department from the list."))
    lawyer = _person(data.lawyer_id, "lawyer", errors,
                     _("Choose the responsible lawyer."), required=True)
    partner = _person(data.partner_id, "partner", errors,
                      _("Choose the supervising partner from the list."), required=False)
    wanted = list(dict.fromkeys(data.team_ids))
    team = list(db.session.scalars(select(User).where(User.id.in_(wanted)))) if wanted else []
    if len(wanted) > TEAM_MAX:
        errors.add("team", _("A team has at most %(max)d members.", max=TEAM_MAX))
    elif len(team) != len(wanted):
        errors.add("team", _("Choose the team from the list."))
    return {"department": department, "responsible_lawyer": lawyer, "partner": partner,
            "team": sorted(team, key=lambda u: (u.name, u.id))}


def _state(data: MatterInput, errors: FieldErrors) -> dict:
    opened_on = checked_day(data.opened_on, "opened_on", errors)
    status = data.status if data.status in {s.value for s in MatterStatus} else None
    closed_on = None
    if status is None:
        errors.add("status", _("Choose the matter's status."))
    elif status != MatterStatus.OPEN:
        closed_on = checked_day(data.closed_on or clock.today(), "closed_on", errors,
                                not_before=opened_on)
    elif data.closed_on is not None:
        errors.add("closed_on", _("An open matter has no closing day: leave it empty, or "
                                  "choose “Closed”."))
    interval = None
    if (data.interval or "").strip():
        raw = data.interval.strip()
        interval = int(raw) if raw.isdigit() and len(raw) < 5 else 0
        if not 1 <= interval <= INTERVAL_MAX:
            errors.add("interval", _("Enter a number of days from 1 to %(max)d, or leave it "
                                     "empty to use the type's interval.", max=INTERVAL_MAX))
    return {"opened_on": opened_on, "status": status or MatterStatus.OPEN.value,
            "closed_on": closed_on, "report_interval_days": interval}


def _values(actor: User, data: MatterInput, matter: Matter | None) -> dict:
    if not may_manage(actor):
        raise PreventionError(_("Only partners create and edit matters."))
    errors = FieldErrors()
    values = {**_identity(data, errors, matter), **_people(data, errors),
              **_state(data, errors), **fees.fees(actor, data, errors, matter)}
    refuse_if_any(errors)
    return values


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _details(matter: Matter, **more) -> dict:
    return {"matter_id": matter.id, "type": matter.matter_type_code, "status": matter.status,
            "department_id": matter.department_id,
            "responsible_lawyer_id": matter.responsible_lawyer_id,
            "partner_id": matter.partner_id, "team_ids": sorted(u.id for u in matter.team),
            "client_id": matter.client_id, **more}


def create(actor: User, data: MatterInput) -> Matter:
    """A new matter (a partner): its checklist copied from its type, its first report due
    one interval after it opened."""
    values = _values(actor, data, None)
    matter = Matter(**values)
    db.session.add(matter)
    db.session.flush()
    core.start_checklist(matter)
    core.reschedule(matter)
    core.recount_gaps(matter)
    db.session.flush()
    audit.record("matter.created", actor=actor, obj=matter, details=_details(
        matter, fees_agreed=_amount(matter.fees_agreed), fees_paid=_amount(matter.fees_paid),
        currency=matter.fees_currency,
        fees_excess_confirmed=matter.fees_excess_confirmed_by_id is not None))
    return matter


def _same(matter: Matter, name: str, value: object) -> bool:
    if name == "team":
        return {u.id for u in matter.team} == {u.id for u in value}  # type: ignore[attr-defined]
    return getattr(matter, name) == value


def edit(actor: User, matter_id: int, data: MatterInput, *,
         expected_version: int | None) -> Matter:
    """New fields (a partner). A type given to a matter without a checklist starts one; an
    existing checklist stays as it is. The next report day follows the dates, the status and
    the interval."""
    matter = locked(matter_id, actor, expected_version=expected_version)
    values = _values(actor, data, matter)
    changed = sorted(name for name, value in values.items() if not _same(matter, name, value))
    if not changed:
        return matter
    old = {"fees_agreed": _amount(matter.fees_agreed), "fees_paid": _amount(matter.fees_paid),
           "currency": matter.fees_currency}
    for name in changed:
        setattr(matter, name, values[name])
    flag_modified(matter, "title")  # a change of team alone moves the version too
    db.session.flush()
    core.start_checklist(matter)
    core.reschedule(matter)
    db.session.flush()
    fees = {"old": old, "new": {"fees_agreed": _amount(matter.fees_agreed),
                                "fees_paid": _amount(matter.fees_paid),
                                "currency": matter.fees_currency},
            "excess_confirmed": matter.fees_excess_confirmed_by_id is not None}
    audit.record("matter.updated", actor=actor, obj=matter, details=_details(
        matter, changed=changed, version=matter.version,
        **({"fees": fees} if {"fees_agreed", "fees_paid", "fees_currency",
                              "fees_excess_reason"} & set(changed) else {})))
    return matter
