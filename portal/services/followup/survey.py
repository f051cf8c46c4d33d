"""The client's satisfaction survey: a signed, single-use link to /s/<token>.

The token signs the call-back's id and a random nonce stored on it (itsdangerous on the
portal's clock, SURVEY_LINK_MAX_AGE); the call-back also keeps the day the link stops working
(`survey_expires_at`, set when it is scheduled), so a link signed again for the reminder or the
client's page never lives longer than the first. Answering claims the call-back with one
conditional UPDATE (open, not answered, same nonce), so a link used twice, or a survey and a
phone call at the same moment, change the call-back once. A used link, or one whose call-back
was settled by phone, answers 410; an expired one 410; a forged one 404.

The invitation is emailed when the call-back is scheduled (if the client has an email address);
the worker reminds an unanswered survey once, SURVEY_REMINDER_DAYS after it was sent.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app, has_request_context, url_for
from flask_babel import gettext as _
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update

from portal import clock
from portal.clock import LOCAL_TZ, ClockSigner
from portal.db import db, write_transaction
from portal.documents import render
from portal.documents.acknowledgement import bilingual_date, firm_context, languages_for
from portal.links import email_link
from portal.locales import html_lang
from portal.models.complaint import Complaint, State
from portal.models.followup import Callback, CallbackStatus
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import audit, outbox
from portal.services.followup import callbacks
from portal.services.followup.callbacks import SYSTEM, FollowUpError, Method
from portal.services.intake.errors import FieldErrors, IntakeError

log = logging.getLogger("portal.followup")

SURVEY_SALT = "redress.followup.survey.v1"
ENDPOINT = "followup.survey"
MAIL_KIND = "survey"
REMINDER_KIND = "survey_reminder"
SUBJECTS = {"zh": "您对投诉处理结果满意吗？",
            "en": "Are you satisfied with how we handled your complaint?"}
REMINDER_SUBJECTS = {"zh": "提醒：投诉处理满意度调查",
                     "en": "Reminder: how satisfied are you with how we handled your complaint?"}


class SurveyStatus(StrEnum):
    VALID = "valid"
    USED = "used"  # answered, or the call-back was settled by phone or closed
    EXPIRED = "expired"
    INVALID = "invalid"  # forged, mangled or naming no call-back


class SurveySpent(IntakeError):
    """The link stopped being usable between the page and the answer (the route answers with
    the link's page, 410)."""

    def __init__(self, status: SurveyStatus) -> None:
        super().__init__(_("This survey can no longer be answered."))
        self.status = status


@dataclass(frozen=True)
class Entry:
    """The survey as the client sends it."""

    satisfaction: int | None
    open_issue: str = ""
    comments: str = ""


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SURVEY_SALT,
                                  signer=ClockSigner)


def max_age() -> timedelta:
    return current_app.config["SURVEY_LINK_MAX_AGE"]


def token_for(callback: Callback) -> str:
    return _serializer().dumps([callback.id, callback.survey_nonce])


def link(callback: Callback) -> str | None:
    """The survey's absolute address for an email, or None when the portal's address is not
    known here (no request, no PUBLIC_BASE_URL)."""
    return email_link(ENDPOINT, token=token_for(callback))


def _expired(callback: Callback, now: datetime) -> bool:
    return callback.survey_expires_at is not None and callback.survey_expires_at <= now


def check(token: str) -> tuple[SurveyStatus, Callback | None]:
    """What a token is worth, and its call-back (None when forged)."""
    try:
        payload = _serializer().loads(token, max_age=int(max_age().total_seconds()))
    except SignatureExpired:
        return SurveyStatus.EXPIRED, None
    except BadSignature:
        return SurveyStatus.INVALID, None
    if (not isinstance(payload, list) or len(payload) != 2 or not isinstance(payload[0], int)
            or not isinstance(payload[1], str)):
        return SurveyStatus.INVALID, None
    callback = db.session.get(Callback, payload[0])
    if callback is None or not callback.survey_nonce \
            or not secrets.compare_digest(callback.survey_nonce, payload[1]):
        return SurveyStatus.INVALID, None
    complaint = db.session.get(Complaint, callback.complaint_id)
    if (not callback.is_open or callback.answered_at is not None
            or complaint is None or complaint.state != State.FOLLOW_UP):
        return SurveyStatus.USED, callback
    if _expired(callback, clock.now()):
        return SurveyStatus.EXPIRED, callback
    return SurveyStatus.VALID, callback


