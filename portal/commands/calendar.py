"""`flask calendar due|status`: the working-day calendar from the command line."""

from __future__ import annotations

from datetime import datetime

import click
from flask import current_app
from flask.cli import AppGroup

from portal.services import calendar

cli = AppGroup("calendar", help="The working-day calendar.")


@cli.command("due")
@click.argument("received_at")
@click.option("--days", type=click.IntRange(0, 365), default=None,
              help="Working days (default FIRST_RESPONSE_WORKING_DAYS).")
def due(received_at: str, days: int | None) -> None:
    """The first-response date for a complaint received at RECEIVED_AT (ISO 8601 with offset)."""
    try:
        moment = datetime.fromisoformat(received_at)
        days = current_app.config["FIRST_RESPONSE_WORKING_DAYS"] if days is None else days
        deadline = calendar.first_response_due(moment, days)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    note = " (provisional: the year's schedule is not confirmed)" if deadline.provisional else ""
    click.echo(f"{deadline.due.isoformat()}{note}")


@cli.command("status")
@click.argument("year", type=int)
def status(year: int) -> None:
    """Whether YEAR is covered by the official schedule or confirmed, and its overrides."""
    try:
        schedule = calendar.year_schedule(year)
    except calendar.CalendarError as error:
        raise click.ClickException(str(error)) from error
    if schedule.official:
        click.echo(f"{year}: official State Council schedule")
    elif schedule.confirmed:
        click.echo(f"{year}: confirmed on {schedule.confirmed.confirmed_at:%Y-%m-%d}")
    else:
        click.echo(f"{year}: PROVISIONAL (statutory holidays only; a partner must confirm)")
    for row in schedule.overrides:
        kind = "working day" if row.is_workday else "day off"
        click.echo(f"  override {row.day.isoformat()}: {kind}  {row.note or ''}".rstrip())
