"""Done means (issue 3): a receptionist builds a complaint in a real browser, section by section,
reads it back, registers it, and the client's inbox receives a bilingual PDF acknowledgement
with the correct first-response deadline, computed across the 2026 National Day holiday and
its make-up Saturday. Bad input at every step gets a clear message and loses nothing.

The story runs in one test because each step needs the state the previous one left; the
sections and the sidebar are driven exactly as a person would (typing, picking from
suggestions, pressing the buttons), and every htmx save is checked not to reload the page.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, datetime
from email.message import EmailMessage
from pathlib import Path
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from playwright.sync_api import Locator, Page, Response, expect

from tests.browser.helpers import LiveServer, check_page, login
from tests.smtp_fixture import SMTPServer, point_app_at, start_smtp_server

# Received on Wednesday 30 September 2026, the last working day before National Day.
RECEIVED_INPUT = "2026-09-30T16:30"
RECEIVED_DAY = date(2026, 9, 30)
# 3 working days after the day of receipt (which does not count), per the State Council's
# 2026 schedule as bundled in chinese_calendar:
#   1–7 October (Thu–Wed) National Day holiday → not working days;
#   8 Oct Thu = 1st, 9 Oct Fri = 2nd, 10 Oct Sat = 3rd (a make-up working Saturday, 调休).
# A naive Mon–Fri count would give 2 Oct; skipping the holiday but not the make-up day, 12 Oct.
EXPECTED_DUE = date(2026, 10, 10)
DUE_UI = "Saturday, 10 October 2026"  # the record page (en UI, "full", British order)
DUE_FLASH = "10 October 2026"  # the flash after registering ("long", British order)
DUE_PDF_ZH = "2026年10月10日星期六"  # the notice: zh_CN "full"
DUE_PDF_EN = "Saturday, 10 October 2026"  # the notice: en_GB "full"

CLIENT_NAME = "周雅琴"
CLIENT_EMAIL = "zhou.yaqin@example.com"
NARRATIVE = ("王律师在开庭前三天才告知我需要补充证据，导致我方证据未能按期提交。"
             "此后两个月我多次电话联系他，均未得到回复。")
REFUND_DETAILS = "退还律师费人民币20,000元：约定的证据整理工作没有完成。"
HTML_AS_PDF = (b"<!DOCTYPE html><html><head><title>x</title></head><body>"
               b"<script>alert(1)</script><p>Receipt</p></body></html>")
MAIL_KEYS = ("MAIL_SERVER", "MAIL_PORT", "MAIL_USE_TLS", "MAIL_USE_SSL", "MAIL_USERNAME",
             "MAIL_PASSWORD", "MAIL_SUPPRESS_SEND")


def test_the_2026_schedule_is_what_the_deadline_comment_says():
    """The expected date above rests on these facts of the official calendar."""
    assert chinese_calendar.is_workday(RECEIVED_DAY)
    assert all(chinese_calendar.is_holiday(date(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 8))
    assert chinese_calendar.is_workday(date(2026, 10, 9))
    assert EXPECTED_DUE.weekday() == 5 and chinese_calendar.is_workday(EXPECTED_DUE)


# --------------------------------------------------------------------------- helpers


@pytest.fixture
def smtp(live_server: LiveServer) -> Iterator[SMTPServer]:
    """A real SMTP server on loopback; the live app sends there until the test ends."""
    app = live_server.app
    saved = {key: app.config.get(key) for key in MAIL_KEYS}
    state = app.extensions.get("mail")
    saved_state = (state.server, state.port, state.suppress) if state is not None else None
    server = start_smtp_server()
    point_app_at(app, server)
    try:
        yield server
    finally:
        server.stop()
        app.config.update(saved)
        if state is not None and saved_state is not None:
            state.server, state.port, state.suppress = saved_state


def posted(page: Page, path_end: str, action: Callable[[], None]) -> Response:
    """Do `action` and return the response to the POST whose URL ends with `path_end`."""
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.split("?")[0].endswith(path_end)
    ) as info:
        action()
    return info.value


def mark_window(page: Page) -> None:
    page.evaluate("() => { window.__intakeMarker = 'same-document'; }")


def assert_not_reloaded(page: Page) -> None:
    assert page.evaluate("() => window.__intakeMarker") == "same-document", \
        "the page navigated: the section should have been saved by htmx"


def settled(page: Page) -> None:
    """Wait until htmx has finished swapping: while it settles, a swapped card is still dimmed
    (.htmx-swapping has opacity .6), which axe would report as poor contrast."""
    page.wait_for_function("() => !document.querySelector("
                           "'.htmx-request, .htmx-swapping, .htmx-settling, .htmx-added')")


def audit_page(page: Page) -> None:
    settled(page)
    check_page(page)


def completeness(page: Page) -> Locator:
    return page.locator("#completeness progress")


def section(page: Page, name: str) -> Locator:
    return page.locator(f"#section-{name}")


def pdf_text(pdf: bytes, folder: Path) -> str:
    path = folder / "acknowledgement.pdf"
    path.write_bytes(pdf)
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"],
                            capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


def pdf_attachment(message: EmailMessage) -> bytes:
    pdfs = [part for part in message.iter_attachments()
            if part.get_content_type() == "application/pdf"]
    assert len(pdfs) == 1, [p.get_content_type() for p in message.iter_attachments()]
    return pdfs[0].get_content()


# --------------------------------------------------------------------------- the story


def start_draft(page: Page) -> str:
    """The list page's form: a future time is refused (kept on screen), then the draft starts."""
    page.goto("/complaints")
    page.locator("#new-channel").select_option("phone")
    page.locator("#new-received_at").fill("2099-01-01T09:00")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="Start a draft").click()
    assert navigation.value.status == 422
    expect(page.locator("#new-received_at-error")).to_contain_text(
        "The time received cannot be in the future.")
    expect(page.locator("#new-channel")).to_have_value("phone")
    expect(page.locator("#new-received_at")).to_have_value("2099-01-01T09:00")

    page.locator("#new-received_at").fill(RECEIVED_INPUT)
    with page.expect_navigation():
        page.get_by_role("button", name="Start a draft").click()
    match = re.search(r"/complaints/(D\d+)$", page.url)
    assert match, page.url
    expect(page.locator("h1")).to_contain_text(match.group(1))
    return match.group(1)


