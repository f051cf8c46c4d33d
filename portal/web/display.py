"""Labels the staff pages show instead of stored codes, and short excerpts of records."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.models.complaint import REMEDY_LABELS

# What the public form's raw payload fields are called, for the verification panel.
PAYLOAD_LABELS = {
    "name": _l("Name"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "language": _l("Preferred language"),
    "lawyers": _l("Lawyer(s) named"),
    "matter": _l("Matter or case number given"),
    "narrative": _l("What happened"),
    "occurred_on": _l("When"),
    "place": _l("Where"),
    "remedies": _l("What the client wants"),
    "remedy_details": _l("Details"),
    "consent": _l("Privacy notice accepted"),
}
# Language names are written in their own script, as the public form offers them.
CLIENT_LANGUAGES = {"zh": "中文", "en": "English"}
EXCERPT_LENGTH = 60


def label_of(labels: dict, code: str) -> str:
    """The translated label of a stored code, or the code itself when it is unknown."""
    for key, label in labels.items():
        if key == code:
            return str(label)
    return code


def _payload_value(name: str, value: Any) -> str:
    if name == "remedies":
        codes = value if isinstance(value, list) else [value]
        from portal.i18n import join_list

        return join_list(label_of(REMEDY_LABELS, str(code)) for code in codes if code)
    if not isinstance(value, str):
        return str(value)
    if name == "language":
        return CLIENT_LANGUAGES.get(value, value)
    if name == "consent":
        return _("Yes") if value else _("No")
    return value


def submission_rows(payload: dict | None) -> list[tuple[str, str]]:
    """(label, value) for each field of an online submission, codes shown as their labels;
    what the visitor typed as text stays exactly as typed."""
    rows = []
    for name, value in (payload or {}).items():
        label = label_of(PAYLOAD_LABELS, name) if name in PAYLOAD_LABELS else name
        rows.append((label, _payload_value(name, value)))
    return rows


def excerpt(text: str | None, length: int = EXCERPT_LENGTH) -> str:
    """The start of a narrative on one line, cut at `length` characters with an ellipsis."""
    line = " ".join((text or "").split())
    return line if len(line) <= length else line[: length - 1].rstrip() + "…"
