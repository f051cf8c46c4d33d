"""The transactional outbox: mail is a row written with the change that causes it.

`queue()` only adds a row (flush, no commit): if the caller's transaction rolls back, nothing
is ever sent. The worker (`flask outbox work`) calls `deliver_due()`, which

* claims one due message at a time with a conditional UPDATE (status pending → sending, or a
  'sending' row whose lease ran out) and commits the claim before talking SMTP, so two
  workers never send the same message;
* asks an attachment provider (`register_attachments`; the notices register theirs at app
  start) to produce an attachment the first time the message is sent, and writes what the
  provider stored back into the message, so retries and resends attach the very same bytes;
* marks the message sent, or counts the failure and retries with exponential backoff
  (OUTBOX_BACKOFF_SECONDS × 2^(attempts−1), at most one hour), until OUTBOX_MAX_ATTEMPTS
  turns it `dead` and every active partner with an email address is alerted.

A message is 'sending' while a worker holds it; its `next_attempt_at` is then the end of the
lease (OUTBOX_SENDING_TIMEOUT_SECONDS, 10 minutes): a worker that died mid-send leaves a row
that another worker claims again after the lease (at-least-once in that one case).
"""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.policy import compat32
from email.utils import make_msgid
from pathlib import Path

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_mail import Connection, Message
from sqlalchemy import func, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.extensions import mail
from portal.models.complaint import Complaint
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.models.user import Role, User, UserRole
from portal.services import addresses, audit

ALERT_KIND = "alert.mail_dead"
OUTBOX_ID_HEADER = "X-Redress-Message-Id"
MAX_BACKOFF = timedelta(hours=1)
SUBJECT_MAX, NAME_MAX = 200, 100  # the column sizes
FILE_ATTACHMENT_KEYS = frozenset({"path", "filename", "content_type"})
# The headers a message may carry besides those every message has (see `_build`).
EXTRA_HEADERS = frozenset({"In-Reply-To", "References", "Auto-Submitted"})


class OutboxError(ValueError):
    """The message cannot be queued or resent as asked."""


@dataclass(frozen=True)
class AttachmentProvider:
    """Produces an attachment the first time its message is sent (a notice PDF, say).

    The outbox knows nothing of what it attaches: an attachment spec using one of a
    provider's `keys` belongs to that provider. Before sending, when `pending(spec)`, the
    outbox calls `prepare(message, spec)` in a read transaction; it returns a function that
    renders the bytes touching no database, which the outbox runs with no transaction open;
    then `store(message, spec, data)` runs in a short write and returns the spec to keep, from
    which `load(spec)` later returns (filename, content type, bytes).
    """

    keys: frozenset[str]
    pending: Callable[[dict], bool]
    prepare: Callable[[OutboxMessage, dict], Callable[[], bytes]]
    store: Callable[[OutboxMessage, dict, bytes], dict]
    load: Callable[[dict], tuple[str, str, bytes]]


_PROVIDERS: dict[str, AttachmentProvider] = {}


def register_attachments(name: str, provider: AttachmentProvider) -> None:
    """Called at app start by the module that owns a kind of attachment."""
    _PROVIDERS[name] = provider


def _provider_for(spec: dict) -> AttachmentProvider | None:
    return next((p for p in _PROVIDERS.values() if p.keys & spec.keys()), None)


# -- queueing -------------------------------------------------------------------------

def _single_line(value: str | None, what: str) -> str | None:
    if not addresses.is_single_line(value):
        raise OutboxError(f"{what} must be a single line")
    return value


def normalise_address(address: str) -> str:
    """A syntactically valid, ASCII-sendable address (IDN domains become punycode), by the
    rule intake applies too (portal.services.addresses)."""
    try:
        return addresses.sendable_address(address)
    except addresses.AddressError as error:
        raise OutboxError(f"invalid recipient address: {error}") from error


def _check_attachments(attachments: list[dict] | None) -> list[dict]:
    checked = []
    allowed = FILE_ATTACHMENT_KEYS.union(*(p.keys for p in _PROVIDERS.values()))
    for spec in attachments or []:
        if not isinstance(spec, dict) or not spec.keys() <= allowed:
            raise OutboxError(f"unknown attachment specification: {spec!r}")
        if _provider_for(spec) is None and not spec.get("path"):
            raise OutboxError("an attachment names a file or what a provider produces")
        _single_line(spec.get("filename"), "attachment filename")
        _single_line(spec.get("content_type"), "attachment content type")
        checked.append(dict(spec))
    return checked


