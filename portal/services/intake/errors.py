"""Intake's domain errors: a rule said no, someone else saved first, a link that is spent."""

from __future__ import annotations

from flask_babel import gettext as _


class IntakeError(Exception):
    """A rule said no. `message` is translated; `errors` maps field names to messages."""

    def __init__(self, message: str, *, field: str | None = None,
                 errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(str(message))
        self.message = str(message)
        self.field = field
        self.errors = errors if errors is not None else ({field: [self.message]} if field else {})

    def __str__(self) -> str:
        return self.message


class ConflictError(IntakeError):
    """Someone else saved the record after this page loaded it (optimistic locking)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or _(
            "Someone else saved this complaint after you opened it, so your changes were not "
            "saved. What you typed is still on screen: copy what you need, then reload the "
            "page to see the latest version."
        ))


class LinkUnavailable(IntakeError):
    """A confirmation link that was used, cancelled or expired."""


class FieldErrors:
    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, name: str, message: str) -> None:
        self.errors.setdefault(name, []).append(str(message))

    def raise_if_any(self) -> None:
        if self.errors:
            first = next(iter(self.errors.values()))[0]
            raise IntakeError(first, errors=self.errors)

