"""A real SMTP server on loopback for tests: `from tests.smtp_fixture import smtp_server`.

The fixture starts aiosmtpd on 127.0.0.1 and a free port, points the app's MAIL_SERVER /
MAIL_PORT at it (the outbox reads them at send time), and collects every message:

    def test_something(app, smtp_server):
        ...
        outbox.deliver_due()
        message = smtp_server.messages[0]          # email.message.EmailMessage
        assert smtp_server.envelopes[0].rcpt_tos == ["li.ming@example.com"]
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Envelope:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes


class CollectingHandler:
    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos),
                                           bytes(envelope.original_content or envelope.content)))
        return "250 Message accepted for delivery"


@dataclass
class SMTPServer:
    host: str
    port: int
    handler: CollectingHandler
    controller: Controller | None = field(default=None, repr=False)

    @property
    def envelopes(self) -> list[Envelope]:
        with self.handler.lock:
            return list(self.handler.envelopes)

    @property
    def messages(self) -> list[EmailMessage]:
        return [message_from_bytes(e.data, policy=policy.default) for e in self.envelopes]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        deadline = time.monotonic() + timeout
        while len(self.envelopes) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    def clear(self) -> None:
        with self.handler.lock:
            self.handler.envelopes.clear()

    def start(self) -> None:
        self.controller = Controller(self.handler, hostname=self.host, port=self.port,
                                     ready_timeout=10)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


def start_smtp_server(host: str = "127.0.0.1",
                      handler: CollectingHandler | None = None) -> SMTPServer:
    """A started server on a free port; `handler` may be a CollectingHandler of the test's own
    (one that fails or holds messages)."""
    for _attempt in range(5):
        server = SMTPServer(host, free_port(), handler or CollectingHandler())
        try:
            server.start()
        except OSError:  # the port was taken between probing and binding: try another
            continue
        return server
    raise RuntimeError("could not start the test SMTP server")


def point_app_at(app, server: SMTPServer) -> None:
    app.config.update(MAIL_SERVER=server.host, MAIL_PORT=server.port, MAIL_USE_TLS=False,
                      MAIL_USE_SSL=False, MAIL_USERNAME=None, MAIL_PASSWORD=None,
                      MAIL_SUPPRESS_SEND=False)
    # Flask-Mail also keeps a copy made at start-up; keep it in step for code that uses it.
    state = app.extensions.get("mail")
    if state is not None:
        state.server, state.port, state.suppress = server.host, server.port, False


@pytest.fixture
def smtp_server(app):
    server = start_smtp_server()
    point_app_at(app, server)
    try:
        yield server
    finally:
        server.stop()