def _check_headers(headers: dict[str, str] | None) -> dict[str, str] | None:
    for name, value in (headers or {}).items():
        if name not in EXTRA_HEADERS:
            raise OutboxError(f"the header {name!r} cannot be set on a message")
        _single_line(value, name)
    return dict(headers) if headers else None


def new_message_id() -> str:
    """A Message-ID in the sender's domain, fixed when the message is queued: every attempt
    sends the same one, so that a message delivered twice (a worker killed after the server
    accepted it) is recognised as one by the receiving side, and a reply finds its complaint."""
    address = sender_address()
    return make_msgid(domain=address.rsplit("@", 1)[-1] if "@" in address else None)


def sender_address() -> str:
    """The address of MAIL_DEFAULT_SENDER, which may be a (name, address) pair."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    return str(sender[1] if isinstance(sender, tuple | list) else sender or "")


def queue(*, kind: str, recipient: str, recipient_name: str | None, subject: str,
          body_text: str, body_html: str | None = None, complaint: Complaint | None = None,
          attachments: list[dict] | None = None, actor: User | None = None,
          headers: dict[str, str] | None = None) -> OutboxMessage:
    """Add a message to the outbox in the caller's transaction (flush, never commit)."""
    address = normalise_address(recipient)
    _single_line(recipient_name, "recipient name")
    _single_line(subject, "subject")
    if len(subject.strip()) > SUBJECT_MAX:
        raise OutboxError(f"the subject is longer than {SUBJECT_MAX} characters")
    message = OutboxMessage(
        kind=kind, recipient=address,
        recipient_name=(recipient_name or "").strip()[:NAME_MAX] or None,
        subject=subject.strip(), body_text=body_text, body_html=body_html,
        attachments=_check_attachments(attachments), headers=_check_headers(headers),
        message_id=new_message_id(),
        complaint_id=complaint.id if complaint is not None else None,
        status=OutboxStatus.PENDING, attempts=0, next_attempt_at=clock.now(),
    )
    db.session.add(message)
    db.session.flush()
    if complaint is not None:
        # the address stays on the message: audit details hold ids and codes only
        audit.record("mail.queued", actor=actor, obj=complaint,
                     details={"message_id": message.id, "kind": kind})
    return message


def resend(actor: User | None, message: OutboxMessage) -> OutboxMessage:
    """A new pending copy of a sent or dead message (the same notice version is attached)."""
    if message.status in (OutboxStatus.PENDING, OutboxStatus.SENDING):
        raise OutboxError("the message is still waiting to be sent")
    copy = OutboxMessage(
        kind=message.kind, recipient=message.recipient, recipient_name=message.recipient_name,
        subject=message.subject, body_text=message.body_text, body_html=message.body_html,
        attachments=[dict(spec) for spec in message.attachments or []],
        headers=dict(message.headers) if message.headers else None, message_id=new_message_id(),
        complaint_id=message.complaint_id, status=OutboxStatus.PENDING, attempts=0,
        next_attempt_at=clock.now(),
    )
    db.session.add(copy)
    db.session.flush()
    _record("mail.resent", message, actor,
            {"message_id": copy.id, "original_id": message.id, "kind": message.kind})
    return copy


def summary() -> dict[str, int]:
    rows = db.session.execute(
        select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all()
    counts = {status.value: 0 for status in OutboxStatus}
    counts.update({status: count for status, count in rows})
    return counts


def _record(action: str, message: OutboxMessage, actor: User | None, details: dict) -> None:
    if message.complaint_id is not None:
        audit.record(action, actor=actor, object_type="complaint",
                     object_id=message.complaint_id, details=details)
    else:
        audit.record(action, actor=actor, obj=message, details=details)


# -- delivering -----------------------------------------------------------------------

def _config_seconds(key: str) -> timedelta:
    return timedelta(seconds=int(current_app.config[key]))


def _due_ids(now: datetime, limit: int) -> list[int]:
    ids = list(db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
               OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))
    db.session.commit()  # end the read
    return ids


