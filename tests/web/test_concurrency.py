"""One slow thing never stops the portal: a stuck mail server, a client that sends its body
slowly, and twenty writers at once. A real server in a thread, real sockets, SQLite on disk.

None of these tests measures time: each checks that a request *finished* while the slow
thing was still going on (the worker thread still inside SMTP, the slow body unfinished).
"""

from __future__ import annotations

import http.client
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import func, select

from portal.db import db, writes_by_default
from portal.models.complaint import Complaint
from portal.services import outbox
from tests.browser.helpers import LiveServer, start_live_server
from tests.smtp_fixture import free_port

NARRATIVE = "律师收费后三个月没有任何进展报告，电话也不接，我要求说明情况并退还部分费用。"


@pytest.fixture
def server(tmp_path) -> Iterator[LiveServer]:
    live = start_live_server(tmp_path, {"PUBLIC_FORM_PER_IP_PER_HOUR": 1000,
                                        "MAIL_TIMEOUT": 30})
    yield live
    live.stop()


class Browser:
    """A minimal cookie-keeping HTTP client over http.client (one connection per request)."""

    def __init__(self, live: LiveServer) -> None:
        self.host, self.port = urllib.parse.urlsplit(live.url).netloc.split(":")
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None,
                headers: dict | None = None) -> tuple[int, str]:
        connection = http.client.HTTPConnection(self.host, int(self.port), timeout=60)
        body = urllib.parse.urlencode(form or {}, doseq=True) if form is not None else None
        all_headers = {"Cookie": self.cookie_header(), "Accept-Language": "en", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=all_headers)
        response = connection.getresponse()
        for name, value in response.getheaders():
            if name.lower() == "set-cookie":
                key, _, rest = value.partition("=")
                self.cookies[key] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        connection.close()
        return response.status, text

    def cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def csrf_token(self, path: str) -> str:
        _status, html = self.request("GET", path)
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            r'"X-CSRFToken":\s*"([^"]+)"', html)
        assert match, f"no CSRF token on {path}"
        return match.group(1)

    def sign_in(self, username: str) -> None:
        token = self.csrf_token("/login")
        status, text = self.request("POST", "/login", {
            "csrf_token": token, "username": username, "password": "redress-demo"})
        assert status == 303, text[:500]

    def submit_public_complaint(self, name: str) -> int:
        token = self.csrf_token("/complaint")
        status, _text = self.request("POST", "/complaint", {
            "csrf_token": token, "name": name, "phone": "138 0013 9999",
            "email": "client@example.com", "language": "zh", "lawyers": "王磊",
            "narrative": NARRATIVE, "remedies": ["explanation"], "consent": "y",
            "website": ""})
        return status


def complaints_named(live: LiveServer, prefix: str) -> int:
    from portal.models.matter import Client

    with live.app.app_context():
        return db.session.scalar(
            select(func.count(Complaint.id)).join(Client, Complaint.complainant_id == Client.id)
            .where(Client.name.like(f"{prefix}%"))) or 0


@contextmanager
def silent_mail_server() -> Iterator[tuple[int, threading.Event]]:
    """Accepts SMTP connections and never says a word until the block ends."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", free_port()))
    listener.listen()
    accepted = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            held.append(connection)
            accepted.set()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield listener.getsockname()[1], accepted
    finally:
        listener.close()
        for connection in held:
            connection.close()


def test_a_stuck_mail_server_stops_nothing(server):
    with silent_mail_server() as (port, accepted):
        server.app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port)
        with server.app.app_context(), writes_by_default():
            outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name="李明",
                         subject="Hello", body_text="Body")
            db.session.commit()

        def work() -> None:
            with server.app.app_context():
                outbox.deliver_due()

        worker = threading.Thread(target=work, daemon=True)
        worker.start()
        assert accepted.wait(10), "the worker never connected to the mail server"

        visitor, partner = Browser(server), Browser(server)
        assert visitor.request("GET", "/healthz")[0] == 200
        assert visitor.submit_public_complaint("邮件卡住时的访客") == 303
        partner.sign_in("partner")
        status, html = partner.request("GET", "/")
        assert status == 200
        assert worker.is_alive(), "the requests above must have finished while SMTP hung"
    worker.join(60)
    assert complaints_named(server, "邮件卡住时的访客") == 1


def test_a_slow_request_body_holds_no_lock(server):
    slow = Browser(server)
    slow.sign_in("reception")
    body = urllib.parse.urlencode({"locale": "en", "next": "/" + "x" * 200}).encode()
    connection = socket.create_connection((slow.host, int(slow.port)), timeout=60)
    head = (f"POST /language HTTP/1.1\r\nHost: {slow.host}\r\n"
            f"Cookie: {slow.cookie_header()}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    connection.sendall(head + body[:10])  # the server has loaded the user and waits for more
    try:
        other = Browser(server)
        assert other.request("GET", "/healthz")[0] == 200
        assert other.submit_public_complaint("慢请求旁的访客") == 303
        assert complaints_named(server, "慢请求旁的访客") == 1
        connection.sendall(body[10:])  # only now does the slow request finish
        assert connection.recv(100).startswith(b"HTTP/1.")
    finally:
        connection.close()


def test_twenty_concurrent_writers_never_see_database_is_locked(server):
    count = 20
    barrier = threading.Barrier(count)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def submit(i: int) -> None:
        try:
            browser = Browser(server)
            token = browser.csrf_token("/complaint")
            barrier.wait(timeout=30)
            status, text = browser.request("POST", "/complaint", {
                "csrf_token": token, "name": f"并发访客{i:02d}", "phone": "138 0013 9999",
                "language": "zh", "narrative": NARRATIVE, "remedies": ["explanation"],
                "consent": "y", "website": ""})
            statuses.append(status)
            assert "database is locked" not in text
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=submit, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert statuses == [303] * count
    assert complaints_named(server, "并发访客") == count


def test_pages_read_while_another_connection_holds_the_write_lock(app, client, auth):
    import sqlite3

    url = app.config["SQLALCHEMY_DATABASE_URI"]
    if not url.startswith("sqlite:///"):
        pytest.skip("SQLite's single write lock")
    auth.login_as("partner")
    path = url.removeprefix("sqlite:///")
    writer = sqlite3.connect(path, isolation_level=None, timeout=0)
    writer.execute("BEGIN IMMEDIATE")  # held for the whole test
    try:
        for page in ("/", "/complaints", "/complaints?q=王磊", "/healthz"):
            response = client.get(page)
            assert response.status_code == 200, (page, response.status_code)
    finally:
        writer.execute("ROLLBACK")
        writer.close()
