"""Browser-test helpers: a live server, Chromium launch settings, login, axe and the Nu checker.

Import from browser tests with ``from tests.browser.helpers import login, check_page, ...``.

- ``start_live_server(data_dir, overrides)``: a seeded app served by werkzeug in a thread.
- ``login(page, username)`` / ``logout(page)``: through the real form, as a person would.
- ``check_accessibility(page)``: axe-core in the page; fails on serious/critical violations.
- ``check_html(page)``: keeps the page's HTML (as sent, and the DOM after htmx swaps) for the
  Nu Html Checker, which runs once for the whole session in ``test_zz_html_valid.py``.
- ``check_page(page)``: both.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import subprocess
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page, Response
from werkzeug.serving import BaseWSGIServer, make_server

from portal.db import writes_by_default

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VNU_JAR = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
CHROMIUM = os.environ.get("REDRESS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DEMO_PASSWORD = "redress-demo"
BLOCKING_IMPACTS = ("serious", "critical")


# --------------------------------------------------------------------------- live server


@dataclass
class LiveServer:
    """A running app: ``url`` ("http://127.0.0.1:PORT"), ``app`` (change ``app.config`` live)."""

    app: Flask
    url: str
    data_dir: Path
    _server: BaseWSGIServer
    _thread: threading.Thread

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)
        from portal.db import db

        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()


def live_app_config(data_dir: Path) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "browser-test-secret",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{data_dir / 'browser.sqlite3'}",
        "INSTANCE_DATA_DIR": str(data_dir / "data"),
        "EVIDENCE_DIR": str(data_dir / "evidence"),
        "NOTICE_DIR": str(data_dir / "notices"),
        "MAIL_SINK_DIR": str(data_dir / "mail"),
        "MAIL_SUPPRESS_SEND": False,
        "AUDIT_HMAC_KEY": "browser-test-audit-key-" + "0" * 32,
        "AUDIT_CHECKPOINT_DIR": str(data_dir / "audit-checkpoints"),
        "CLOCK_OFFSET_FILE": str(data_dir / "clock_offset"),
    }


def start_live_server(data_dir: Path, overrides: dict[str, Any] | None = None) -> LiveServer:
    """Create the app on a fresh SQLite file (create_all + demo seed) and serve it."""
    from portal import create_app
    from portal.db import db
    from portal.demo import seed

    data_dir.mkdir(parents=True, exist_ok=True)
    app = create_app({**live_app_config(data_dir), **(overrides or {})})
    with app.app_context(), writes_by_default():
        db.create_all()
        seed(DEMO_PASSWORD)
        db.session.commit()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request in reports
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    return LiveServer(app, f"http://127.0.0.1:{server.server_port}", data_dir, server, thread)


# --------------------------------------------------------------------------- people


def login(page: Page, username: str, password: str = DEMO_PASSWORD) -> None:
    """Sign in through the login form and wait for the home page."""
    page.goto("/login")
    page.locator("main input[name=username]").fill(username)
    page.locator("main input[name=password]").fill(password)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    if "/login" in page.url:
        errors = page.locator("main .alert, main .error").all_inner_texts()
        raise AssertionError(f"login as {username!r} failed: {errors}")


def logout(page: Page) -> None:
    """Sign out with the header's button; ends on the login page."""
    with page.expect_navigation():
        page.locator("header form[action$='/logout'] button[type=submit]").click()
    assert "/login" in page.url, page.url


def switch_language(page: Page, locale: str) -> None:
    """Press the header's language button ("zh_CN" or "en")."""
    with page.expect_navigation():
        page.locator(f"header .language-switch button[value='{locale}']").click()


# --------------------------------------------------------------------------- axe-core


@dataclass
class AxeViolation:
    rule: str
    impact: str
    help: str
    targets: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"[{self.impact}] {self.rule}: {self.help} at {', '.join(self.targets[:5])}"


_AXE_RUN = """async () => {
  const result = await window.axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    rule: v.id, impact: v.impact || "", help: v.help,
    targets: v.nodes.map(n => n.target.join(" "))
  }));
}"""