def fill_complainant(page: Page) -> None:
    box = section(page, "complainant")
    # Search as you type first: this person is not on file yet.
    page.locator("#complainant-q").press_sequentially(CLIENT_NAME, delay=40)
    expect(page.locator("#complainant-suggestions")).to_contain_text("No client on file matches")

    page.locator("#complainant-name").fill(CLIENT_NAME)
    page.locator("#complainant-phone").fill("139 1234 5678")
    page.locator("#complainant-email").fill("zhou.yaqin@")  # bad: no domain
    page.locator("#complainant-id_number").fill("310101198502020022")
    page.locator("#complainant-address").fill("上海市黄浦区南京东路100号")
    page.locator("#complainant-language-0").check()  # 中文
    save = box.get_by_role("button", name="Save the complainant")
    response = posted(page, "/sections/complainant", save.click)
    assert response.status == 422
    expect(page.locator("#complainant-email-error")).to_have_text(
        "Enter an email address such as name@example.com.")
    expect(page.locator("#complainant-email")).to_have_attribute("aria-invalid", "true")
    # Nothing typed is lost.
    expect(page.locator("#complainant-name")).to_have_value(CLIENT_NAME)
    expect(page.locator("#complainant-phone")).to_have_value("139 1234 5678")
    expect(page.locator("#complainant-email")).to_have_value("zhou.yaqin@")
    expect(page.locator("#complainant-address")).to_have_value("上海市黄浦区南京东路100号")
    expect(completeness(page)).to_have_attribute("value", "1")  # only the channel so far
    assert_not_reloaded(page)

    page.locator("#complainant-email").fill(CLIENT_EMAIL)
    response = posted(page, "/sections/complainant", save.click)
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("Saved.")
    expect(box.locator("dl.facts")).to_contain_text(CLIENT_EMAIL)
    expect(completeness(page)).to_have_attribute("value", "2")
    assert_not_reloaded(page)


def pick_respondent(page: Page) -> None:
    box = section(page, "respondents")
    page.locator("#respondents-q").press_sequentially("王磊", delay=40)
    choice = page.locator("#respondents-suggestions button[name=add]", has_text="王磊")
    expect(choice).to_have_count(1)
    response = posted(page, "/sections/respondents", choice.click)
    assert response.status == 200
    expect(box.locator("ul.people")).to_contain_text("王磊")
    expect(completeness(page)).to_have_attribute("value", "3")
    assert_not_reloaded(page)


