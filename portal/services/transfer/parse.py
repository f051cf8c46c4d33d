"""Reading an import file: its shape and the value of every field, checked completely before
anything is looked up or written (docs/import-format.md)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from portal import clock
from portal.models.complaint import Channel, Complaint, Remedy
from portal.services import addresses
from portal.services.addresses import plausible_phone

# 2: the investigation's fields; 3: the resolution's (docs/import-format.md)
FORMAT = "redress.complaint/3"
# What import reads: a file from this version or the one before (the import fields are the
# same; the fields only an export writes are ignored).
READABLE_FORMATS = ("redress.complaint/1", "redress.complaint/2", FORMAT)
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
    "handler", "evidence", "notices", "deadlines", "clock_pauses", "timeline",
    # format 2: the investigation
    "triage", "closure", "withdrawal", "allegations", "findings_submitted", "assignments",
    "conflicts", "statements", "reply_requests", "interview_notes", "first_response",
    # format 3: the resolution
    "matter_fees", "ballots", "decisions", "client_answers", "negotiation_rounds",
    "remedy_tasks",
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


class Checker:
    """Collects every problem in the file rather than stopping at the first (also used by the
    matter import, services/prevention/importer.py: its messages are translated)."""

    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message))

    def obj(self, value: Any, path: str, allowed: tuple[str, ...],
            ignored: tuple[str, ...] = ()) -> dict | None:
        if not isinstance(value, dict):
            self.fail(path, _("must be a JSON object"))
            return None
        for key in value:
            if key not in allowed and key not in ignored:
                self.fail(f"{path}.{key}" if path != "(root)" else key,
                          _("unknown field (see docs/import-format.md)"))
        return value

    def text(self, value: Any, path: str, *, max_len: int, required: bool = False,
             multiline: bool = False) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.fail(path, _("is required"))
            return None
        if not isinstance(value, str):
            self.fail(path, _("must be a string"))
            return None
        value = value.strip().replace("\r\n", "\n")
        if (_CONTROL.search(value) if multiline else not addresses.is_single_line(value)):
            self.fail(path, _("contains control characters"))
            return None
        if len(value) > max_len:
            self.fail(path, _("longer than %(count)d characters", count=max_len))
            return None
        return value

    def choice(self, value: Any, path: str, allowed: list[str]) -> str | None:
        if value is None:
            self.fail(path, _("is required"))
            return None
        if not isinstance(value, str) or value not in allowed:
            self.fail(path, _("%(value)s is not one of %(allowed)s", value=_show(value),
                              allowed=", ".join(allowed)))
            return None
        return value

    def email(self, value: Any, path: str) -> str | None:
        value = self.text(value, path, max_len=254)
        if value is None:
            return None
        try:  # the outbox's rule: the address must be one it can send to
            return addresses.normalise_address(value).lower()
        except addresses.AddressError as error:
            self.fail(path, _("not an address our mail can reach (non-ASCII before the @)")
                      if error.code == "international_local_part"
                      else _("not a valid email address"))
            return None

    def phone(self, value: Any, path: str) -> str | None:
        value = self.text(value, path, max_len=40)
        if value is not None and not plausible_phone(value):
            self.fail(path, _("not a plausible phone number"))
            return None
        return value

    def day(self, value: Any, path: str) -> date | None:
        if value is None:
            return None
        if not isinstance(value, str) or not _DATE.match(value):
            self.fail(path, _("must be a date written YYYY-MM-DD"))
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(path, _("%(value)r is not a real date", value=value))
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
        if moment > clock.now() + CLOCK_SKEW:
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


def _person(check: Checker, value: Any, path: str, allowed: tuple[str, ...]) -> PersonData | None:
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


def _respondents(check: Checker, value: Any) -> list[PersonData]:
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


def _matter(check: Checker, value: Any) -> MatterData | None:
    if value is None:
        return None
    obj = check.obj(value, "matter", MATTER_FIELDS)
    if obj is None:
        return None
    reference = check.text(obj.get("reference"), "matter.reference", max_len=40, required=True)
    title = check.text(obj.get("title"), "matter.title", max_len=200)
    case_number = check.text(obj.get("case_number"), "matter.case_number", max_len=80)
    return MatterData(reference, title, case_number) if reference else None


def _remedies(check: Checker, value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list):
        check.fail("remedies_sought", "must be a list of remedy codes")
        return []
    allowed = [r.value for r in Remedy]
    codes = [check.choice(code, f"remedies_sought[{i}]", allowed) for i, code in enumerate(value)]
    return [r for r in allowed if r in codes]


def _dates(check: Checker, data: dict, received_at: datetime | None) -> tuple:
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
    check = Checker()
    root = check.obj(data, "(root)", IMPORT_FIELDS, EXPORT_ONLY_FIELDS)
    if root is None:
        raise ImportRejected(check.errors)
    if "format" in root and root["format"] not in READABLE_FORMATS:
        check.fail("format", f"{_show(root['format'])} is not a format this portal reads; it "
                   f"reads {', '.join(READABLE_FORMATS)} (a file from a newer portal: "
                   "import it there, or upgrade this one)")
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
        received_at=received_at or clock.now(),
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


def _check_complete(check: Checker, parsed: ImportData) -> None:
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
