"""Notices for a client without an email address: printed for post, and the day each was
posted recorded.

Every client notice is stored as a PDF (`services/notices.py`); one for a client without an
email address has `delivery = "post"` and is printed from the case file, in its print-for-post
version (the client's name and postal address in the window of a DL envelope). Registration
queues no acknowledgement email for such a client and records that it goes by post
("notice.post_required"); the acknowledgement is then rendered on request from the case file,
outside any transaction, and stored in a short write. The outcome notice is stored for post
when it is issued (`services/resolution/outcome.py`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import exists, select

from portal import clock
from portal.db import db
from portal.documents import for_post
from portal.models.complaint import Complaint
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage
from portal.models.user import Role, User
from portal.services import audit, notices
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.triage.common import check_version

POST = "post"
EMAIL = "email"
ACKNOWLEDGEMENT = "acknowledgement"
POSTING_ROLES = (Role.RECEPTIONIST, Role.PARTNER)


class PostError(IntakeError):
    """A rule about posted notices said no (422)."""


def has_email(complaint: Complaint) -> bool:
    client = complaint.complainant
    return client is not None and bool((client.email or "").strip())


def postal_address(complaint: Complaint) -> str | None:
    client = complaint.complainant
    return ((client.address or "").strip() or None) if client is not None else None


def delivery_for(complaint: Complaint) -> str:
    return EMAIL if has_email(complaint) else POST


def require_address(complaint: Complaint) -> str:
    """The postal address a notice is printed for; refused (with why) when there is none."""
    address = postal_address(complaint)
    if address is None:
        raise PostError(_("The client has no email address and no postal address on record, "
                          "so the notice can neither be emailed nor posted: record the "
                          "client's address in the complainant section first."))
    return address


def may_post(user: User, complaint: Complaint) -> bool:
    """Intake staff and partners print notices for post and record when they were posted."""
    return user.has_role(*POSTING_ROLES) and complaint.can_view(user)


def post_notices(complaint: Complaint) -> list[Notice]:
    return list(db.session.scalars(
        select(Notice).where(Notice.complaint_id == complaint.id, Notice.delivery == POST)
        .order_by(Notice.created_at, Notice.id)))


def acknowledgement_owed(complaint: Complaint) -> bool:
    """Registered for a client without an email address, and the acknowledgement neither
    emailed nor printed yet."""
    if complaint.registered_at is None or complaint.reference is None or has_email(complaint):
        return False
    issued = db.session.scalar(select(
        exists().where(Notice.complaint_id == complaint.id, Notice.kind == ACKNOWLEDGEMENT)
        | exists().where(OutboxMessage.complaint_id == complaint.id,
                         OutboxMessage.kind == ACKNOWLEDGEMENT)))
    return not issued


def acknowledgement_context(complaint: Complaint) -> dict:
    """The acknowledgement's print-for-post context, read before the PDF is rendered."""
    context = notices.context_for(complaint, ACKNOWLEDGEMENT)
    return for_post(context, require_address(complaint))


def render(kind: str, context: Mapping) -> bytes:
    """The PDF from its context; touches no database (call it with no transaction open)."""
    return notices.render_context(kind, dict(context))


def store_acknowledgement(actor: User, complaint: Complaint, pdf: bytes, *,
                          expected_version: int) -> Notice:
    """Store the acknowledgement printed for post (the page it came from must be current)."""
    db.session.refresh(complaint, with_for_update=True)
    check_version(complaint, expected_version)
    if not may_post(actor, complaint):
        raise PostError(_("Only intake staff and partners print notices for post."))
    if not acknowledgement_owed(complaint):
        raise ConflictError(_("The acknowledgement was already printed or emailed: reload the "
                              "page."))
    require_address(complaint)
    return notices.store(complaint, ACKNOWLEDGEMENT, pdf, actor, delivery=POST)


def record_posted(actor: User, complaint: Complaint, notice_id: int, posted_on: date | None,
                  *, expected: str) -> Notice:
    """Record (or correct) the day a printed notice was posted. `expected` is the date the
    form showed ("" for none): someone else's record in between is refused (409)."""
    if not may_post(actor, complaint):
        raise PostError(_("Only intake staff and partners record when a notice was posted."))
    notice = db.session.get(Notice, notice_id, with_for_update=True, populate_existing=True)
    if notice is None or notice.complaint_id != complaint.id or notice.delivery != POST:
        raise PostError(_("This notice is not one to post."))
    previous = notice.posted_on.isoformat() if notice.posted_on else ""
    if previous != expected:
        raise ConflictError(_("Someone else recorded when this notice was posted after you "
                              "opened the page: reload it to see the date recorded."))
    if posted_on is None:
        raise PostError(_("Enter the day the notice was posted."), field="posted_on")
    issued_on = notice.created_at.astimezone(clock.LOCAL_TZ).date()
    if posted_on > clock.today():
        raise PostError(_("The day it was posted cannot be in the future."), field="posted_on")
    if posted_on < issued_on:
        raise PostError(_("The notice was printed on %(day)s: it cannot have been posted "
                          "before.", day=issued_on.isoformat()), field="posted_on")
    notice.posted_on = posted_on
    notice.posted_by_id = actor.id
    db.session.flush()
    audit.record("notice.posted", actor=actor, obj=complaint, details={
        "notice_id": notice.id, "kind": notice.kind, "version": notice.version,
        "posted_on": posted_on.isoformat(), "previous": previous or None})
    return notice

