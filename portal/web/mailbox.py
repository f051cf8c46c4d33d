"""/mailbox: read the mail captured by the local SMTP sink (`flask mailsink serve`).

Only exists when MAIL_SINK_DIR is configured (development, `make run`), and never in
production: 404 otherwise. Shows the text part only (never the HTML part, which could carry
active content) and offers attachments as downloads.

A message is shown only to someone who may see the complaint it is about: the outbox writes
its row id into every message (X-Redress-Message-Id; older copies are matched by Message-ID),
and the rows are filtered in SQL by `Complaint.visible_to`. Mail about no complaint (alerts)
and mail that did not come from the outbox are for partners only.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_file
from flask_login import current_user
from sqlalchemy import case, false, or_, select

from portal.config import is_production
from portal.db import db
from portal.models.complaint import Complaint
from portal.models.outbox import OutboxMessage
from portal.models.user import Role, User
from portal.security import roles
from portal.services.outbox import OUTBOX_ID_HEADER
from portal.web import htmx

bp = Blueprint("mailbox", __name__)

NAME = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,150}\.eml")
UNSAFE_FILENAME = re.compile(r'[\x00-\x1f\x7f/\\"]')
LIST_LIMIT = 200
INLINE_TYPES = {"application/pdf"}


@dataclass
class Entry:
    name: str
    subject: str
    sender: str
    to: str
    date: str


@bp.app_template_global()
def mailbox_enabled() -> bool:
    config = current_app.config
    return bool(config.get("MAIL_SINK_DIR")) and not is_production(config)


@bp.before_request
def _development_only() -> None:
    if not mailbox_enabled():
        abort(404)


def _sink_dir() -> Path:
    if not mailbox_enabled():
        abort(404)
    return Path(current_app.config["MAIL_SINK_DIR"])


def _message_path(name: str) -> Path:
    if not NAME.fullmatch(name):
        abort(404)
    directory = _sink_dir().resolve()
    path = (directory / name).resolve()
    if path.parent != directory or not path.is_file():
        abort(404)
    return path


def _outbox_key(headers: Message) -> tuple[int | None, str | None]:
    """(outbox row id, Message-ID) as the message names them."""
    raw = str(headers.get(OUTBOX_ID_HEADER) or "").strip()
    row_id = int(raw) if raw.isdigit() and len(raw) < 19 else None
    message_id = str(headers.get("Message-ID") or "").strip()[:200] or None
    return row_id, message_id


def _readable(user: User, messages: list[Message]) -> list[bool]:
    """For each message: may `user` read it? One query for the whole batch."""
    keys = [_outbox_key(m) for m in messages]
    row_ids = {row_id for row_id, _ in keys if row_id is not None}
    message_ids = {mid for row_id, mid in keys if row_id is None and mid}
    allowed = OutboxMessage.complaint_id.in_(select(Complaint.id).where(Complaint.visible_to(user)))
    if user.has_role(Role.PARTNER):
        allowed = or_(allowed, OutboxMessage.complaint_id.is_(None))
    rows = db.session.execute(
        select(OutboxMessage.id, OutboxMessage.message_id, case((allowed, True), else_=False))
        .where(or_(OutboxMessage.id.in_(row_ids) if row_ids else false(),
                   OutboxMessage.message_id.in_(message_ids) if message_ids else false()))
    ).all()
    by_id = {row_id: bool(ok) for row_id, _, ok in rows}
    by_message_id = {mid: bool(ok) for _, mid, ok in rows if mid}
    partner = user.has_role(Role.PARTNER)
    answers = []
    for row_id, mid in keys:
        if row_id is not None:
            answers.append(by_id.get(row_id, False))  # a row we do not know: nobody
        elif mid in by_message_id:
            answers.append(by_message_id[mid])
        else:
            answers.append(partner)  # not from the outbox
    return answers


def _headers(path: Path) -> Message:
    with open(path, "rb") as handle:
        return BytesHeaderParser(policy=policy.default).parse(handle)


def _entries(user: User) -> list[Entry]:
    """The newest LIST_LIMIT messages the user may read (batches, so hidden ones do not
    shorten the list)."""
    directory = _sink_dir()
    if not directory.is_dir():
        return []
    paths = sorted((p for p in directory.iterdir() if NAME.fullmatch(p.name)),
                   key=lambda p: p.name, reverse=True)
    entries: list[Entry] = []
    for start in range(0, len(paths), LIST_LIMIT):
        batch = [(path, _headers(path)) for path in paths[start:start + LIST_LIMIT]]
        for (path, headers), ok in zip(batch, _readable(user, [h for _, h in batch]),
                                       strict=True):
            if ok:
                entries.append(Entry(path.name, *(header_text(headers, name) for name in
                                                  ("Subject", "From", "To", "Date"))))
        if len(entries) >= LIST_LIMIT:
            break
    return entries[:LIST_LIMIT]


SHOWN_HEADERS = ("Subject", "From", "To", "Date", "Message-ID")


def header_text(message: Message, name: str) -> str:
    """The header as one line of text. An address whose encoded display name hides a line
    break makes the email package refuse to parse it (ValueError): then the raw header is
    decoded by hand and its line breaks become spaces."""
    try:
        return str(message.get(name, ""))
    except ValueError:
        raw = next((str(value) for key, value in message.raw_items()
                    if key.lower() == name.lower()), "")
        return re.sub(r"[\r\n]+", " ", str(make_header(decode_header(raw))))


def _parse(path: Path) -> EmailMessage:
    with open(path, "rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


def _readable_message(name: str) -> EmailMessage:
    """The message, or 404 when it does not exist or is about a complaint hidden from the
    viewer (the same answer: nothing tells them it exists)."""
    message = _parse(_message_path(name))
    if not _readable(current_user._get_current_object(), [message])[0]:
        abort(404)
    return message


def _text_body(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("plain",))
    if body is None:
        return ""
    try:
        return body.get_content()
    except (LookupError, ValueError):
        return body.get_payload(decode=True).decode("utf-8", "replace")


def _attachments(message: EmailMessage) -> list[EmailMessage]:
    return list(message.iter_attachments())


def _safe_filename(part: EmailMessage, index: int) -> str:
    name = UNSAFE_FILENAME.sub("_", part.get_filename() or "").strip(" .")
    return name[:150] or f"attachment-{index + 1}"


@bp.route("/mailbox")
@roles(Role.PARTNER, Role.RECEPTIONIST)
def index():
    return htmx.page_or_partial("mailbox/index.html", "mailbox/_list.html",
                                entries=_entries(current_user._get_current_object()),
                                limit=LIST_LIMIT)


@bp.route("/mailbox/<name>")
@roles(Role.PARTNER, Role.RECEPTIONIST)
def show(name: str):
    message = _readable_message(name)
    attachments = [
        {"index": i, "filename": _safe_filename(part, i),
         "content_type": part.get_content_type(),
         "size": len(part.get_payload(decode=True) or b"")}
        for i, part in enumerate(_attachments(message))
    ]
    headers = {name: header_text(message, name) for name in SHOWN_HEADERS}
    return render_template("mailbox/message.html", name=name, headers=headers,
                           text=_text_body(message), attachments=attachments)


@bp.route("/mailbox/<name>/attachments/<int:index>")
@roles(Role.PARTNER, Role.RECEPTIONIST)
def attachment(name: str, index: int):
    parts = _attachments(_readable_message(name))
    if index >= len(parts):
        abort(404)
    part = parts[index]
    content_type = part.get_content_type()
    return send_file(
        io.BytesIO(part.get_payload(decode=True) or b""),
        mimetype=content_type if content_type in INLINE_TYPES else "application/octet-stream",
        as_attachment=True,
        download_name=_safe_filename(part, index),
    )
