"""A remedies form as typed: values, the messages beside the fields and above the form, the
version it was loaded with (kept after a 409, so that a reload is needed)."""

from __future__ import annotations

from datetime import date

from flask import request
from flask_babel import gettext as _

from portal.web.decision.common import FormState
from portal.web.decision.common import refused_state as refused

__all__ = ["FormState", "posted_date", "posted_id", "refused", "text"]


def text(name: str, state: FormState) -> str:
    value = request.form.get(name, "")
    state.values[name] = value
    return value


def posted_id(name: str, state: FormState) -> int | None:
    raw = text(name, state).strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError:
        return -1  # names nobody: the service refuses it beside the field


def posted_date(name: str, state: FormState) -> date | None:
    """A date field as typed (YYYY-MM-DD); a mistyped one is named beside its field."""
    raw = text(name, state).strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        state.add(name, _("“%(value)s” is not a date: use the form YYYY-MM-DD.",
                          value=raw[:40]))
        return None