def pick_matter(page: Page) -> None:
    box = section(page, "matter")
    page.locator("#matter-q").press_sequentially("2025-0142", delay=40)
    choice = page.locator("#matter-suggestions button[name=matter_id]", has_text="M-2025-0142")
    expect(choice).to_have_count(1)
    response = posted(page, "/sections/matter", choice.click)
    assert response.status == 200
    expect(box.locator("dl.facts")).to_contain_text("M-2025-0142")
    # The matter's client is 李明, not this complainant: the receptionist is told to check.
    expect(box.locator(".alert-warn")).to_contain_text("李明")
    expect(completeness(page)).to_have_attribute("value", "3")  # the matter is optional
    assert_not_reloaded(page)


def fill_incident(page: Page) -> None:
    box = section(page, "incident")
    page.locator("#incident-narrative").fill(NARRATIVE)
    page.locator("#incident-occurred_on").fill("2026-08-10")
    page.locator("#incident-occurred_until").fill("2026-09-20")
    page.locator("#incident-occurred_place").fill("电话、微信")
    response = posted(page, "/sections/incident",
                      box.get_by_role("button", name="Save what happened").click)
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("Saved.")
    expect(completeness(page)).to_have_attribute("value", "4")
    assert_not_reloaded(page)


def upload_evidence(page: Page) -> None:
    box = section(page, "evidence")
    upload = box.get_by_role("button", name="Upload")
    # An HTML page renamed to .pdf is refused by its content, whatever its name and type.
    page.locator("#evidence-file").set_input_files(
        files=[{"name": "fee-receipt.pdf", "mimeType": "application/pdf", "buffer": HTML_AS_PDF}])
    page.locator("#evidence-category").select_option("fee_receipts")
    page.locator("#evidence-description").fill("律师费收据")
    response = posted(page, "/evidence", upload.click)
    assert response.status == 422
    expect(page.locator("#evidence-file-error")).to_contain_text(
        "Web pages and SVG drawings (HTML, SVG, XML) are not accepted")
    expect(page.locator("#evidence-description")).to_have_value("律师费收据")
    expect(page.locator("#evidence-category")).to_have_value("fee_receipts")
    expect(box).to_contain_text("No files yet.")
    assert_not_reloaded(page)

    page.locator("#evidence-file").set_input_files(files=[{
        "name": "wechat-messages.txt", "mimeType": "text/plain",
        "buffer": "9月20日 10:02 我：王律师，证据什么时候提交？\n（无回复）\n".encode()}])
    page.locator("#evidence-category").select_option("communications")
    page.locator("#evidence-description").fill("微信聊天记录")
    response = posted(page, "/evidence", upload.click)
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("The file has been added.")
    expect(box.locator("table")).to_contain_text("wechat-messages.txt")
    assert_not_reloaded(page)


def fill_remedy(page: Page) -> None:
    box = section(page, "remedy")
    save = box.get_by_role("button", name="Save the remedy sought")
    box.locator("input[value=apology]").check()
    box.locator("input[value=partial_refund]").check()
    response = posted(page, "/sections/remedy", save.click)  # a refund without details
    assert response.status == 422
    expect(page.locator("#remedy-remedy_details-error")).to_contain_text(
        "Give the details: for a refund, how much and why")
    expect(box.locator("input[value=apology]")).to_be_checked()
    expect(box.locator("input[value=partial_refund]")).to_be_checked()
    expect(completeness(page)).to_have_attribute("value", "4")
    assert_not_reloaded(page)

    page.locator("#remedy-remedy_details").fill(REFUND_DETAILS)
    response = posted(page, "/sections/remedy", save.click)
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("Saved.")
    expect(completeness(page)).to_have_attribute("value", "5")
    expect(page.locator("#completeness")).to_contain_text("5 of 5 required sections complete")
    assert_not_reloaded(page)


def register_too_early(page: Page) -> None:
    actions = page.locator("#intake-actions")
    expect(actions.get_by_role("link", name="Read back to the client")).to_be_visible()
    response = posted(page, "/register",
                      actions.get_by_role("button", name="Register and acknowledge").click)
    assert response.status == 422
    expect(actions.locator(".alert-error")).to_contain_text(
        "The complaint cannot be registered yet.")
    expect(actions.locator(".alert-error")).to_contain_text(
        "The client has not confirmed the read-back.")
    expect(page.locator(".record-tags")).to_contain_text("Draft")
    assert_not_reloaded(page)


