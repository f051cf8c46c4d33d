"""`flask mail work` as a real process, as `make run` and a systemd unit start it: it waits in
IMAP IDLE, stores what arrives within moments, stops on SIGTERM, and a SIGKILL at any moment
loses nothing and doubles nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.imap_fixture import dovecot_server, imap_mailbox  # noqa: F401
from tests.mail_support import email, email_drafts, fetch

ROOT = Path(__file__).resolve().parents[2]


def _worker(app, mailbox, tmp_path) -> subprocess.Popen:
    config = app.config
    env = {**os.environ, "FLASK_APP": "wsgi.py", "REDRESS_INSTANCE": str(tmp_path / "worker"),
           "DATABASE_URL": config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": config["SECRET_KEY"], "AUDIT_HMAC_KEY": config["AUDIT_HMAC_KEY"],
           "AUDIT_CHECKPOINT_DIR": config["AUDIT_CHECKPOINT_DIR"], "PYTHONUNBUFFERED": "1",
           **mailbox.mailbox.environment()}
    return subprocess.Popen([sys.executable, "-m", "flask", "mail", "work"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _wait_for(condition, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert process.poll() is None, process.stdout.read()
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_the_worker_stores_new_mail_while_idling_and_stops_on_sigterm(app, imap_mailbox,
                                                                      tmp_path):
    process = _worker(app, imap_mailbox, tmp_path)
    try:
        time.sleep(1.5)  # connected and waiting in IDLE
        imap_mailbox.deliver(email())
        _wait_for(lambda: imap_mailbox.count("Processed") == 1, process)
        assert len(email_drafts(app)) == 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output
    assert "Mail fetcher stopped." in output


def test_a_worker_killed_at_any_moment_loses_and_doubles_nothing(app, imap_mailbox, tmp_path):
    for number in range(3):
        imap_mailbox.deliver(email(subject=f"第{number}封"))
    process = _worker(app, imap_mailbox, tmp_path)
    _wait_for(lambda: len(email_drafts(app)) >= 1, process)
    process.kill()  # SIGKILL: wherever it was, storing, moving or between the two
    process.communicate(timeout=30)
    fetch(app)  # the next pass
    assert sorted(d.narrative.split("\n")[0] for d in email_drafts(app)) == [
        "第0封", "第1封", "第2封"]
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 3
