"""Importing complaints from JSON (how firms migrate from spreadsheets) and exporting them.

The format is documented in docs/import-format.md. An import is checked completely before
anything is written: first the shape and values of every field, then what the file refers
to in the database (staff, matter, client). Any problem rejects the whole file with
messages that name the field (`complainant.email: not a valid email address`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from portal.db import db, utcnow
from portal.models.audit import AuditEvent
from portal.models.complaint import Channel, Complaint, ConfirmationMethod, Remedy
from portal.models.matter import Client, Matter
from portal.models.notice import Notice
from portal.models.user import User
from portal.services import addresses, audit
from portal.services.addresses import plausible_phone

FORMAT = "redress.complaint/1"
ACTOR_LABEL = "import"
MAX_FILE_BYTES = 5 * 1024 * 1024

IMPORT_FIELDS = (
    "external_id", "channel", "received_at", "language", "complainant", "respondents",
    "matter", "occurred_on", "occurred_until", "occurred_place", "narrative",
    "remedies_sought", "remedy_details", "read_back_confirmed",
)
# Written by export and ignored by import, so that an export can be imported again.
EXPORT_ONLY_FIELDS = (
    "format", "reference", "state", "created_at", "registered_at", "first_response_due",
    "deadline_provisional", "needs_verification", "submitted_payload", "confirmation",
    "handler", "evidence", "notices", "timeline",
)
COMPLAINANT_FIELDS = ("name", "phone", "email", "id_number", "address")
RESPONDENT_FIELDS = ("name", "email")
MATTER_FIELDS = ("reference", "title", "case_number")

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
CLOCK_SKEW = timedelta(minutes=5)


# --- errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldError:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


class ImportRejected(Exception):
    """The file cannot be imported; nothing was written."""

    def __init__(self, errors: list[FieldError]):
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


# --- the parsed file ----------------------------------------------------------------------


@dataclass
class PersonData:
    name: str
    email: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None


@dataclass
class MatterData:
    reference: str
    title: str | None = None
    case_number: str | None = None


@dataclass
class ImportData:
    external_id: str
    channel: str
    received_at: datetime
    language: str
    complainant: PersonData
    respondents: list[PersonData]
    matter: MatterData | None
    narrative: str
    read_back_confirmed: bool
    occurred_on: date | None = None
    occurred_until: date | None = None
    occurred_place: str | None = None
    remedies_sought: list[str] = field(default_factory=list)
    remedy_details: str | None = None


@dataclass
class ImportResult:
    complaint: Complaint
    created: bool
    notes: list[str] = field(default_factory=list)

    @property
    def reference(self) -> str:
        return self.complaint.reference or self.complaint.label


# --- reading and checking the file ---------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise ValueError(f"duplicate key {key!r}")
        seen[key] = value
    return seen


def _reject_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed in JSON")


def load_json(path: str | Path) -> Any:
    """Read and decode the file; ImportRejected names what is wrong with it."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as error:
        raise ImportRejected([FieldError("(file)", f"cannot read {path}: {error.strerror}")]) \
            from None
    if len(raw) > MAX_FILE_BYTES:
        raise ImportRejected([FieldError("(file)", f"larger than {MAX_FILE_BYTES} bytes")])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRejected([FieldError("(file)", "not UTF-8 text")]) from None
    try:
        return json.loads(text, object_pairs_hook=_reject_duplicates,
                          parse_constant=_reject_constant)
    except json.JSONDecodeError as error:
        raise ImportRejected([FieldError(
            "(file)", f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        )]) from None
    except ValueError as error:
        raise ImportRejected([FieldError("(file)", f"not valid JSON: {error}")]) from None


