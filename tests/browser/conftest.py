"""Browser tests: a live server on a temp SQLite database, Playwright driving Debian's Chromium.

Fixtures: ``live_server`` (session; ``.url``, ``.app``), ``browser`` (module), ``context`` and
``page`` (per test; the page's relative URLs resolve against the live server). Every test in
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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": 1280, "height": 860}
    )
    context.set_default_timeout(15_000)
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    page = context.new_page()
    track_documents(page)
    return page
