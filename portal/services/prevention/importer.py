"""`flask matters import FILE.csv|FILE.xlsx` (docs/matters-import.md).

Three steps, the first two without writing anything:

1. `import_file.read_table` reads the sheet and `import_file.parse_row` checks each row's
   values on their own;
2. `check` (a read) finds what the rows name (`import_lookup`, as the complaint import finds
   people: it never creates staff nor clients) and compares them with the matters. Any
   problem in any row stops the import here, every bad row listed with its line. What is left
   is a plan: the matters to create, the matters to update with what changes, the count of
   rows that change nothing;
3. `write` carries out one chunk of the plan in the caller's write transaction; the command
   commits a chunk at a time, so that the portal's other writers are never held up for long.
   A chunk refuses a matter changed in the portal since step 2 (its version moved) or a
   reference created meanwhile; running the same file again then finishes the job.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import func, insert, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from portal.db import db
from portal.locales import language_of
from portal.models.matter import Client, Matter, matter_team
from portal.models.prevention import MatterChecklistItem, MatterStatus, MatterType
from portal.models.user import Department, User
from portal.services import audit
from portal.services.prevention.core import recount_gaps, reschedule, start_checklist
from portal.services.prevention.import_file import (
    MatterRow,
    RowError,
    Table,
    parse_row,
    read_table,
)
from portal.services.prevention.import_lookup import CHUNK, NAMED, Lookup, resolve
from portal.services.resolution.money import current_refunds
from portal.services.transfer.parse import ACTOR_LABEL, ImportRejected

COLUMN_OF = {attribute: column for column, attribute in NAMED.items()}
Progress = Callable[[int], None]

__all__ = ["CHUNK", "Change", "ImportRejected", "Plan", "Planned", "RowError", "check",
           "read_table", "write"]


@dataclass(frozen=True)
class Change:
    column: str
    old: str
    new: str


@dataclass
class Planned:
    """One row to write: the matter's attributes to set (all of them for a new matter, the
    changed ones for an existing one; `team` is a tuple of user ids)."""

    line: int
    reference: str
    values: dict[str, Any]
    matter_id: int | None = None
    version: int | None = None
    changes: list[Change] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)  # the audit event's: ids and codes


@dataclass
class Plan:
    creates: list[Planned] = field(default_factory=list)
    updates: list[Planned] = field(default_factory=list)
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    def chunks(self) -> Iterator[list[Planned]]:
        rows = sorted(self.creates + self.updates, key=lambda planned: planned.line)
        for start in range(0, len(rows), CHUNK):
            yield rows[start:start + CHUNK]


# --- step 2: what the rows name, and what would change ----------------------------------------


def _current(matter: Matter, attribute: str) -> Any:
    if attribute == "team":
        return tuple(sorted(user.id for user in matter.team))
    return getattr(matter, attribute)


def _shown(attribute: str, value: Any) -> str:
    """A value as the report prints it (names for ids)."""
    if value is None or value == ():
        return "–"
    if attribute == "team":
        return "; ".join(db.session.get(User, user_id).name for user_id in value)
    if attribute == "client_id":
        return db.session.get(Client, value).name
    if attribute == "department_id":
        department = db.session.get(Department, value)
        return department.name_en if language_of(get_locale()) == "en" else department.name_zh
    if attribute in ("responsible_lawyer_id", "partner_id", "fees_excess_confirmed_by_id"):
        return db.session.get(User, value).name
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _audit_details(matter_id: int, changed: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    """As the portal's edit writes them (services/prevention/matters.py): the attributes
    changed, with the old and new ids or codes of what the matter links to; never the title,
    an amount or a name."""
    details: dict[str, Any] = {"source": "import", "matter_id": matter_id,
                               "changed": sorted(changed)}
    for attribute, (old, new) in changed.items():
        if attribute == "team":
            details["team_added"] = sorted(set(new) - set(old))
            details["team_removed"] = sorted(set(old) - set(new))
        elif attribute in COLUMN_OF or attribute == "status":
            details[attribute] = [old, new]
    return details


def _created_details(matter: Matter, team: tuple[int, ...]) -> dict[str, Any]:
    return {"source": "import", "matter_id": matter.id, "type": matter.matter_type_code,
            "status": matter.status, "department_id": matter.department_id,
            "responsible_lawyer_id": matter.responsible_lawyer_id,
            "partner_id": matter.partner_id, "team_ids": list(team),
            "client_id": matter.client_id}


def _refund_rule(matter: Matter, values: dict[str, Any], line: int) -> list[RowError]:
    """Fees paid may not fall below the refunds already decided on the matter's complaints,
    whose currency then stays (as when a partner edits the fees)."""
    decided = current_refunds(matter.id, except_complaint=None)
    if decided <= 0:
        return []
    errors = []
    if "fees_currency" in values and values["fees_currency"] != matter.fees_currency:
        errors.append(RowError("fees_currency", _(
            "Refunds are already decided on this matter in %(currency)s: the currency stays.",
            currency=matter.fees_currency), line))
    paid = values.get("fees_paid", matter.fees_paid)
    if "fees_paid" in values and (paid is None or paid < decided):
        errors.append(RowError("fees_paid", _(
            "%(currency)s %(decided)s is already refunded in the decisions on this matter's "
            "complaints: the fees paid cannot be less.", currency=matter.fees_currency,
            decided=f"{decided:,.2f}"), line))
    return errors


def _plan_row(plan: Plan, row: MatterRow, values: dict[str, Any],
              existing: Matter | None) -> list[RowError]:
    if existing is None:
        values.setdefault("status", MatterStatus.OPEN.value)
        plan.creates.append(Planned(row.line, row.reference, values))
        return []
    changed = {attribute: (_current(existing, attribute), value)
               for attribute, value in values.items() if _current(existing, attribute) != value}
    if not changed:
        plan.unchanged += 1
        return []
    if "fees_paid" in changed or "fees_currency" in changed:
        errors = _refund_rule(existing, {a: values[a] for a in changed}, row.line)
        if errors:
            return errors
    plan.updates.append(Planned(
        row.line, row.reference, {attribute: new for attribute, (_old, new) in changed.items()},
        matter_id=existing.id, version=existing.version,
        changes=[Change(COLUMN_OF.get(attribute, attribute), _shown(attribute, old),
                        _shown(attribute, new)) for attribute, (old, new) in changed.items()],
        details=_audit_details(existing.id, changed)))
    return []


def check(table: Table, *, progress: Progress | None = None) -> Plan:
    """Check every row and find what it names; ImportRejected lists every problem, each with
    its line. Reads only."""
    errors: list[RowError] = []
    rows: list[MatterRow] = []
    first_line: dict[str, int] = {}
    for line, values in table.rows:
        row, row_errors = parse_row(line, values)
        if row.reference in first_line:
            row_errors.append(RowError("reference", _(
                "%(reference)s is also on line %(line)d", reference=row.reference,
                line=first_line[row.reference]), line))
        elif row.reference:
            first_line[row.reference] = line
        errors += row_errors
        rows.append(row)
    if not rows:
        raise ImportRejected([RowError("", _("the file has no rows below its first line"))])
    bad_lines = {error.line for error in errors}
    lookup = Lookup(rows)
    plan = Plan()
    for row in rows:
        values, row_errors = resolve(lookup, row, plan.notes)
        if not row_errors and row.line not in bad_lines:
            row_errors = _plan_row(plan, row, values, lookup.matters.get(row.reference))
        errors += row_errors
        if progress:
            progress(1)
    if errors:
        raise ImportRejected(sorted(errors, key=lambda error: error.line or 0))
    return plan


# --- step 3: writing a chunk ---------------------------------------------------------------------


def _stale(planned: Planned, message: str) -> ImportRejected:
    return ImportRejected([RowError("reference", message, planned.line)])


_ITEM_COLUMNS = ("template_item_id", "stage", "label_zh", "label_en", "needs_document",
                 "position")


def _create(planned: Planned, types: dict[str, MatterType]) -> tuple[Matter, list[dict]]:
    """A new matter (added to the session), and the rows of the checklist it starts with."""
    values = dict(planned.values)
    values.pop("team", None)
    # Both the code (start_checklist reads it) and the type (reschedule reads its interval: a
    # new matter does not load it from the code before it is flushed).
    matter = Matter(reference=planned.reference, matter_type=types[values["matter_type_code"]],
                    **values)
    db.session.add(matter)
    # start_checklist decides the items; they are inserted in one statement per chunk once
    # the matters have ids, which is three times faster than the ORM's unit of work.
    items = start_checklist(matter)
    for item in items:
        db.session.expunge(item)
    reschedule(matter)
    recount_gaps(matter)
    return matter, [{column: getattr(item, column) for column in _ITEM_COLUMNS}
                    for item in items]


def _update(planned: Planned, matter: Matter, types: dict[str, MatterType]) -> None:
    if matter.version != planned.version:
        raise _stale(planned, _("%(reference)s was changed in the portal while the file was "
                                "being checked: run the import again",
                                reference=planned.reference))
    values = dict(planned.values)
    if "matter_type_code" in values:
        matter.matter_type = types[values["matter_type_code"]]
    if "team" in values:
        matter.team = [db.session.get(User, user_id) for user_id in values.pop("team")]
        flag_modified(matter, "title")  # the team is another table: move the version too
    for attribute, value in values.items():
        setattr(matter, attribute, value)
    start_checklist(matter)
    reschedule(matter)
    recount_gaps(matter)


def write(chunk: Iterable[Planned]) -> None:
    """Create and update the chunk's matters, each audited, in the caller's write
    transaction (flushes, never commits). ImportRejected when the portal changed a matter
    since `check`, or a new reference was taken meanwhile."""
    chunk = list(chunk)
    types = {t.code: t for t in db.session.scalars(select(MatterType))}
    creates = [planned for planned in chunk if planned.matter_id is None]
    taken = set(db.session.scalars(select(func.upper(Matter.reference)).where(
        func.upper(Matter.reference).in_([planned.reference for planned in creates])))
        ) if creates else set()
    for planned in creates:
        if planned.reference in taken:
            raise _stale(planned, _("%(reference)s was created in the portal while the file "
                                    "was being checked: run the import again",
                                    reference=planned.reference))
    updates = [planned for planned in chunk if planned.matter_id is not None]
    loaded = {m.id: m for m in db.session.scalars(
        select(Matter).where(Matter.id.in_([planned.matter_id for planned in updates]))
        .options(selectinload(Matter.team)))} if updates else {}
    # One flush for the chunk: autoflushing before the prevention helpers' queries would
    # flush each new matter on its own, and give it an id they would then look up.
    with db.session.no_autoflush:
        created = [(planned, _create(planned, types)) for planned in creates]
        for planned in updates:
            _update(planned, loaded[planned.matter_id], types)
    db.session.flush()
    checklist_rows = [{**item, "matter_id": matter.id}
                      for _planned, (matter, items) in created for item in items]
    if checklist_rows:
        db.session.execute(insert(MatterChecklistItem), checklist_rows)
    team_rows = [{"matter_id": matter.id, "user_id": user_id}
                 for planned, (matter, _items) in created
                 for user_id in planned.values.get("team", ())]
    if team_rows:
        db.session.execute(matter_team.insert(), team_rows)
    for planned, (matter, _items) in created:
        audit.record("matter.created", obj=matter, actor_label=ACTOR_LABEL,
                     details=_created_details(matter, planned.values.get("team", ())))
    for planned in updates:
        matter = loaded[planned.matter_id]
        audit.record("matter.updated", obj=matter, actor_label=ACTOR_LABEL,
                     details={**planned.details, "version": matter.version})
