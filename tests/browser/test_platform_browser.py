"""The platform in a real browser: sign in and out as each role, every page reachable from there
passes axe (no serious/critical violation) and is kept for the Nu Html Checker, the language
switch works and persists, the keyboard reaches the content, and an htmx request from an expired
or logged-out session sends the whole tab to the login page.
"""

from __future__ import annotations

import re
from collections import deque
from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Browser, Page
from playwright.sync_api import Error as PlaywrightError

from tests.browser.helpers import (
    check_page,
    login,
    logout,
    switch_language,
)
from tests.conftest import ROLE_USERS

pytestmark = pytest.mark.browser

MAX_PAGES_PER_ROLE = 30
SKIP_PATH = re.compile(r"^/(static/|logout$)|/(download|file|attachment|pdf)(/|$)|\.pdf$")


def _page_kind(url: str) -> str:
    """One visit per kind of page: ids become '#', query values are dropped."""
    parts = urlsplit(url)
    path = re.sub(r"\d+", "#", parts.path)
    keys = sorted({key for key, _value in parse_qsl(parts.query)})
    return f"{path}?{'&'.join(keys)}"


def _links(page: Page, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all(
        "a[href]:not([download])", "links => links.map(a => a.href)"
    )
    found = []
    for href in hrefs:
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or SKIP_PATH.search(parts.path):
            continue
        found.append(href.split("#", 1)[0])
    return found


def crawl(page: Page, origin: str, start: str = "/") -> list[str]:
    """Follow same-origin links breadth first from `start`, checking every HTML page."""
    queue, seen, visited = deque([origin + start]), {_page_kind(origin + start)}, []
    while queue and len(visited) < MAX_PAGES_PER_ROLE:
        url = queue.popleft()
        try:
            response = page.goto(url)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                continue  # an attachment (evidence, a PDF notice), not a page
            raise
        assert response is not None, url
        assert response.status < 500, f"{url} answered {response.status}"
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        check_page(page)
        visited.append(urlsplit(page.url).path)
        for link in _links(page, origin):
            kind = _page_kind(link)
            if kind not in seen:
                seen.add(kind)
                queue.append(link)
    return visited


def test_login_page_is_accessible_and_valid(page, live_server):
    page.goto("/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    check_page(page)


def test_a_wrong_password_is_explained_on_the_form(page):
    page.goto("/login")
    page.locator("main input[name=username]").fill("investigator2")
    page.locator("main input[name=password]").fill("not-the-password")
    with page.expect_navigation():
        page.locator("main form button[type=submit]").click()
    assert "/login" in page.url
    assert page.locator("main input[name=username]").input_value() == "investigator2"
    # The message itself (the password field's label alone would match "密码").
    assert page.locator("main").get_by_text("用户名或密码错误。", exact=True).count() == 1
    check_page(page)


@pytest.mark.parametrize("role", list(ROLE_USERS))
def test_each_role_signs_in_sees_accessible_valid_pages_and_signs_out(page, live_server, role):
    username = ROLE_USERS[role]
    login(page, username)
    assert urlsplit(page.url).path == "/"
    assert page.locator("header .who").is_visible()

    visited = crawl(page, live_server.url)
    assert "/" in visited and "/account/password" in visited, visited
    if role == "partner":
        assert any(path.startswith("/admin/") for path in visited), visited

    page.goto("/")
    logout(page)
    assert page.locator("main input[name=password]").is_visible()
    check_page(page)  # the login page with its "signed out" message
    page.goto("/")
    assert "/login" in page.url, "a signed-out browser must not reach the home page"


def test_public_pages_are_accessible_and_valid(page, live_server):
    public = [rule.rule for rule in live_server.app.url_map.iter_rules()
              if rule.endpoint.startswith("public.") and "GET" in rule.methods
              and not rule.arguments]
    for path in public:
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        check_page(page)


def test_language_switch_changes_the_text_and_persists(page):
    page.goto("/login")
    chinese_heading = page.locator("main h1").inner_text()
    switch_language(page, "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "Sign in"
    assert chinese_heading != "Sign in", "the Chinese login page still says 'Sign in'"
    page.reload()
    assert page.locator("main h1").inner_text() == "Sign in", "the choice did not persist"

    page.context.clear_cookies()
    login(page, "committee2")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    chinese_home = page.locator("main h1").inner_text()
    assert chinese_home != "My work", "the Chinese home page still says 'My work'"
    switch_language(page, "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("main h1").inner_text() == "My work"
    check_page(page)
    logout(page)

    # The choice is stored with the user: a fresh browser (Accept-Language zh-CN) gets English.
    page.context.clear_cookies()
    login(page, "committee2")
    assert page.locator("main h1").inner_text() == "My work"
    switch_language(page, "zh_CN")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("main h1").inner_text() == chinese_home
    page.goto("/account/password")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    check_page(page)


def test_skip_link_moves_the_keyboard_to_the_content(page):
    login(page, "reception")
    page.keyboard.press("Tab")
    skip = page.locator("a.skip-link")
    assert page.evaluate("() => document.activeElement.classList.contains('skip-link')")
    box = skip.bounding_box()
    assert box is not None and box["x"] >= 0 and box["width"] > 0, "skip link stays hidden"
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'main'")
    assert page.url.endswith("#main")


def test_sign_in_with_the_keyboard_only(page):
    page.goto("/login")
    for _ in range(25):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.name") == "username":
            break
    else:
        pytest.fail("Tab never reaches the username field")
    page.keyboard.type("investigator")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "password"
    page.keyboard.type("redress-demo")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert urlsplit(page.url).path == "/"


def _htmx_get(page: Page, path: str) -> None:
    """Fire an htmx request the way an hx-get element would, targeting <main>."""
    page.wait_for_function("() => typeof window.htmx === 'object'")
    page.evaluate("path => { htmx.ajax('GET', path, {target: '#main', swap: 'innerHTML'}); }",
                  path)


def _assert_whole_tab_went_to_login(page: Page) -> None:
    page.wait_for_url(re.compile(r"/login"))
    page.wait_for_load_state("load")
    assert page.locator("main").count() == 1
    assert page.locator("main main, main header").count() == 0, "login page swapped into a fragment"
    assert page.locator("main input[name=password]").is_visible()


def test_htmx_request_after_logout_elsewhere_redirects_the_tab(browser: Browser, live_server):
    first = browser.new_context(base_url=live_server.url, locale="zh-CN")
    second = browser.new_context(base_url=live_server.url, locale="zh-CN")
    try:
        tab = first.new_page()
        login(tab, "investigator")
        copied = second.new_page()
        second.add_cookies(first.cookies())
        copied.goto("/")
        assert urlsplit(copied.url).path == "/", "the copied cookie should work before logout"
        logout(tab)  # rotates the session token: every copy of the cookie is now dead
        _htmx_get(copied, "/")
        _assert_whole_tab_went_to_login(copied)
    finally:
        first.close()
        second.close()


def test_htmx_request_after_idle_timeout_redirects_with_a_message(page, live_server):
    login(page, "investigator2")
    config = live_server.app.config
    saved = config["SESSION_IDLE_TIMEOUT"]
    config["SESSION_IDLE_TIMEOUT"] = timedelta(0)
    try:
        _htmx_get(page, "/")
        _assert_whole_tab_went_to_login(page)
    finally:
        config["SESSION_IDLE_TIMEOUT"] = saved
    flash = page.locator("#flash").inner_text()
    assert flash.strip(), "the login page should say why the user must sign in again"
    check_page(page)
