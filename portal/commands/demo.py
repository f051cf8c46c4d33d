"""`flask demo seed` and `flask demo clock`: demonstration data and the demo's clock."""

from __future__ import annotations

from datetime import timedelta

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import text

from portal import clock
from portal.commands import refuse_in_production
from portal.db import db, write_transaction
from portal.demo import ACCOUNTS, demo_password, seed
from portal.demo_cases import seed_committee_case
from portal.demo_complaints import seed_complaints

cli = AppGroup("demo", help="Demonstration data.")


@cli.command("seed")
@click.option("--complaints", "complaints", default=0, show_default=True,
              type=click.IntRange(0, 200_000),
              help="Also add this many complaints spread over the last ten years, each as "
                   "far along as its age makes likely, with their ballots, notices and "
                   "audit trail (added on every run).")
@click.option("--random-seed", default=2026, show_default=True, type=int,
              help="Seed of the generated complaints (the same seed gives the same data).")
def seed_command(complaints: int, random_seed: int) -> None:
    """Create the demo accounts and firm (once; safe to run again)."""
    refuse_in_production()
    password = demo_password()
    with write_transaction():
        created = seed(password, remind_overdue=True)
    click.echo("Demo data created." if created else "Demo data already present; nothing changed.")
    if created:
        reference = seed_committee_case()
        click.echo(f"{reference} awaits the committee's vote (sign in as committee1).")
    click.echo(f"Demo accounts (password: {password}):")
    for username, name, _email, _dept, roles, _title in ACCOUNTS:
        click.echo(f"  {username:<14} {name}  {', '.join(sorted(r.value for r in roles))}")
    if complaints:
        with click.progressbar(length=complaints, label="Registered complaints") as bar:
            references = seed_complaints(complaints, random_seed=random_seed, progress=bar.update)
        click.echo(f"{len(references)} complaints added "
                   f"({min(references)} … {max(references)}).")
        _refresh_planner_statistics()


def _refresh_planner_statistics() -> None:
    """PostgreSQL plans from table statistics, and reads an index alone only where its
    visibility map says the rows are all visible; autovacuum refreshes both in its own time,
    and after a bulk load that is minutes of it working beside the portal. VACUUM (ANALYZE)
    does it at once: right after seeding 100,000 complaints, with neither, the home page took
    427 ms from scratch. SQLite keeps no statistics unless asked, and is left so
    (docs/architecture.md, "Measured facts the code relies on")."""
    if db.engine.dialect.name != "postgresql":
        return
    db.session.rollback()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE)"))  # never inside a transaction


def _duration(_ctx, _param, value: str | None) -> timedelta | None:
    if value is None:
        return None
    try:
        return clock.parse_duration(value)
    except ValueError as error:
        raise click.BadParameter(str(error)) from None


@cli.command("clock")
@click.option("--advance", metavar="DURATION", callback=_duration,
              help="Move the clock forward (3d, 12h, 90m, 1w; negative goes back).")
@click.option("--reset", is_flag=True, help="Back to the system's time.")
def clock_command(advance: timedelta | None, reset: bool) -> None:
    """Show or move the demo's clock; the web server and the worker follow within a request.

    The offset is stored in CLOCK_OFFSET_FILE (default <instance>/clock_offset), so every
    process of this instance agrees on the time. Moving it far ends signed-in sessions
    (their idle timeout passes).
    """
    refuse_in_production()
    path = clock.offset_file(current_app.config, current_app.instance_path)
    offset = timedelta(0) if reset else clock.read_offset(path)
    if advance is not None:
        offset += advance
    if reset or advance is not None:
        clock.write_offset(path, offset)
    local = clock.now().astimezone(clock.LOCAL_TZ)
    click.echo(f"Clock: {local:%Y-%m-%d %H:%M} {clock.LOCAL_TZ.key} "
               f"(offset {_describe(offset)} from the system's time)")


def _describe(offset: timedelta) -> str:
    seconds = int(offset.total_seconds())
    sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
    days, rest = divmod(seconds, 86400)
    return f"{sign}{days}d {rest // 3600:02d}:{rest % 3600 // 60:02d}"
