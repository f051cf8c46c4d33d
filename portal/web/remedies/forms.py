"""A remedies form as typed: values, the messages beside the fields and above the form, the
version it was loaded with (kept after a 409, so that a reload is needed)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import request
from flask_babel import gettext as _

from portal.services.intake.errors import ConflictError, IntakeError


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    conflict: str | None = None
    error: str | None = None
    version: int | None = None

    def value(self, name: str, default: object = "") -> str:
        return self.values.get(name, "" if default is None else str(default))

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    @property
    def refused(self) -> bool:
        return bool(self.errors or self.conflict or self.error)


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


def refused(state: FormState, error: Exception) -> FormState:
    """A 409 above the form, a rule beside the fields it names, anything else above."""
    if isinstance(error, ConflictError):
        state.conflict = error.message
    elif isinstance(error, IntakeError) and error.errors:
        for name, messages in error.errors.items():
            for message in messages:
                state.add(name, message)
    else:
        state.error = str(error)
    return state