def offered(complaint: Complaint) -> Callback | None:
    """The call-back whose survey the client may still answer, if any."""
    callback = callbacks.current(complaint)
    if (callback is None or complaint.state != State.FOLLOW_UP or not callback.is_open
            or not callback.survey_nonce or callback.answered_at is not None
            or _expired(callback, clock.now())):
        return None
    return callback


def client_page_url(complaint: Complaint) -> str | None:
    """The survey's address for the client's page while it may be answered."""
    callback = offered(complaint)
    if callback is None or not has_request_context():
        return None
    return url_for(ENDPOINT, token=token_for(callback))


# -- the emails -------------------------------------------------------------------------------

def mail_context(facts: Mapping, config: Mapping, now: datetime, *, reminder: bool = False
                 ) -> dict:
    """The email's context from plain facts (reference, language, name, link, until)."""
    languages = languages_for(facts.get("language"))
    subjects = REMINDER_SUBJECTS if reminder else SUBJECTS
    firm = firm_context(config)
    return {
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {lang: f"{subjects[lang]} {facts['reference']}" for lang in languages},
        "subject": " / ".join(f"{subjects[lang]} {facts['reference']}" for lang in languages),
        "reference": facts["reference"],
        "complainant_name": facts.get("complainant_name") or "",
        "link": facts.get("link"),
        "until": bilingual_date(facts["until"]),
        "sent": bilingual_date(facts.get("sent")),
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }


def _facts(complaint: Complaint, callback: Callback, address: str | None) -> dict:
    client = complaint.complainant
    until = (callback.survey_expires_at or clock.now()).astimezone(LOCAL_TZ).date()
    sent = callback.survey_sent_at.astimezone(LOCAL_TZ).date() if callback.survey_sent_at \
        else None
    return {"reference": complaint.label, "language": complaint.language,
            "complainant_name": client.name if client else "", "link": address,
            "until": until - timedelta(days=1) if until > clock.today() else until,
            "sent": sent}


def _queue(kind: str, complaint: Complaint, context: dict, template: str,
           actor: User | None) -> OutboxMessage:
    client = complaint.complainant
    return outbox.queue(kind=kind, recipient=client.email, recipient_name=client.name,
                        subject=context["subject"],
                        body_text=render(f"emails/{template}.txt", context),
                        body_html=render(f"emails/{template}.html", context),
                        complaint=complaint, actor=actor)


def invite(actor: User | None, complaint: Complaint, callback: Callback
           ) -> OutboxMessage | None:
    """Email the survey link to the client, when they have an address and the portal knows
    its own address; an address the outbox refuses leaves the survey on the client's page."""
    client = complaint.complainant
    address = link(callback)
    if client is None or not client.email or address is None:
        return None
    context = mail_context(_facts(complaint, callback, address), current_app.config,
                           clock.now())
    try:
        message = _queue(MAIL_KIND, complaint, context, "survey", actor)
    except outbox.OutboxError:
        log.warning("complaint %s: the client's address is refused, no survey emailed",
                    complaint.id)
        return None
    callback.survey_sent_at = clock.now()
    db.session.flush()
    audit.record("callback.survey_sent", actor=actor, actor_label=None if actor else SYSTEM,
                 obj=complaint, details={"callback_id": callback.id, "message_id": message.id})
    return message


# -- the answer -------------------------------------------------------------------------------

