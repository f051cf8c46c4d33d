"""`flask reports quarterly 2026Q3 [-o report.pdf] [--as USERNAME]`: the quarterly report.

The bilingual PDF of /analytics' quarterly report button: the quarter's key figures beside
the previous quarter's, the charts, the improvement actions and the bulletins published in
the quarter. From the command line it counts the whole firm; `--as` a partner's username
counts only the complaints that partner may see (the same report as their button).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import select

from portal.db import db
from portal.models.user import Role, User
from portal.services.analytics import quarterly
from portal.services.analytics.filters import FilterError

cli = AppGroup("reports", help="Reports for the partners (PDF).")


@cli.command("quarterly")
@click.argument("quarter")
@click.option("-o", "--output", "output", type=click.Path(dir_okay=False, allow_dash=True),
              help="Where to write the PDF ('-' for standard output; default "
                   "quarterly-report-<QUARTER>.pdf).")
@click.option("--as", "username", default=None,
              help="A partner's username: count only what that partner may see.")
def quarterly_command(quarter: str, output: str | None, username: str | None) -> None:
    """Write the quarterly report of QUARTER (e.g. 2026Q3)."""
    viewer = None
    if username:
        viewer = db.session.scalar(select(User).where(User.username == username))
        if viewer is None or not viewer.has_role(Role.PARTNER):
            raise click.ClickException(f"{username!r} is not a partner's username.")
    with force_locale("en"):  # the messages of a bad quarter
        try:
            data = quarterly.facts(viewer, quarter)
        except FilterError as error:
            raise click.BadParameter(error.message, param_hint="QUARTER") from error
    db.session.commit()  # end the read: nothing is open while the PDF renders
    pdf = quarterly.render(data)
    if output == "-":
        sys.stdout.buffer.write(pdf)
        return
    path = Path(output or f"quarterly-report-{data['quarter']}.pdf")
    path.write_bytes(pdf)
    click.echo(f"Wrote {path} ({len(pdf):,} bytes): {data['quarter']}, "
               f"{data['key_figures'][0]['now']} complaints.")
