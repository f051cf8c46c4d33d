"""The first response to the client: a call or a meeting (with a summary), or the bilingual
progress notice sent by email. Recording it stops the first-response clock; a response after
the due day stays marked late. It is recorded once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal import clock
from portal.db import db
from portal.documents import render
from portal.models.complaint import INVESTIGATION_STATES, Complaint, State
from portal.models.deadline import DeadlineKind
from portal.models.investigation import FirstResponse, FirstResponseMethod
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import audit, calendar, deadlines, notices, outbox
from portal.services.intake.errors import ConflictError, FieldErrors, IntakeError

NOTICE_KIND = "progress"
RESPONDING_STATES = (State.REGISTERED, *INVESTIGATION_STATES)
SUMMARY_MAX = 4_000
NEXT_STEPS_MAX = 2_000


class FirstResponseError(IntakeError):
    """The first response as typed is refused (422, what was typed kept)."""


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise FirstResponseError(first, errors=errors.errors)


class AlreadyResponded(ConflictError):
    """The first response was recorded already (409)."""

    def __init__(self) -> None:
        super().__init__(_(
            "The first response to this client was already recorded, so this one was not. "
            "Reload the page to see it."))


@dataclass
class FirstResponseInput:
    method: str
    responded_at: datetime | None = None  # a call or meeting: when it took place
    summary: str = ""
    next_steps: str = ""
    next_contact_on: date | None = None


def _text(value: str, name: str, limit: int, errors: FieldErrors, missing: str | None) -> str:
    text = (value or "").strip()
    if not text and missing:
        errors.add(name, missing)
    elif len(text) > limit:
        errors.add(name, _("At most %(max)d characters (this has %(count)d).",
                           max=limit, count=len(text)))
    return text


def _when(complaint: Complaint, data: FirstResponseInput, now: datetime,
          errors: FieldErrors) -> datetime:
    if data.method == FirstResponseMethod.NOTICE:
        return now  # the notice is the response: it leaves now
    at = data.responded_at
    if at is None:
        errors.add("responded_at", _("Enter when the call or meeting took place."))
    elif at > now:
        errors.add("responded_at", _("This is in the future: enter when it took place."))
    elif complaint.received_at is not None and at < complaint.received_at:
        errors.add("responded_at", _("This is before the complaint was received."))
    return at or now


def _checked(complaint: Complaint, data: FirstResponseInput, now: datetime) -> FirstResponse:
    errors = FieldErrors()
    if data.method not in {m.value for m in FirstResponseMethod}:
        errors.add("method", _("Choose how the client was answered."))
    notice = data.method == FirstResponseMethod.NOTICE
    at = _when(complaint, data, now, errors)
    summary = _text(data.summary, "summary", SUMMARY_MAX, errors,
                    None if notice else _("Summarise what the client was told."))
    next_steps = _text(data.next_steps, "next_steps", NEXT_STEPS_MAX, errors,
                       _("Say what happens next: the notice tells the client.") if notice
                       else None)
    if notice and data.next_contact_on is None:
        errors.add("next_contact_on", _("Enter when the client will next hear from the firm."))
    elif data.next_contact_on is not None and data.next_contact_on < calendar.local_day(at):
        errors.add("next_contact_on", _("The next contact cannot be before this response."))
    client = complaint.complainant
    if notice and (client is None or not (client.email or "").strip()):
        errors.add("method", _("The client has no email address on record: record a call or "
                               "a meeting instead."))
    _refuse_if_any(errors)
    return FirstResponse(method=data.method, responded_at=at, summary=summary or None,
                         next_steps=next_steps or None, next_contact_on=data.next_contact_on)


def _queue_notice(actor: User, complaint: Complaint) -> OutboxMessage:
    """The progress notice email; the worker renders and stores the PDF when it sends it."""
    kind = notices.kind_of(NOTICE_KIND)
    context = notices.context_for(complaint, NOTICE_KIND)
    subject = " / ".join(f"{kind.subject[lang]} {context['reference']}"
                         for lang in context["languages"])
    client = complaint.complainant
    try:
        return outbox.queue(
            kind=NOTICE_KIND, recipient=client.email, recipient_name=client.name,
            subject=subject, body_text=render(f"emails/{kind.email}.txt", context),
            body_html=render(f"emails/{kind.email}.html", context), complaint=complaint,
            attachments=[{"notice_kind": NOTICE_KIND, "notice_id": None}], actor=actor)
    except outbox.OutboxError:
        raise FirstResponseError(_("The client's email address on record cannot receive "
                                   "mail: correct it, or record a call or a meeting."),
                                 field="method") from None


def record(actor: User, complaint: Complaint, data: FirstResponseInput) -> FirstResponse:
    """Record the first response (once), stop its clock, and queue the notice if that is
    how the client is answered."""
    db.session.refresh(complaint, with_for_update=True)
    if complaint.first_response is not None:
        raise AlreadyResponded()
    if complaint.state not in RESPONDING_STATES:
        raise ConflictError(_(
            "A first response can be recorded from registration until the findings are "
            "submitted, and this complaint has moved on. Reload the page to see where it "
            "stands."))
    if not complaint.may_respond_first(actor):
        raise FirstResponseError(_(
            "The first response is recorded by the person handling the complaint, its lead "
            "or a partner."))
    response = _checked(complaint, data, clock.now())
    response.recorded_by_id = actor.id
    response.recorded_at = clock.now()
    complaint.first_response = response
    try:
        db.session.flush()
    except IntegrityError:  # recorded at the same moment by someone else
        raise AlreadyResponded() from None
    row = deadlines.stop(complaint, DeadlineKind.FIRST_RESPONSE, at=response.responded_at)
    response.late = bool(row is not None and row.stopped_late)
    message = (_queue_notice(actor, complaint)
               if response.method == FirstResponseMethod.NOTICE else None)
    db.session.flush()
    audit.record("first_response.recorded", actor=actor, obj=complaint, details={
        "first_response_id": response.id, "method": response.method, "late": response.late,
        "message_id": message.id if message else None})
    return response
