"""Issue 7 §2 in Chromium: what a receptionist and a partner tripped over, at 1280 and 390 px,
in Chinese and in English. Each test sets up its own complaints directly in the database."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Deadline, State, User
from tests.browser.helpers import LiveServer, check_page, login, switch_language

NARROW = {"width": 390, "height": 844}
LONG_EMAIL = "wang.xiaoming.complaints.department.longaddress@very-long-example-domain.com.cn"
_numbers = itertools.count(1)


def _draft(server: LiveServer, **fields) -> str:
    """A draft created by the receptionist, with what `fields` says; returns its key."""
    with server.app.app_context(), write_transaction():
        reception = db.session.scalar(select(User).where(User.username == "reception"))
        fields = {"channel": "phone", **fields}
        complaint = Complaint(state=State.DRAFT, created_by=reception,
                              received_at=datetime(2026, 12, 1, 5, 26, tzinfo=UTC),
                              **fields)
        db.session.add(complaint)
        db.session.flush()
        return complaint.label


def _online(server: LiveServer) -> str:
    return _draft(server, channel="web", needs_verification=True, language="en",
                  complainant=Client(name="Olivia Bennett", phone="+44 20 7946 0101",
                                     email=LONG_EMAIL, language="en"),
                  narrative="Mr Wang stopped answering my calls two weeks before the hearing.",
                  remedies_sought=["full_refund"],
                  submitted_payload={"name": "Olivia Bennett", "email": LONG_EMAIL,
                                     "language": "en", "remedies": ["full_refund"],
                                     "consent": "y", "narrative": "Mr Wang stopped answering"})


def _width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


def test_the_submission_panel_and_the_home_card_speak_plainly(live_server, en_page):
    key = _online(live_server)
    login(en_page, "reception")
    switch_language(en_page, "en")
    item = en_page.locator("#verify-h + ul li", has=en_page.locator(f"a:text-is('{key}')"))
    expect(item).to_contain_text("Olivia Bennett")
    expect(item).to_contain_text("Mr Wang stopped answering my calls")
    check_page(en_page)
    en_page.goto(f"/complaints/{key}")
    panel = en_page.locator("details.submitted dl")
    for label in ("English", "Full fee refund", "Yes"):
        expect(panel.locator("dd", has_text=label).first).to_be_visible()
    assert "full_refund" not in panel.inner_text()
    assert not {"en", "y"} & {t.strip() for t in panel.locator("dd").all_inner_texts()}
    check_page(en_page)
    switch_language(en_page, "zh_CN")


def test_dates_in_english_read_day_month_year(live_server, en_page):
    _draft(live_server, complainant=Client(name=f"Date Client {next(_numbers)}"))
    login(en_page, "reception")
    switch_language(en_page, "en")
    en_page.goto("/complaints")
    expect(en_page.locator("#complaint-list")).to_contain_text("1 Dec 2026, 13:26")
    assert "12/1/26" not in en_page.locator("#complaint-list").inner_text()
    switch_language(en_page, "zh_CN")
    expect(en_page.locator("#complaint-list")).to_contain_text("2026年12月1日 13:26")


def test_the_favicon_is_served_and_linked(live_server, page):
    login(page, "reception")
    href = page.locator("link[rel=icon]").get_attribute("href")
    for url in (href, "/favicon.ico"):
        response = page.request.get(url)
        assert response.status == 200 and response.body()[:4] == b"\x00\x00\x01\x00"


@pytest.mark.parametrize("where", ["record", "password"])
def test_the_required_mark_stays_on_its_label_line(live_server, page, where):
    key = _draft(live_server)
    login(page, "reception")
    page.goto(f"/complaints/{key}" if where == "record" else "/account/password")
    fields = page.locator("main .field:has(.req)")
    assert fields.count() >= 2
    for field in fields.all():
        label_box = field.locator("label").first.bounding_box()
        mark_box = field.locator(".req").first.bounding_box()
        assert abs(mark_box["y"] - label_box["y"]) < 4, (field.inner_text(), label_box, mark_box)


def test_field_errors_are_announced(live_server, page):
    key = _draft(live_server)
    login(page, "reception")
    page.goto(f"/complaints/{key}")
    section = page.locator("#section-incident")
    section.locator("textarea").fill("")
    section.locator("button[type=submit]").first.click()
    error = section.locator("#incident-narrative-error")
    expect(error).to_have_attribute("role", "alert")
    field = section.locator("#incident-narrative")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert "incident-narrative-error" in field.get_attribute("aria-describedby")
    check_page(page)


@pytest.mark.parametrize("language", ["zh_CN", "en"])
def test_nothing_is_wider_than_a_phone(live_server, browser, language):
    key = _online(live_server)
    context = browser.new_context(base_url=live_server.url, viewport=NARROW, locale="zh-CN")
    page = context.new_page()
    try:
        login(page, "reception")
        switch_language(page, language)
        for url in ("/", "/complaints?state=all", f"/complaints/{key}",
                    f"/complaints/{key}/read-back"):
            page.goto(url)
            assert _width(page) <= NARROW["width"], (url, _width(page))
        switch_language(page, "zh_CN")
    finally:
        context.close()


def test_the_reference_stays_on_one_line_in_the_list(live_server, page):
    with live_server.app.app_context(), write_transaction():
        db.session.add(Complaint(
            state=State.REGISTERED, reference=f"TS-2026-{90000 + next(_numbers):05d}",
            channel="phone", received_at=datetime.now(UTC),
            deadlines=[Deadline(kind="first_response",
                                due=(datetime.now(UTC) + timedelta(days=3)).date())],
            complainant=Client(name="上海恒远贸易有限公司法务部第三联络处")))
    login(page, "partner")
    page.goto("/complaints?state=registered")
    link = page.locator("#complaint-list tbody td:first-child a").first
    box = link.bounding_box()
    line = float(link.evaluate("e => parseFloat(getComputedStyle(e).lineHeight) || 20"))
    assert box["height"] < line * 1.5, box


def test_a_complaint_prints_as_one_clean_record(live_server, page):
    key = _online(live_server)
    login(page, "reception")
    page.goto(f"/complaints/{key}")
    page.emulate_media(media="print")
    for hidden in ("header.site-header", ".intake-sidebar", "form"):
        assert not page.locator(hidden).first.is_visible(), hidden
    head = page.locator(".print-head")
    expect(head).to_be_visible()
    expect(head).to_contain_text(key)
    assert head.evaluate("e => getComputedStyle(e).position") == "fixed"  # on every page
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, pages


def test_the_kind_of_evidence_must_be_chosen(live_server, page, tmp_path):
    key = _draft(live_server)
    login(page, "reception")
    page.goto(f"/complaints/{key}")
    section = page.locator("#section-evidence")
    expect(section.locator("#evidence-category")).to_have_value("")
    receipt = tmp_path / "发票.txt"
    receipt.write_text("律师费发票 20,000 元", encoding="utf-8")
    section.locator("#evidence-file").set_input_files(str(receipt))
    section.locator("button[type=submit]").click()
    error = section.locator("#evidence-category-error")
    expect(error).to_be_visible()
    expect(error).to_have_attribute("role", "alert")
    expect(section.locator("tbody tr")).to_have_count(0)
    check_page(page)
    section = page.locator("#section-evidence")
    section.locator("#evidence-file").set_input_files(str(receipt))
    section.locator("#evidence-category").select_option("fee_receipts")
    section.locator("button[type=submit]").click()
    row = section.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("字节")  # the size through Babel units, in Chinese
