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


@cli.command("period")
@click.argument("jurisdiction", required=False)
@click.argument("days", required=False, type=click.IntRange(1, 3650))
def period(jurisdiction: str | None, days: int | None) -> None:
    """List the regulatory periods, or set JURISDICTION's to DAYS calendar days (for
    complaints triaged from now on; unlisted jurisdictions use 56)."""
    from sqlalchemy import select

    from portal.db import db, write_transaction
    from portal.models.deadline import RegulatoryPeriod
    from portal.services import deadlines

    if jurisdiction and days:
        with write_transaction():
            deadlines.set_regulatory_period(jurisdiction, days)
    elif jurisdiction or days:
        raise click.UsageError("give both JURISDICTION and DAYS, or neither")
    rows = db.session.scalars(select(RegulatoryPeriod).order_by(RegulatoryPeriod.jurisdiction))
    for row in rows:
        click.echo(f"{row.jurisdiction}\t{row.days} days")
    click.echo(f"(any other)\t{deadlines.REGULATORY_DEFAULT_DAYS} days")
