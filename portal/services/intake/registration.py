"""Registration: the reference number, the first-response deadline, the acknowledgement; and
the record's emails sent again on request."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.i18n import join_list
from portal.models.complaint import Complaint, ReferenceCounter, State
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import User
from portal.services import audit
from portal.services.calendar import LOCAL_TZ
from portal.services.intake.completeness import SECTION_LABELS, missing_sections, unmailable
from portal.services.intake.errors import IntakeError
from portal.services.intake.record import cancel_open_links, flush, touch


def _insert(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


def next_reference(year: int) -> str:
    """Take the next number of the year, holding the counter row until commit.

    SQLite: every write transaction starts with BEGIN IMMEDIATE, so registrations queue up.
    PostgreSQL: the row is created if missing (ON CONFLICT DO NOTHING waits for a racing
    insert to commit) and then locked with SELECT ... FOR UPDATE until this transaction ends.
    """
    dialect = db.session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        statement = _insert(dialect)(ReferenceCounter).values(year=year, last_number=0)
        db.session.execute(statement.on_conflict_do_nothing(index_elements=["year"]))
    else:  # pragma: no cover - other databases are not supported targets
        if db.session.get(ReferenceCounter, year) is None:
            db.session.add(ReferenceCounter(year=year, last_number=0))
            db.session.flush()
    counter = db.session.execute(
        select(ReferenceCounter).where(ReferenceCounter.year == year).with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if counter.last_number >= 99_999:
        raise IntakeError(_("No reference numbers are left for %(year)d.", year=year))
    counter.last_number += 1
    db.session.flush()
    return f"TS-{year}-{counter.last_number:05d}"


def register(actor: User | None, complaint: Complaint, *, working_days: int) -> Complaint:
    """Give the complaint its reference and deadline (`working_days` after it was received:
    the FIRST_RESPONSE_WORKING_DAYS setting) and queue the acknowledgement."""
    from portal.services import deadlines, notices

    problems = registration_problems(complaint)
    if problems:
        raise IntakeError(" ".join(problems))
    if not 1 <= working_days <= 3:
        raise RuntimeError("FIRST_RESPONSE_WORKING_DAYS must be 1, 2 or 3")
    now = clock.now()
    cancel_open_links(complaint)
    complaint.reference = next_reference(now.astimezone(LOCAL_TZ).year)
    complaint.state = State.REGISTERED.value
    complaint.registered_at = now
    deadline = deadlines.start_first_response_clock(complaint, working_days)
    touch(complaint)
    flush()
    audit.record("complaint.registered", actor=actor, obj=complaint, details={
        "reference": complaint.reference,
        "first_response_due": deadline.due.isoformat(),
        "provisional": deadline.provisional,
        "working_days": working_days,
    })
    notices.queue_acknowledgement(actor, complaint)
    return complaint


def registration_problems(complaint: Complaint) -> list[str]:
    """Why this complaint cannot be registered yet, in words for the receptionist."""
    if not complaint.is_draft:
        return [_("This complaint is already registered as %(reference)s.",
                  reference=complaint.reference or "")]
    problems = []
    missing = missing_sections(complaint)
    if missing:
        names = join_list(SECTION_LABELS[s] for s in missing)
        problems.append(_("Complete these sections first: %(sections)s.", sections=names))
    if complaint.needs_verification:
        problems.append(_("This complaint came in through the online form: check it and mark "
                          "it as verified first."))
    if unmailable(complaint.complainant):
        problems.append(_("The complainant's name or email address cannot be used in an "
                          "email (a line break, or an address our mail cannot reach): "
                          "correct the complainant section first."))
    if not complaint.is_confirmed:
        problems.append(_("The client has not confirmed the read-back. Read the key points "
                          "back and record their confirmation (in person, by phone or "
                          "through an emailed link), or ask a partner to override with a "
                          "reason."))
    return problems


def mail_for(complaint: Complaint, message_id: int) -> OutboxMessage | None:
    message = db.session.get(OutboxMessage, message_id)
    return message if message is not None and message.complaint_id == complaint.id else None


def resend_mail(actor: User, complaint: Complaint, message: OutboxMessage) -> OutboxMessage:
    from portal.services import outbox

    if message.complaint_id != complaint.id:
        raise IntakeError(_("This email does not belong to this complaint."))
    if message.status not in (OutboxStatus.SENT.value, OutboxStatus.DEAD.value):
        raise IntakeError(_("This email is still waiting to be sent."))
    if complaint.anonymized_at is not None:
        raise IntakeError(_("This complaint was anonymized: its emails are not sent again."))
    return outbox.resend(actor, message)
