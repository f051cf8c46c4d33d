"""The matter import's file (docs/matters-import.md): reading a CSV or XLSX sheet into rows of
text, and checking each row's values on their own. Nothing here reads the database; what the
rows name (staff, clients, departments, types, matters) is resolved in `importer`."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask_babel import gettext as _

from portal import clock
from portal.models.prevention import MatterStatus
from portal.services.intake.errors import FieldErrors
from portal.services.prevention import fees
from portal.services.prevention.matters import (
    CASE_NUMBER_MAX,
    EARLIEST,
    INTERVAL_MAX,
    REFERENCE,
    TEAM_MAX,
    TITLE_MAX,
)
from portal.services.prevention.matters import line as line_of
from portal.services.transfer.parse import Checker, FieldError, ImportRejected, PersonData

MAX_FILE_BYTES = 50 * 1024 * 1024
REQUIRED_COLUMNS = ("reference", "title", "client", "matter_type", "department",
                    "responsible_lawyer", "partner", "opened_on")
OPTIONAL_COLUMNS = ("client_email", "client_id_number", "case_number", "team", "status",
                    "closed_on", "report_interval_days", "fees_agreed", "fees_paid",
                    "fees_currency", "fees_excess_reason", "fees_excess_confirmed_by")
COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
FEE_DETAIL_COLUMNS = ("fees_currency", "fees_excess_reason", "fees_excess_confirmed_by")
TEAM_SEPARATORS = re.compile(r"[;；、\n]")
_NAMED_EMAIL = re.compile(r"^(?P<name>[^<>]*?)\s*<(?P<email>[^<>]+)>$")


@dataclass(frozen=True)
class RowError(FieldError):
    """A problem with one row (line) of the file, or with the file itself (line None)."""

    line: int | None = None

    def __str__(self) -> str:
        where = _("line %(line)d", line=self.line) if self.line else _("the file")
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


@dataclass
class Table:
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line, column → trimmed text), blank rows left out


@dataclass
class MatterRow:
    """One row's values, checked on their own. `values` holds the file's plain fields as the
    matter stores them (only the columns the file has); the people, the client, the type and
    the department are names still to be found."""

    line: int
    reference: str
    values: dict[str, Any] = field(default_factory=dict)
    client: PersonData | None = None
    staff: dict[str, PersonData | None] = field(default_factory=dict)
    team: list[PersonData] | None = None
    matter_type: str | None = None
    department: str | None = None


# --- reading the file ------------------------------------------------------------------------


def _file_error(message: str) -> ImportRejected:
    return ImportRejected([RowError("", message)])


def read_table(path: str | Path) -> Table:
    """The sheet as text: a CSV (UTF-8) or the first sheet of an XLSX workbook."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as error:
        raise _file_error(_("cannot read %(path)s: %(reason)s", path=str(path),
                            reason=error.strerror)) from None
    if size > MAX_FILE_BYTES:
        raise _file_error(_("larger than %(count)d bytes", count=MAX_FILE_BYTES))
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        lines = _xlsx_lines(path)
    elif suffix == ".csv":
        lines = _csv_lines(path)
    else:
        raise _file_error(_("the file must end in .csv or .xlsx"))
    return _table(lines)


