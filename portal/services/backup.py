"""Backups and restoring them (docs/backup.md).

A backup is a directory: `database.sqlite3` (SQLite's online backup, read through a read-only
connection) or `database.pgdump` (pg_dump's snapshot), copies of the evidence, the notices and
the audit checkpoint files, and `manifest.json` naming every file with its size and SHA-256.

`make_backup` first notes the audit chain's head and appends a checkpoint naming it, then notes
how far the checkpoint file goes, then copies the database: so the database copy holds the head
and every event the copied checkpoints name. Files are copied after that, with no transaction
open, into a temporary sibling directory renamed into place at the end. Secrets (SECRET_KEY,
AUDIT_HMAC_KEY) are never in a backup.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from types import SimpleNamespace

from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from portal import clock
from portal.db import db, in_write_transaction
from portal.models.audit import AuditEvent
from portal.models.complaint import Evidence
from portal.models.notice import Notice
from portal.models.prevention import MatterChecklistItem
from portal.services import audit, audit_checkpoints
from portal.services import evidence as evidence_service
from portal.services import notices as notice_service

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_FILE = "database.sqlite3"
PG_FILE = "database.pgdump"
EVIDENCE, NOTICES, CHECKPOINTS = "evidence", "notices", "audit-checkpoints"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
CHUNK = 1024 * 1024


class BackupError(Exception):
    """A backup that cannot be made, read or restored; the message names the file."""


@dataclass(frozen=True)
class FileEntry:
    path: str  # relative to the backup, with "/"
    size: int
    sha256: str


@dataclass(frozen=True)
class AuditHead:
    event_id: int
    hash: str


@dataclass
class Manifest:
    created_at: str
    database: str  # "sqlite" or "postgresql"
    database_id: str  # the backed-up database's id: names its checkpoint file
    alembic_revision: str | None
    audit_head: AuditHead | None
    files: list[FileEntry] = field(default_factory=list)
    seconds: float = 0.0
    format: int = FORMAT

    @property
    def total_bytes(self) -> int:
        return sum(entry.size for entry in self.files)

    def counts(self) -> dict[str, tuple[int, int]]:
        """Files and bytes per part of the backup (database, evidence, notices, checkpoints)."""
        parts: dict[str, tuple[int, int]] = {}
        for entry in self.files:
            part = entry.path.split("/", 1)[0]
            files, size = parts.get(part, (0, 0))
            parts[part] = (files + 1, size + entry.size)
        return parts

    def to_json(self) -> str:
        data = asdict(self)
        data = {"format": data.pop("format"), **data}  # read first by whoever opens it
        return json.dumps(data, indent=1, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, raw: str) -> Manifest:
        data = json.loads(raw)
        if data.get("format") != FORMAT:
            raise BackupError(f"{MANIFEST} has format {data.get('format')!r}; this version "
                              f"reads format {FORMAT}")
        head = data.get("audit_head")
        return cls(
            created_at=str(data["created_at"]), database=str(data["database"]),
            database_id=str(data["database_id"]), alembic_revision=data.get("alembic_revision"),
            audit_head=AuditHead(int(head["event_id"]), str(head["hash"])) if head else None,
            files=[FileEntry(_safe_path(str(f["path"])), int(f["size"]), str(f["sha256"]))
                   for f in data["files"]],
            seconds=float(data.get("seconds", 0.0)))


@dataclass(frozen=True)
class InstanceDirs:
    evidence: Path
    notices: Path
    checkpoints: Path

    @classmethod
    def configured(cls) -> InstanceDirs:
        """The app's own directories, resolved by the services that write them."""
        return cls(evidence_service.storage_dir(), notice_service.notice_dir(),
                   audit_checkpoints.directory())


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    files_copied: int
    set_aside: list[Path]  # checkpoint files that were in the way, renamed rather than lost


# -- making a backup --------------------------------------------------------------------------

