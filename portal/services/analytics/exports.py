"""The rows behind /analytics: one row per complaint the figures count, as CSV or XLSX.

Columns: reference, month and day received, channel, categories, department, severity, root
causes, the acknowledgement's day and whether it was on time, the first-response due day and
whether it was met on time, the first decision's and the closing day, the working days to
acknowledge, decide and close, and the latest satisfaction score. Headers and codes are in the
reader's language; no client's name or words, only the firm's own labels.

Two statements whatever the number of rows: the root causes of the set (kept as ids per
complaint, a few bytes each), then the rows, read in batches as they are written. CSV starts
with a byte-order mark so that Excel reads it as UTF-8. A text cell that a spreadsheet would
take for a formula (=, +, -, @) is written with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date

from flask_babel import gettext as _
from openpyxl import Workbook
from sqlalchemy import select

from portal.db import db
from portal.models.followup import ComplaintRootCause
from portal.models.user import User
from portal.services.analytics import facts, figures
from portal.services.analytics.charts import Names
from portal.services.analytics.filters import Criteria

BOM = "\ufeff"
BATCH = 1000
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def headers() -> list[str]:
    return [_("Reference"), _("Month received"), _("Received on"), _("Channel"),
            _("Categories"), _("Department"), _("Severity"), _("Root causes"),
            _("Acknowledged on"), _("Acknowledgement"), _("First response due"),
            _("First response"), _("First decided on"), _("Closed on"),
            _("Working days to acknowledge"), _("Working days to decide"),
            _("Working days to close"), _("Satisfaction (1-5)")]


def _query(viewer: User | None, criteria: Criteria, today: date):
    rows = facts.base(viewer, criteria.conditions(), today, spans=True).subquery("facts")
    return select(rows).order_by(rows.c.received_at, rows.c.id)


def _causes(viewer: User | None, criteria: Criteria, today: date) -> dict[int, list[str]]:
    rows = facts.base(viewer, criteria.conditions(), today).subquery("facts")
    found: dict[int, list[str]] = {}
    for complaint_id, cause_id in db.session.execute(
            select(ComplaintRootCause.complaint_id, ComplaintRootCause.root_cause_id)
            .join(rows, rows.c.id == ComplaintRootCause.complaint_id)
            .order_by(ComplaintRootCause.complaint_id, ComplaintRootCause.id)):
        found.setdefault(complaint_id, []).append(str(cause_id))
    return found


def lines(viewer: User | None, criteria: Criteria, today: date, names: Names
          ) -> Iterator[list]:
    """The header, then one list of cell values per complaint (dates as dates, numbers as
    numbers, labels as text)."""
    yield headers()
    figures.without_jit()
    causes = _causes(viewer, criteria, today)
    separator = names.words.get("list_separator", ", ")
    result = db.session.execute(_query(viewer, criteria, today)
                                .execution_options(yield_per=BATCH))
    for row in result:
        yield [
            row.reference, row.month, _day(row.received_day), names.of("channel", row.channel),
            separator.join(names.of("category", c) for c in row.categories or []),
            names.of("department", _text(row.department_id)), names.of("severity", row.severity),
            separator.join(names.of("root_cause", c) for c in causes.get(row.id, [])),
            _day(row.ack_day), names.of("status", row.ack_status), _day(row.due),
            names.of("status", row.response_status), _day(row.decided_day),
            _day(row.closed_day), row.acknowledge_days, row.decide_days, row.close_days,
            row.satisfaction,
        ]


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _day(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(_safe(value))


def csv_chunks(rows: Iterable[list]) -> Iterator[str]:
    """CSV text in chunks of about BATCH rows, the first one starting with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    for count, row in enumerate(rows, start=1):
        writer.writerow([_cell(value) for value in row])
        if count % BATCH == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def xlsx_bytes(rows: Iterable[list], title: str) -> bytes:
    """A workbook of one sheet (openpyxl's write-only mode: rows are not kept)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    for row in rows:
        sheet.append([_safe(value) for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