def _csv_lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _file_error(_("not UTF-8 text: in Excel, save it as \"CSV UTF-8\"")) from None
    first = text.split("\n", 1)[0]
    delimiter = next((d for d in ("\t", ";") if "," not in first and d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    lines, last = [], 0
    try:
        for cells in reader:
            lines.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as error:
        raise _file_error(_("not a readable CSV file near line %(line)d: %(reason)s",
                            line=reader.line_num, reason=str(error))) from None
    return lines


def _xlsx_lines(path: Path) -> list[tuple[int, list[str]]]:
    from zipfile import BadZipFile

    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError, ValueError):
        raise _file_error(_("not a readable XLSX workbook")) from None
    try:
        sheet = workbook.worksheets[0]
        return [(number, [_cell_text(value) for value in row])
                for number, row in enumerate(sheet.iter_rows(min_row=1, values_only=True),
                                             start=1)]
    finally:
        workbook.close()


def _cell_text(value: Any) -> str:
    """A spreadsheet's cell as the text a CSV would hold: dates as YYYY-MM-DD, whole numbers
    without a decimal point."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else str(Decimal(repr(value)))
    return str(value)


def _table(lines: list[tuple[int, list[str]]]) -> Table:
    lines = [(number, [cell.strip() for cell in cells]) for number, cells in lines]
    lines = [(number, cells) for number, cells in lines if any(cells)]
    if not lines:
        raise _file_error(_("the file is empty: its first line names the columns"))
    header_line, header = lines[0]
    columns = [name.lower().replace(" ", "_") for name in header]
    errors = [RowError(name, _("unknown column (see docs/matters-import.md)"), header_line)
              for name in columns if name and name not in COLUMNS]
    errors += [RowError(name, _("the column appears twice"), header_line)
               for name in sorted({n for n in columns if n and columns.count(n) > 1})]
    errors += [RowError(name, _("required column missing"), header_line)
               for name in REQUIRED_COLUMNS if name not in columns]
    if "closed_on" in columns and "status" not in columns:
        errors.append(RowError("status", _("closed_on goes with status: add the column status"),
                               header_line))
    if ("fees_agreed" in columns) != ("fees_paid" in columns):
        errors.append(RowError("fees_agreed" if "fees_agreed" not in columns else "fees_paid",
                               _("fees_agreed and fees_paid go together: add the other column"),
                               header_line))
    errors += [RowError(name, _("goes with fees_agreed and fees_paid: add those columns"),
                        header_line)
               for name in FEE_DETAIL_COLUMNS
               if name in columns and "fees_agreed" not in columns]
    if errors:
        raise ImportRejected(errors)
    rows = []
    for number, cells in lines[1:]:
        extra = [cell for cell in cells[len(columns):] if cell]
        values = {name: cells[i] if i < len(cells) else ""
                  for i, name in enumerate(columns) if name}
        if extra:
            values["(extra)"] = str(len(cells))
        rows.append((number, values))
    return Table([c for c in columns if c], rows)


# --- checking one row on its own -------------------------------------------------------------


def _staff_cell(check: Checker, text: str, column: str) -> PersonData | None:
    """A staff member as a cell names them: `name`, `email` or `name <email>`."""
    match = _NAMED_EMAIL.match(text)
    name, email = (match["name"], match["email"]) if match else (
        ("", text) if "@" in text else (text, None))
    name = check.text(name, column, max_len=100) or ""
    email = check.email(email, column) if email is not None else None
    if name or email:
        return PersonData(name=name, email=email)
    return None


def _team(check: Checker, text: str) -> list[PersonData]:
    people = [_staff_cell(check, part.strip(), "team") for part in TEAM_SEPARATORS.split(text)
              if part.strip()]
    if len(people) > TEAM_MAX:
        check.fail("team", _("A team has at most %(max)d members.", max=TEAM_MAX))
    return [person for person in people if person is not None]


def _day(check: Checker, text: str, column: str, *, required: bool = False) -> date | None:
    if not text:
        if required:
            check.fail(column, _("is required"))
        return None
    day = check.day(text, column)
    if day is not None and day > clock.today():
        check.fail(column, _("is in the future"))
    elif day is not None and day < EARLIEST:
        check.fail(column, _("is before %(day)s", day=EARLIEST.isoformat()))
    return day


def _money(check: Checker, text: str, column: str) -> Decimal | None:
    """As the matter's form reads an amount (services/prevention/fees.py)."""
    errors = FieldErrors()
    amount = fees.money(text, column, errors)
    for message in errors.errors.get(column, []):
        check.fail(column, message)
    return amount


def _interval(check: Checker, text: str) -> int | None:
    if not text:
        return None
    if not text.isdigit() or not 1 <= int(text) <= INTERVAL_MAX:
        check.fail("report_interval_days", _("must be a whole number of days from 1 to %(max)d",
                                             max=INTERVAL_MAX))
        return None
    return int(text)


def _status(check: Checker, row: dict[str, str], values: dict[str, Any],
            opened_on: date | None) -> None:
    if "status" not in row:
        return
    status = check.choice(row["status"] or MatterStatus.OPEN.value, "status",
                          [s.value for s in MatterStatus])
    closed_on = _day(check, row.get("closed_on", ""), "closed_on")
    values.update(status=status, closed_on=closed_on)
    if status == MatterStatus.OPEN and closed_on is not None:
        check.fail("closed_on", _("is only given for a closed or archived matter"))
    elif status is not None and status != MatterStatus.OPEN and closed_on is None:
        check.fail("closed_on", _("is required for a closed or archived matter"))
    if closed_on and opened_on and closed_on < opened_on:
        check.fail("closed_on", _("is before opened_on"))


def _fees(check: Checker, row: dict[str, str], parsed: MatterRow) -> None:
    if "fees_agreed" not in row:
        return
    agreed = _money(check, row["fees_agreed"], "fees_agreed")
    paid = _money(check, row["fees_paid"], "fees_paid")
    parsed.values.update(fees_agreed=agreed, fees_paid=paid)
    if "fees_currency" in row:
        currency = (row["fees_currency"] or "CNY").upper()
        if not fees.CURRENCY.fullmatch(currency):
            check.fail("fees_currency", _("A currency is three letters, for example CNY or GBP."))
        parsed.values["fees_currency"] = currency
    reason = check.text(row.get("fees_excess_reason"), "fees_excess_reason",
                        max_len=fees.REASON_MAX, multiline=True)
    confirmed = row.get("fees_excess_confirmed_by") or ""
    confirmer = _staff_cell(check, confirmed, "fees_excess_confirmed_by") if confirmed else None
    excess = agreed is not None and paid is not None and paid > agreed
    if excess:
        for column, given in (("fees_excess_reason", reason), ("fees_excess_confirmed_by",
                                                               confirmer)):
            if not given:
                check.fail(column, _("is required when fees_paid is above fees_agreed (a "
                                     "partner's confirmation, with a reason)"))
    else:
        for column, given in (("fees_excess_reason", reason),
                              ("fees_excess_confirmed_by", confirmed)):
            if given:
                check.fail(column, _("is only given when fees_paid is above fees_agreed"))
    parsed.values["fees_excess_reason"] = reason if excess else None
    parsed.staff["fees_excess_confirmed_by"] = confirmer if excess else None


def parse_row(line: int, row: dict[str, str]) -> tuple[MatterRow, list[RowError]]:
    """Check one row's values on their own; the errors name the row's line and column."""
    check = Checker()
    if "(extra)" in row:
        check.fail("", _("has more values than the first line has columns"))
    # As the portal writes them (services/prevention/matters.py): a reference without spaces
    # in capitals, titles and case numbers with their spaces folded.
    reference = "".join(row["reference"].split()).upper()
    if not reference:
        check.fail("reference", _("is required"))
    elif not REFERENCE.fullmatch(reference):
        check.fail("reference", _("A matter number is 1 to 40 letters, digits, dots, dashes "
                                  "or underscores, for example M-2026-0101."))
    parsed = MatterRow(line=line, reference=reference)
    parsed.values["title"] = check.text(line_of(row["title"]), "title", max_len=TITLE_MAX,
                                        required=True)
    if "case_number" in row:
        parsed.values["case_number"] = check.text(line_of(row["case_number"]), "case_number",
                                                  max_len=CASE_NUMBER_MAX)
    name = check.text(row["client"], "client", max_len=100, required=True)
    email = check.email(row.get("client_email") or None, "client_email")
    id_number = check.text(row.get("client_id_number"), "client_id_number", max_len=40)
    parsed.client = PersonData(name=name, email=email, id_number=id_number) if name else None
    parsed.matter_type = check.text(row["matter_type"], "matter_type", max_len=100,
                                    required=True)
    parsed.department = check.text(row["department"], "department", max_len=100,
                                   required=True)
    for column in ("responsible_lawyer", "partner"):
        parsed.staff[column] = _staff_cell(check, row[column], column) if row[column] else None
        if not row[column]:
            check.fail(column, _("is required"))
    if "team" in row:
        parsed.team = _team(check, row["team"])
    opened_on = _day(check, row["opened_on"], "opened_on", required=True)
    parsed.values["opened_on"] = opened_on
    _status(check, row, parsed.values, opened_on)
    if "report_interval_days" in row:
        parsed.values["report_interval_days"] = _interval(check, row["report_interval_days"])
    _fees(check, row, parsed)
    return parsed, [RowError(e.path, e.message, line) for e in check.errors]
