"""Flask commands: demo data, audit verification, translations; other areas add their own."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

ROOT = Path(__file__).resolve().parent.parent

audit_cli = AppGroup("audit", help="The audit trail.")
translate_cli = AppGroup("translate", help="Translation catalogues (pybabel).")
# Every catalogue wrapped alike, so that an update shows only the strings that changed.
PO_WIDTH = 100


def _expected_heads(values: tuple[str, ...]) -> list[tuple[int, str]]:
    pairs = []
    for value in values:
        event_id, _, digest = value.partition("=")
        if not event_id.isdigit() or len(digest) != 64:
            raise click.BadParameter(f"{value!r}: use EVENT=HASH, as in the daily email")
        pairs.append((int(event_id), digest.lower()))
    return pairs


@audit_cli.command("verify")
@click.option("--expect", "expected", multiple=True, metavar="EVENT=HASH",
              help="Also check that this event still has this hash (from a daily email).")
def audit_verify(expected: tuple[str, ...]) -> None:
    """Check the chain and the newest checkpoint; exit 1 naming the first problem.

    Plain SHA-256 links up to the `audit.rekeyed` event, HMAC links (AUDIT_HMAC_KEY) after
    it; then the newest signed checkpoint in AUDIT_CHECKPOINT_DIR must name an event that is
    still there, unchanged. Reads only: saves go on while it runs.
    """
    from portal.services.audit import event_hash, verify

    pairs = _expected_heads(expected)
    result = verify()
    broken = result.broken
    if broken:
        where = f"event {broken.event_id}" if broken.event_id is not None else "the checkpoints"
        if broken.line is not None:
            where += f" (line {broken.line} of {result.checkpoint_file})"
        click.echo(f"audit chain broken at {where}: {broken.reason}", err=True)
        sys.exit(1)
    keyed = (f"keyed from event {result.keyed_from}" if result.keyed_from is not None
             else "not keyed yet")
    click.echo(f"audit chain intact: {result.events} events, {keyed}")
    if result.head:
        click.echo(f"last event {result.head[0]} {result.head[1]}")
    if result.checkpoint:
        click.echo(f"checkpoint: event {result.checkpoint.event_id} at {result.checkpoint.at} "
                   f"matches ({result.checkpoint_file})")
    for event_id, digest in pairs:
        if event_hash(event_id) != digest:
            click.echo(f"event {event_id} is missing or has another hash than expected", err=True)
            sys.exit(1)
        click.echo(f"event {event_id} has the expected hash")


@audit_cli.command("mail-head")
def audit_mail_head() -> None:
    """Email the chain's head to every active partner, once a day (the worker does it too)."""
    from portal.services.audit_head import mail_head_if_due

    mailed = mail_head_if_due()
    if mailed is None:
        click.echo("Nothing to do: today's email was already queued, or the trail is empty.")
    else:
        click.echo(f"Event {mailed.head_id} {mailed.head_hash} queued for "
                   f"{len(mailed.partner_ids)} partner(s).")


def _pybabel(*args: str) -> None:
    command = [sys.executable, "-m", "babel.messages.frontend", *args]
    subprocess.run(command, check=True, cwd=ROOT)  # noqa: S603 - fixed arguments


@translate_cli.command("update")
def translate_update() -> None:
    """Extract strings into messages.pot and merge them into every catalogue."""
    _pybabel("extract", "-F", "translations/babel.cfg", "-k", "_l", "-k", "lazy_gettext",
             "-k", "lazy_pgettext:1c,2",
             "--no-location", "--sort-output", "-w", str(PO_WIDTH),
             "-o", "translations/messages.pot", ".")
    _pybabel("update", "-i", "translations/messages.pot", "-d", "translations",
             "--no-fuzzy-matching", "-w", str(PO_WIDTH))
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
        write_po(handle, catalogue, width=PO_WIDTH, omit_header=False)


@translate_cli.command("compile")
def translate_compile() -> None:
    """Build the .mo files."""
    _pybabel("compile", "-d", "translations", "--statistics")


def register_cli(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(translate_cli)
    from portal.commands import (
        backup,
        ballots,
        calendar,
        complaints,
        demo,
        mail,
        mailsink,
        matters,
        notices,
        outbox,
        redact,
        reports,
        retention,
        sla,
        users,
    )

    for area in (demo, complaints, outbox, notices, calendar, mailsink, users, sla, ballots,
                 redact, reports, matters, mail, retention):
        app.cli.add_command(area.cli)
    for command in backup.COMMANDS:  # `flask backup DEST`, `flask restore SRC`
        app.cli.add_command(command)


__all__ = ["register_cli"]
