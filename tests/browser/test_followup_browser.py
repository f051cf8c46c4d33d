"""Follow-up closes the loop in Chromium, by the real pages:

1. partner 刘慧敏 records the last remedy done: the complaint moves to follow-up, a call-back is
   scheduled and the client is emailed a survey (a real SMTP server);
2. the client opens the survey from the email and says they are very satisfied;
3. the partner closes the complaint with a root cause, and creates an improvement action
   linked to it and to the cause;
4. on /analytics the figures change after a filter (htmx, the URL keeps it) and a chart is
   served as SVG; the CSV and the XLSX hold the complaint's row; the quarterly report renders
   as a PDF whose charts are vector graphics (pdftotext reads their labels; no raster image).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect
from pypdf import PdfReader

from portal import clock
from portal.db import db, write_transaction
from portal.models import Complaint, State
from portal.services import outbox
from tests.browser.helpers import LiveServer, check_page, login, track_documents
from tests.browser.test_intake_browser import pdf_text, settled, smtp  # noqa: F401
from tests.remedies_support import accepted, started
from tests.smtp_fixture import SMTPServer

REFERENCE = "TS-2026-69001"
CLIENT_EMAIL = "li.ming.followup@example.com"


def _remedies_in_progress(server: LiveServer) -> int:
    complaint_id = accepted(server.app, reference=REFERENCE,
                            remedies_=[("explanation", None, None, None)])
    with server.app.app_context(), write_transaction():
        db.session.get(Complaint, complaint_id).complainant.email = CLIENT_EMAIL
    started(server.app, complaint_id)
    return complaint_id


def _state(server: LiveServer, complaint_id: int) -> str:
    with server.app.app_context():
        return db.session.get(Complaint, complaint_id).state


def _survey_link(server: LiveServer, smtp: SMTPServer) -> str:  # noqa: F811
    with server.app.app_context():
        outbox.deliver_due()
    for message, envelope in zip(smtp.wait_for(2), smtp.envelopes, strict=True):
        if CLIENT_EMAIL in envelope.rcpt_tos:
            body = message.get_body(preferencelist=("plain",)).get_content()
            found = re.search(r"https?://\S+(/s/\S+)", body)
            if found:
                return found.group(1)
    raise AssertionError("no survey link reached the client")


def _client_answers_survey(browser: Browser, server: LiveServer, link: str) -> None:
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    try:
        page = context.new_page()
        track_documents(page)
        page.goto(link)
        page.locator("input[name=satisfaction][value='5']").check()
        settled(page)
        check_page(page)
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        again = page.request.get(link)
        assert again.status == 410  # single use
    finally:
        context.close()


def _close_with_root_cause(page: Page) -> None:
    page.goto(f"/complaints/{REFERENCE}")
    area = page.locator("#area-followup")
    expect(area).to_contain_text("Satisfied")
    area.get_by_label("Fees not explained").check()
    area.get_by_role("button", name="Close the complaint").click()
    page.wait_for_load_state("networkidle")
    page.goto(f"/complaints/{REFERENCE}")
    expect(page.locator("main")).to_contain_text("Closed")


def _improvement_action(page: Page) -> None:
    page.goto(f"/actions/new?complaint={REFERENCE}")
    form = page.locator("main form").first
    form.get_by_label("Title").fill("收费说明写入委托合同模板")
    form.locator("select[name=kind]").select_option("procedure")
    owner = form.locator("select[name=owner] option", has_text="刘慧敏").first
    form.locator("select[name=owner]").select_option(owner.get_attribute("value"))
    form.get_by_label("Fees not explained").check()
    settled(page)
    check_page(page)
    with page.expect_navigation(url=re.compile(r"/actions/\d+$")):
        form.get_by_role("button", name="Create the action").click()
    expect(page.locator("main")).to_contain_text(REFERENCE)


def _analytics(page: Page, tmp_path: Path) -> None:
    page.goto("/analytics")
    summary = page.locator("#analytics > p.muted").first
    before = summary.inner_text()
    page.locator("#analytics-severity").select_option("minor")
    expect(page).to_have_url(re.compile(r"severity=minor"))
    expect(page.locator("#analytics > p.muted").first).not_to_have_text(before)
    page.locator("#analytics-severity").select_option("")
    expect(page.locator("#analytics > p.muted").first).to_have_text(before)
    settled(page)
    check_page(page)
    chart = page.locator("#analytics img").first
    answer = page.request.get(chart.get_attribute("src"))
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert b"<script" not in answer.body()

    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rows (CSV)").click()
    text = Path(download.value.path()).read_bytes().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert any(REFERENCE in row for row in rows[1:]), rows[:3]
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the rows (XLSX)").click()
    sheet = load_workbook(io.BytesIO(Path(download.value.path()).read_bytes())).active
    assert any(REFERENCE in [str(c) for c in row] for row in sheet.iter_rows(values_only=True))

    quarter = f"{clock.today().year}Q{(clock.today().month - 1) // 3 + 1}"
    pdf = page.request.get(f"/analytics/quarterly.pdf?quarter={quarter}")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    printed = pdf_text(pdf.body(), tmp_path)
    assert quarter in printed and "收费说明写入委托合同模板" in printed
    reader = PdfReader(io.BytesIO(pdf.body()))
    assert not any(page_.images for page_ in reader.pages)  # charts drawn as vectors


def test_a_survey_answer_closes_the_loop_into_an_action_and_the_analytics(
        en_page: Page, browser: Browser, live_server: LiveServer, smtp: SMTPServer,  # noqa: F811
        tmp_path: Path):
    page = en_page
    complaint_id = _remedies_in_progress(live_server)

    login(page, "partner2")
    page.goto(f"/complaints/{REFERENCE}")
    task = page.locator("#area-remedies .remedy-task", has_text="Explanation")
    task.get_by_text("Record it as done").click()
    task.get_by_label("What was done").fill("已向客户书面说明收费构成。")
    task.get_by_role("button", name="Record as done").click()
    page.wait_for_load_state("networkidle")
    assert _state(live_server, complaint_id) == State.FOLLOW_UP

    _client_answers_survey(browser, live_server, _survey_link(live_server, smtp))
    _close_with_root_cause(page)
    assert _state(live_server, complaint_id) == State.CLOSED
    _improvement_action(page)
    _analytics(page, tmp_path)
