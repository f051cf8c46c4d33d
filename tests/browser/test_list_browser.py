"""Issue 7 §2 in Chromium, the complaints list: sorting from the column headers, the
respondents column and search, and the due-soon and overdue badges as time passes."""

from __future__ import annotations

import itertools
import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, State, User
from tests.browser.helpers import LiveServer, check_page, login, switch_language

_numbers = itertools.count(1)


def _registered(server: LiveServer, clock, due_in_days: int, client: str,
                respondent: str | None = None) -> str:
    reference = f"TS-2026-{80000 + next(_numbers):05d}"
    with server.app.app_context(), write_transaction():
        respondents = [db.session.scalar(select(User).where(User.name == respondent))] \
            if respondent else []
        db.session.add(Complaint(
            state=State.REGISTERED, reference=reference, channel="phone",
            received_at=clock.now(), registered_at=clock.now(),
            first_response_due=clock.today() + timedelta(days=due_in_days),
            complainant=Client(name=client), respondents=respondents))
    return reference


def _row(page: Page, reference: str):
    return page.locator("#complaint-list tbody tr", has=page.locator(f"a:text-is('{reference}')"))


def test_the_list_finds_respondents_and_sorts_from_its_headers(live_server, page, clock):
    first = _registered(live_server, clock, 30, "排序客户甲", "王磊")
    second = _registered(live_server, clock, 40, "排序客户乙", "王磊")
    login(page, "reception")
    page.goto("/complaints?state=all")
    page.locator("#list-q").fill("王磊")
    expect(_row(page, first)).to_contain_text("王磊")
    expect(_row(page, second)).to_be_visible()
    page.locator("#list-q").fill("TS-2026-8")
    expect(page).to_have_url(re.compile(r"q=TS-2026-8"))  # the search has landed
    expect(_row(page, first)).to_be_visible()

    header = page.locator("#complaint-list th", has_text="投诉编号")
    header.locator("a").click()
    expect(header).to_have_attribute("aria-sort", "ascending")
    refs = page.locator("#complaint-list tbody td:first-child a").all_inner_texts()
    assert refs.index(first) < refs.index(second)
    assert "q=TS-2026-8" in page.url and "state=all" in page.url
    page.locator("#complaint-list th", has_text="投诉编号").locator("a").click()
    expect(page.locator("#complaint-list th", has_text="投诉编号")) \
        .to_have_attribute("aria-sort", "descending")
    refs = page.locator("#complaint-list tbody td:first-child a").all_inner_texts()
    assert refs.index(first) > refs.index(second)
    expect(page.locator("#list-q")).to_have_value("TS-2026-8")
    check_page(page)


def test_due_dates_turn_due_soon_then_overdue(live_server, en_page, clock):
    reference = _registered(live_server, clock, 10, "Due Date Client")
    login(en_page, "reception")
    switch_language(en_page, "en")
    en_page.goto("/complaints?state=registered&sort=due")
    expect(_row(en_page, reference)).not_to_contain_text("Overdue")
    expect(_row(en_page, reference)).not_to_contain_text("Due soon")

    def after(days: int):
        clock.advance(timedelta(days=days))
        en_page.context.clear_cookies()  # the jump ends the session: sign in again
        login(en_page, "reception")
        en_page.goto("/complaints?state=registered&sort=due")
        return _row(en_page, reference).locator(".due-badge")

    expect(after(10)).to_have_text("Due soon")  # due today
    check_page(en_page)
    expect(after(1)).to_have_text("Overdue")
    check_page(en_page)
    switch_language(en_page, "zh_CN")
