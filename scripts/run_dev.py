"""`make run`'s supervisor: the web server, the outbox worker and the local SMTP sink together.

Started by `make run` after `flask db upgrade` and `flask demo seed`. It exports the mail
settings that point Flask-Mail at the sink, starts the three processes, prints where to go and
the demo accounts, and stops all three on Ctrl-C (or when any one of them dies).

Ports: the web server listens on PORT (5000) and the sink on SINK_PORT, which defaults to
PORT + 3025 (8025 beside 5000, 8026 beside 5001), so that two checkouts started with
different PORTs run side by side. MAIL_PORT is accepted as another name for SINK_PORT.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
WEB_PORT = 5000
SINK_PORT = 8025  # beside the default web port
SINK_DIR = "instance/mail"


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


def busy_message(port: int, what: str, web_port: int) -> str:
    """What to say when a port is taken: which one, by what, and which variable moves it."""
    if what == "sink":
        return (f"run: port {port} (the mail sink) is already in use, perhaps by another "
                f"checkout's `make run`. Stop it, or choose another sink port: "
                f"make run SINK_PORT={port + 1} (or another web port, e.g. "
                f"make run PORT={web_port + 1}, which moves the sink to {web_port + 1 + 3025}).")
    return (f"run: port {port} (the web server) is already in use. Stop whatever holds it, "
            f"or choose another web port: make run PORT={port + 1} (the mail sink then moves "
            f"to {port + 1 + 3025} unless SINK_PORT is set).")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _environment(sink: int = SINK_PORT) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("FLASK_APP", "wsgi.py")
    env["MAIL_SERVER"] = "127.0.0.1"
    env["MAIL_PORT"] = str(sink)
    env["MAIL_SINK_DIR"] = SINK_DIR
    env["MAIL_USE_TLS"] = "false"
    env["MAIL_USE_SSL"] = "false"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _commands(port: int, workers: int, sink: int | None = None) -> dict[str, list[str]]:
    sink = sink if sink is not None else port + SINK_PORT - WEB_PORT
    return {
        "web": [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--access-logfile", "-", "--access-logformat", '%(h)s "%(r)s" %(s)s %(M)sms',
                "wsgi:app"],
        "outbox": [str(BIN / "flask"), "outbox", "work", "--interval", "2"],
        "mailsink": [str(BIN / "flask"), "mailsink", "serve", "--port", str(sink),
                     "--dir", SINK_DIR],
    }


def _banner(port: int, sink: int = SINK_PORT) -> str:
    sys.path.insert(0, str(ROOT))
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
    lines += ["Press Ctrl-C to stop the web server, the outbox worker and the mail sink.", ""]
    return "\n".join(lines)


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
    env = _environment(sink)
    processes: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for name, command in _commands(args.port, args.workers, sink).items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        time.sleep(1.5)
        print(_banner(args.port, sink), flush=True)
        return _watch(processes)
    except KeyboardInterrupt:
        print("\nrun: stopping…", file=sys.stderr)
        return 0
    finally:
        _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