def read_back_and_confirm(page: Page, label: str) -> None:
    with page.expect_navigation():
        page.locator("#intake-actions").get_by_role("link",
                                                    name="Read back to the client").click()
    assert page.url.endswith(f"/complaints/{label}/read-back"), page.url
    points = page.locator(".read-back-points")
    expect(points).to_have_attribute("lang", re.compile(r"^zh"))  # the client's language
    for text in (CLIENT_NAME, "王磊", "M-2025-0142", NARRATIVE, REFUND_DETAILS, CLIENT_EMAIL,
                 "2026"):
        expect(points).to_contain_text(text)
    audit_page(page)

    confirm = page.get_by_role("button", name="The client confirms these points")
    with page.expect_navigation() as navigation:
        confirm.click()  # no method chosen
    assert navigation.value.status == 422
    expect(page.locator(".choice-group .error")).to_contain_text(
        "Choose how the client confirmed: in person or by phone.")
    page.get_by_label("By phone").check()  # a phone complaint: "in person" would need a note
    with page.expect_navigation():
        page.get_by_role("button", name="The client confirms these points").click()
    assert page.url.endswith(f"/complaints/{label}"), page.url
    expect(page.locator("#flash")).to_contain_text(
        "The client's confirmation has been recorded.")
    expect(page.locator(".record-tags")).to_contain_text("Read-back confirmed")


def register(page: Page) -> str:
    with page.expect_navigation():
        page.locator("#intake-actions").get_by_role(
            "button", name="Register and acknowledge").click()
    year = datetime.now(ZoneInfo("Asia/Shanghai")).year
    match = re.search(rf"/complaints/(TS-{year}-\d{{5}})$", page.url)
    assert match, page.url
    reference = match.group(1)
    expect(page.locator("h1")).to_contain_text(reference)
    expect(page.locator("#flash")).to_contain_text(
        f"Registered as {reference}. The first response is due by {DUE_FLASH}")
    facts = page.locator("#intake-actions dl.facts")
    expect(facts).to_contain_text(reference)
    state = facts.locator("dt", has_text="State").locator("xpath=following-sibling::dd[1]")
    expect(state).to_have_text("Registered")
    expect(facts.locator("strong")).to_have_text(DUE_UI)
    expect(page.locator(".record-tags")).to_contain_text("Registered")
    expect(page.locator("#intake-actions .alert-warn")).to_have_count(0)  # 2026 is official
    return reference


def test_receptionist_builds_reads_back_registers_and_the_client_gets_the_pdf(
        en_page: Page, live_server: LiveServer, smtp: SMTPServer, tmp_path: Path):
    page = en_page
    login(page, "reception")

    label = start_draft(page)
    audit_page(page)  # the empty builder
    mark_window(page)
    expect(completeness(page)).to_have_attribute("value", "1")
    expect(completeness(page)).to_have_attribute("max", "5")

    fill_complainant(page)
    pick_respondent(page)
    pick_matter(page)
    fill_incident(page)
    upload_evidence(page)
    fill_remedy(page)
    register_too_early(page)
    audit_page(page)  # the builder after every swap, errors included

    read_back_and_confirm(page, label)
    reference = register(page)
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text(f"Registered as {reference}")
    expect(timeline).to_contain_text(f"Email queued: Acknowledgement to {CLIENT_EMAIL}")
    expect(timeline).to_contain_text("waiting to be sent")
    audit_page(page)  # the registered record
    mark_window(page)

    # The worker's turn: deliver the queued acknowledgement to the real SMTP server.
    from portal.services import outbox

    with live_server.app.app_context():
        assert outbox.deliver_due() >= 1
    messages = [m for m, e in zip(smtp.wait_for(1), smtp.envelopes, strict=True)
                if e.rcpt_tos == [CLIENT_EMAIL]]
    assert len(messages) == 1, [e.rcpt_tos for e in smtp.envelopes]
    message = messages[0]
    assert reference in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert reference in body

    text = pdf_text(pdf_attachment(message), tmp_path)
    assert "投诉受理通知书" in text and "Acknowledgement of Complaint" in text
    assert "首次答复期限" in text and "First response due by" in text
    assert reference in text
    assert DUE_PDF_ZH in text, text
    assert DUE_PDF_EN in text, text
    assert "2026年9月30日" in text and "30 September 2026" in text  # the day received
    assert CLIENT_NAME in text and "王磊" in text

    # The timeline refreshes itself (htmx, no reload) and shows the delivery.
    expect(timeline).to_contain_text("Email delivered: Acknowledgement", timeout=20_000)
    expect(timeline.locator(".tag-ok", has_text="sent")).to_have_count(1)
    assert_not_reloaded(page)
    page.reload()
    expect(page.locator("#timeline")).to_contain_text("Email delivered: Acknowledgement")
    audit_page(page)
