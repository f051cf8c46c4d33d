"""Real processes against the test database, for tests/web/test_many_processes.py.

- `make_app(directory)`: the seeded app of tests/conftest.py, built once for a whole module.
- `write_instance(app, directory, smtp)`: an instance directory whose config.py points every
  process at the same database, keys, directories, demo clock file and test SMTP server.
- `Processes`: gunicorn web servers and `flask outbox work` workers, each in its own process
  group with its output in a log file; `stop()` ends every group, however the test went.
- `Browser`: http.client with a cookie jar, following no redirects.
- `RacingHandler`: an SMTP server's handler that can hold messages until two senders are
  talking to it at the same moment.
"""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Flask

from portal.config import ENV_KEYS
from portal.db import db
from portal.services.analytics import fact_table
from tests.conftest import build_test_app
from tests.smtp_fixture import CollectingHandler, Envelope, SMTPServer, free_port

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

ERROR_LINE = re.compile(r"^(Traceback|DETAIL|[\w.]+(Error|Exception|Violation)\b)")


# -- the app and the instance ------------------------------------------------------------------

def make_app(directory: Path) -> Flask:
    """The app of tests/conftest.py (schema created, demo firm seeded) in `directory`."""
    app = build_test_app(directory, secret_key="many-processes-secret")
    with app.app_context():
        db.session.remove()
    return app


def fact_table_drift(app: Flask) -> list[int]:
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as connection:
            stale = fact_table.drift(connection)
        db.engine.dispose()
    return stale


def write_instance(app: Flask, directory: Path, smtp: SMTPServer, **extra: object) -> Path:
    """An instance directory for the child processes: the test app's database, keys and
    directories, the demo clock file the test moves, the test SMTP server, and `extra`."""
    config = app.config
    settings: dict[str, object] = {
        "SQLALCHEMY_DATABASE_URI": config["SQLALCHEMY_DATABASE_URI"],
        "SECRET_KEY": config["SECRET_KEY"],
        "AUDIT_HMAC_KEY": config["AUDIT_HMAC_KEY"],
        "AUDIT_CHECKPOINT_DIR": config["AUDIT_CHECKPOINT_DIR"],
        "EVIDENCE_DIR": config["EVIDENCE_DIR"],
        "NOTICE_DIR": config["NOTICE_DIR"],
        "INSTANCE_DATA_DIR": config["INSTANCE_DATA_DIR"],
        "CLOCK_OFFSET_FILE": config["CLOCK_OFFSET_FILE"],
        "MAIL_SERVER": smtp.host,
        "MAIL_PORT": smtp.port,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_TIMEOUT": 30,
        **extra,
    }
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "config.py").write_text(
        "".join(f"{key} = {value!r}\n" for key, value in settings.items()), encoding="utf-8")
    return directory


def child_environment(instance: Path) -> dict[str, str]:
    """This environment without the settings the environment would impose over config.py."""
    env = {key: value for key, value in os.environ.items()
           if key not in ENV_KEYS and key != "DATABASE_URL"}
    env.update(FLASK_APP="wsgi.py", REDRESS_INSTANCE=str(instance), PYTHONUNBUFFERED="1")
    return env


# -- the processes -----------------------------------------------------------------------------

@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def errors(self) -> str:
        """Where its output went wrong: the exception lines and the application's frames of
        each traceback (its SQL left out), else the end of the output."""
        lines = self.output().splitlines()
        wanted = [line for n, line in enumerate(lines) if ERROR_LINE.match(line) or (
            line.startswith(f'  File "{ROOT / "portal"}') and n + 1 < len(lines))]
        return "\n".join(line[:400] for line in wanted[-40:]) or self.output()[-3000:]


