"""A respondent's written reply, asked for by email with a signed, expiring link.

The token signs the ReplyRequest's nonce (itsdangerous on the portal's clock), so the link
names one request: it can be opened as often as needed until the reply is submitted, once.
The reply page shows only the allegations concerning that respondent and the due date. A
lawyer without a login replies the same way. The reply becomes a Statement (online_reply).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal import clock
from portal.clock import LOCAL_TZ, ClockSigner
from portal.db import db
from portal.models.complaint import INVESTIGATION_STATES, Complaint
from portal.models.investigation import (
    Allegation,
    Party,
    ReplyRequest,
    Statement,
    StatementMethod,
)
from portal.models.user import User
from portal.services import addresses, audit, outbox
from portal.services.intake.errors import FieldErrors, LinkUnavailable
from portal.services.investigation.common import (
    TEXT_MAX,
    clean_text,
    require_open,
    require_workspace,
)

REPLY_SALT = "redress.investigation.reply-link.v1"
MAIL_KIND = "reply_request"

# Subject, text and HTML of the request, from the request and its link's address.
ComposeEmail = Callable[[ReplyRequest, str], tuple[str, str, str]]


class LinkStatus(StrEnum):
    VALID = "valid"
    SUBMITTED = "submitted"  # the reply was sent: the link has done its work
    EXPIRED = "expired"
    CLOSED = "closed"  # the investigation is over
    UNKNOWN = "unknown"  # genuinely signed, but names no request
    INVALID = "invalid"  # forged or mangled


class ReplyUnavailable(LinkUnavailable):
    """The link cannot take a reply (any more); `status` says why."""

    def __init__(self, status: LinkStatus) -> None:
        super().__init__(_("This link can no longer be used to reply."))
        self.status = status


def _serializer(secret_key: str | bytes) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=REPLY_SALT, signer=ClockSigner)


def reply_token(request: ReplyRequest, secret_key: str | bytes) -> str:
    return _serializer(secret_key).dumps(request.nonce)


def _seconds(max_age: timedelta) -> int:
    return int(max_age.total_seconds())


def _by_nonce(nonce: Any) -> ReplyRequest | None:
    if not isinstance(nonce, str) or not nonce:
        return None
    return db.session.scalar(select(ReplyRequest).where(ReplyRequest.nonce == nonce))


def check_token(token: str, secret_key: str | bytes, max_age: timedelta
                ) -> tuple[LinkStatus, ReplyRequest | None]:
    """What a token is worth, and its request when the signature is genuine."""
    serializer = _serializer(secret_key)
    try:
        nonce = serializer.loads(token, max_age=_seconds(max_age))
    except SignatureExpired as expired:
        try:
            request = _by_nonce(serializer.load_payload(expired.payload))
        except BadSignature:
            request = None
        return LinkStatus.EXPIRED, request
    except BadSignature:
        return LinkStatus.INVALID, None
    request = _by_nonce(nonce)
    if request is None:
        return LinkStatus.UNKNOWN, None
    return status_of(request), request


def status_of(request: ReplyRequest) -> LinkStatus:
    if request.submitted_at is not None:
        return LinkStatus.SUBMITTED
    if request.expires_at <= clock.now():
        return LinkStatus.EXPIRED
    state = db.session.scalar(select(Complaint.state).where(Complaint.id == request.complaint_id))
    if state not in INVESTIGATION_STATES:
        return LinkStatus.CLOSED
    return LinkStatus.VALID


def allegations_for(request: ReplyRequest) -> list[Allegation]:
    """What the reply page shows: the allegations concerning this respondent, nothing else."""
    return list(db.session.scalars(
        select(Allegation)
        .where(Allegation.complaint_id == request.complaint_id,
               Allegation.respondent_id == request.respondent_id)
        .order_by(Allegation.number)))


def reference_of(request: ReplyRequest) -> str:
    """The complaint's reference, which the reply page and the email may name."""
    return db.session.scalar(
        select(Complaint.reference).where(Complaint.id == request.complaint_id)) or ""


def last_day(max_age: timedelta) -> date:
    """The last due date a link sent now can carry: the day it stops working."""
    return (clock.now() + max_age).astimezone(LOCAL_TZ).date()


