"""What the decision's routes share: a form's state as typed (values, errors, a 409's
message), reading dates and the posted version, and the area's answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from flask import Response, request
from flask_babel import gettext as _

from portal.services.intake.errors import ConflictError, IntakeError
from portal.web.findings.common import area_answer, override, overrides

__all__ = ["FormState", "area_answer", "override", "overrides", "posted_date", "refused_state",
           "text"]


@dataclass
class FormState:
    """A form shown again: what was typed, the messages beside the fields and above the form,
    and the version it was loaded with (kept after a 409, so that a reload is needed)."""

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


def text(name: str) -> str:
    return request.form.get(name, "")


def posted_date(name: str, state: FormState) -> date | None:
    """A date field as typed (YYYY-MM-DD); a mistyped one is named beside its field."""
    raw = text(name).strip()
    state.values[name] = raw
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        state.add(name, _("“%(value)s” is not a date: use the form YYYY-MM-DD.",
                          value=raw[:40]))
        return None


def refused_state(state: FormState, error: Exception) -> FormState:
    """Put a refusal on the form: a 409 above it, a rule beside the fields it names."""
    if isinstance(error, ConflictError):
        state.conflict = error.message
    elif isinstance(error, IntakeError) and error.errors:
        for name, messages in error.errors.items():
            for message in messages:
                state.add(name, message)
    else:
        state.error = str(error)
    return state


def answer(template: str, context, complaint, status: int = 200) -> Response:
    return area_answer(template, context, complaint, status=status,
                       trigger="complaint-changed" if status == 200 else None,
                       redirect=status == 200)
