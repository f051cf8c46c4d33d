"""`flask ballots tick`: close the ballots whose time is up and remind the members who have not
voted (the outbox worker runs it too)."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from portal.services.resolution import closing

cli = AppGroup("ballots", help="Committee ballots: closing and reminders.")


@cli.command("tick")
def tick() -> None:
    """Close each due ballot once and queue each reminder once (safe beside the worker)."""
    result = closing.tick()
    click.echo(f"{result.closed} closed, {result.reminded} reminded.")
