"""The daily email of the audit chain's head to the partners.

A copy of the head kept in the partners' mailboxes is a third witness, beside the database and
the checkpoint file: if both of those are rewritten, yesterday's email still names an event and
its hash that `flask audit verify` must find unchanged.

At most one email a day: the `audit.head_mailed` event records the day, and it is checked and
written under the chain lock, so two workers never both send it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models.audit import AuditEvent
from portal.models.user import Role, User, UserRole
from portal.services import audit, outbox
from portal.services.calendar import local_day

log = logging.getLogger("portal.audit")

HEAD_MAILED = "audit.head_mailed"
MAIL_KIND = "audit.head"
_DONE = "redress_audit_head_day"  # app.extensions key: the day this process last found done


@dataclass(frozen=True)
class HeadMail:
    day: date
    head_id: int
    head_hash: str
    partner_ids: list[int]


def _mailed_on(day: date) -> bool:
    details = db.session.scalar(
        select(AuditEvent.details).where(AuditEvent.action == HEAD_MAILED)
        .order_by(AuditEvent.id.desc()).limit(1))
    return bool(details) and details.get("date") == day.isoformat()


def _partners() -> list[User]:
    return list(db.session.scalars(
        select(User).join(UserRole, UserRole.user_id == User.id)
        .where(UserRole.role == Role.PARTNER.value, User.active.is_(True),
               User.email.is_not(None))
        .order_by(User.id)).unique())


def _queue(partner: User, day: date, head: tuple[int, str]) -> bool:
    with force_locale(partner.locale or current_app.config["BABEL_DEFAULT_LOCALE"]):
        context = {"partner": partner, "day": day, "head_id": head[0], "head_hash": head[1]}
        try:
            outbox.queue(
                kind=MAIL_KIND, recipient=partner.email, recipient_name=partner.name,
                subject=_("Audit trail on %(day)s: newest event #%(id)d",
                          day=day.isoformat(), id=head[0]),
                body_text=render_template("emails/audit_head.txt", **context),
            )
        except outbox.OutboxError:
            log.warning("partner %s has an address the outbox refuses: no audit head email",
                        partner.id)
            return False
    return True


def mail_head_if_due() -> HeadMail | None:
    """Queue today's email of the head to every active partner with an address, unless it was
    done today already (or the trail is empty). Runs its own short write transaction."""
    day = local_day(clock.now())
    if current_app.extensions.get(_DONE) == day or _mailed_on(day):
        current_app.extensions[_DONE] = day
        return None
    with write_transaction():
        audit.lock_chain()
        head = audit.last_event()
        if head is None or _mailed_on(day):  # another worker was first
            return None
        ids = [partner.id for partner in _partners() if _queue(partner, day, head)]
        audit.record(HEAD_MAILED, actor_label=audit.SYSTEM_LABEL, details={
            "date": day.isoformat(), "head_id": head[0], "head_hash": head[1],
            "partners": ids})
    current_app.extensions[_DONE] = day
    return HeadMail(day, head[0], head[1], ids)
