"""`flask matters import FILE.csv|FILE.xlsx` (docs/matters-import.md).

The report goes to stdout: each updated matter's reference with what changed, then the last
line `N created, N updated, N unchanged`. The progress bars, notes and problems go to
stderr; a file with problems exits with status 1 and writes nothing.
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from portal.db import begin_write, db
from portal.locales import LANGUAGES, locale_of
from portal.services.prevention import importer

cli = AppGroup("matters", help="Matters: import them from a spreadsheet.")


def _fail(errors: list, written: int) -> None:
    db.session.rollback()
    for error in errors:
        click.echo(str(error), err=True)
    if written:
        click.echo(_("%(count)d rows were written before this; run the same file again to "
                     "finish (what is written shows as unchanged).", count=written), err=True)
    else:
        click.echo(_("Nothing was imported."), err=True)
    sys.exit(1)


@cli.command("import")
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--language", type=click.Choice(LANGUAGES), default="zh", show_default=True,
              help="The language of the report and the messages.")
def import_command(file: str, language: str) -> None:
    """Create and update matters from FILE, a CSV (UTF-8) or XLSX sheet with one matter a
    row. The whole file is checked first: any problem stops the import before anything is
    written, and every bad row is listed with its line."""
    with force_locale(locale_of(language)):
        _import(file)


def _import(file: str) -> None:
    written = 0
    try:
        table = importer.read_table(file)
        with click.progressbar(length=len(table.rows), label=_("Checking"),
                               file=sys.stderr) as bar:
            plan = importer.check(table, progress=bar.update)
        db.session.rollback()  # end the read
        for note in plan.notes:
            click.echo(note, err=True)
        rows = len(plan.creates) + len(plan.updates)
        if rows:
            with click.progressbar(length=rows, label=_("Writing"), file=sys.stderr) as bar:
                for chunk in plan.chunks():
                    begin_write()
                    importer.write(chunk)
                    db.session.commit()
                    written += len(chunk)
                    bar.update(len(chunk))
    except importer.ImportRejected as rejected:
        _fail(rejected.errors, written)
        return
    except IntegrityError:
        _fail([_("Another process wrote matters with the same references meanwhile.")],
              written)
        return
    for planned in plan.updates:
        click.echo(f"{planned.reference}: " + "; ".join(
            f"{change.column}: {change.old} → {change.new}" for change in planned.changes))
    click.echo(_("%(created)d created, %(updated)d updated, %(unchanged)d unchanged",
                 created=len(plan.creates), updated=len(plan.updates),
                 unchanged=plan.unchanged))
