"""The development mail sink (aiosmtpd → .eml files) and the /mailbox reader."""

from __future__ import annotations

import os
import signal
import smtplib
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from portal import clock
from portal.commands.mailsink import start_sink
from portal.db import db, writes_by_default
from portal.models import Client, Complaint, Deadline, State, User
from portal.services import notices, outbox
from tests.smtp_fixture import free_port

ROOT = Path(__file__).resolve().parents[2]

CST = timezone(timedelta(hours=8))


@pytest.fixture
def sink(app, tmp_path):
    directory = tmp_path / "mail"
    port = free_port()
    controller = start_sink(directory, "127.0.0.1", port)
    app.config.update(MAIL_SINK_DIR=str(directory), MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
    try:
        yield directory
    finally:
        controller.stop()


def send_raw(app, message: EmailMessage) -> None:
    with smtplib.SMTP(app.config["MAIL_SERVER"], app.config["MAIL_PORT"], timeout=10) as smtp:
        smtp.send_message(message)


def deliver_acknowledgement(app, respondent: str | None = None) -> None:
    """A registered complaint's acknowledgement, sent through the outbox into the sink;
    `respondent` names the staff member complained about."""
    with app.app_context(), writes_by_default():
        client = Client(name="Emily Carter", email="emily.carter@example.co.uk", language="en")
        complaint = Complaint(
            reference="TS-2026-00077", state=State.REGISTERED, language="en",
            received_at=datetime(2026, 9, 30, 10, 0, tzinfo=CST), complainant=client,
            narrative="Nobody answered my calls for three weeks.",
            deadlines=[Deadline(kind="first_response", due=date(2026, 10, 10))],
            registered_at=clock.now())
        if respondent:
            complaint.respondents = [db.session.scalar(select(User).where(User.name == respondent))]
        db.session.add(complaint)
        db.session.flush()
        notices.queue_acknowledgement(None, complaint)
        db.session.commit()
        assert outbox.deliver_due() == 1


def test_sink_stores_delivered_mail_and_the_mailbox_shows_it(app, client, auth, sink):
    deliver_acknowledgement(app)
    [stored] = sink.glob("*.eml")
    auth.login_as("receptionist")
    page = client.get("/mailbox")
    assert page.status_code == 200
    assert "Acknowledgement of your complaint TS-2026-00077" in page.text

    message = client.get(f"/mailbox/{stored.name}")
    assert message.status_code == 200
    assert "Dear Emily Carter" in message.text
    assert "TS-2026-00077-acknowledgement-v1.pdf" in message.text

    download = client.get(f"/mailbox/{stored.name}/attachments/0")
    assert download.status_code == 200
    assert download.mimetype == "application/pdf" and download.data.startswith(b"%PDF-")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get(f"/mailbox/{stored.name}/attachments/1").status_code == 404


def test_html_attachments_are_never_served_as_html(app, client, auth, sink):
    evil = EmailMessage()
    evil["From"], evil["To"], evil["Subject"] = "x@example.com", "y@example.com", "Evil"
    evil.set_content("Hello <script>alert(1)</script>")
    evil.add_alternative("<p>hi<script>alert(1)</script></p>", subtype="html")
    evil.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html",
                        filename='../../ev"il.html')
    send_raw(app, evil)
    [stored] = sink.glob("*.eml")
    auth.login_as("partner")
    page = client.get(f"/mailbox/{stored.name}")
    assert "<script>alert(1)</script>" not in page.text  # text part shown escaped
    assert "&lt;script&gt;" in page.text
    download = client.get(f"/mailbox/{stored.name}/attachments/0")
    assert download.mimetype == "application/octet-stream"
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment") and "/" not in disposition.split("=", 1)[1]


@pytest.mark.parametrize("name", ["..%2F..%2Fsecret.eml", ".hidden.eml", "secret.txt",
                                  "%2e%2e", "a" * 200 + ".eml", "missing.eml"])
def test_mailbox_refuses_bad_names(app, client, auth, sink, name):
    (sink.parent / "secret.eml").write_bytes(b"Subject: secret\r\n\r\nsecret")
    (sink / ".hidden.eml").write_bytes(b"Subject: hidden\r\n\r\nhidden")
    auth.login_as("partner")
    assert client.get(f"/mailbox/{name}").status_code == 404


def test_mailbox_needs_the_sink_and_the_right_role(app, client, auth, tmp_path):
    auth.login_as("investigator")
    assert client.get("/mailbox").status_code == 403
    auth.logout()
    auth.login_as("partner")
    app.config["MAIL_SINK_DIR"] = None
    assert client.get("/mailbox").status_code == 404
    app.config["MAIL_SINK_DIR"] = str(tmp_path / "not-yet-created")
    page = client.get("/mailbox")
    assert page.status_code == 200


def test_anonymous_is_sent_to_login(client, sink):
    assert client.get("/mailbox").status_code in (302, 303, 401)