def checked(entry: Entry) -> tuple[int, str, str]:
    """The answer as stored, or FollowUpError naming each wrong field (in the page's words)."""
    errors = FieldErrors()
    if not callbacks.valid_satisfaction(entry.satisfaction):
        errors.add("satisfaction", _("Choose how satisfied you are, from 1 (not at all) to 5 "
                                     "(very)."))
    issue = callbacks.bounded(entry.open_issue, "open_issue", errors)
    comments = callbacks.bounded(entry.comments, "comments", errors)
    callbacks.refuse(errors)
    return entry.satisfaction, issue, comments  # type: ignore[return-value]


def answer(token: str, entry: Entry) -> Callback:
    """Record the client's answer once: satisfied, or an open issue that sends the complaint
    back to the remedies (callbacks.settle). SurveySpent when the link is no longer usable."""
    status, callback = check(token)
    if status is not SurveyStatus.VALID:
        raise SurveySpent(status)
    satisfaction, issue, comments = checked(entry)
    complaint = db.session.get(Complaint, callback.complaint_id)
    callbacks.lock(complaint)
    claimed = db.session.execute(
        update(Callback).where(Callback.id == callback.id,
                               Callback.status == CallbackStatus.OPEN.value,
                               Callback.answered_at.is_(None),
                               Callback.survey_nonce == callback.survey_nonce)
        .values(answered_at=clock.now(), method=Method.SURVEY.value,
                version=Callback.version + 1)
        .execution_options(synchronize_session=False))
    if claimed.rowcount != 1 or complaint.state != State.FOLLOW_UP:
        raise SurveySpent(SurveyStatus.USED)
    callback = db.session.get(Callback, callback.id, populate_existing=True)
    callbacks.settle(None, complaint, callback, method=Method.SURVEY,
                     satisfaction=satisfaction, open_issue=issue, notes=comments)
    return callback


# -- the worker: one reminder ----------------------------------------------------------------

def remind_unanswered(limit: int = callbacks.TICK_LIMIT) -> int:
    """Remind each survey unanswered SURVEY_REMINDER_DAYS after it was sent, once, while it
    can still be answered. Call it outside a transaction."""
    now = clock.now()
    before = now - timedelta(days=int(current_app.config["SURVEY_REMINDER_DAYS"]))
    ids = list(db.session.scalars(
        select(Callback.id).join(Complaint, Complaint.id == Callback.complaint_id)
        .where(Callback.status == CallbackStatus.OPEN.value,
               Callback.answered_at.is_(None), Callback.survey_reminded_at.is_(None),
               Callback.survey_sent_at.is_not(None), Callback.survey_sent_at <= before,
               Callback.survey_expires_at > now, Complaint.state == State.FOLLOW_UP.value)
        .order_by(Callback.survey_sent_at, Callback.id).limit(limit)))
    db.session.rollback()  # end the read: each reminder gets its own write
    return sum(_remind(i) for i in ids)


def _remind(callback_id: int) -> bool:
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(Callback).where(Callback.id == callback_id,
                                       Callback.survey_reminded_at.is_(None),
                                       Callback.answered_at.is_(None),
                                       Callback.status == CallbackStatus.OPEN.value)
                .values(survey_reminded_at=clock.now())
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return False  # another worker reminded, or it was answered meanwhile
            callback = db.session.get(Callback, callback_id, populate_existing=True)
            complaint = db.session.get(Complaint, callback.complaint_id)
            client = complaint.complainant
            if client is None or not client.email:
                return True
            context = mail_context(_facts(complaint, callback, link(callback)),
                                   current_app.config, clock.now(), reminder=True)
            message = _queue(REMINDER_KIND, complaint, context, "survey_reminder", None)
            audit.record("callback.survey_reminded", actor_label=SYSTEM, obj=complaint,
                         details={"callback_id": callback.id, "message_id": message.id})
        return True
    except outbox.OutboxError:
        log.exception("call-back %s: no survey reminder could be queued", callback_id)
        return False


__all__ = ["Entry", "FollowUpError", "SurveySpent", "SurveyStatus", "answer", "check",
           "checked", "client_page_url", "invite", "link", "max_age", "offered",
           "remind_unanswered", "token_for"]
