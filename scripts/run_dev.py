"""`make run`'s supervisor: the web server, the outbox worker, the local SMTP sink, a local
IMAP server (Dovecot) and the mail fetcher together.

Started by `make run` after `flask db upgrade` and `flask demo seed`. It starts Dovecot in
instance/imap (portal/devtools/dovecot.py), exports the mail settings that point Flask-Mail at
the sink and the email channel (MAIL_INBOX_*) at Dovecot, starts the four processes, prints
where to go and the demo accounts, and stops everything on Ctrl-C (or when any process dies).
Without Dovecot installed it says so and runs without the email channel (no mail fetcher).

Ports: the web server listens on PORT (5000), the sink on SINK_PORT, which defaults to
PORT + 3025 (8025 beside 5000, 8026 beside 5001), and Dovecot (IMAPS) on IMAP_PORT, which
defaults to PORT + 4993 (9993 beside 5000), so that two checkouts started with different
PORTs run side by side. MAIL_PORT is accepted as another name for SINK_PORT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from portal.devtools.dovecot import DovecotServer, LocalMailbox

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_PORT = 5000
SINK_PORT = 8025  # beside the default web port
SINK_DIR = "instance/mail"
IMAP_PORT = 9993  # beside the default web port
IMAP_DIR = "instance/imap"
DELIVER_HINT = "Try the email channel: .venv/bin/flask mail deliver docs/examples/complaint.eml"


class PortError(ValueError):
    """A port setting that cannot be used; the message says which variable to change."""


def sink_port(web_port: int, env: Mapping[str, str] | None = None) -> int:
    """SINK_PORT (or MAIL_PORT) when set, otherwise the web port + 3025."""
    env = os.environ if env is None else env
    for name in ("SINK_PORT", "MAIL_PORT"):
        raw = (env.get(name) or "").strip()
        if raw:
            if not raw.isdigit() or not 1 <= int(raw) <= 65535:
                raise PortError(f"{name}={raw} is not a port number (1-65535).")
            port, source = int(raw), name
            break
    else:
        port, source = web_port + SINK_PORT - WEB_PORT, None
        if port > 65535:
            raise PortError(f"the mail sink's port would be {port} (PORT + 3025): "
                            "set SINK_PORT, e.g. make run SINK_PORT=8026.")
    if port == web_port:
        raise PortError(f"{source} is the web server's port {web_port}: choose another one.")
    return port


def imap_port(web_port: int, env: Mapping[str, str] | None = None,
              sink: int | None = None) -> int:
    """IMAP_PORT when set, otherwise the web port + 4993 (Dovecot's IMAPS port)."""
    env = os.environ if env is None else env
    raw = (env.get("IMAP_PORT") or "").strip()
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= 65535:
            raise PortError(f"IMAP_PORT={raw} is not a port number (1-65535).")
        port = int(raw)
    else:
        port = web_port + IMAP_PORT - WEB_PORT
        if port > 65535:
            raise PortError(f"the IMAP server's port would be {port} (PORT + 4993): "
                            "set IMAP_PORT, e.g. make run IMAP_PORT=9994.")
    if port in (web_port, sink):
        what = "the web server's" if port == web_port else "the mail sink's"
        raise PortError(f"IMAP_PORT is {what} port {port}: choose another one.")
    return port


def busy_message(port: int, what: str, web_port: int) -> str:
    """What to say when a port is taken: which one, by what, and which variable moves it."""
    if what == "sink":
        return (f"run: port {port} (the mail sink) is already in use, perhaps by another "
                f"checkout's `make run`. Stop it, or choose another sink port: "
                f"make run SINK_PORT={port + 1} (or another web port, e.g. "
                f"make run PORT={web_port + 1}, which moves the sink to {web_port + 1 + 3025}).")
    if what == "imap":
        return (f"run: port {port} (the IMAP server) is already in use, perhaps by another "
                f"checkout's `make run`. Stop it, or choose another IMAP port: "
                f"make run IMAP_PORT={port + 1} (or another web port, e.g. "
                f"make run PORT={web_port + 1}, which moves it to {web_port + 1 + 4993}).")
    return (f"run: port {port} (the web server) is already in use. Stop whatever holds it, "
            f"or choose another web port: make run PORT={port + 1} (the mail sink then moves "
            f"to {port + 1 + 3025} and the IMAP server to {port + 1 + 4993} unless SINK_PORT "
            f"or IMAP_PORT is set).")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _environment(sink: int = SINK_PORT,
                 inbox: Mapping[str, str] | None = None) -> dict[str, str]:
    """The children's environment; inbox: the local mailbox's MAIL_INBOX_* settings."""
    env = dict(os.environ)
    env.update(inbox or {})
    env.setdefault("FLASK_APP", "wsgi.py")
    env["MAIL_SERVER"] = "127.0.0.1"
    env["MAIL_PORT"] = str(sink)
    env["MAIL_SINK_DIR"] = SINK_DIR
    env["MAIL_USE_TLS"] = "false"
    env["MAIL_USE_SSL"] = "false"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _commands(port: int, workers: int, sink: int | None = None,
              email: bool = True) -> dict[str, list[str]]:
    """The child processes; email: also the mail fetcher (needs the local IMAP server)."""
    sink = sink if sink is not None else port + SINK_PORT - WEB_PORT
    commands = {
        "web": [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--access-logfile", "-", "--access-logformat", '%(h)s "%(r)s" %(s)s %(M)sms',
                "--no-control-socket", "wsgi:app"],
        "outbox": [str(BIN / "flask"), "outbox", "work", "--interval", "2"],
        "mailsink": [str(BIN / "flask"), "mailsink", "serve", "--port", str(sink),
                     "--dir", SINK_DIR],
    }
    if email:
        commands["mailfetch"] = [str(BIN / "flask"), "mail", "work"]
    return commands


def _banner(port: int, sink: int = SINK_PORT, mailbox: LocalMailbox | None = None) -> str:
    _importable()
    from portal.demo import ACCOUNTS, demo_password

    lines = [
        "",
        f"Redress is running: http://127.0.0.1:{port}",
        f"Captured mail (SMTP sink on 127.0.0.1:{sink}, files in {SINK_DIR}/): "
        f"http://127.0.0.1:{port}/mailbox",
        f"Demo accounts (password: {demo_password()}):",
    ]
    for username, name, _email, _dept, roles, _title in ACCOUNTS:
        lines.append(f"  {username:<14} {name:<6} {', '.join(sorted(r.value for r in roles))}")
    if mailbox is None:
        lines.append("Email channel: off (Dovecot is not installed: "
                     "apt-get install dovecot-imapd).")
        lines += ["Press Ctrl-C to stop the web server, the outbox worker and the mail sink.",
                  ""]
        return "\n".join(lines)
    lines += [
        f"Email channel: IMAPS on {mailbox.host}:{mailbox.port} (Dovecot, files in {IMAP_DIR}/), "
        f"user {mailbox.user}, password {mailbox.password}",
        DELIVER_HINT,
        "Press Ctrl-C to stop the web server, the outbox worker, the mail sink, the mail "
        "fetcher and the IMAP server.",
        "",
    ]
    return "\n".join(lines)


def _importable() -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def _stop(processes: dict[str, subprocess.Popen]) -> None:
    for process in processes.values():
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for process in processes.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _watch(processes: dict[str, subprocess.Popen]) -> int:
    while True:
        for name, process in processes.items():
            code = process.poll()
            if code is not None:
                print(f"run: {name} exited with status {code}; stopping the others.",
                      file=sys.stderr)
                return code or 1
        time.sleep(0.5)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _mailbox_file() -> Path:
    sys.path.insert(0, str(ROOT))
    from portal.config import DEV_MAILBOX_FILE

    return ROOT / "instance" / DEV_MAILBOX_FILE


def _share_mailbox(mailbox: LocalMailbox) -> None:
    """For `flask mail deliver` in another terminal (portal/config.py reads it while it lasts)."""
    path = _mailbox_file()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(mailbox.environment(), handle)


def _start_imap(web_port: int, sink: int) -> tuple[DovecotServer | None, int]:
    """Dovecot in IMAP_DIR, when installed: (server, 0); (None, 0) without; (None, 1) failed."""
    _importable()
    from portal.devtools import dovecot

    if not dovecot.available():
        print("run: note: Dovecot is not installed, so the email channel is off "
              "(apt-get install dovecot-imapd, or scripts/system_packages.sh).", file=sys.stderr)
        return None, 0
    try:
        port = imap_port(web_port, sink=sink)
    except PortError as error:
        print(f"run: {error}", file=sys.stderr)
        return None, 1
    if not _port_free(port):
        print(busy_message(port, "imap", web_port), file=sys.stderr)
        return None, 1
    server = dovecot.DovecotServer(ROOT / IMAP_DIR, port=port)
    try:
        server.start()
    except dovecot.DovecotError as error:
        print(f"run: the local IMAP server did not start ({IMAP_DIR}/dovecot.log): {error}",
              file=sys.stderr)
        return None, 1
    return server, 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", str(WEB_PORT))))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    try:
        sink = sink_port(args.port)
    except PortError as error:
        print(f"run: {error}", file=sys.stderr)
        return 1
    for port, what in ((args.port, "web"), (sink, "sink")):
        if not _port_free(port):
            print(busy_message(port, what, args.port), file=sys.stderr)
            return 1
    (ROOT / SINK_DIR).mkdir(parents=True, exist_ok=True)
    processes: dict[str, subprocess.Popen] = {}
    server: DovecotServer | None = None
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        server, failed = _start_imap(args.port, sink)
        if failed:
            return failed
        mailbox = server.mailbox if server is not None else None
        env = _environment(sink, mailbox.environment() if mailbox is not None else None)
        if mailbox is not None:
            _share_mailbox(mailbox)
        commands = _commands(args.port, args.workers, sink, email=mailbox is not None)
        for name, command in commands.items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        time.sleep(1.5)
        print(_banner(args.port, sink, mailbox), flush=True)
        return _watch(processes)
    except KeyboardInterrupt:
        print("\nrun: stopping…", file=sys.stderr)
        return 0
    finally:
        _stop(processes)
        if server is not None:
            server.stop()
            _mailbox_file().unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