def test_refresh_returns_the_list_partial(app, client, auth, sink):
    auth.login_as("partner")
    response = client.get("/mailbox", headers={"HX-Request": "true"})
    assert response.text.lstrip().startswith('<section id="mailbox-list"')
    assert "HX-Request" in response.headers["Vary"]


def test_mailsink_serve_command_writes_eml_files(tmp_path):
    """`flask mailsink serve` as `make run` starts it: a real process, stopped by SIGTERM."""
    port = free_port()
    directory = tmp_path / "mail"
    env = {**os.environ, "FLASK_APP": "wsgi.py", "REDRESS_INSTANCE": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "mailsink", "serve", "--port", str(port),
         "--dir", str(directory)], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                smtp = smtplib.SMTP("127.0.0.1", port, timeout=5)
                break
            except OSError:
                assert process.poll() is None, process.stdout.read()
                assert time.monotonic() < deadline, "the sink did not start"
                time.sleep(0.1)
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "a@example.com", "b@example.com", "Hi"
        message.set_content("你好")
        with smtp:
            smtp.send_message(message)
        [stored] = directory.glob("*.eml")
        assert b"Subject: Hi" in stored.read_bytes()
        assert b"X-Sink-Envelope-To: b@example.com" in stored.read_bytes()
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=20)
    assert process.returncode == 0, output
    assert "Mail sink stopped." in output


# ------------------------------------------------------------------ who sees which mail


def test_a_respondent_partner_never_sees_mail_about_their_own_case(app, client, auth, sink):
    deliver_acknowledgement(app, respondent="刘慧敏")
    [stored] = sink.glob("*.eml")
    assert b"X-Redress-Message-Id: " in stored.read_bytes()
    auth.login_as("partner")  # partner2 = 刘慧敏
    page = client.get("/mailbox")
    assert page.status_code == 200 and "TS-2026-00077" not in page.text
    assert stored.name not in page.text
    assert client.get(f"/mailbox/{stored.name}").status_code == 404
    assert client.get(f"/mailbox/{stored.name}/attachments/0").status_code == 404
    auth.logout()
    auth.login("partner")  # 陈志远 is not complained about
    assert "TS-2026-00077" in client.get("/mailbox").text
    assert client.get(f"/mailbox/{stored.name}/attachments/0").status_code == 200


def test_an_older_copy_without_the_header_is_matched_by_message_id(app, client, auth, sink):
    deliver_acknowledgement(app, respondent="刘慧敏")
    [stored] = sink.glob("*.eml")
    raw = stored.read_bytes()
    start = raw.index(b"X-Redress-Message-Id: ")
    stored.write_bytes(raw[:start] + raw[raw.index(b"\n", start) + 1:])
    auth.login_as("partner")
    assert client.get(f"/mailbox/{stored.name}").status_code == 404
    assert "TS-2026-00077" not in client.get("/mailbox").text


def test_mail_about_no_complaint_is_for_partners_only(app, client, auth, sink):
    note = EmailMessage()
    note["From"], note["To"], note["Subject"] = "x@example.com", "y@example.com", "Alert"
    note.set_content("A partner's alert")
    send_raw(app, note)
    [stored] = sink.glob("*.eml")
    auth.login_as("receptionist")
    assert "Alert" not in client.get("/mailbox").text
    assert client.get(f"/mailbox/{stored.name}").status_code == 404
    auth.logout()
    auth.login_as("partner")
    assert client.get(f"/mailbox/{stored.name}").status_code == 200


def test_a_message_naming_an_unknown_outbox_row_is_shown_to_nobody(app, client, auth, sink):
    forged = EmailMessage()
    forged["From"], forged["To"], forged["Subject"] = "x@example.com", "y@example.com", "Who?"
    forged["X-Redress-Message-Id"] = "424242"
    forged.set_content("?")
    send_raw(app, forged)
    [stored] = sink.glob("*.eml")
    auth.login_as("partner")
    assert client.get(f"/mailbox/{stored.name}").status_code == 404


def test_hidden_mail_does_not_shorten_the_list(app, client, auth, sink, monkeypatch):
    from portal.web import mailbox

    def note(subject: str) -> None:
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = "x@a.example", "y@a.example", subject
        message.set_content(subject)
        send_raw(app, message)
        time.sleep(0.01)  # the sink names files by time: newest last

    monkeypatch.setattr(mailbox, "LIST_LIMIT", 2)
    note("Oldest note")
    deliver_acknowledgement(app, respondent="刘慧敏")  # hidden, among the newest two
    time.sleep(0.01)
    note("Newest note")
    assert len(list(sink.glob("*.eml"))) == 3
    auth.login_as("partner")
    page = client.get("/mailbox").text
    assert "Oldest note" in page and "Newest note" in page and "TS-2026-00077" not in page
