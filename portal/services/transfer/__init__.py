"""Importing complaints from JSON (how firms migrate from spreadsheets) and exporting them.

The format is documented in docs/import-format.md. An import is checked completely before
anything is written: first the shape and values of every field (`parse`), then what the file
refers to in the database (`importing`: staff, matter, client). Any problem rejects the whole
file with messages that name the field (`complainant.email: not a valid email address`).
`exporting` writes the same format back out.
"""

from portal.services.transfer.exporting import export_complaint, find, record_export
from portal.services.transfer.importing import find_by_external_id, import_complaint
from portal.services.transfer.parse import (
    FORMAT,
    FieldError,
    ImportData,
    ImportRejected,
    ImportResult,
    load_json,
    parse,
)

__all__ = [
    "FORMAT", "FieldError", "ImportData", "ImportRejected", "ImportResult", "export_complaint",
    "find", "find_by_external_id", "import_complaint", "load_json", "parse", "record_export",
]