def request_reply(actor: User, complaint: Complaint, *, respondent_id: int | None,
                  due_on: date | None, max_age: timedelta, secret_key: str | bytes,
                  link_url: Callable[[str], str], compose: ComposeEmail) -> ReplyRequest:
    """Email a respondent a link to reply in writing by `due_on` (audited as
    reply.requested; the email goes through the outbox in the respondent's language)."""
    require_workspace(actor, complaint)
    require_open(complaint)
    errors = FieldErrors()
    respondent = next((r for r in complaint.respondents if r.id == respondent_id), None)
    if respondent is None:
        errors.add("respondent_id", _("Choose which of the complaint's respondents should "
                                      "reply."))
    elif not _mailable(respondent):
        errors.add("respondent_id", _("No usable email address is recorded for %(name)s. "
                                      "Record their statement by interview or in writing "
                                      "instead, or ask a partner to add the address.",
                                      name=respondent.name))
    _check_due(due_on, max_age, errors)
    if respondent is not None and not errors.errors:
        _check_not_pending(complaint, respondent, errors)
    errors.raise_if_any()
    request = ReplyRequest(complaint_id=complaint.id, respondent_id=respondent.id,
                           nonce=secrets.token_urlsafe(32), due_on=due_on,
                           expires_at=clock.now() + max_age, requested_by_id=actor.id)
    db.session.add(request)
    db.session.flush()
    subject, text, html = compose(request, link_url(reply_token(request, secret_key)))
    outbox.queue(kind=MAIL_KIND, recipient=respondent.email,
                 recipient_name=re.sub(r"[\r\n\t]+", " ", respondent.name)[:100],
                 subject=subject, body_text=text, body_html=html, complaint=complaint,
                 actor=actor)
    audit.record("reply.requested", actor=actor, obj=complaint, details={
        "reply_request_id": request.id, "respondent_id": respondent.id,
        "due_on": due_on.isoformat()})
    return request


def _mailable(user: User) -> bool:
    if not user.email or not addresses.is_single_line(user.name):
        return False
    try:
        addresses.normalise_address(user.email)
    except addresses.AddressError:
        return False
    return True


def _check_due(due_on: date | None, max_age: timedelta, errors: FieldErrors) -> None:
    if not isinstance(due_on, date):
        errors.add("due_on", _("Enter the date the reply is due."))
    elif due_on < clock.today():
        errors.add("due_on", _("The due date has passed. Choose today or a later day."))
    elif due_on > last_day(max_age):
        errors.add("due_on", _("The link works until %(day)s: choose a due date no later "
                               "than that.", day=last_day(max_age).isoformat()))


def _check_not_pending(complaint: Complaint, respondent: User, errors: FieldErrors) -> None:
    """One open request per respondent: a second link would allow a second reply."""
    pending = db.session.scalar(
        select(ReplyRequest)
        .where(ReplyRequest.complaint_id == complaint.id,
               ReplyRequest.respondent_id == respondent.id,
               ReplyRequest.submitted_at.is_(None), ReplyRequest.expires_at > clock.now())
        .limit(1))
    if pending is not None:
        errors.add("respondent_id", _(
            "%(name)s already has a link to reply, due on %(due)s and working until %(until)s. "
            "If the email went astray, send it again from the case timeline.",
            name=respondent.name, due=pending.due_on.isoformat(),
            until=pending.expires_at.astimezone(LOCAL_TZ).date().isoformat()))


def submit_reply(request: ReplyRequest, text: str | None) -> Statement:
    """The respondent's reply, through the link: recorded once, as a statement (audited as
    reply.submitted). A link already used, expired or closed raises ReplyUnavailable."""
    errors = FieldErrors()
    text = clean_text(text, "text", errors, missing=_("Please write your reply."),
                      limit=TEXT_MAX)
    errors.raise_if_any()
    status = status_of(request)
    if status is not LinkStatus.VALID:
        raise ReplyUnavailable(status)
    now = clock.now()
    claimed = db.session.execute(
        update(ReplyRequest)
        .where(ReplyRequest.id == request.id, ReplyRequest.submitted_at.is_(None),
               ReplyRequest.expires_at > now)
        .values(submitted_at=now)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    if claimed != 1:  # submitted a moment ago (another tab, a double click)
        raise ReplyUnavailable(LinkStatus.SUBMITTED)
    statement = Statement(complaint_id=request.complaint_id, party=Party.RESPONDENT.value,
                          respondent_id=request.respondent_id, given_on=clock.today(),
                          method=StatementMethod.ONLINE_REPLY.value, text=text)
    db.session.add(statement)
    db.session.flush()
    request.statement_id = statement.id
    db.session.flush()
    audit.record("reply.submitted", actor_label="respondent", object_type="complaint",
                 object_id=request.complaint_id, details={
                     "reply_request_id": request.id, "statement_id": statement.id,
                     "respondent_id": request.respondent_id})
    return statement
