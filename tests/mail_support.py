"""Emails for the email channel's tests: built as a client's mail program would send them."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import select

from portal.db import db
from portal.models import Complaint
from portal.models.mailin import InboundMail
from portal.services.mailin import imap

PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0"
       b"/Kids[]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
PASSING = ("spf=pass smtp.mailfrom=client.example; dkim=pass header.d=client.example; "
           "dmarc=pass")
HTML_AS_PDF = b"<html><body><script>alert(1)</script>Invoice</body></html>"


def email(*, sender: str = "李明 <li.ming@example.com>", subject: str = "投诉王磊律师拖延",
          body: str = "王磊律师一直没有提交材料，我要求退还部分律师费。",
          attachments: list[tuple[str, str, bytes]] = (), headers: dict | None = None,
          message_id: str | None = None, auth: str | None = PASSING) -> bytes:
    message = EmailMessage()
    if auth is not None:
        message["Authentication-Results"] = f"mx.firm.example; {auth}"
    message["From"] = sender
    message["To"] = "complaints@firm.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime(2020, 1, 1, tzinfo=UTC))  # the sender's clock
    message["Message-ID"] = message_id or make_msgid(domain="client.example")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def fetch(app) -> int:
    """One pass of the worker, as `flask mail fetch --once` runs it."""
    with app.app_context():
        return imap.fetch_once(imap.settings())


def received(app) -> list[InboundMail]:
    with app.app_context():
        rows = db.session.scalars(select(InboundMail).order_by(InboundMail.id)).all()
        for row in rows:
            _ = row.complaint, row.original
        db.session.expunge_all()
        return rows


def email_drafts(app) -> list[Complaint]:
    with app.app_context():
        rows = db.session.scalars(select(Complaint).where(Complaint.channel == "email")
                                  .order_by(Complaint.id)).all()
        for row in rows:
            _ = row.complainant, list(row.evidence), list(row.exclusions)
        db.session.expunge_all()
        return rows
