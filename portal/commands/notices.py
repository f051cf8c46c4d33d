"""`flask notices ...`: render a notice from the current record, check stored notices."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.notice import Notice
from portal.services import notices

cli = AppGroup("notices", help="Client notices (bilingual PDFs).")


@cli.command("render")
@click.argument("reference")
@click.option("--kind", default="acknowledgement", show_default=True,
              type=click.Choice(sorted(notices.KINDS)), help="Which notice.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the PDF ('-' for standard output).")
def render_command(reference: str, kind: str, out: str) -> None:
    """Render REFERENCE's notice fresh from the current record (nothing is stored)."""
    complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
    if complaint is None:
        raise click.ClickException(f"No complaint has the reference {reference!r}.")
    pdf = notices.render_fresh(complaint, kind)
    if out == "-":
        sys.stdout.buffer.write(pdf)
        return
    Path(out).write_bytes(pdf)
    click.echo(f"Wrote {out} ({len(pdf)} bytes).")


@cli.command("verify")
def verify_command() -> None:
    """Check every stored notice against its SHA-256; exit 1 naming the first that differs."""
    count = 0
    for notice in db.session.scalars(select(Notice).order_by(Notice.id)):
        try:
            notices.read_bytes(notice)
        except (OSError, notices.NoticeError) as error:
            click.echo(f"notice {notice.id} ({notice.stored_name}): {error}", err=True)
            sys.exit(1)
        count += 1
    click.echo(f"{count} stored notices intact.")
