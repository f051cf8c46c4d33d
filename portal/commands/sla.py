"""`flask sla tick`: deadline reminders and escalations (the outbox worker runs it too)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.services import sla

cli = AppGroup("sla", help="Deadline reminders and escalations.")


@cli.command("tick")
def tick() -> None:
    """Queue each due reminder and escalation once (safe to run beside the worker)."""
    result = sla.tick()
    click.echo(f"{result.reminded} reminded, {result.escalated} escalated.")
