"""/mailbox: read the mail captured by the local SMTP sink (`flask mailsink serve`).

Only exists when MAIL_SINK_DIR is configured (development, `make run`); 404 otherwise.
Shows the text part only (never the HTML part, which could carry active content) and
offers attachments as downloads.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesHeaderParser, BytesParser
from pathlib import Path

from flask import Blueprint, abort, current_app, render_template, send_file

from portal.models.user import Role
from portal.security import roles
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


def _sink_dir() -> Path:
    configured = current_app.config.get("MAIL_SINK_DIR")
    if not configured:
        abort(404)
    return Path(configured)


def _message_path(name: str) -> Path:
    if not NAME.fullmatch(name):
        abort(404)
    directory = _sink_dir().resolve()
    path = (directory / name).resolve()
    if path.parent != directory or not path.is_file():
        abort(404)
    return path


def _entries() -> list[Entry]:
    directory = _sink_dir()
    if not directory.is_dir():
        return []
    paths = sorted((p for p in directory.iterdir() if NAME.fullmatch(p.name)),
                   key=lambda p: p.name, reverse=True)[:LIST_LIMIT]
    parser = BytesHeaderParser(policy=policy.default)
    entries = []
    for path in paths:
        with open(path, "rb") as handle:
            headers = parser.parse(handle)
        entries.append(Entry(path.name, str(headers.get("Subject", "")),
                             str(headers.get("From", "")), str(headers.get("To", "")),
                             str(headers.get("Date", ""))))
    return entries


def _parse(path: Path) -> EmailMessage:
    with open(path, "rb") as handle:
        return BytesParser(policy=policy.default).parse(handle)


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
                                entries=_entries(), limit=LIST_LIMIT)


@bp.route("/mailbox/<name>")
@roles(Role.PARTNER, Role.RECEPTIONIST)
def show(name: str):
    message = _parse(_message_path(name))
    attachments = [
        {"index": i, "filename": _safe_filename(part, i),
         "content_type": part.get_content_type(),
         "size": len(part.get_payload(decode=True) or b"")}
        for i, part in enumerate(_attachments(message))
    ]
    return render_template("mailbox/message.html", name=name, message=message,
                           text=_text_body(message), attachments=attachments)


@bp.route("/mailbox/<name>/attachments/<int:index>")
@roles(Role.PARTNER, Role.RECEPTIONIST)
def attachment(name: str, index: int):
    parts = _attachments(_parse(_message_path(name)))
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
