"""The first response and the findings in Chromium: a first response recorded on time for one
complaint and late for another; findings saved per allegation, refused while one is
unanswered, then submitted with the report to download."""

from __future__ import annotations

import itertools
from datetime import timedelta

from playwright.sync_api import Page, expect

from portal import clock
from portal.db import db
from portal.models import Complaint
from tests.browser.helpers import LiveServer, check_page, login
from tests.browser.test_intake_browser import settled
from tests.findings_factory import make_investigation

_numbers = itertools.count(81)


def _investigation(server: LiveServer, **fields) -> tuple[str, list[int]]:
    reference = f"TS-2026-{next(_numbers):05d}"
    with server.app.app_context():
        complaint_id = make_investigation(reference=reference, **fields)
        ids = [a.id for a in db.session.get(Complaint, complaint_id).allegations]
    return reference, ids


def _record_call(page: Page, reference: str) -> None:
    page.goto(f"/complaints/{reference}")
    area = page.locator("#area-first_response")
    area.get_by_label("What the client was told").fill("Called: explained the next steps.")
    area.get_by_role("button", name="Record the first response").click()
    settled(page)


def test_a_first_response_on_time_and_another_late(live_server, en_page):
    on_time, _ = _investigation(live_server)
    late, _ = _investigation(live_server, received_at=clock.now() - timedelta(days=12))
    login(en_page, "partner2")
    _record_call(en_page, on_time)
    area = en_page.locator("#area-first_response")
    expect(area.locator(".section-head")).to_contain_text("Given on time")
    expect(area).to_contain_text("Called: explained")
    check_page(en_page)
    _record_call(en_page, late)
    expect(area.locator(".section-head")).to_contain_text("Given late")
    en_page.reload()
    expect(en_page.locator("#area-first_response")).to_contain_text("after the promised day")
    check_page(en_page)


def _answer(page: Page, allegation_id: int, finding: str) -> None:
    item = page.locator(f"#finding-{allegation_id}")
    item.get_by_label(finding, exact=True).check()
    item.get_by_label("Reasoning").fill("The emails show two weeks without an answer.")
    item.get_by_label("An individual lawyer").check()
    item.locator("summary", has_text="ACLA rules on lawyers' practice conduct").click()
    item.get_by_label("Art. 37", exact=False).check()
    item.get_by_label("Apology").check()
    item.get_by_role("button", name="Save allegation").click()
    settled(page)
    expect(page.locator(f"#finding-{allegation_id}")).to_contain_text("Saved.")


def test_findings_are_saved_refused_while_incomplete_then_submitted(live_server, en_page):
    reference, (first, second) = _investigation(live_server)
    login(en_page, "partner2")
    en_page.goto(f"/complaints/{reference}")
    _answer(en_page, first, "Established")
    expect(en_page.locator("#findings-submit")).to_contain_text("Still to answer: 2.")
    check_page(en_page)
    en_page.get_by_role("button", name="Submit the findings").click()
    settled(en_page)
    expect(en_page.locator("#area-findings .alert-error")).to_contain_text("allegation 2")
    expect(en_page.locator(f"#finding-{second}")).to_contain_text(
        "This allegation is not answered yet.")
    _answer(en_page, second, "Not established")
    with en_page.expect_navigation():
        en_page.get_by_role("button", name="Submit the findings").click()
    area = en_page.locator("#area-findings")
    expect(area).to_contain_text("Submitted on")
    link = area.get_by_role("link", name="Download the investigation report (PDF, confidential)")
    with en_page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
    check_page(en_page)
