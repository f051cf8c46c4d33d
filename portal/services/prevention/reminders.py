"""The overdue progress report's reminder: an open matter whose next report was due before
today (`Matter.report_due_on`, kept by the report verbs) reminds its responsible lawyer once
per overdue period, by email through the outbox. Lawyers without a login are recorded with an
address and get it the same way; when the lawyer has no address (or is inactive, or the matter
has none), the supervising partner gets it instead.

The outbox worker runs `tick_if_due` (portal/commands/outbox.py). Each matter is claimed with
one conditional UPDATE in the transaction that queues the email:

    UPDATE matter SET report_reminded_for = report_due_on
    WHERE id = :id AND status = 'open' AND report_due_on < :today
      AND (report_reminded_for IS NULL OR report_reminded_for <> report_due_on)

so two workers send one email (the loser's UPDATE matches no row), and a new report (which
moves `report_due_on`) opens a new period that is reminded again once it is overdue.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import or_, select, update

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.links import email_link
from portal.models.matter import Matter
from portal.models.prevention import MatterStatus
from portal.models.user import User
from portal.services import audit, outbox, periodic, staff_mail

log = logging.getLogger("portal.prevention")

REMINDER_KIND = "report_reminder"
TICK_LIMIT = 200  # matters per tick; the next tick takes the rest


def _due(today: date):
    """Open matters whose report is overdue and not yet reminded for this due day."""
    return (Matter.status == MatterStatus.OPEN.value, Matter.report_due_on < today,
            or_(Matter.report_reminded_for.is_(None),
                Matter.report_reminded_for != Matter.report_due_on))


def tick(limit: int = TICK_LIMIT) -> int:
    """Remind each overdue matter's lawyer once per overdue period. Call it outside a
    transaction: it reads, then commits one short write per matter; returns how many matters
    were claimed."""
    today = clock.today()
    ids = list(db.session.scalars(select(Matter.id).where(*_due(today))
                                  .order_by(Matter.report_due_on, Matter.id).limit(limit)))
    db.session.rollback()  # end the read: each matter gets its own write
    return sum(_remind(matter_id, today) for matter_id in ids)


def _reachable(user: User | None) -> bool:
    return user is not None and user.active and bool(user.email)


def _remind(matter_id: int, today: date) -> bool:
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(Matter).where(Matter.id == matter_id, *_due(today))
                .values(report_reminded_for=Matter.report_due_on)
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return False  # another worker reminded it, or a report came meanwhile
            matter = db.session.get(Matter, matter_id, populate_existing=True)
            recipient = next((u for u in (matter.responsible_lawyer, matter.partner)
                              if _reachable(u)), None)
            if recipient is not None:
                _queue_reminder(recipient, matter, today)
            audit.record("matter.report_reminded", obj=matter, actor_label="prevention",
                         details={"matter_id": matter.id,
                                  "due": matter.report_due_on.isoformat(),
                                  "recipients": [recipient.id] if recipient else []})
        return True
    except outbox.OutboxError:  # an address the outbox refuses: logged, not retried forever
        log.exception("matter %s: no report reminder could be queued", matter_id)
        return False


def matter_link(reference: str) -> str | None:
    return email_link("matters.show", reference=reference)


def _queue_reminder(user: User, matter: Matter, today: date) -> None:
    with staff_mail.in_their_language(user):
        lawyer = matter.responsible_lawyer
        context = {"user": user, "reference": matter.reference, "title": matter.title,
                   "due": format_day(matter.report_due_on, "full"),
                   "days": max(0, (today - matter.report_due_on).days),
                   "link": matter_link(matter.reference),
                   "own": lawyer is not None and lawyer.id == user.id,
                   "lawyer": lawyer.name if lawyer else None}
        subject = _("Progress report overdue: %(reference)s (due %(date)s)",
                    reference=matter.reference, date=format_day(matter.report_due_on))
        staff_mail.queue(user, kind=REMINDER_KIND, template="report_reminder", subject=subject,
                         context=context)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: every SLA_TICK_SECONDS on the portal's clock."""
    return periodic.run_if_due(last, tick, "prevention tick: %d overdue progress reports reminded")