def _claim(message_id: int, now: datetime) -> bool:
    """pending (or an expired 'sending' lease) → sending; True if this worker won."""
    with write_transaction():
        result = db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id,
                   OutboxMessage.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING]),
                   OutboxMessage.next_attempt_at <= now)
            .values(status=OutboxStatus.SENDING,
                    next_attempt_at=now + _config_seconds("OUTBOX_SENDING_TIMEOUT_SECONDS"))
            .execution_options(synchronize_session=False)
        )
    return result.rowcount == 1


def deliver_due(now: datetime | None = None, limit: int = 20) -> int:
    """Send up to `limit` due messages; returns how many were sent. Commits per message."""
    now = now or clock.now()
    sent = 0
    for message_id in _due_ids(now, limit):
        if not _claim(message_id, now):
            continue  # another worker has it
        if _deliver_one(message_id, now):
            sent += 1
    return sent


def _deliver_one(message_id: int, now: datetime) -> bool:
    """Claimed already. Rendering and SMTP happen with no transaction open: a slow PDF or a
    slow mail server never holds a lock that the portal's pages wait for."""
    try:
        _produce_pending_attachments(message_id)
        email = _build(db.session.get(OutboxMessage, message_id, populate_existing=True))
        db.session.commit()  # end the read before talking to the mail server
        _send(email)
    except Exception as error:  # noqa: BLE001 - any failure is a failed attempt, retried later
        db.session.rollback()
        with write_transaction():
            _failed(message_id, now, error)
        return False
    with write_transaction():
        _mark_sent(db.session.get(OutboxMessage, message_id), email.msgId)
    return True


def _mark_sent(message: OutboxMessage, smtp_message_id: str) -> None:
    message.status = OutboxStatus.SENT
    message.sent_at = clock.now()
    message.message_id = smtp_message_id
    message.last_error = None
    message.attempts += 1
    _record("mail.sent", message, None,
            {"message_id": message.id, "kind": message.kind, "attempts": message.attempts})


def _produce_pending_attachments(message_id: int) -> None:
    """A provider's attachment is produced the first time its message is sent: what it needs
    is read, the bytes rendered with no transaction open, then stored in a short write, so
    that retries and resends attach the very same bytes."""
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    for index, spec in enumerate(message.attachments or []):
        provider = _provider_for(spec)
        if provider is None or not provider.pending(spec):
            continue
        render = provider.prepare(message, spec)
        db.session.commit()  # end the read: rendering takes a while
        data = render()
        with write_transaction():
            message = db.session.get(OutboxMessage, message_id)
            specs = [dict(s) for s in message.attachments]
            specs[index] = provider.store(message, spec, data)
            message.attachments = specs  # a new list, so the JSON column is written


def _failed(message_id: int, now: datetime, error: Exception) -> None:
    message = db.session.get(OutboxMessage, message_id, populate_existing=True)
    message.attempts += 1
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    # The error text often quotes the address: it stays in message.last_error.
    details = {"message_id": message.id, "kind": message.kind, "attempts": message.attempts,
               "error": _error_code(error)}
    if message.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"]):
        message.status = OutboxStatus.DEAD
        alerted = [] if message.kind == ALERT_KIND else _alert_partners(message)
        _record("mail.dead", message, None, {**details, "alerted": alerted})
    else:
        backoff = _config_seconds("OUTBOX_BACKOFF_SECONDS") * 2 ** (message.attempts - 1)
        message.status = OutboxStatus.PENDING
        message.next_attempt_at = now + min(backoff, MAX_BACKOFF)
        _record("mail.failed", message, None,
                {**details, "next_attempt_at": message.next_attempt_at.isoformat()})


def _error_code(error: Exception) -> str:
    """The kind of failure without its text, e.g. `SMTPRecipientsRefused` or `SMTP 550`."""
    if isinstance(error, smtplib.SMTPResponseException):
        return f"SMTP {error.smtp_code}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = sorted({str(code) for code, _message in error.recipients.values()})
        return f"{type(error).__name__} {' '.join(codes)}".strip()
    return type(error).__name__


