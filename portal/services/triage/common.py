"""What the triage verbs share: their error, the version check and tidy free text."""

from __future__ import annotations

from flask_babel import gettext as _

from portal import clock
from portal.models.complaint import INVESTIGATION_STATES, Complaint
from portal.services.intake.errors import ConflictError, IntakeError

REASON_MAX = 2000
TEXT_MAX = 4000


class TriageError(IntakeError):
    """A rule of triage, closure, withdrawal, allegations, conflicts or assignment said no
    (422); the message is translated and `errors` maps form fields to messages."""


class StaleVersion(ConflictError):
    """The page was loaded before someone else changed the complaint (409)."""

    def __init__(self) -> None:
        super().__init__(_("Someone else changed this complaint after you opened it, so "
                           "nothing was saved. What you typed is still on screen: reload the "
                           "page to see the latest version, then try again."))


def check_version(complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise StaleVersion()


def touch(complaint: Complaint) -> None:
    """A change to the complaint's aggregate moves its version (optimistic locking), so a
    page loaded before it is refused."""
    complaint.updated_at = clock.now()


def text_of(value: str | None) -> str:
    """Free text as typed, without leading or trailing blank lines."""
    return (value or "").strip()


def required_text(value: str | None, *, field: str, missing: str, limit: int) -> str:
    text = text_of(value)
    if not text:
        raise TriageError(missing, field=field)
    if len(text) > limit:
        raise TriageError(_("At most %(max)d characters.", max=limit), field=field)
    return text


def in_investigation(complaint: Complaint) -> bool:
    """Triaged or investigating, and the findings not submitted yet."""
    return complaint.state in INVESTIGATION_STATES and complaint.findings_submitted_at is None
