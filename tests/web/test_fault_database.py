"""The database going away and coming back, and fifty people saving one complaint at once.

- While the database cannot be reached, a signed-in page answers 503 with the error page in
  the browser's language (no traceback, no 500) and Retry-After, and /healthz answers 503;
  once it is back the very same request answers 200 and a save lands. Simulated on both
  databases (connections refused after the pool is emptied, or statements failing right
  after the user was loaded), and on PostgreSQL by cutting the wire itself: a TCP proxy in
  front of the server drops every connection, pooled ones included, and refuses new ones.
- Fifty concurrent saves of one section, each with the version its page showed: every one
  either lands (200) or gets the conflict message (409), the version moves once per landing,
  and the record holds the last landed edit. SQLite never says "database is locked".
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
from collections.abc import Iterator

import pytest
from flask import g, has_request_context
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from portal import create_app
from portal.db import db, write_transaction
from portal.models import AuditEvent
from tests.conftest import DEMO_PASSWORD, Client
from tests.web.test_intake_support import HX, get, incident, new_draft, save

LANGUAGES = {"en": "en", "zh-CN": "zh_CN"}
CONFLICT = "Someone else saved this complaint after you opened it"


def expected_texts(app, accept_language: str) -> list[str]:
    """What the 503 page says in that language (whatever the catalogue holds today)."""
    with app.test_request_context(), force_locale(LANGUAGES[accept_language]):
        return [_("Service unavailable"), _("Error %(status)s", status=503),
                _("The portal cannot reach its database at the moment. Please try again in a "
                  "minute; if you were saving something, check afterwards that it was saved.")]


def assert_unavailable_page(app, response, accept_language: str) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == 503, text[:800]
    assert response.headers["Retry-After"] == "30"
    assert "Traceback" not in text and "OperationalError" not in text
    assert f'<html lang="{accept_language}">' in text
    for expected in expected_texts(app, accept_language):
        assert expected in text
    if accept_language == "zh-CN":
        assert "错误 503" in text  # the page's own words are Chinese, not English
    assert "Sign out" not in text and "退出" not in text  # rendered without the user


# --- an outage on either database ---------------------------------------------------------


class Outage:
    """Makes `engine`'s database unreachable until `end()`.

    "refused": the pool is emptied and every new connection fails as the driver fails when
    the server is down. "mid-request": inside a request, every statement after the signed-in
    user was loaded fails (the server vanished half-way through the page)."""

    def __init__(self, engine, mode: str) -> None:
        self.engine, self.mode = engine, mode
        self.error = engine.dialect.loaded_dbapi.OperationalError
        self.active = False

    def begin(self) -> None:
        self.active = True
        if self.mode == "refused":
            event.listen(self.engine, "do_connect", self._connect)
            self.engine.dispose()
        else:
            event.listen(self.engine, "before_cursor_execute", self._execute)

    def end(self) -> None:
        self.active = False
        if self.mode == "refused":
            event.remove(self.engine, "do_connect", self._connect)
        else:
            event.remove(self.engine, "before_cursor_execute", self._execute)

    def _connect(self, *_args):
        raise self.error("connection refused: is the server running?")

    def _execute(self, *_args):
        if has_request_context() and "_login_user" in g:
            raise self.error("server closed the connection unexpectedly")


@pytest.mark.parametrize("accept_language", ["en", "zh-CN"])
@pytest.mark.parametrize("mode", ["refused", "mid-request"])
def test_the_database_going_away_answers_503_then_recovers(app, client, auth, mode,
                                                           accept_language):
    auth.login_as("receptionist")
    key = new_draft(client)
    language = {"Accept-Language": accept_language}
    assert client.get("/", headers=language).status_code == 200
    visitor = app.test_client()
    with app.app_context():
        outage = Outage(db.engine, mode)
    outage.begin()
    try:
        assert_unavailable_page(app, client.get("/", headers=language), accept_language)
        assert_unavailable_page(app, client.get(f"/complaints/{key}", headers=language),
                                accept_language)
        fragment = client.get(f"/complaints/{key}", headers={**language, **HX})
        assert fragment.status_code == 503 and 'id="error"' in fragment.text
        assert "<html" not in fragment.text  # htmx asked for a fragment
        saving = client.post(f"/complaints/{key}/sections/incident",
                             data={"version": 1, **incident()}, headers=language)
        assert_unavailable_page(app, saving, accept_language)
        health = visitor.get("/healthz")
        assert health.status_code == 503 and health.json["database"] == "unreachable"
    finally:
        outage.end()

    response = client.get("/", headers=language)
    assert response.status_code == 200, response.text[:500]
    assert client.get(f"/complaints/{key}", headers=language).status_code == 200
    assert visitor.get("/healthz").status_code == 200
    assert save(client, app, key, "incident", incident()).status_code == 200
    assert get(app, key).narrative == incident()["incident-narrative"]


# --- PostgreSQL: the wire cut ----------------------------------------------------------------


class Proxy:
    """A TCP relay to the database: `cut()` drops every connection and refuses new ones
    (accepted, then closed at once, as a server going away does), `restore()` ends that."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.lock = threading.Lock()
        self.open: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _address = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            try:
                server = socket.create_connection(self.target, timeout=10)
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            with self.lock:
                self.open += [client, server]
            threading.Thread(target=self._pipe, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pipe, args=(server, client), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        finally:
            for end in (source, target):
                with contextlib.suppress(OSError):
                    end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        with self.lock:
            sockets, self.open = self.open, []
        for end in sockets:
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)
            end.close()

    def restore(self) -> None:
        self.up = True

    def stop(self) -> None:
        self.cut()
        self.listener.close()


