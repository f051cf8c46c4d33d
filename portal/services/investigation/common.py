"""What the workspace's verbs share: who may use it, whether it is still open, and cleaning
the text and dates a form sends."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _

from portal import clock
from portal.models.complaint import INVESTIGATION_STATES, Complaint
from portal.models.user import User
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

TEXT_MAX = 20_000  # a statement, a note or a reply
PARTICIPANTS_MAX = 300  # the column's size


class WorkspaceError(IntakeError):
    """A rule of the workspace said no (422, the input kept)."""


class WorkspaceClosed(ConflictError):
    """The investigation ended after the page was loaded (409, the input kept)."""

    def __init__(self) -> None:
        super().__init__(_(
            "The investigation of this complaint is no longer open (its findings were "
            "submitted, or it was closed or withdrawn), so nothing more can be added here. "
            "What you typed is still on screen: copy what you need, then reload the page."))


def require_workspace(actor: User | None, complaint: Complaint) -> None:
    """The route answers 404 first; this holds for every other caller too."""
    if actor is None or not complaint.can_open_workspace(actor):
        raise WorkspaceError(_("Only the investigation's lead and investigators, and partners "
                               "with no conflict, may work on it."))


def require_open(complaint: Complaint) -> None:
    if complaint.state not in INVESTIGATION_STATES:
        raise WorkspaceClosed()


def clean_text(value: Any, field: str, errors: FieldErrors, *, missing: str,
               limit: int = TEXT_MAX) -> str | None:
    """The text without surrounding blanks; an error when it is empty or too long."""
    text = str(value or "").strip()
    if not text:
        errors.add(field, missing)
        return None
    if len(text) > limit:
        errors.add(field, _("At most %(max)d characters (this has %(count)d).",
                            max=limit, count=len(text)))
        return None
    return text


def past_date(value: Any, field: str, errors: FieldErrors, *, missing: str) -> date | None:
    """A date that is today or earlier (something that already happened)."""
    if not isinstance(value, date):
        errors.add(field, missing)
        return None
    if value > clock.today():
        errors.add(field, _("This date is in the future. Enter the day it happened."))
        return None
    return value
