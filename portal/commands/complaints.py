"""`flask complaints import FILE.json` and `flask complaints export REF`.

The import prints the complaint's reference on stdout (its last line; scripts read it) and
notes on stderr; problems go to stderr, one `field: message` per line, with exit status 1.
"""

from __future__ import annotations

import json
import sys
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from portal.db import begin_write, db, write_transaction
from portal.models.user import User
from portal.services import transfer

cli = AppGroup("complaints", help="Import and export complaints (JSON).")


def _fail(errors: list[transfer.FieldError]) -> None:
    db.session.rollback()
    for error in errors:
        click.echo(str(error), err=True)
    click.echo("Nothing was imported.", err=True)
    sys.exit(1)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
def import_command(file: str) -> None:
    """Register the complaint described in FILE (see docs/import-format.md)."""
    try:
        # No request here to choose a locale from: messages of the services are in English.
        with force_locale("en"):
            data = transfer.load_json(file)
            begin_write()
            result = transfer.import_complaint(
                data, working_days=int(current_app.config["FIRST_RESPONSE_WORKING_DAYS"]))
        db.session.commit()
    except transfer.ImportRejected as rejected:
        _fail(rejected.errors)
        return
    except IntegrityError:
        # Another import of the same external_id won the race: report its reference.
        db.session.rollback()
        existing = transfer.find_by_external_id(str(data.get("external_id", "")).strip())
        if existing is None:
            raise
        result = transfer.ImportResult(existing, created=False,
                                       notes=["imported meanwhile by another process"])
    for note in result.notes:  # on stderr: stdout carries only the reference
        click.echo(note, err=True)
    click.echo(result.reference)


@cli.command("export")
@click.argument("ref")
@click.option("--as", "username", metavar="USERNAME",
              help="Export only what this user may see (as the portal would show them).")
def export_command(ref: str, username: str | None) -> None:
    """Print the complete record of complaint REF (e.g. TS-2026-00001) as JSON."""
    viewer = None
    if username:
        viewer = db.session.scalar(select(User).where(User.username == username))
        if viewer is None:
            click.echo(f"--as: no user {username!r}", err=True)
            sys.exit(1)
    complaint = transfer.find(ref, viewer)
    if complaint is None:
        click.echo(f"REF: no complaint {ref!r}", err=True)
        sys.exit(1)
    zone = ZoneInfo(current_app.config.get("BABEL_DEFAULT_TIMEZONE") or "UTC")
    record = transfer.export_complaint(complaint, zone, viewer)
    with write_transaction():
        transfer.record_export(complaint, viewer)
    click.echo(json.dumps(record, ensure_ascii=False, indent=2))
