"""`flask backup DEST` and `flask restore SRC`: see docs/backup.md."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from portal.db import db
from portal.services import audit
from portal.services import backup as service

PARTS = ((service.SQLITE_FILE, "database"), (service.PG_FILE, "database"),
         (service.EVIDENCE, "evidence"), (service.NOTICES, "notices"),
         (service.CHECKPOINTS, "audit checkpoints"))


def _print_figures(manifest: service.Manifest) -> None:
    counts = manifest.counts()
    for part, label in PARTS:
        if part in counts:
            files, size = counts[part]
            click.echo(f"  {label + ':':<19}{files:>6} file(s) {size:>14,} bytes  ({part})")
    head = manifest.audit_head
    click.echo(f"  audit head:        event {head.event_id} {head.hash}" if head
               else "  audit head:        none (the trail is empty)")
    click.echo(f"  alembic revision:  {manifest.alembic_revision or 'none'}")


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False, path_type=Path))
@with_appcontext
def backup_command(dest: Path) -> None:
    """Back up the database, evidence, notices and audit checkpoints into DEST.

    DEST must be new or empty. The database is copied consistently while the portal runs
    (SQLite's online backup, or pg_dump); manifest.json lists every file with its SHA-256.
    SECRET_KEY and AUDIT_HMAC_KEY are not in it: keep them separately.
    """
    if dest.exists() and any(dest.iterdir()):
        raise click.BadParameter(f"{dest} exists and is not empty: choose a new directory.",
                                 param_hint="DEST")
    try:
        manifest = service.make_backup(dest)
    except service.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Backup written to {dest.absolute()} ({manifest.database}, "
               f"{manifest.created_at}):")
    _print_figures(manifest)
    click.echo(f"{len(manifest.files)} files, {manifest.total_bytes:,} bytes "
               f"in {manifest.seconds:.2f} s")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--force", is_flag=True,
              help="Replace an existing database, and files in the way that differ.")
@click.option("--check-only", is_flag=True,
              help="Restore nothing: only check the portal against SRC's manifest.")
@with_appcontext
def restore_command(src: Path, force: bool, check_only: bool) -> None:
    """Restore the backup SRC into the configured database and directories, then check it.

    Stop the web server and the workers first. Refused, changing nothing, when SRC does not
    match its manifest, its checkpoints are not signed with this AUDIT_HMAC_KEY or (without
    --force) the database exists. Afterwards: the audit chain must verify up to the backup's
    head, and every evidence file and notice must match its SHA-256 (exit 1 otherwise).
    """
    try:
        manifest = service.read_manifest(src)
    except service.BackupError as error:
        raise click.BadParameter(str(error), param_hint="SRC") from None
    if not check_only:
        started = time.monotonic()
        db.session.remove()
        db.engine.dispose()  # no connection of this process stays on the old database
        try:
            restored = service.restore_backup(
                src, database_url=db.engine.url.render_as_string(hide_password=False),
                dirs=service.InstanceDirs.configured(), audit_key=audit.chain_key(),
                force=force)
        except service.BackupError as error:
            raise click.ClickException(f"nothing restored: {error}") from None
        finally:
            db.engine.dispose()
        click.echo(f"Restored {src} (made {manifest.created_at}) into "
                   f"{db.engine.url.render_as_string(hide_password=True)}:")
        _print_figures(manifest)
        click.echo(f"{restored.files_copied} files copied in {time.monotonic() - started:.2f} s")
        for path in restored.set_aside:
            click.echo(f"The checkpoint file in the way was kept as {path}: it names events "
                       "after the backup, which the restore has undone.")
    try:
        problems = service.check_restored(manifest)
    except SQLAlchemyError as error:
        click.echo(f"Could not check the restored database ({error.__class__.__name__}): run "
                   f"`flask db upgrade`, then `flask restore --check-only {src}`.", err=True)
        sys.exit(1)
    if problems:
        click.echo("The restored portal does not match the backup:", err=True)
        for problem in problems:
            click.echo(f"  {problem}", err=True)
        sys.exit(1)
    head = manifest.audit_head
    reached = f" up to event {head.event_id} (its hash matches the manifest)" if head else ""
    click.echo(f"Checked: the audit chain verifies{reached}; every evidence file and notice "
               "matches its SHA-256.")


COMMANDS = (backup_command, restore_command)
