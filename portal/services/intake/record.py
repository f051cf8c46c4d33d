"""What every intake verb shares: cleaning values, the draft and version checks, and
withdrawing a confirmation when the content it confirmed changes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint, ConfirmationLink
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

ID_MAX = 2**63 - 1  # PostgreSQL's BIGINT, SQLite's INTEGER


def local_today() -> date:
    return clock.now().astimezone(LOCAL_TZ).date()


def clean_text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def as_date(value: Any, name: str, errors: FieldErrors) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        errors.add(name, _("Enter a date such as 2026-03-01."))
        return None


def as_moment(value: Any, name: str, errors: FieldErrors) -> datetime | None:
    if value in (None, ""):
        return None
    moment = value
    if not isinstance(value, datetime):
        try:
            moment = datetime.fromisoformat(str(value))
        except ValueError:
            errors.add(name, _("Enter a date and time."))
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=LOCAL_TZ)  # what the receptionist's clock said
    return moment


def row_id(value: Any) -> int | None:
    """A value that can be a row's id: a database integer holds at most 2**63 - 1, and a
    larger one would end in an OverflowError inside the driver (a 500), not a "not found"."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 0 < number <= ID_MAX else None


def as_ids(values: Any) -> list[int]:
    ids: list[int] = []
    for value in values or []:
        try:
            number = int(value)
        except (TypeError, ValueError):
            continue
        if number not in ids:
            ids.append(number)
    return ids


def flush() -> None:
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError() from None


def require_draft(complaint: Complaint) -> None:
    if not complaint.is_draft:
        raise IntakeError(_("This complaint is registered: its intake record can no longer "
                            "be changed here."))


def check_version(complaint: Complaint, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != complaint.version:
        raise ConflictError()


def touch(complaint: Complaint) -> None:
    """Mark the row changed so that its version moves on (association rows alone do not)."""
    complaint.updated_at = clock.now()


def withdraw_confirmation(complaint: Complaint) -> None:
    """The content changed: an earlier confirmation and any unanswered link no longer hold."""
    complaint.confirmed_at = None
    complaint.confirmation_method = None
    complaint.confirmed_by = None
    complaint.confirmation_override_reason = None
    cancel_open_links(complaint)


def cancel_open_links(complaint: Complaint) -> None:
    if complaint.id is None:
        return
    with db.session.no_autoflush:  # one UPDATE of the complaint (one new version) per change
        db.session.execute(
            update(ConfirmationLink)
            .where(ConfirmationLink.complaint_id == complaint.id,
                   ConfirmationLink.used_at.is_(None))
            .values(used_at=clock.now(), outcome="cancelled")
            .execution_options(synchronize_session="fetch")
        )

