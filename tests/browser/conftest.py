"""Browser tests: a live server on a temp SQLite database, Playwright driving Debian's Chromium.

Fixtures: ``live_server`` (session; ``.url``, ``.app`` whose ``config`` may be changed live,
e.g. ``MAIL_PORT`` for a test SMTP server), ``browser`` (module), ``context`` and ``page`` (per
test, Accept-Language zh-CN; relative URLs resolve against the live server), ``en_page`` (the
same with Accept-Language en-US, for tests that find things by their English text). Every test in
this folder is marked ``browser`` (``pytest -m "not browser"`` leaves them out). Helpers live
in ``tests/browser/helpers.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.browser.helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LiveServer,
    start_live_server,
    track_documents,
)

FINAL_TEST = "test_zz_html_valid.py"


@pytest.hookimpl(tryfirst=True)  # before -m selects, so `-m "not browser"` sees the marker
def pytest_collection_modifyitems(config, items):
    """Mark this folder's tests `browser`; run the Nu checker's test after all the others."""
    here = __file__.rsplit("/", 1)[0]
    final = []
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.browser)
            if item.path.name == FINAL_TEST:
                final.append(item)
    for item in final:
        items.remove(item)
        items.append(item)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    server = start_live_server(tmp_path_factory.mktemp("live-server"))
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _forget_language_choices(live_server: LiveServer) -> Iterator[None]:
    """A language chosen in one test is stored on the user: forget it afterwards, so that
    each test sees the language its browser asks for, whatever ran before it."""
    yield
    from sqlalchemy import update

    from portal.db import db, writes_by_default
    from portal.models.user import User

    with live_server.app.app_context(), writes_by_default():
        db.session.execute(update(User).values(locale=None))
        db.session.commit()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _new_context(browser: Browser, server: LiveServer, locale: str) -> BrowserContext:
    context = browser.new_context(
        base_url=server.url, locale=locale, viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """A fresh browser profile whose Accept-Language is zh-CN (the firm's default)."""
    context = _new_context(browser, live_server, "zh-CN")
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    track_documents(page)
    return page


@pytest.fixture
def en_page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A page in a browser that asks for English (Accept-Language: en-US).

    A signed-in user's stored language still wins: the demo users have none until they press
    the language switch (the language test restores committee2 to Chinese).
    """
    context = _new_context(browser, live_server, "en-US")
    page = context.new_page()
    track_documents(page)
    yield page
    context.close()
