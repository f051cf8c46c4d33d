"""The overdue improvement action's reminder: an open action past its due date reminds its
owner once (the partner who created it when the owner has no address). The outbox worker runs
`tick_if_due` (portal/commands/outbox.py, through services/followup/actions.py); each action is
claimed with a conditional UPDATE ... WHERE reminded_at IS NULL, so two workers send one mail.
A new owner or due date (actions.edit) clears the claim."""

from __future__ import annotations

import logging
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select, update

from portal import clock
from portal.db import db, write_transaction
from portal.formatting import format_day
from portal.links import email_link
from portal.models.followup import ACTION_KIND_LABELS, OPEN_ACTION_STATUSES, ImprovementAction
from portal.models.user import User
from portal.services import audit, outbox, periodic, staff_mail

log = logging.getLogger("portal.actions")

REMINDER_KIND = "action_reminder"
TICK_LIMIT = 200  # actions per tick; the next tick takes the rest
OPEN = tuple(s.value for s in OPEN_ACTION_STATUSES)


def tick(limit: int = TICK_LIMIT) -> int:
    """Remind the owner of each overdue open action once. Call it outside a transaction: it
    reads, then commits one short write per action; returns how many were reminded."""
    ids = list(db.session.scalars(
        select(ImprovementAction.id)
        .where(ImprovementAction.status.in_(OPEN), ImprovementAction.reminded_at.is_(None),
               ImprovementAction.due < clock.today())
        .order_by(ImprovementAction.due, ImprovementAction.id).limit(limit)))
    db.session.rollback()  # end the read: each action gets its own write
    return sum(_remind(i) for i in ids)


def _reachable(user: User | None) -> bool:
    return user is not None and user.active and bool(user.email)


def _remind(action_id: int) -> bool:
    try:
        with write_transaction():
            claimed = db.session.execute(
                update(ImprovementAction)
                .where(ImprovementAction.id == action_id,
                       ImprovementAction.reminded_at.is_(None),
                       ImprovementAction.status.in_(OPEN),
                       ImprovementAction.due < clock.today())
                .values(reminded_at=clock.now())
                .execution_options(synchronize_session=False))
            if claimed.rowcount != 1:
                return False  # another worker reminded, or it was finished meanwhile
            action = db.session.get(ImprovementAction, action_id, populate_existing=True)
            # The owner; the partner who created it when the owner cannot be reached.
            recipient = next((u for u in (action.owner, action.created_by) if _reachable(u)),
                             None)
            if recipient is not None:
                _queue_reminder(recipient, action)
            audit.record("improvement_action.reminded", obj=action, actor_label="actions",
                         details={"action_id": action.id, "due": action.due.isoformat(),
                                  "recipients": [recipient.id] if recipient else []})
        return True
    except outbox.OutboxError:  # an address the outbox refuses: logged, not retried forever
        log.exception("improvement action %s: no reminder could be queued", action_id)
        return False


def action_link(action_id: int) -> str | None:
    return email_link("improvement.show", action_id=action_id)


def _queue_reminder(user: User, action: ImprovementAction) -> None:
    with staff_mail.in_their_language(user):
        kind = str(ACTION_KIND_LABELS.get(action.kind, action.kind))
        title = action.title if len(action.title) <= 80 else action.title[:79] + "…"
        context = {"user": user, "title": action.title, "kind": kind,
                   "due": format_day(action.due, "full"), "link": action_link(action.id),
                   "days": max(0, (clock.today() - action.due).days),
                   "owner": action.owner.name, "own": action.owner_id == user.id,
                   "number": action.id}
        subject = _("Overdue improvement action: %(title)s (due %(date)s)", title=title,
                    date=format_day(action.due))
        staff_mail.queue(user, kind=REMINDER_KIND, template="action_reminder", subject=subject,
                         context=context)


def tick_if_due(last: datetime | None) -> datetime | None:
    """For the outbox worker: every SLA_TICK_SECONDS on the portal's clock."""
    return periodic.run_if_due(last, tick, "actions tick: %d overdue improvement actions reminded")