def _inject_axe(page: Page) -> None:
    # page.evaluate runs through the DevTools protocol, which the page's CSP does not govern
    # (add_script_tag would insert an inline <script>, which script-src 'self' refuses).
    if page.evaluate("() => typeof window.axe === 'object'"):
        return
    page.evaluate(AXE_JS.read_text(encoding="utf-8") + "\n;undefined")


def axe_violations(page: Page) -> list[AxeViolation]:
    """Every axe violation on the page as it is now (all impacts)."""
    page.wait_for_load_state("load")
    _inject_axe(page)
    return [AxeViolation(**v) for v in page.evaluate(_AXE_RUN)]


def check_accessibility(page: Page) -> None:
    """Fail on any serious or critical axe-core violation."""
    blocking = [v for v in axe_violations(page) if v.impact in BLOCKING_IMPACTS]
    assert not blocking, f"axe on {page.url}:\n" + "\n".join(str(v) for v in blocking)


# --------------------------------------------------------------------------- Nu Html Checker

_documents: dict[int, Response] = {}


def track_documents(page: Page) -> None:
    """Remember the last HTML document the page received, so check_html sees it as sent."""

    def remember(response: Response) -> None:
        request = response.request
        if (request.resource_type == "document" and response.frame == page.main_frame
                and not 300 <= response.status < 400):
            _documents[id(page)] = response

    page.on("response", remember)
    page.on("close", lambda _page: _documents.pop(id(page), None))


class HtmlCollector:
    """HTML snapshots collected during the session, validated by one JVM run at the end."""

    def __init__(self) -> None:
        self._directory: Path | None = None  # made on the first snapshot
        self.sources: dict[str, str] = {}  # file name -> where it came from
        self._seen: set[str] = set()
        self.keep = False  # set when the checker found errors: the snapshots stay for a look

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="redress-html-"))
            atexit.register(self._remove_unless_kept)
        return self._directory

    def _remove_unless_kept(self) -> None:
        if not self.keep and self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)

    def add(self, html: str, origin: str) -> None:
        digest = hashlib.sha256(html.encode()).hexdigest()[:16]
        if digest in self._seen:
            return
        self._seen.add(digest)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", origin).strip("-")[:80] or "page"
        name = f"{len(self.sources):04d}-{slug}-{digest}.html"
        (self.directory / name).write_text(html, encoding="utf-8")
        self.sources[name] = origin

    def validate(self) -> list[str]:
        """Run vnu.jar on every snapshot; one entry per distinct error (empty when valid)."""
        if not self.sources:
            return []
        files = sorted(self.directory.glob("*.html"))
        result = subprocess.run(
            ["java", "-jar", str(VNU_JAR), "--errors-only", "--format", "json",
             *[str(f) for f in files]],
            capture_output=True, text=True, timeout=600, check=False,
        )
        try:
            messages = json.loads(result.stderr or result.stdout)["messages"]
        except (ValueError, KeyError) as error:
            raise AssertionError(f"vnu failed: {result.stderr[-2000:]}") from error
        grouped: dict[str, list[str]] = {}
        for message in messages:
            if message.get("type") not in ("error", "non-document-error"):
                continue
            name = Path(message.get("url", "")).name
            text = re.sub(r"^Bad value “[^”]*”", "Bad value", message.get("message", ""))
            grouped.setdefault(text, []).append(
                f"{self.sources.get(name, name)} line {message.get('lastLine')}: "
                f"{message.get('extract', '').strip()!r}"
            )
        problems = [f"{text}\n    " + "\n    ".join(where[:4])
                    + (f"\n    … and {len(where) - 4} more" if len(where) > 4 else "")
                    for text, where in grouped.items()]
        self.keep = bool(problems)
        return problems


HTML = HtmlCollector()


def check_html(page: Page) -> None:
    """Keep the page for the Nu Html Checker: the HTML as sent and the DOM as it is now."""
    response = _documents.get(id(page))
    if response is not None and response.url == page.url:
        # The body can be gone after a later navigation; the DOM snapshot still counts.
        with contextlib.suppress(Exception):
            HTML.add(response.text(), f"{page.url} (as sent)")
    HTML.add(page.content(), f"{page.url} (DOM)")


def check_page(page: Page) -> None:
    """axe now, the Nu checker at the end of the session."""
    check_accessibility(page)
    check_html(page)
