"""The clocks in Chromium: the case file's header, pausing without and then with a reason
(htmx swaps the header; the typed text is kept on refusal), resuming, and the deadline views
of the list and the home page, checked with axe and the Nu checker."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import Page, expect
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, State, User
from portal.models.investigation import Assignment, AssignmentRole
from portal.services import deadlines
from tests.browser.helpers import LiveServer, check_page, login
from tests.browser.test_intake_browser import audit_page


def _investigating(server: LiveServer, clock, reference: str, received_days_ago: int) -> None:
    received = clock.now() - timedelta(days=received_days_ago)
    with server.app.app_context(), write_transaction():
        lead = db.session.scalar(select(User).where(User.username == "investigator"))
        complaint = Complaint(
            state=State.INVESTIGATING, reference=reference, channel="phone",
            received_at=received, registered_at=received, severity="minor", handler=lead,
            complainant=Client(name="计时客户"),
            respondents=[db.session.scalar(select(User).where(User.name == "王磊"))])
        complaint.assignments.append(Assignment(user=lead, role=AssignmentRole.LEAD))
        db.session.add(complaint)
        deadlines.start_first_response_clock(complaint, 3)
        deadlines.start_investigation_clocks(complaint)


def test_a_partner_pauses_and_resumes_the_clocks(live_server, en_page: Page, clock):
    page = en_page
    _investigating(live_server, clock, "TS-2026-77001", received_days_ago=40)
    login(page, "partner2")
    page.goto("/complaints/TS-2026-77001")
    clocks = page.locator("#clocks")
    expect(clocks.locator("tr.clock-investigation")).to_contain_text("Overdue")
    check_page(page)

    clocks.locator("summary", has_text="Pause the clocks").click()
    reason = clocks.locator("textarea[name='clock-reason']")
    reason.fill("   ")
    clocks.locator("button", has_text="Pause the clocks").click()
    expect(page.locator("#clocks .error")).to_contain_text("Say why the clocks are paused")
    audit_page(page)

    page.locator("#clocks textarea[name='clock-reason']").fill("Waiting for the fee receipts")
    page.locator("#clocks button", has_text="Pause the clocks").click()
    expect(page.locator("#clocks .clock-paused")).to_contain_text("Waiting for the fee receipts")
    expect(page.locator("#clocks tr.clock-investigation")).to_contain_text("Paused")
    audit_page(page)

    page.locator("#clocks button", has_text="Resume the clocks").click()
    expect(page.locator("#clocks .clock-pause summary")).to_be_visible()
    expect(page.locator("#clocks")).to_contain_text("Paused for")


def test_the_deadline_views_of_the_list_and_home(live_server, en_page: Page, clock):
    page = en_page
    _investigating(live_server, clock, "TS-2026-77002", received_days_ago=40)
    login(page, "investigator")  # 周建国 leads it: his own work
    page.goto("/")
    expect(page.locator("#clocks-h")).to_have_text("Deadlines: your work")
    expect(page.locator("main")).to_contain_text("TS-2026-77002")
    check_page(page)
    page.goto("/complaints")
    page.locator("#list-clock").select_option("overdue")
    expect(page).to_have_url(re.compile(r"clock=overdue"))
    expect(page.locator("#complaint-list")).to_contain_text("TS-2026-77002")
    audit_page(page)