def make_backup(dest: Path) -> Manifest:
    """Write a backup of the configured database and directories into DEST (new or empty)."""
    dest = dest.absolute()
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} exists and is not an empty directory")
    started = time.monotonic()
    kind = db.engine.dialect.name
    if kind not in ("sqlite", "postgresql"):
        raise BackupError(f"cannot back up a {kind} database")
    created_at = clock.now().isoformat(timespec="seconds")
    head = _checkpoint_head()
    revision = _alembic_revision()
    checkpoint_file = audit_checkpoints.snapshot()  # copied no further than this
    dirs = InstanceDirs.configured()
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", suffix=".partial", dir=dest.parent))
    try:
        files = [_copy_database(kind, work)]
        files += _copy_tree(dirs.evidence, work, EVIDENCE)
        files += _copy_tree(dirs.notices, work, NOTICES)
        files += _copy_tree(dirs.checkpoints, work, CHECKPOINTS,
                            limits={checkpoint_file.path.name: checkpoint_file.size})
        manifest = Manifest(created_at=created_at, database=kind,
                            database_id=checkpoint_file.database, alembic_revision=revision,
                            audit_head=head, files=files,
                            seconds=round(time.monotonic() - started, 3))
        _write_synced(work / MANIFEST, manifest.to_json().encode())
        _sync_directory(work)
        os.rename(work, dest)  # replaces DEST when it is an empty directory
        _sync_directory(dest.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return manifest


def _end_read() -> None:
    """End this session's read transaction: nothing is held while files are copied."""
    session = db.session()
    if session.new or session.dirty or session.deleted or in_write_transaction(session):
        raise BackupError("a backup cannot be made inside a write transaction")
    session.rollback()


def _checkpoint_head() -> AuditHead | None:
    """The chain's head now, with a fresh signed checkpoint naming it appended to the file."""
    head = audit.last_event()
    at = db.session.scalar(select(AuditEvent.at).where(AuditEvent.id == head[0])) if head else None
    _end_read()
    if head is None or at is None:
        return None
    path, database = audit_checkpoints.current_file()
    checkpoint = audit_checkpoints.Checkpoint(
        head[0], head[1], at.isoformat(timespec="microseconds"), database).signed(audit.chain_key())
    audit_checkpoints.append(path, checkpoint.line())
    return AuditHead(head[0], head[1])


def _alembic_revision() -> str | None:
    try:
        if not inspect(db.engine).has_table("alembic_version"):
            return None
        with db.engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version"))
            return ",".join(sorted(versions.scalars())) or None
    finally:
        _end_read()


def _copy_database(kind: str, work: Path) -> FileEntry:
    if kind == "sqlite":
        source = Path(db.engine.url.database or "")
        if not source.is_file():
            raise BackupError(f"the SQLite database {source} does not exist")
        _sqlite_copy(f"{source.as_uri()}?mode=ro", work / SQLITE_FILE, self_contained=True)
        name = SQLITE_FILE
    else:
        _run_pg("pg_dump", ["--format=custom", "--file", str(work / PG_FILE)], db.engine.url)
        name = PG_FILE
    (work / name).chmod(0o600)
    size, digest = _hash_file(work / name)
    return FileEntry(name, size, digest)


def _sqlite_copy(source_uri: str, target: Path, *, self_contained: bool = False) -> None:
    """SQLite's online backup in one step: a consistent snapshot, read under a shared lock
    (no write lock on the source); writers go on meanwhile (WAL)."""
    source = sqlite3.connect(source_uri, uri=True)
    try:
        source.execute("PRAGMA busy_timeout = 10000")
        destination = sqlite3.connect(target)
        try:
            destination.execute("PRAGMA busy_timeout = 10000")
            source.backup(destination)
            if self_contained:  # one file, no -wal beside it
                destination.execute("PRAGMA journal_mode = DELETE")
                checked = destination.execute("PRAGMA quick_check").fetchone()[0]
                if checked != "ok":
                    raise BackupError(f"the copy of the database fails SQLite's check: {checked}")
        finally:
            destination.close()
    finally:
        source.close()


def _copy_tree(source: Path, work: Path, part: str,
               limits: dict[str, int] | None = None) -> list[FileEntry]:
    """Every regular file under `source` into work/part, same relative paths. `limits` copies
    a file only up to the size noted earlier (the checkpoint file grows meanwhile)."""
    entries: list[FileEntry] = []
    if not source.is_dir():
        return entries
    for folder, subfolders, names in os.walk(source):
        subfolders.sort()
        for name in sorted(names):
            path = Path(folder) / name
            relative = path.relative_to(source).as_posix()
            if name.endswith(".part") or path.is_symlink() or not path.is_file():
                continue  # an upload still being received
            try:
                size, digest = _copy_file(path, work / part / relative,
                                          limit=(limits or {}).get(relative))
            except FileNotFoundError:
                continue  # removed meanwhile (a draft's evidence): no row copied names it
            entries.append(FileEntry(f"{part}/{relative}", size, digest))
    return entries


# -- reading and verifying ------------------------------------------------------------------

def _safe_path(path: str) -> str:
    """A path from a manifest, refused if it could point outside the backup or a directory."""
    pure = PurePosixPath(path)
    allowed = pure.parts[:1] in ((EVIDENCE,), (NOTICES,), (CHECKPOINTS,)) and len(pure.parts) > 1
    if pure.is_absolute() or any(p in ("..", ".", "") for p in pure.parts) or not (
            allowed or path in (SQLITE_FILE, PG_FILE)):
        raise BackupError(f"{MANIFEST} names an unexpected path: {path!r}")
    return path


def read_manifest(src: Path) -> Manifest:
    path = src / MANIFEST
    if not path.is_file():
        raise BackupError(f"{src} is not a backup: it has no {MANIFEST}")
    try:
        manifest = Manifest.from_json(path.read_text(encoding="utf-8"))
    except (ValueError, KeyError, TypeError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from None
    if manifest.database not in ("sqlite", "postgresql"):
        raise BackupError(f"{path} names an unknown database kind {manifest.database!r}")
    return manifest


def verify_backup(src: Path) -> list[str]:
    """Every file the manifest lists, hashed again: the problems found (extra files are fine).
    Raises BackupError when SRC is not a backup."""
    manifest = read_manifest(src)
    problems = []
    database = SQLITE_FILE if manifest.database == "sqlite" else PG_FILE
    if database not in {entry.path for entry in manifest.files}:
        problems.append(f"{database}: not listed in {MANIFEST}")
    for entry in manifest.files:
        path = src / entry.path
        if not path.is_file():
            problems.append(f"{entry.path}: missing")
            continue
        size, digest = _hash_file(path)
        if size != entry.size:
            problems.append(f"{entry.path}: {size} bytes, the manifest says {entry.size}")
        elif digest != entry.sha256:
            problems.append(f"{entry.path}: SHA-256 differs from the manifest (file altered)")
    return problems


# -- restoring ------------------------------------------------------------------------------

def restore_backup(src: Path, *, database_url: str, dirs: InstanceDirs, audit_key: bytes,
                   force: bool = False) -> Restored:
    """Restore SRC into the database at `database_url` and the directories `dirs`.

    Refused, with nothing changed, when the backup does not match its manifest, its kind of
    database is not the target's, its checkpoints are not signed with `audit_key`, or (without
    `force`) the target database exists or a file in the way has other content. The
    checkpoints are signed again for the target database (each line names its database).
    """
    manifest = read_manifest(src)
    problems = verify_backup(src)
    if problems:
        raise BackupError("the backup does not match its manifest:\n  " + "\n  ".join(problems))
    url = make_url(database_url)
    if url.get_backend_name() != manifest.database:
        raise BackupError(f"the backup holds a {manifest.database} database; the configured "
                          f"database is {url.get_backend_name()}")
    target_id = audit_checkpoints.database_id(url)
    checkpoint_lines = _checkpoint_lines(src, manifest, target_id, audit_key)
    pending = _files_to_copy(src, manifest, dirs, force)
    if manifest.database == "sqlite":
        target = _sqlite_target(url)
        if target.exists() and not force:
            raise BackupError(f"the database {target} exists: use --force to replace it")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(f"{(src / SQLITE_FILE).as_uri()}?mode=ro&immutable=1", target)
    else:
        if not force and _has_tables(url):
            raise BackupError("the configured PostgreSQL database has tables: use --force to "
                              "replace the backup's tables, or restore into an empty database")
        _run_pg("pg_restore", ["--clean", "--if-exists", "--no-owner", "--single-transaction",
                               "--exit-on-error", str(src / PG_FILE)], url)
    for source, target, mode in pending:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = target.with_name(f".{target.name}.restoring")
        _copy_file(source, partial, mode=mode, overwrite=True)
        os.replace(partial, target)
    set_aside = _write_checkpoints(dirs.checkpoints / f"{target_id}.jsonl", checkpoint_lines)
    return Restored(manifest, len(pending), set_aside)


def _sqlite_target(url: URL) -> Path:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise BackupError(f"cannot restore into the SQLite database {url.database!r}")
    return Path(url.database)


def _has_tables(url: URL) -> bool:
    engine = create_engine(url, poolclass=NullPool)
    try:
        return bool(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _checkpoint_lines(src: Path, manifest: Manifest, target_id: str, key: bytes) -> str:
    """The backed-up database's checkpoints, signed again for the target database; refused
    unless each is signed with `key` and one of them reaches the manifest's head."""
    relative = f"{CHECKPOINTS}/{manifest.database_id}.jsonl"
    path = src / relative
    if not path.is_file():
        if manifest.audit_head is None:
            return ""
        raise BackupError(f"{relative} is missing: the backup carries no checkpoint")
    lines, newest = [], 0
    file = audit_checkpoints.CheckpointFile(path, manifest.database_id, path.stat().st_size)
    for number, checkpoint, signed in audit_checkpoints.read(file, key):
        if not signed:
            raise BackupError(f"line {number} of {relative} is not signed with this "
                              "AUDIT_HMAC_KEY: restore with the key the backup was made with")
        lines.append(audit_checkpoints.Checkpoint(checkpoint.event_id, checkpoint.hash,
                                                  checkpoint.at, target_id).signed(key).line())
        newest = max(newest, checkpoint.event_id)
    if manifest.audit_head is not None and newest < manifest.audit_head.event_id:
        raise BackupError(f"{relative} does not reach the backup's audit head "
                          f"(event {manifest.audit_head.event_id})")
    return "".join(lines)


def _files_to_copy(src: Path, manifest: Manifest, dirs: InstanceDirs,
                   force: bool) -> list[tuple[Path, Path, int]]:
    """(source, target, mode) of each file to copy; one already there unchanged is skipped,
    one with other content refused without `force`. Another database's checkpoint file is
    copied only where none is."""
    roots = {EVIDENCE: (dirs.evidence, 0o600), NOTICES: (dirs.notices, 0o440),
             CHECKPOINTS: (dirs.checkpoints, 0o600)}
    own_checkpoints = f"{CHECKPOINTS}/{manifest.database_id}.jsonl"
    pending, conflicts = [], []
    for entry in manifest.files:
        part, _, relative = entry.path.partition("/")
        if part not in roots or entry.path == own_checkpoints:
            continue
        root, mode = roots[part]
        target = root / relative
        if target.exists():
            if part == CHECKPOINTS or _hash_file(target) == (entry.size, entry.sha256):
                continue
            if not force:
                conflicts.append(f"{target} exists with other content than {entry.path}")
                continue
        pending.append((src / entry.path, target, mode))
    if conflicts:
        raise BackupError("files in the way (use --force to overwrite them):\n  "
                          + "\n  ".join(conflicts))
    return pending


def _write_checkpoints(target: Path, lines: str) -> list[Path]:
    """The target database's checkpoint file becomes `lines`; a different file in the way
    (events after the backup, lost with the restore) is renamed aside, never deleted."""
    set_aside = []
    if target.exists():
        if target.read_text(encoding="utf-8") == lines:
            return set_aside
        stamp, number = clock.now().strftime("%Y%m%dT%H%M%SZ"), 1
        aside = target.with_name(f"{target.name}.before-restore-{stamp}")
        while aside.exists():
            number += 1
            aside = target.with_name(f"{target.name}.before-restore-{stamp}-{number}")
        os.rename(target, aside)
        set_aside.append(aside)
    if lines:
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_synced(target, lines.encode())
    return set_aside


# -- checking the restored portal ------------------------------------------------------------

def check_restored(manifest: Manifest) -> list[str]:
    """In the restored app: the audit chain verifies and holds the manifest's head with its
    hash, and every evidence file, notice and checklist document matches its SHA-256."""
    problems = []
    result = audit.verify()
    head = manifest.audit_head
    if result.broken:
        where = ("checkpoints" if result.broken.event_id is None
                 else f"event {result.broken.event_id}")
        problems.append(f"audit chain broken at {where}: {result.broken.reason}")
    if head is not None:
        found = audit.event_hash(head.event_id)
        if found is None:
            problems.append(f"audit event {head.event_id}, the backup's head, is missing")
        elif found != head.hash:
            problems.append(f"audit event {head.event_id} has another hash than the backup's")
        elif not result.broken and (result.checkpoint is None
                                    or result.checkpoint.event_id < head.event_id):
            problems.append(f"no checkpoint reaches audit event {head.event_id}")
    files = [(f"evidence {row.id}", evidence_service.path_of(row), row.sha256)
             for row in db.session.execute(select(Evidence.id, Evidence.stored_name,
                                                  Evidence.sha256).order_by(Evidence.id))]
    files += [(f"notice {row.id}", notice_service.path_of(row), row.sha256)
              for row in db.session.execute(select(Notice.id, Notice.stored_name,
                                                   Notice.sha256).order_by(Notice.id))]
    documents = select(MatterChecklistItem.id, MatterChecklistItem.document_stored,
                       MatterChecklistItem.document_sha256).where(
        MatterChecklistItem.document_stored.is_not(None)).order_by(MatterChecklistItem.id)
    files += [(f"checklist document {row.id}",
               evidence_service.path_of(SimpleNamespace(stored_name=row.document_stored)),
               row.document_sha256) for row in db.session.execute(documents)]
    _end_read()
    for label, path, sha256 in files:
        if not path.is_file():
            problems.append(f"{label}: {path} is missing")
        elif _hash_file(path)[1] != sha256:
            problems.append(f"{label}: {path} does not match its SHA-256")
    return problems


# -- files and tools ----------------------------------------------------------------------

def _hash_file(path: Path) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _copy_file(source: Path, target: Path, *, limit: int | None = None, mode: int = 0o600,
               overwrite: bool = False) -> tuple[int, str]:
    """Copy (at most `limit` bytes), hashing on the way, synced to disk: (size, SHA-256)."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if overwrite:
        target.unlink(missing_ok=True)
    digest, size = hashlib.sha256(), 0
    with open(source, "rb") as reader, open(target, "xb") as writer:
        while chunk := reader.read(CHUNK if limit is None else min(CHUNK, limit - size)):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
        writer.flush()
        os.fsync(writer.fileno())
    target.chmod(mode)
    return size, digest.hexdigest()


def _write_synced(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    path.chmod(0o600)


def _sync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or (str(PG_BIN / name) if (PG_BIN / name).exists() else None)
    if found is None:
        raise BackupError(f"{name} not found on PATH or in {PG_BIN}")
    return found


def _run_pg(tool: str, arguments: list[str], url: URL) -> None:
    """Run pg_dump or pg_restore on the database `url` (its SQLAlchemy driver name dropped,
    its password passed in PGPASSWORD rather than on the command line)."""
    plain = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    environment = dict(os.environ)
    if url.password:
        environment["PGPASSWORD"] = str(url.password)
    completed = subprocess.run([_pg_tool(tool), "--dbname", plain, *arguments],  # noqa: S603
                               env=environment,
                               capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        raise BackupError(f"{tool} failed ({completed.returncode}): {completed.stderr.strip()}")
