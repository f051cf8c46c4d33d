"""`make serve`: Redress as production runs it, in the foreground.

Runs `flask db upgrade`, then gunicorn (WORKERS, default 2; on 127.0.0.1:PORT, default 8000,
or BIND for the whole address; access log on standard output), the outbox worker (`flask
outbox work`: mail, deadline ticks, reminders) and, when a complaints mailbox is configured
(MAIL_INBOX_HOST, in the environment or instance/config.py), the mail fetcher (`flask mail
work`). No SMTP sink, no demo data, no Dovecot: the mail settings are whatever the environment
and instance/config.py say.

DATABASE_URL is required, so that nobody serves a firm from the SQLite default by accident;
ALLOW_SQLITE=1 accepts it (a single-machine firm). Ctrl-C or SIGTERM stops everything; when one
process dies the others are stopped and this exits non-zero. The supervision is run_dev.py's.

On a server, the systemd units in deploy/ do the same job (docs/deployment.md).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_dev import _interrupt, _port_free, _stop, _watch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PORT = 8000
WORKERS = 2
LOOPBACK = ("127.0.0.1", "localhost")

NO_DATABASE = (
    "serve: DATABASE_URL is not set, so Redress would use the SQLite file in instance/.\n"
    "Set it to the firm's database, e.g.\n"
    "  DATABASE_URL=postgresql+psycopg://redress:PASSWORD@127.0.0.1/redress make serve\n"
    "or, for a firm that runs everything on this one machine, accept SQLite with\n"
    "  ALLOW_SQLITE=1 make serve"
)


class SettingError(ValueError):
    """A setting that cannot be used; the message says which one and what to do."""


def database_problem(env: Mapping[str, str]) -> str | None:
    """Why serving must not start with this environment's database, or None."""
    if (env.get("DATABASE_URL") or "").strip():
        return None
    if (env.get("ALLOW_SQLITE") or "").strip().lower() in {"1", "true", "yes", "on"}:
        return None
    return NO_DATABASE


def _positive(env: Mapping[str, str], name: str, default: int, most: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= most:
        raise SettingError(f"{name}={raw} is not a number from 1 to {most}.")
    return int(raw)


def bind_address(env: Mapping[str, str]) -> str:
    """BIND when set (any address gunicorn takes), otherwise 127.0.0.1:PORT."""
    bind = (env.get("BIND") or "").strip()
    if bind:
        return bind
    return f"127.0.0.1:{_positive(env, 'PORT', PORT, 65535)}"


def workers(env: Mapping[str, str]) -> int:
    return _positive(env, "WORKERS", WORKERS, 64)


def commands(bind: str, worker_count: int, mail: bool) -> dict[str, list[str]]:
    """The processes to supervise; mail: also the mail fetcher (a mailbox is configured)."""
    flask = str(BIN / "flask")
    found = {
        "web": [str(BIN / "gunicorn"), "--workers", str(worker_count), "--bind", bind,
                "--access-logfile", "-", "--no-control-socket", "wsgi:app"],
        "outbox": [flask, "outbox", "work"],
    }
    if mail:
        found["mailfetch"] = [flask, "mail", "work"]
    return found


def environment(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment: this one's, with FLASK_APP and unbuffered output."""
    env = dict(os.environ if base is None else base)
    env.setdefault("FLASK_APP", "wsgi.py")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def mailbox_configured() -> bool:
    """Whether the app, configured as the children will be, has a complaints mailbox.

    Creating the app also runs its start-up checks (in production: SECRET_KEY and
    AUDIT_HMAC_KEY), so a refusal is reported here, before anything starts."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from portal import create_app

    return bool(create_app().config.get("MAIL_INBOX_HOST"))


def _busy(bind: str) -> str | None:
    host, _, port = bind.rpartition(":")
    if host in LOOPBACK and port.isdigit() and not _port_free(int(port)):
        return (f"serve: port {port} is already in use. Stop whatever holds it, or choose "
                f"another: make serve PORT={int(port) + 1}")
    return None


def _banner(bind: str, worker_count: int, mail: bool) -> str:
    where = bind if bind.startswith(("unix:", "fd://")) else f"http://{bind}"
    fetcher = ("the mail fetcher (flask mail work)" if mail
               else "no mail fetcher (MAIL_INBOX_HOST is not set: the email channel is off)")
    return "\n".join([
        "",
        f"Redress is serving on {where} (gunicorn, {worker_count} workers), with the outbox "
        f"worker (flask outbox work) and {fetcher}.",
        "Put a TLS reverse proxy in front of it (deploy/nginx-redress.conf); health: /healthz.",
        "Press Ctrl-C to stop everything.",
        "",
    ])


def main() -> int:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    problem = database_problem(os.environ)
    if problem:
        print(problem, file=sys.stderr)
        return 1
    try:
        bind, worker_count = bind_address(os.environ), workers(os.environ)
    except SettingError as error:
        print(f"serve: {error}", file=sys.stderr)
        return 1
    busy = _busy(bind)
    if busy:
        print(busy, file=sys.stderr)
        return 1
    env = environment()
    try:
        mail = mailbox_configured()
    except (RuntimeError, ValueError) as error:  # a start-up check refused, a bad setting
        print(f"serve: {error}", file=sys.stderr)
        return 1
    processes: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        upgrade = subprocess.run(  # noqa: S603 - fixed arguments
            [str(BIN / "flask"), "db", "upgrade"], cwd=ROOT, env=env, check=False)
        if upgrade.returncode:
            print(f"serve: flask db upgrade failed (status {upgrade.returncode}); "
                  "nothing started.", file=sys.stderr)
            return upgrade.returncode
        for name, command in commands(bind, worker_count, mail).items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        time.sleep(1.5)  # gunicorn's own start-up lines first; a failed bind shows at once
        if all(process.poll() is None for process in processes.values()):
            print(_banner(bind, worker_count, mail), flush=True)
        return _watch(processes)
    except KeyboardInterrupt:
        print("\nserve: stopping…", file=sys.stderr)
        return 0
    finally:
        # A second Ctrl-C (or the terminal's SIGINT after a SIGTERM) must not interrupt the
        # stopping: _stop kills whatever has not stopped within 10 s anyway.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