def _alert_partners(message: OutboxMessage) -> list[int]:
    partners = db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
               User.email.is_not(None))
        .order_by(User.id)).unique().all()
    complaint = message.complaint
    reference = complaint.label if complaint else None
    alerted = []
    for partner in partners:
        if complaint is not None and not complaint.can_view(partner):
            continue  # a respondent partner never hears about their own case
        with force_locale(partner.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
            context = {"message": message, "reference": reference, "partner": partner}
            queue(kind=ALERT_KIND, recipient=partner.email, recipient_name=partner.name,
                  subject=_("Undeliverable email: %(subject)s", subject=message.subject),
                  body_text=render_template("emails/dead_letter.txt", **context),
                  body_html=render_template("emails/dead_letter.html", **context),
                  complaint=complaint)
        alerted.append(partner.id)
    return alerted


# -- building and sending with Flask-Mail ------------------------------------------------

def _attachment(spec: dict) -> tuple[str, str, bytes]:
    provider = _provider_for(spec)
    return provider.load(spec) if provider is not None else _file_attachment(spec)


def _file_attachment(spec: dict) -> tuple[str, str, bytes]:
    config = current_app.config
    roots = [Path(current_app.instance_path)] + [
        Path(config[key]) for key in ("NOTICE_DIR", "EVIDENCE_DIR", "INSTANCE_DATA_DIR")
        if config.get(key)]
    path = Path(spec["path"]).resolve()
    if not any(path.is_relative_to(root.resolve()) for root in roots) or not path.is_file():
        raise OutboxError("attachment file is outside the instance data directories")
    filename = spec.get("filename") or path.name
    return filename, spec.get("content_type") or "application/octet-stream", path.read_bytes()


class _Message(Message):
    """Flask-Mail's message with the To: header formatted by addresses.format_address.

    Flask-Mail would join the display name and address itself, and Python's email package
    may then refold a long header into several recipients (gh-121284): the recipient list
    (the SMTP envelope) holds the bare address, and the header is replaced here, stored raw
    so that the package sends it as it is.
    """

    to_header: str | None = None

    def _message(self):
        msg = super()._message()
        if self.to_header:
            policy, msg.policy = msg.policy, compat32
            msg.replace_header("To", self.to_header)
            msg.policy = policy
        return msg


def complaints_address() -> str | None:
    """Where clients write to: the complaints mailbox, read by `flask mail work`."""
    config = current_app.config
    return config.get("MAIL_INBOX_ADDRESS") or config.get("FIRM_COMPLAINTS_EMAIL")


def _build(message: OutboxMessage) -> Message:
    config = current_app.config
    email = _Message(
        subject=message.subject, recipients=[message.recipient], body=message.body_text,
        html=message.body_html, sender=config["MAIL_DEFAULT_SENDER"],
        # answers come back to the complaints mailbox, where they find their complaint
        reply_to=complaints_address(),
        # the outbox row, so that a captured copy (/mailbox) maps back to its complaint
        extra_headers={"Auto-Submitted": "auto-generated", OUTBOX_ID_HEADER: str(message.id),
                       **(message.headers or {})},
    )
    email.msgId = message.message_id or email.msgId  # rows queued before ids were fixed
    email.to_header = addresses.format_address(message.recipient_name, message.recipient)
    for spec in message.attachments or []:
        filename, content_type, data = _attachment(spec)
        email.attach(filename=filename, content_type=content_type, data=data)
    return email


class _TimedConnection(Connection):
    """Flask-Mail's connection with a socket timeout, so a hung server cannot stall the worker."""

    def configure_host(self) -> smtplib.SMTP:
        timeout = float(current_app.config.get("MAIL_TIMEOUT", 30))
        state = self.mail
        if state.use_ssl:
            host: smtplib.SMTP = smtplib.SMTP_SSL(state.server, state.port, timeout=timeout)
        else:
            host = smtplib.SMTP(state.server, state.port, timeout=timeout)
        host.set_debuglevel(int(state.debug))
        if state.use_tls:
            host.starttls()
        if state.username and state.password:
            host.login(state.username, state.password)
        return host


def _send(email: Message) -> None:
    # Settings are read at send time (not frozen at start-up), so a changed MAIL_* applies.
    state = mail.init_mail(current_app.config, current_app.debug, current_app.testing)
    with _TimedConnection(state) as connection:
        email.send(connection)
