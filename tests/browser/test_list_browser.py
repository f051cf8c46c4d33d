"""Issue 7 §2 in Chromium, the complaints list: sorting from the column headers, the
respondents column and search, and the due-soon and overdue badges as time passes."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Deadline, State, User
from tests.browser.helpers import LiveServer, check_page, login, switch_language

_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _no_stored_language(live_server):
    """The receptionist's language switch is stored on the account: forget it afterwards,
    so that later tests see the language their browser asks for."""
    yield
    with live_server.app.app_context(), write_transaction():
        db.session.scalar(select(User).where(User.username == "reception")).locale = None


def _registered(server: LiveServer, clock, due_in_days: int, client: str,
                respondent: str | None = None) -> str:
    reference = f"TS-2026-{80000 + next(_numbers):05d}"
    with server.app.app_context(), write_transaction():
        respondents = [db.session.scalar(select(User).where(User.name == respondent))] \
            if respondent else []
        db.session.add(Complaint(
            state=State.REGISTERED, reference=reference, channel="phone",
            received_at=clock.now(), registered_at=clock.now(),
            deadlines=[Deadline(kind="first_response",
                                due=clock.today() + timedelta(days=due_in_days))],
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


def _phone_draft(server: LiveServer) -> str:
    """A complete draft that came by phone, ready for its read-back."""
    with server.app.app_context(), write_transaction():
        reception = db.session.scalar(select(User).where(User.username == "reception"))
        complaint = Complaint(
            state=State.DRAFT, channel="phone", created_by=reception,
            received_at=datetime(2026, 12, 1, 5, 26, tzinfo=UTC),
            complainant=Client(name=f"确认客户{next(_numbers)}", phone="13800000000",
                               language="zh"),
            respondents=[db.session.scalar(select(User).where(User.name == "王磊"))],
            narrative="律师三个月没有回复。", occurred_on=date(2026, 9, 1),
            remedies_sought=["apology"])
        db.session.add(complaint)
        db.session.flush()
        return complaint.label


def test_a_phone_complaint_confirmed_in_person_needs_a_note(live_server, en_page):
    key = _phone_draft(live_server)
    login(en_page, "reception")
    switch_language(en_page, "en")
    en_page.goto(f"/complaints/{key}/read-back")
    expect(en_page.locator("#confirm-note-hint")).to_have_text(
        "Received: Phone. A note is needed unless the client confirmed by phone.")
    en_page.get_by_label("In person").check()
    with en_page.expect_navigation() as navigation:
        en_page.get_by_role("button", name="The client confirms these points").click()
    assert navigation.value.status == 422
    error = en_page.locator("#confirm-note-error")
    expect(error).to_contain_text("These do not match: add a note")
    expect(error).to_have_attribute("role", "alert")
    expect(en_page.get_by_label("In person")).to_be_checked()
    check_page(en_page)
    en_page.locator("#confirm-note").fill("The client came to the office the next day.")
    with en_page.expect_navigation():
        en_page.get_by_role("button", name="The client confirms these points").click()
    assert en_page.url.endswith(f"/complaints/{key}"), en_page.url
    expect(en_page.locator("#flash")).to_contain_text(
        "The client's confirmation has been recorded.")
    switch_language(en_page, "zh_CN")


def test_the_registration_box_says_each_label_once(live_server, page, clock):
    reference = _registered(live_server, clock, 5, "登记框客户", "王磊")
    login(page, "reception")
    for locale, state in (("zh_CN", "已登记"), ("en", "Registered")):
        switch_language(page, locale)
        page.goto(f"/complaints/{reference}")
        facts = [t.strip() for t in
                 page.locator("#intake-actions dl.facts > *").all_inner_texts()]
        assert facts.count(state) == 1, facts
        assert all(a != b for a, b in zip(facts, facts[1:], strict=False)), facts
        check_page(page)
    switch_language(page, "zh_CN")
