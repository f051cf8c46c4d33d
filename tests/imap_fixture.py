"""A real IMAP server for tests: Dovecot started once per session in a temporary directory
(portal/devtools/dovecot.py), as the suite does with PostgreSQL.

    def test_something(app, imap_mailbox):
        imap_mailbox.deliver(raw_bytes)       # APPEND to INBOX, as if it had arrived
        imap.fetch_once(imap.settings())      # the worker's pass
        assert imap_mailbox.count("Processed") == 1

Each test starts with both folders empty.
"""

from __future__ import annotations

import imaplib
import os
import ssl
from dataclasses import dataclass
from datetime import datetime

import pytest

from portal.devtools import dovecot


@dataclass
class LoopbackMailbox:
    mailbox: dovecot.LocalMailbox

    def _connect(self) -> imaplib.IMAP4_SSL:
        context = ssl.create_default_context(cafile=str(self.mailbox.ca_file))
        connection = imaplib.IMAP4_SSL(self.mailbox.host, self.mailbox.port,
                                       ssl_context=context)
        connection.login(self.mailbox.user, self.mailbox.password)
        return connection

    def deliver(self, raw: bytes, when: datetime | None = None) -> None:
        connection = self._connect()
        try:
            moment = imaplib.Time2Internaldate(when or datetime.now().astimezone())
            status, _data = connection.append(self.mailbox.folder, None, moment, raw)
            assert status == "OK"
        finally:
            connection.logout()

    def count(self, folder: str) -> int:
        connection = self._connect()
        try:
            status, data = connection.select(folder, readonly=True)
            assert status == "OK"
            return int(data[0])
        finally:
            connection.logout()

    def empty(self) -> None:
        connection = self._connect()
        try:
            for folder in (self.mailbox.folder, self.mailbox.processed_folder):
                status, data = connection.select(folder)
                if status != "OK" or int(data[0]) == 0:
                    continue
                connection.store("1:*", "+FLAGS", "\\Deleted")
                connection.expunge()
        finally:
            connection.logout()

    def configure(self, app) -> None:
        app.config.update(
            MAIL_INBOX_HOST=self.mailbox.host, MAIL_INBOX_PORT=self.mailbox.port,
            MAIL_INBOX_USER=self.mailbox.user, MAIL_INBOX_PASSWORD=self.mailbox.password,
            MAIL_INBOX_FOLDER=self.mailbox.folder,
            MAIL_INBOX_PROCESSED_FOLDER=self.mailbox.processed_folder,
            MAIL_INBOX_CA_FILE=str(self.mailbox.ca_file), MAIL_INBOX_TIMEOUT=10)


@pytest.fixture(scope="session")
def dovecot_server(tmp_path_factory):
    if not dovecot.available():
        message = "Dovecot is not installed (make test-setup installs dovecot-imapd)"
        if os.environ.get("CI"):
            pytest.fail(message)  # CI must run the email channel's tests, never skip them
        pytest.skip(message)
    server = dovecot.DovecotServer(tmp_path_factory.mktemp("dovecot"))
    mailbox = server.start()
    try:
        yield mailbox
    finally:
        server.stop()


@pytest.fixture
def imap_mailbox(app, dovecot_server) -> LoopbackMailbox:
    box = LoopbackMailbox(dovecot_server)
    box.empty()
    box.configure(app)
    return box
