"""`flask retention run`: anonymise the complaints finished longer ago than
COMPLAINT_RETENTION_YEARS (portal/services/retention.py says what that does).

    flask retention run --dry-run   # the complaints it would anonymise, one a line; no change
    flask retention run             # anonymise them, one short write transaction each

The dry run writes each complaint's reference, state, the day it was finished and how many
files it has, then a count. The run shows a progress bar on standard error and ends with the
count of complaints anonymised and files deleted. Run it again at any time: a complaint done
before is skipped.
"""

from __future__ import annotations

import sys

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.models.complaint import STATE_LABELS
from portal.services import retention

cli = AppGroup("retention", help="Retention: anonymise complaints finished long ago.")


def _day(moment) -> str:
    return moment.astimezone(clock.LOCAL_TZ).date().isoformat()


@cli.command("run")
@click.option("--dry-run", is_flag=True,
              help="List the complaints that would be anonymised; change nothing.")
@click.option("--batch-size", type=click.IntRange(1, 1000), default=retention.BATCH,
              show_default=True, help="Complaints read at a time.")
def run_command(dry_run: bool, batch_size: int) -> None:
    """Anonymise every complaint closed, withdrawn or discarded more than
    COMPLAINT_RETENTION_YEARS ago, delete its files and keep its statistics."""
    years = int(current_app.config["COMPLAINT_RETENTION_YEARS"])
    before = retention.cutoff(years)
    if dry_run:
        _dry_run(before, years, batch_size)
        return
    total = retention.count_due(before)
    db.session.commit()  # end the read: each complaint is written in its own transaction
    if not total:
        click.echo(_("No complaint was finished more than %(years)d years ago (before "
                     "%(day)s): nothing to anonymise.", years=years, day=_day(before)))
        return
    with click.progressbar(length=total, label=_("Anonymising"), file=sys.stderr) as bar:
        summary = retention.run(before, batch_size=batch_size,
                                progress=lambda _outcome: bar.update(1))
    files = sum(o.evidence + o.notice_files for o in summary.done)
    click.echo(_("%(count)d complaints anonymised, %(files)d files deleted.",
                 count=len(summary.done), files=files))


def _dry_run(before, years: int, batch_size: int) -> None:
    count = 0
    for batch in retention.batches(before, batch_size):
        for item in batch:
            state = STATE_LABELS.get(item.state, item.state)
            click.echo(_("%(reference)s\t%(state)s\t%(day)s\tevidence files: %(evidence)d, "
                         "notices: %(notices)d", reference=item.label, state=state,
                         day=_day(item.finished_at), evidence=item.evidence,
                         notices=item.notices))
            count += 1
    db.session.rollback()  # reads only
    click.echo(_("Dry run: %(count)d complaints finished more than %(years)d years ago "
                 "(before %(day)s) would be anonymised; nothing was changed.",
                 count=count, years=years, day=_day(before)))