@pytest.fixture
def proxied_app(tmp_path) -> Iterator[tuple]:
    url = os.environ.get("TEST_DATABASE_URL") or ""
    if not url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server to cut off")
    real = make_url(url)
    proxy = Proxy(real.host or "127.0.0.1", real.port or 5432)
    app = create_app({
        "TESTING": True, "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": real.set(host="127.0.0.1", port=proxy.port)
        .render_as_string(hide_password=False),
        "MAIL_SUPPRESS_SEND": False, "INSTANCE_DATA_DIR": str(tmp_path / "data"),
        "EVIDENCE_DIR": str(tmp_path / "evidence"), "NOTICE_DIR": str(tmp_path / "notices"),
        "AUDIT_HMAC_KEY": "test-audit-key-" + "0" * 32,
        "AUDIT_CHECKPOINT_DIR": str(tmp_path / "audit-checkpoints"),
        "CLOCK_OFFSET_FILE": str(tmp_path / "clock_offset"),
    })
    app.test_client_class = Client
    with app.app_context():
        db.drop_all()
        db.create_all()
        from portal.demo import seed

        with write_transaction():
            seed(DEMO_PASSWORD)
    try:
        yield app, proxy
    finally:
        proxy.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.mark.parametrize("accept_language", ["en", "zh-CN"])
def test_postgresql_cut_off_mid_session_answers_503_then_recovers(proxied_app,
                                                                  accept_language):
    app, proxy = proxied_app
    client, visitor = app.test_client(), app.test_client()
    language = {"Accept-Language": accept_language}
    response = client.post("/login", data={"username": "reception", "password": DEMO_PASSWORD})
    assert response.status_code == 303
    assert client.get("/", headers=language).status_code == 200  # the pool holds connections
    assert visitor.get("/healthz").status_code == 200

    proxy.cut()  # the server goes away: pooled connections die, new ones are refused
    try:
        assert_unavailable_page(app, client.get("/", headers=language), accept_language)
        assert_unavailable_page(app, client.get("/complaints", headers=language),
                                accept_language)
        assert visitor.get("/healthz").status_code == 503
    finally:
        proxy.restore()

    response = client.get("/", headers=language)
    assert response.status_code == 200, response.text[:500]
    assert visitor.get("/healthz").status_code == 200
    key = new_draft(client)  # a write lands too
    assert client.get(f"/complaints/{key}", headers=language).status_code == 200


# --- fifty concurrent edits of one complaint --------------------------------------------------


def test_fifty_parallel_edits_of_one_complaint_lose_no_update(app, client, auth):
    count = 50
    auth.login_as("receptionist")
    key = new_draft(client)
    assert save(client, app, key, "incident", incident()).status_code == 200
    start = get(app, key)
    saves_before = section_saves(app, start.id)
    cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
    barrier = threading.Barrier(count)
    results: list[tuple[int, int, str, str]] = []  # (status, version posted, narrative, text)
    errors: list[BaseException] = []

    def edit(i: int) -> None:
        try:
            browser = app.test_client()
            browser.set_cookie(cookie.key, cookie.value)
            barrier.wait(timeout=60)
            page = browser.get(f"/complaints/{key}", headers=HX)
            assert page.status_code == 200, page.text[:300]
            loaded = int(re.search(r'id="version-incident" value="(\d+)"', page.text).group(1))
            narrative = f"第{i:02d}位同事的修改：律师收费后三个月没有任何进展报告。"
            response = browser.post(f"/complaints/{key}/sections/incident", headers=HX,
                                    data={"version": loaded,
                                          **incident(**{"incident-narrative": narrative})})
            results.append((response.status_code, loaded, narrative, response.text))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=edit, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors[:3]
    assert len(results) == count
    for status, _loaded, _narrative, text in results:
        assert "database is locked" not in text
        assert status in (200, 409), (status, text[:500])
        if status == 409:
            assert CONFLICT in text
    landed = sorted((loaded, narrative) for status, loaded, narrative, _ in results
                    if status == 200)
    final = get(app, key)
    # Each landing moved the version by one, from the version it was given: no two landed
    # on the same version, so no save overwrote another unseen.
    assert [loaded for loaded, _ in landed] == list(range(start.version, final.version))
    assert final.narrative == landed[-1][1]  # the record is the last landed edit
    assert section_saves(app, start.id) - saves_before == len(landed)  # one per landing


def section_saves(app, complaint_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.action == "complaint.section_saved",
            AuditEvent.object_type == "complaint", AuditEvent.object_id == str(complaint_id)))
