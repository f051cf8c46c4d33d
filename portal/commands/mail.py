"""`flask mail work | fetch --once | deliver FILE.eml`: the complaints mailbox."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from portal import clock
from portal.commands.outbox import _stop_event
from portal.services.mailin import imap

cli = AppGroup("mail", help="The complaints mailbox (the email channel).")


def _settings() -> imap.Settings:
    config = imap.settings()
    if config is None:
        raise click.ClickException(
            "No complaints mailbox is configured (MAIL_INBOX_HOST): the email channel is off.")
    return config


@cli.command("work")
def work() -> None:
    """Read the mailbox until stopped: a pass, then IDLE (or polling) until new mail."""
    config = _settings()
    click.echo(f"Mail fetcher for {config.mailbox}, folder {config.folder}; Ctrl+C to stop.")
    imap.watch(config, _stop_event(), report=click.echo)
    click.echo("Mail fetcher stopped.")


@cli.command("fetch")
@click.option("--once", is_flag=True, default=True, help="One pass, then exit (the default).")
def fetch(once: bool) -> None:
    """Store every message waiting in the mailbox as a draft or correspondence."""
    try:
        stored = imap.fetch_once(_settings())
    except (OSError, imap.MailboxError) as error:
        raise click.ClickException(f"Cannot read the mailbox: {error}") from error
    click.echo(f"{stored} message(s) stored.")


@cli.command("deliver")
@click.argument("files", nargs=-1, required=True,
                type=click.Path(exists=True, dir_okay=False, path_type=Path))
def deliver(files: tuple[Path, ...]) -> None:
    """Put FILE.eml messages into the configured mailbox, as if they had arrived by email
    (for trying the email channel and for tests)."""
    config = _settings()
    with imap.connect(config) as box:
        for path in files:
            box.append(path.read_bytes(), config.folder, dt=clock.now())
            click.echo(f"delivered {path.name} to {config.mailbox}/{config.folder}")
