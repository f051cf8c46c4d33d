"""Interview notes: who met, when, and what was said, written by an investigator."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.investigation import InterviewNote
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import FieldErrors
from portal.services.investigation.common import (
    PARTICIPANTS_MAX,
    clean_text,
    past_date,
    require_open,
    require_workspace,
)


def record_note(actor: User, complaint: Complaint, *, held_on: date | None,
                participants: str | None, text: str | None) -> InterviewNote:
    """Record an interview note (audited as note.recorded; the text stays on the row)."""
    require_workspace(actor, complaint)
    require_open(complaint)
    errors = FieldErrors()
    held_on = past_date(held_on, "held_on", errors,
                        missing=_("Enter the date of the interview."))
    participants = clean_text(participants, "participants", errors,
                              missing=_("Name who took part."), limit=PARTICIPANTS_MAX)
    text = clean_text(text, "text", errors, missing=_("Write down what was said."))
    errors.raise_if_any()
    note = InterviewNote(complaint_id=complaint.id, held_on=held_on,
                         participants=participants, text=text, author_id=actor.id)
    db.session.add(note)
    db.session.flush()
    audit.record("note.recorded", actor=actor, obj=complaint, details={"note_id": note.id})
    return note
