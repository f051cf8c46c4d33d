"""`flask outbox work|status`: the mail worker and a look at the queue."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from portal.db import db
from portal.models.outbox import OutboxMessage, OutboxStatus
from portal.services import outbox

cli = AppGroup("outbox", help="The outgoing mail queue.")
log = logging.getLogger("portal.outbox")


def _stop_event() -> threading.Event:
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_args: stop.set())
    return stop


def _mail_audit_head() -> None:
    """Once a day, before the pass: email the audit chain's head to the partners."""
    from portal.services import audit_head

    try:
        audit_head.mail_head_if_due()
    except Exception:  # noqa: BLE001 - never let it stop the mail worker; next pass retries
        db.session.rollback()
        log.exception("could not queue the daily audit head email")


Tick = Callable[[datetime | None], datetime | None]


def _ticks() -> dict[str, Tick]:
    """The periodic jobs run between passes, each deciding from its last run whether it is due:
    deadline reminders and escalations (services/sla.py, every SLA_TICK_SECONDS), overdue
    remedy tasks (services/resolution/remedies.py, the same), ballots closing and their
    reminder (services/resolution/closing.py, every minute), overdue improvement actions
    (services/followup/actions.py, every SLA_TICK_SECONDS), the survey's one reminder and the
    due call-back's email to its owner (services/followup/callbacks.py, the same), and the
    overdue progress report's reminder to the matter's lawyer, once per overdue period
    (services/prevention/reminders.py, the same)."""
    from portal.services import sla
    from portal.services.followup import actions, callbacks
    from portal.services.prevention import reminders
    from portal.services.resolution import closing, remedies

    return {"deadline": sla.tick_if_due, "remedy task": remedies.tick_if_due,
            "ballot": closing.tick_if_due, "improvement action": actions.tick_if_due,
            "follow-up": callbacks.tick_if_due, "progress report": reminders.tick_if_due}


def _tick(name: str, tick_if_due: Tick, last: datetime | None) -> datetime | None:
    try:
        return tick_if_due(last)
    except Exception:  # noqa: BLE001 - never let it stop the mail worker; next pass retries
        db.session.rollback()
        log.exception("the %s tick failed", name)
        return last
    finally:
        db.session.remove()


def _one_pass(limit: int) -> int:
    try:
        return outbox.deliver_due(limit=limit)
    except DBAPIError as error:  # the database busy or gone, a conflict: try again next pass
        db.session.rollback()
        log.warning("outbox pass failed: %s", error)
        return 0
    finally:
        db.session.remove()


@cli.command("work")
@click.option("--once", is_flag=True, help="Deliver what is due now, then exit.")
@click.option("--interval", default=2.0, show_default=True, type=click.FloatRange(0.1, 3600),
              help="Seconds between passes when the queue is empty.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000),
              help="Messages per pass.")
def work(once: bool, interval: float, limit: int) -> None:
    """Send due messages (retries with backoff; dead after OUTBOX_MAX_ATTEMPTS), every
    SLA_TICK_SECONDS queue the deadline reminders and escalations (`flask sla tick`), and every
    minute close the due ballots and remind their members (`flask ballots tick`)."""
    ticks = _ticks()
    if once:
        for name, tick_if_due in ticks.items():
            _tick(name, tick_if_due, None)
        click.echo(f"{_one_pass(limit)} sent.")
        return
    stop = _stop_event()
    click.echo(f"Outbox worker running (every {interval:g} s); Ctrl+C to stop.")
    last_run: dict[str, datetime | None] = dict.fromkeys(ticks)
    while not stop.is_set():
        _mail_audit_head()
        for name, tick_if_due in ticks.items():
            last_run[name] = _tick(name, tick_if_due, last_run[name])
        sent = _one_pass(limit)
        if sent:
            click.echo(f"{sent} sent.")
        if sent < limit:
            stop.wait(interval)
    click.echo("Outbox worker stopped.")


@cli.command("status")
def status() -> None:
    """Counts per status, and the messages that could not be delivered."""
    counts = outbox.summary()
    click.echo("  ".join(f"{name}: {counts[name]}" for name in counts))
    dead = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.DEAD).order_by(OutboxMessage.id.desc()).limit(20))
    for message in dead:
        click.echo(f"dead #{message.id} {message.kind} to {message.recipient} after "
                   f"{message.attempts} attempts: {message.last_error or ''}"[:300])
    pending = db.session.scalar(select(OutboxMessage).where(
        OutboxMessage.status == OutboxStatus.PENDING).order_by(OutboxMessage.next_attempt_at)
        .limit(1))
    if pending is not None:
        click.echo(f"next due: #{pending.id} at {pending.next_attempt_at.isoformat()}")
