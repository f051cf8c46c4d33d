"""The local Dovecot that `make run` and the email-channel tests start: a real IMAPS server."""

from __future__ import annotations

import imaplib
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from portal.devtools.dovecot import DovecotError, DovecotServer, LocalMailbox, available

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import run_dev  # noqa: E402

needs_dovecot = pytest.mark.skipif(not available(), reason="Dovecot (dovecot-imapd) not installed")

MESSAGE = (b"From: Wang Fang <wang@example.org>\r\nTo: complaints@example.org\r\n"
           b"Subject: Harness check\r\nMessage-ID: <harness-1@example.org>\r\n\r\n"
           b"The lift is broken again.\r\n")


def _connect(mailbox: LocalMailbox) -> imaplib.IMAP4_SSL:
    context = ssl.create_default_context(cafile=mailbox.ca_file)  # verifies 127.0.0.1 too
    return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=10)


def _dovecot_processes(config: str) -> list[str]:
    found = subprocess.run(["pgrep", "-f", config], capture_output=True, text=True,
                           check=False)
    return found.stdout.split()


@needs_dovecot
def test_append_fetch_move_idle_and_a_clean_stop(tmp_path):
    server = DovecotServer(tmp_path / "imap")
    mailbox = server.start()
    assert server.mailbox == mailbox
    assert (mailbox.host, mailbox.user, mailbox.folder, mailbox.processed_folder) == (
        "127.0.0.1", "complaints", "INBOX", "Processed")
    env = mailbox.environment()
    assert env["MAIL_INBOX_PORT"] == str(mailbox.port)
    assert env["MAIL_INBOX_CA_FILE"] == str(mailbox.ca_file)
    assert env["MAIL_INBOX_PASSWORD"] == mailbox.password
    pgid = server._process.pid
    try:
        with _connect(mailbox) as imap:
            assert "IDLE" in imap.capabilities  # before login too
            imap.login(mailbox.user, mailbox.password)
            status, data = imap.capability()
            assert status == "OK" and b"IDLE" in data[0].split()
            assert imap.append("INBOX", None, None, MESSAGE)[0] == "OK"
            assert imap.select("INBOX") == ("OK", [b"1"])
            status, data = imap.uid("SEARCH", None, "ALL")
            uid = data[0].split()[-1]
            status, data = imap.uid("FETCH", uid, "(BODY.PEEK[])")
            assert status == "OK" and data[0][1] == MESSAGE
            assert imap.uid("MOVE", uid, "Processed")[0] == "OK"
            assert imap.select("INBOX") == ("OK", [b"0"])
            assert imap.select("Processed") == ("OK", [b"1"])
            status, data = imap.fetch("1", "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
            assert b"Harness check" in data[0][1]
            imap.logout()
        with _connect(mailbox) as imap, pytest.raises(imaplib.IMAP4.error):
            imap.login(mailbox.user, mailbox.password + "x")
    finally:
        server.stop()
    assert _dovecot_processes(str(tmp_path / "imap" / "dovecot.conf")) == []
    left = subprocess.run(["ps", "-o", "stat=", "-g", str(pgid)], capture_output=True,
                          text=True, check=False).stdout.split()
    assert all(state.startswith("Z") for state in left)  # the group: gone, or not yet reaped
    server.stop()  # idempotent
    assert server.mailbox is None


@needs_dovecot
def test_a_second_start_keeps_the_password_and_the_certificate(tmp_path):
    directory = tmp_path / "imap"
    with DovecotServer(directory) as first:
        mailbox = first.mailbox
        certificate = mailbox.ca_file.read_bytes()
    assert (directory / "password").stat().st_mode & 0o777 == 0o600
    with DovecotServer(directory) as second:
        again = second.mailbox
        assert again.password == mailbox.password
        assert again.ca_file.read_bytes() == certificate
        with _connect(again) as imap:  # and the reused certificate still verifies
            assert imap.login(again.user, again.password)[0] == "OK"


@needs_dovecot
def test_an_explicit_port_and_password(tmp_path):
    with DovecotServer(tmp_path / "imap", password="s3cret-pass") as server:
        with _connect(server.mailbox) as imap:
            assert imap.login("complaints", "s3cret-pass")[0] == "OK"
        taken = server.mailbox.port
    assert not (tmp_path / "imap" / "password").exists()
    with DovecotServer(tmp_path / "imap", port=taken, password="s3cret-pass") as server:
        assert server.mailbox.port == taken


@needs_dovecot
def test_a_failed_start_says_why_with_the_log(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))  # bound, not listening: Dovecot cannot bind it
        server = DovecotServer(tmp_path / "imap", port=holder.getsockname()[1])
        with pytest.raises(DovecotError, match="Address already in use"):
            server.start(timeout=5)
    assert server.mailbox is None
    assert _dovecot_processes(str(tmp_path / "imap" / "dovecot.conf")) == []


def test_make_run_puts_the_imap_server_beside_the_web_port():
    assert run_dev.imap_port(5000, {}) == 9993
    assert run_dev.imap_port(5001, {}) == 9994
    assert run_dev.imap_port(5000, {"IMAP_PORT": "10993"}) == 10993
    for env, words in (({"IMAP_PORT": "imap"}, "IMAP_PORT=imap is not a port number"),
                       ({"IMAP_PORT": "5000"}, "the web server's port 5000"),
                       ({"IMAP_PORT": "8025"}, "the mail sink's port 8025")):
        with pytest.raises(run_dev.PortError, match=words):
            run_dev.imap_port(5000, env, sink=8025)
    with pytest.raises(run_dev.PortError, match="set IMAP_PORT"):
        run_dev.imap_port(61000, {})
    message = run_dev.busy_message(9993, "imap", 5000)
    assert "port 9993 (the IMAP server) is already in use" in message
    assert "IMAP_PORT=9994" in message and "PORT=5001" in message


def test_make_run_fetches_mail_only_with_the_imap_server(tmp_path):
    assert run_dev._commands(5000, 2)["mailfetch"][-2:] == ["mail", "work"]
    assert "mailfetch" not in run_dev._commands(5000, 2, email=False)
    mailbox = LocalMailbox("127.0.0.1", 9993, "complaints", "pw", tmp_path / "cert.pem")
    env = run_dev._environment(8025, mailbox.environment())
    assert (env["MAIL_INBOX_HOST"], env["MAIL_INBOX_PORT"], env["MAIL_INBOX_CA_FILE"]) == (
        "127.0.0.1", "9993", str(tmp_path / "cert.pem"))
    assert env["MAIL_PORT"] == "8025"
    banner = run_dev._banner(5000, 8025, mailbox)
    assert "127.0.0.1:9993" in banner and "complaints" in banner and "pw" in banner
    assert ("Try the email channel: .venv/bin/flask mail deliver docs/examples/complaint.eml"
            in banner)
    assert "Email channel: off" in run_dev._banner(5000, 8025)
