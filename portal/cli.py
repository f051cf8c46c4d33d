"""Flask commands: demo data, audit verification, translations; other areas add their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup

from portal.config import is_production

ROOT = Path(__file__).resolve().parent.parent

audit_cli = AppGroup("audit", help="The audit trail.")
translate_cli = AppGroup("translate", help="Translation catalogues (pybabel).")


@audit_cli.command("verify")
def audit_verify() -> None:
    """Check the hash chain; exit 1 naming the first broken row."""
    from portal.services.audit import last_event, verify_chain

    broken = verify_chain()
    if broken:
        click.echo(f"audit chain broken at event {broken.event_id}: {broken.reason}", err=True)
        sys.exit(1)
    last = last_event()
    click.echo("audit chain intact")
    if last:
        # Deleting the newest rows leaves a valid shorter chain: compare this line with a copy
        # kept outside the database (e.g. the daily report) to detect truncation.
        click.echo(f"last event {last[0]} {last[1]}")


def _pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603 - fixed arguments


@translate_cli.command("update")
def translate_update() -> None:
    """Extract strings into messages.pot and merge them into every catalogue."""
    _pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_gettext",
             "--no-location", "--sort-output", "-o", "translations/messages.pot", ".")
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
             "--no-fuzzy-matching")
    fill_english_catalogue(ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po")


def fill_english_catalogue(path: Path) -> None:
    """Source strings are English: the en catalogue repeats them, so none is untranslated."""
    from babel.messages.pofile import read_po, write_po

    with open(path, "rb") as handle:
        catalogue = read_po(handle, locale="en")
    for message in catalogue:
        if not message.id:
            continue
        if isinstance(message.id, tuple):
            if not all(message.string):
                message.string = (message.id[0], message.id[1])
        elif not message.string:
            message.string = message.id
    with open(path, "wb") as handle:
        write_po(handle, catalogue, width=100, omit_header=False)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Build the .mo files."""
    _pybabel("compile", "-d", "translations", "--statistics")


def register_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(translate_cli)
    from portal import demo
    from portal.commands import calendar, complaints, mailsink, notices, outbox

    for area in (demo, complaints, outbox, notices, calendar, mailsink):
        app.cli.add_command(area.cli)


def refuse_in_production() -> None:
    if is_production(current_app.config):
        raise click.ClickException("Refusing to run against a production configuration.")


__all__ = ["refuse_in_production", "register_cli"]
