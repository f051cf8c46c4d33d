"""Email to a member of staff, in their own language: the reminders, notices and ballot mails
all build their subject and context inside `in_their_language(user)`, then `queue` renders
emails/<template>.txt and .html into the outbox (services/outbox.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale

from portal.models.complaint import Complaint
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import outbox


@contextmanager
def in_their_language(user: User) -> Iterator[None]:
    with force_locale(user.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        yield


def queue(user: User, *, kind: str, template: str, subject: str, context: dict[str, Any],
          complaint: Complaint | None = None) -> OutboxMessage:
    """Queue the message to `user` (call it inside `in_their_language(user)`)."""
    return outbox.queue(kind=kind, recipient=user.email, recipient_name=user.name,
                        subject=subject, complaint=complaint,
                        body_text=render_template(f"emails/{template}.txt", **context),
                        body_html=render_template(f"emails/{template}.html", **context))