@dataclass
class Processes:
    directory: Path
    env: dict[str, str]
    children: dict[str, Child] = field(default_factory=dict)

    def start(self, name: str, argv: list[str]) -> Child:
        log = self.directory / f"{name}.log"
        with log.open("ab") as output:
            process = subprocess.Popen(  # noqa: S603 - our own commands
                argv, cwd=ROOT, env=self.env, stdout=output, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        child = self.children[name] = Child(name, process, log)
        return child

    def start_worker(self, name: str, interval: float = 0.2) -> Child:
        return self.start(name, [str(BIN / "flask"), "outbox", "work",
                                 "--interval", str(interval)])

    def start_webs(self, *names: str, timeout: float = 60) -> list[str]:
        """gunicorn (one worker each) on free loopback ports, started together; their URLs
        once each answers /healthz (a port taken meanwhile: that one starts again)."""
        urls = {name: self._launch_web(name) for name in names}
        for name in names:
            for _attempt in range(3):
                if self._answers(name, urls[name], timeout):
                    break
                urls[name] = self._launch_web(name)
            else:
                raise AssertionError(f"{name}: no free port after 3 attempts")
        return [urls[name] for name in names]

    def _launch_web(self, name: str) -> str:
        port = free_port()
        self.start(name, [str(BIN / "gunicorn"), "--workers", "1",
                          "--bind", f"127.0.0.1:{port}", "--graceful-timeout", "3",
                          "--no-control-socket", "wsgi:app"])
        return f"http://127.0.0.1:{port}"

    def _answers(self, name: str, url: str, timeout: float) -> bool:
        child = self.children[name]
        deadline = time.monotonic() + timeout
        while child.process.poll() is None and time.monotonic() < deadline:
            try:
                if Browser().get(url, "/healthz").status == 200:
                    return True
            except OSError:
                pass
            time.sleep(0.2)
        if child.process.poll() is None:
            raise AssertionError(f"{name} did not answer within {timeout} s:\n"
                                 f"{child.output()[-3000:]}")
        if "Address already in use" not in child.output():
            raise AssertionError(f"{name} exited:\n{child.output()[-3000:]}")
        return False

    def check_alive(self) -> None:
        for child in self.children.values():
            code = child.process.poll()
            if code is not None:
                raise AssertionError(f"{child.name} exited with status {code}:\n"
                                     f"{child.errors()}")

    def stop(self) -> None:
        """SIGTERM to every process group, SIGKILL to whatever is left after 10 s."""
        running = [c for c in self.children.values() if c.process.poll() is None]
        for child in running:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in running:
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for child in self.children.values():  # the group too: gunicorn's worker, say
            _signal_group(child.process, signal.SIGKILL)
            if child.process.poll() is None:
                child.process.wait(timeout=10)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)  # start_new_session: the group's id is the pid


def wait_until(condition: Callable[[], object], processes: Processes, timeout: float,
               what: str, every: float = 0.1) -> object:
    """Poll `condition` until it answers something true; fail (with the reason) when a child
    process died or `timeout` seconds passed."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        processes.check_alive()
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


# -- HTTP --------------------------------------------------------------------------------------

@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    text: str

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")


CSRF_INPUT = re.compile(r'<input[^>]*name="csrf_token"[^>]*>')
VALUE = re.compile(r'value="([^"]+)"')


class Browser:
    """One browser: its cookies go to every server (cookies ignore the port), no redirects."""

    def __init__(self, language: str = "en") -> None:
        self.cookies: dict[str, str] = {}
        self.language = language

    def request(self, url: str, method: str, path: str, form: dict[str, str] | None = None
                ) -> Answer:
        parts = urlsplit(url)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = {"Accept-Language": self.language}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode("utf-8", errors="replace")
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(header).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return Answer(response.status, response.headers, text)

    def get(self, url: str, path: str) -> Answer:
        return self.request(url, "GET", path)

    def post(self, url: str, path: str, form: dict[str, str]) -> Answer:
        return self.request(url, "POST", path, form)


def csrf_token(html: str) -> str:
    field_html = CSRF_INPUT.search(html)
    assert field_html, "no CSRF token on the page"
    return VALUE.search(field_html.group(0)).group(1)


# -- SMTP --------------------------------------------------------------------------------------

class RacingHandler(CollectingHandler):
    """Collects every message. While `pairing` is on, a message is taken and its answer held
    until a second message arrives (two senders at once), and both are answered together, so
    that both senders go on at the same moment; a message alone is answered after
    `first_seconds` (until the first pair) or `alone_seconds`. `pairs` counts the pairs."""

    def __init__(self, first_seconds: float = 15, alone_seconds: float = 0.5) -> None:
        super().__init__()
        self.pairing = False
        self.pairs = 0
        self.first_seconds, self.alone_seconds = first_seconds, alone_seconds
        self._waiting: asyncio.Future | None = None  # the event loop's thread only

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd API)
        with self.lock:
            self.envelopes.append(Envelope(envelope.mail_from, list(envelope.rcpt_tos),
                                           bytes(envelope.original_content or envelope.content)))
        if self.pairing:
            await self._pair()
        return "250 Message accepted for delivery"

    async def _pair(self) -> None:
        partner = self._waiting
        if partner is not None and not partner.done():
            self.pairs += 1
            partner.set_result(None)  # answer the one waiting, and this one, together
            return
        waiting = self._waiting = asyncio.get_running_loop().create_future()
        timeout = self.first_seconds if self.pairs == 0 else self.alone_seconds
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(waiting), timeout)
        if self._waiting is waiting:
            self._waiting = None