class _Checker:
    """Collects every problem in the file rather than stopping at the first."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...],
            ignored: tuple[str, ...] = ()) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, "must be a JSON object")
            return None
        for key in value:
            if key not in allowed and key not in ignored:
                self.fail(f"{path}.{key}" if path != "(root)" else key,
                          "unknown field (see docs/import-format.md)")
        return value

    def text(self, value: Any, path: str, *, max_len: int, required: bool = False,
             multiline: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, "must be a string")
            return None
        value = value.strip().replace("\r\n", "\n")
        if (_CONTROL.search(value) if multiline else not addresses.is_single_line(value)):
            self.fail(path, "contains control characters")
            return None
        if len(value) > max_len:
            self.fail(path, f"longer than {max_len} characters")
            return None
        return value

    def choice(self, value: Any, path: str, allowed: list[str]) -> str | None:
        if value is None:
            self.fail(path, "is required")
            return None
        if not isinstance(value, str) or value not in allowed:
            self.fail(path, f"{_show(value)} is not one of {', '.join(allowed)}")
            return None
        return value

    def email(self, value: Any, path: str) -> str | None:
        value = self.text(value, path, max_len=254)
        if value is None:
            return None
        try:  # the outbox's rule: the address must be one it can send to
            return addresses.normalise_address(value).lower()
        except addresses.AddressError as error:
            self.fail(path, "not an address our mail can reach (non-ASCII before the @)"
                      if error.code == "international_local_part" else "not a valid email address")
            return None

    def phone(self, value: Any, path: str) -> str | None:
        value = self.text(value, path, max_len=40)
        if value is not None and not plausible_phone(value):
            self.fail(path, "not a plausible phone number")
            return None
        return value

    def day(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            self.fail(path, "must be a date written YYYY-MM-DD")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(path, f"{value!r} is not a real date")
            return None

    def moment(self, value: Any, path: str) -> datetime | None:
        if value is None:
            self.fail(path, "is required")
            return None
        if not isinstance(value, str):
            self.fail(path, "must be an ISO 8601 date and time string")
            return None
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            self.fail(path, "must be an ISO 8601 date and time, e.g. 2026-03-02T09:30:00+08:00")
            return None
        if moment.tzinfo is None or moment.utcoffset() is None:
            self.fail(path, "has no UTC offset; write it like 2026-03-02T09:30:00+08:00")
            return None
        if moment > utcnow() + CLOCK_SKEW:
            self.fail(path, "is in the future")
            return None
        return moment

    def boolean(self, value: Any, path: str) -> bool | None:
        if not isinstance(value, bool):
            self.fail(path, "is required and must be true or false" if value is None
                      else "must be true or false (not a string or number)")
            return None
        return value


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _person(check: _Checker, value: Any, path: str, allowed: tuple[str, ...]) -> PersonData | None:
    obj = check.obj(value, path, allowed)
    if obj is None:
        return None
    name = check.text(obj.get("name"), f"{path}.name", max_len=100, required=True)
    person = PersonData(
        name=name or "",
        email=check.email(obj.get("email"), f"{path}.email"),
        phone=check.phone(obj.get("phone"), f"{path}.phone") if "phone" in allowed else None,
        id_number=check.text(obj.get("id_number"), f"{path}.id_number", max_len=40)
        if "id_number" in allowed else None,
        address=check.text(obj.get("address"), f"{path}.address", max_len=300)
        if "address" in allowed else None,
    )
    return person if name else None


def _respondents(check: _Checker, value: Any) -> list[PersonData]:
    if value is None:
        check.fail("respondents", "is required (a list, possibly empty)")
        return []
    if not isinstance(value, list):
        check.fail("respondents", "must be a list of objects {name, email}")
        return []
    people: list[PersonData] = []
    emails: set[str] = set()
    for index, item in enumerate(value):
        path = f"respondents[{index}]"
        person = _person(check, item, path, RESPONDENT_FIELDS)
        if person and person.email and person.email in emails:
            check.fail(f"{path}.email", "appears twice in the list")
        elif person:
            emails.update([person.email] if person.email else [])
            people.append(person)
    return people


def _matter(check: _Checker, value: Any) -> MatterData | None:
    if value is None:
        return None
    obj = check.obj(value, "matter", MATTER_FIELDS)
    if obj is None:
        return None
    reference = check.text(obj.get("reference"), "matter.reference", max_len=40, required=True)
    title = check.text(obj.get("title"), "matter.title", max_len=200)
    case_number = check.text(obj.get("case_number"), "matter.case_number", max_len=80)
    return MatterData(reference, title, case_number) if reference else None


def _remedies(check: _Checker, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail("remedies_sought", "must be a list of remedy codes")
        return []
    allowed = [r.value for r in Remedy]
    codes = [check.choice(code, f"remedies_sought[{i}]", allowed) for i, code in enumerate(value)]
    return [r for r in allowed if r in codes]


def _dates(check: _Checker, data: dict, received_at: datetime | None) -> tuple:
    occurred_on = check.day(data.get("occurred_on"), "occurred_on")
    occurred_until = check.day(data.get("occurred_until"), "occurred_until")
    if occurred_on and occurred_until and occurred_until < occurred_on:
        check.fail("occurred_until", "is before occurred_on")
    # A day of slack: received_at's own offset decides which calendar day it was.
    last_day = received_at.date() + timedelta(days=1) if received_at else None
    for name, day in (("occurred_on", occurred_on), ("occurred_until", occurred_until)):
        if day and last_day and day > last_day:
            check.fail(name, "is after the complaint was received (received_at)")
    return occurred_on, occurred_until


def parse(data: Any) -> ImportData:
    """Check the whole document; ImportRejected lists every problem found."""
    check = _Checker()
    root = check.obj(data, "(root)", IMPORT_FIELDS, EXPORT_ONLY_FIELDS)
    if root is None:
        raise ImportRejected(check.errors)
    if "format" in root and root["format"] != FORMAT:
        check.fail("format", f"must be {FORMAT!r} when present")
    received_at = check.moment(root.get("received_at"), "received_at")
    occurred_on, occurred_until = _dates(check, root, received_at)
    complainant = None
    if root.get("complainant") is None:
        check.fail("complainant", "is required")
    else:
        complainant = _person(check, root["complainant"], "complainant", COMPLAINANT_FIELDS)
    confirmed = check.boolean(root.get("read_back_confirmed"), "read_back_confirmed")
    if confirmed is False:
        check.fail("read_back_confirmed", "is false: a complaint is registered only after the "
                   "client has confirmed the read-back; import it once they have, or enter it "
                   "in the portal and have a partner override with a reason")
    parsed = ImportData(
        external_id=check.text(root.get("external_id"), "external_id", max_len=100,
                               required=True) or "",
        channel=check.choice(root.get("channel"), "channel", [c.value for c in Channel]) or "",
        received_at=received_at or utcnow(),
        language=check.choice(root.get("language"), "language", ["zh", "en"]) or "zh",
        complainant=complainant or PersonData(name=""),
        respondents=_respondents(check, root.get("respondents")),
        matter=_matter(check, root.get("matter")),
        narrative=check.text(root.get("narrative"), "narrative", max_len=20_000,
                             required=True, multiline=True) or "",
        read_back_confirmed=bool(confirmed),
        occurred_on=occurred_on,
        occurred_until=occurred_until,
        occurred_place=check.text(root.get("occurred_place"), "occurred_place", max_len=200),
        remedies_sought=_remedies(check, root.get("remedies_sought")),
        remedy_details=check.text(root.get("remedy_details"), "remedy_details",
                                  max_len=2_000, multiline=True),
    )
    _check_complete(check, parsed)
    if check.errors:
        raise ImportRejected(check.errors)
    return parsed


def _check_complete(check: _Checker, parsed: ImportData) -> None:
    """What registration needs, named by field (the intake service enforces it again)."""
    from portal.services.intake.completeness import REMEDIES_NEEDING_DETAILS

    paths = {error.path.split(".")[0].split("[")[0] for error in check.errors}
    person = parsed.complainant
    if "complainant" not in paths and person.name and not (person.phone or person.email):
        check.fail("complainant", "needs a phone or an email so that the firm can reply")
    if "respondents" not in paths and not parsed.respondents:
        check.fail("respondents", "name at least one lawyer complained about")
    if "occurred_on" not in paths and parsed.occurred_on is None:
        check.fail("occurred_on", "is required (YYYY-MM-DD; approximate is fine)")
    if "remedies_sought" not in paths and not parsed.remedies_sought:
        check.fail("remedies_sought", "choose at least one of "
                   + ", ".join(r.value for r in Remedy))
    needing = sorted(set(parsed.remedies_sought) & {r.value for r in REMEDIES_NEEDING_DETAILS})
    if needing and not parsed.remedy_details and "remedy_details" not in paths:
        check.fail("remedy_details", f"is required with {', '.join(needing)}")


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


# --- export -------------------------------------------------------------------------------


def find(key: str, viewer: User | None = None) -> Complaint | None:
    """A complaint by reference (TS-2026-00001) or draft label (D12); with a viewer, only
    one that they may see (Complaint.visible_to)."""
    named = Complaint.with_key(key)
    if named is None:
        return None
    query = select(Complaint).where(named)
    if viewer is not None:
        query = query.where(Complaint.visible_to(viewer))
    return db.session.scalar(query)


def _iso(moment: datetime | None, zone: tzinfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment else None


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _person_out(user: User | None) -> dict | None:
    return {"name": user.name, "email": user.email} if user else None


def _timeline(complaint: Complaint, zone: tzinfo) -> list[dict]:
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.object_type == Complaint.__tablename__,
               AuditEvent.object_id == str(complaint.id))
        .order_by(AuditEvent.id)
    ).all()
    return [{"at": _iso(e.at, zone), "action": e.action} for e in events]


def _notices(complaint: Complaint) -> list[dict]:
    notices = db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id)
        .order_by(Notice.kind, Notice.version)
    ).all()
    return [{"kind": n.kind, "version": n.version, "sha256": n.sha256} for n in notices]


def _client_out(client: Client | None) -> dict | None:
    if client is None:
        return None
    return {"name": client.name, "phone": client.phone, "email": client.email,
            "id_number": client.id_number, "address": client.address}


def _matter_out(matter: Matter | None) -> dict | None:
    if matter is None:
        return None
    return {"reference": matter.reference, "title": matter.title,
            "case_number": matter.case_number}


def export_complaint(complaint: Complaint, zone: tzinfo = UTC) -> dict:
    """The complete record as plain data; the import fields come first, in import form.

    A complaint entered in the portal has no external_id: the export gives it
    "redress:<reference>", so that importing the file elsewhere twice creates it once.
    """
    return {
        "format": FORMAT,
        "external_id": complaint.external_id or f"redress:{complaint.label}",
        "channel": complaint.channel,
        "received_at": _iso(complaint.received_at, zone),
        "language": complaint.language,
        "complainant": _client_out(complaint.complainant),
        "respondents": [_person_out(u) for u in complaint.respondents],
        "matter": _matter_out(complaint.matter),
        "occurred_on": _day(complaint.occurred_on),
        "occurred_until": _day(complaint.occurred_until),
        "occurred_place": complaint.occurred_place,
        "narrative": complaint.narrative,
        "remedies_sought": list(complaint.remedies_sought or []),
        "remedy_details": complaint.remedy_details,
        "read_back_confirmed": complaint.is_confirmed,
        "reference": complaint.reference,
        "state": complaint.state,
        "created_at": _iso(complaint.created_at, zone),
        "registered_at": _iso(complaint.registered_at, zone),
        "first_response_due": _day(complaint.first_response_due),
        "deadline_provisional": complaint.deadline_provisional,
        "needs_verification": complaint.needs_verification,
        "submitted_payload": complaint.submitted_payload,
        "confirmation": {
            "confirmed_at": _iso(complaint.confirmed_at, zone),
            "method": complaint.confirmation_method,
            "confirmed_by": _person_out(complaint.confirmed_by),
            "override_reason": complaint.confirmation_override_reason,
            "correction_requested": complaint.correction_requested,
        },
        "handler": _person_out(complaint.handler),
        "evidence": [
            {"category": e.category, "original_name": e.original_name, "sha256": e.sha256,
             "size": e.size, "content_type": e.content_type}
            for e in complaint.evidence
        ],
        "notices": _notices(complaint),
        "timeline": _timeline(complaint, zone),
    }


def record_export(complaint: Complaint, viewer: User | None = None) -> None:
    """Reading a complaint's record is audited, on the command line too."""
    audit.record("complaint.exported", obj=complaint, actor=viewer,
                 actor_label=None if viewer else "export")
