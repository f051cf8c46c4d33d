"""Between passes the fetcher waits in IDLE where the server offers it, and polls otherwise."""

from __future__ import annotations

import threading
from types import SimpleNamespace

from portal.services.mailin import imap


def _settings(poll: float) -> imap.Settings:
    return imap.Settings(host="mail.example", port=993, user="u", password="p", folder="INBOX",
                         processed="Processed", ca_file=None, max_bytes=1000, timeout=5,
                         poll_seconds=poll)


class _Idle:
    def __init__(self, answers: list[list[bytes]]) -> None:
        self.answers, self.calls = answers, 0

    def wait(self, timeout: float) -> list[bytes]:
        self.calls += 1
        return self.answers.pop(0) if self.answers else []


def test_without_idle_it_polls_and_never_issues_idle(monkeypatch):
    idle = _Idle([])
    box = SimpleNamespace(client=SimpleNamespace(capabilities=("IMAP4REV1",)), idle=idle)
    waited = []
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", lambda seconds: waited.append(seconds))
    imap._wait_for_mail(box, _settings(poll=42), stop)
    assert waited == [42] and idle.calls == 0


def test_with_idle_it_returns_as_soon_as_the_server_announces_mail():
    idle = _Idle([[], [b"* 3 EXISTS"]])
    box = SimpleNamespace(client=SimpleNamespace(capabilities=("IMAP4REV1", "IDLE")), idle=idle)
    imap._wait_for_mail(box, _settings(poll=60), threading.Event())
    assert idle.calls == 2


def test_with_idle_a_stop_request_ends_the_wait():
    idle = _Idle([])
    box = SimpleNamespace(client=SimpleNamespace(capabilities=("IDLE",)), idle=idle)
    stop = threading.Event()
    stop.set()
    imap._wait_for_mail(box, _settings(poll=60), stop)
    assert idle.calls == 0


def test_no_host_means_the_channel_is_off():
    assert imap.settings({"MAIL_INBOX_HOST": ""}) is None
