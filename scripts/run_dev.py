"""`make run`'s supervisor: the web server, the outbox worker and the local SMTP sink together.

Started by `make run` after `flask db upgrade` and `flask demo seed`. It exports the mail
settings that point Flask-Mail at the sink, starts the three processes, prints where to go and
the demo accounts, and stops all three on Ctrl-C (or when any one of them dies).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SINK_PORT = 8025
SINK_DIR = "instance/mail"


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("FLASK_APP", "wsgi.py")
    env["MAIL_SERVER"] = "127.0.0.1"
    env["MAIL_PORT"] = str(SINK_PORT)
    env["MAIL_SINK_DIR"] = SINK_DIR
    env["MAIL_USE_TLS"] = "false"
    env["MAIL_USE_SSL"] = "false"
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _commands(port: int, workers: int) -> dict[str, list[str]]:
    return {
        "web": [str(BIN / "gunicorn"), "--workers", str(workers), "--bind", f"127.0.0.1:{port}",
                "--access-logfile", "-", "--access-logformat", '%(h)s "%(r)s" %(s)s %(M)sms',
                "wsgi:app"],
        "outbox": [str(BIN / "flask"), "outbox", "work", "--interval", "2"],
        "mailsink": [str(BIN / "flask"), "mailsink", "serve", "--port", str(SINK_PORT),
                     "--dir", SINK_DIR],
    }


def _banner(port: int) -> str:
    sys.path.insert(0, str(ROOT))
    from portal.demo import ACCOUNTS, demo_password

    lines = [
        "",
        f"Redress is running: http://127.0.0.1:{port}",
        f"Captured mail (SMTP sink on 127.0.0.1:{SINK_PORT}, files in {SINK_DIR}/): "
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
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for port, what in ((args.port, "the web server"), (SINK_PORT, "the mail sink")):
        if not _port_free(port):
            print(f"run: port {port} ({what}) is already in use; stop whatever holds it "
                  f"(or choose another web port: make run PORT=5001).", file=sys.stderr)
            return 1
    (ROOT / SINK_DIR).mkdir(parents=True, exist_ok=True)
    env = _environment()
    processes: dict[str, subprocess.Popen] = {}
    signal.signal(signal.SIGINT, _interrupt)  # also when started with SIGINT ignored
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        for name, command in _commands(args.port, args.workers).items():
            processes[name] = subprocess.Popen(command, cwd=ROOT, env=env)  # noqa: S603
        time.sleep(1.5)
        print(_banner(args.port), flush=True)
        return _watch(processes)
    except KeyboardInterrupt:
        print("\nrun: stopping…", file=sys.stderr)
        return 0
    finally:
        _stop(processes)


if __name__ == "__main__":
    sys.exit(main())
