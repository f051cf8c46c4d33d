"""`flask outbox work|status`: the mail worker and a look at the queue."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import datetime

import click
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

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


def _sla_tick(last: datetime | None) -> datetime | None:
    """Every SLA_TICK_SECONDS: deadline reminders and escalations (services/sla.py)."""
    from portal.services import sla

    try:
        return sla.tick_if_due(last)
    except Exception:  # noqa: BLE001 - never let it stop the mail worker; next pass retries
        db.session.rollback()
        log.exception("the deadline tick failed")
        return last
    finally:
        db.session.remove()


def _ballot_tick(last: datetime | None) -> datetime | None:
    """Every minute: close the ballots whose time is up, and the one reminder before the close
    (services/resolution/closing.py; `flask ballots tick`)."""
    from portal.services.resolution import closing

    try:
        return closing.tick_if_due(last)
    except Exception:  # noqa: BLE001 - never let it stop the mail worker; next pass retries
        db.session.rollback()
        log.exception("the ballot tick failed")
        return last
    finally:
        db.session.remove()


def _remedies_tick(last: datetime | None) -> datetime | None:
    """Every SLA_TICK_SECONDS: one reminder per overdue remedy task, to its owner
    (services/resolution/remedies.py)."""
    from portal.services.resolution import remedies

    try:
        return remedies.tick_if_due(last)
    except Exception:  # noqa: BLE001 - never let it stop the mail worker; next pass retries
        db.session.rollback()
        log.exception("the remedy task tick failed")
        return last
    finally:
        db.session.remove()


def _one_pass(limit: int) -> int:
    try:
        return outbox.deliver_due(limit=limit)
    except OperationalError as error:  # e.g. the database is busy: try again next pass
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
    if once:
        _sla_tick(None)
        _remedies_tick(None)
        _ballot_tick(None)
        click.echo(f"{_one_pass(limit)} sent.")
        return
    stop = _stop_event()
    click.echo(f"Outbox worker running (every {interval:g} s); Ctrl+C to stop.")
    ticked: datetime | None = None
    remedies_ticked: datetime | None = None
    ballots_ticked: datetime | None = None
    while not stop.is_set():
        _mail_audit_head()
        ticked = _sla_tick(ticked)
        remedies_ticked = _remedies_tick(remedies_ticked)
        ballots_ticked = _ballot_tick(ballots_ticked)
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
