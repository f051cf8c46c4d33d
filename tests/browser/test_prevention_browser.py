"""Prevention in Chromium, by the real pages (issue 12's "Done means"):

1. partner 陈志远 creates a matter; its six engagement expectations show as missing, he records
   all but the fee estimate, and the gap stays flagged;
2. he logs a progress report; the clock moves 45 days (the test moves it, it does not wait),
   the matter page and his dashboard warn that the next report is overdue, and the worker
   emails the responsible lawyer one reminder (a real SMTP server);
3. receptionist 林晓雯 registers a complaint on that matter, and its case file shows the
   matter's prevention record as it stood when the complaint arrived: 50 days without a
   report, the fee estimate not recorded; the estimate recorded afterwards shows as late (to
   partner 刘慧敏: the complaint is kept from 陈志远, who supervises the matter).
"""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, Response, expect

from portal import clock
from portal.db import db
from portal.models import Matter
from portal.services import outbox
from portal.services.calendar import LOCAL_TZ
from portal.services.prevention import reminders
from tests.browser.helpers import LiveServer, check_page, login, logout
from tests.browser.test_intake_browser import posted, settled, smtp  # noqa: F401
from tests.smtp_fixture import SMTPServer

REFERENCE = "M-2026-0777"
TITLE = "王芳诉恒远贸易买卖合同纠纷"
LAWYER_EMAIL = "wang.lei@firm.example"
EXPECTATIONS = ("scope", "risks", "outcomes", "timetable")  # fees left out on purpose


def _option(page: Page, select: str, text: str) -> str:
    value = page.locator(f"{select} option", has_text=text).first.get_attribute("value")
    assert value, (select, text)
    return value


def _create_matter(page: Page) -> None:
    page.goto("/matters/new")
    page.locator("#matter-reference").fill(REFERENCE)
    page.locator("#matter-title").fill(TITLE)
    page.locator("#matter-client-q").press_sequentially("王芳", delay=30)
    choice = page.locator("#matter-client-choices input[name=client]").first
    expect(choice).to_be_visible()
    choice.check()
    page.locator("#matter-type_code").select_option(
        _option(page, "#matter-type_code", "litigation"))
    page.locator("#matter-lawyer").select_option(_option(page, "#matter-lawyer", "王磊"))
    page.locator("#matter-partner").select_option(_option(page, "#matter-partner", "陈志远"))
    page.locator("#matter-opened_on").fill((clock.today() - timedelta(days=20)).isoformat())
    page.get_by_role("button", name="Create the matter").click()
    page.wait_for_url(f"**/matters/{REFERENCE}")
    settled(page)
    expect(page.locator("h1")).to_contain_text(REFERENCE)
    expect(page.locator("#matter-tags")).to_contain_text("6 expectations missing")
    check_page(page)


def _record_expectations(page: Page) -> None:
    for item in EXPECTATIONS:
        box = page.locator(f"#expectation-{item}")
        box.locator("summary").click()
        box.locator("textarea[name=text]").fill(f"已与客户书面确认（{item}）。")
        response = posted(page, f"/expectations/{item}",
                          box.get_by_role("button", name="Record").click)
        assert response.status == 200
        settled(page)
    procedure = page.locator("#expectation-complaints_procedure")
    procedure.locator("summary").click()
    procedure.locator("input[name=given_on]").fill(clock.today().isoformat())
    posted(page, "/expectations/complaints_procedure",
           procedure.get_by_role("button", name="Record").click)
    settled(page)
    expect(page.locator("#matter-tags")).to_contain_text("1 expectation missing")
    expect(page.locator("#expectation-fees")).to_contain_text("Missing")


def _log_report(page: Page) -> None:
    form = page.locator("#matter-reports")
    future = (clock.today() + timedelta(days=1)).isoformat()
    form.locator("#report-reported_on").fill(future)
    form.locator("#report-channel").select_option("phone")
    form.locator("#report-summary").fill("已向客户说明一审开庭安排及需补充的证据。")
    response = posted(page, "/reports", form.get_by_role("button", name="Log the report").click)
    assert response.status == 422  # a report dated in the future is refused, the text kept
    expect(form.locator("#report-summary")).to_have_value("已向客户说明一审开庭安排及需补充的证据。")
    form.locator("#report-reported_on").fill((clock.today() - timedelta(days=5)).isoformat())
    response = posted(page, "/reports", form.get_by_role("button", name="Log the report").click)
    assert response.status == 200
    settled(page)
    expect(page.locator("#matter-reports table")).to_contain_text("已向客户说明一审开庭安排")
    expect(page.locator("#matter-tags")).not_to_contain_text("Progress report overdue")


def _reminder_reaches_the_lawyer(server: LiveServer, smtp: SMTPServer) -> None:  # noqa: F811
    with server.app.app_context():
        reminded = reminders.tick()  # the demo firm's matters are overdue 45 days on, too
        assert reminded >= 1
        assert reminders.tick() == 0  # one reminder per overdue period
        outbox.deliver_due()
    mails = zip(smtp.wait_for(reminded), smtp.envelopes, strict=True)
    ours = [m for m, envelope in mails
            if LAWYER_EMAIL in envelope.rcpt_tos and REFERENCE in m["Subject"]]
    assert len(ours) == 1


def _saved(response: Response) -> None:
    assert response.status == 200, (response.url, response.status, response.text()[:500])


def _register_complaint(page: Page) -> str:
    page.goto("/complaints")
    page.locator("#new-channel").select_option("phone")
    now = clock.now().astimezone(LOCAL_TZ)
    # half an hour ago, but never yesterday: the days counted below run to the day received
    received = now - min(timedelta(minutes=30), now - now.replace(hour=0, minute=0, second=0))
    page.locator("#new-received_at").fill(received.strftime("%Y-%m-%dT%H:%M"))
    with page.expect_navigation():
        page.get_by_role("button", name="Start a draft").click()
    page.locator("#complainant-name").fill("王芳")
    page.locator("#complainant-phone").fill("13900139000")
    page.locator("#complainant-language-0").check()
    _saved(posted(page, "/sections/complainant",
                  page.get_by_role("button", name="Save the complainant").click))
    page.locator("#respondents-q").press_sequentially("王磊", delay=30)
    _saved(posted(page, "/sections/respondents", page.locator(
        "#respondents-suggestions button[name=add]", has_text="王磊").click))
    page.locator("#matter-q").press_sequentially("0777", delay=30)
    _saved(posted(page, "/sections/matter", page.locator(
        "#matter-suggestions button[name=matter_id]", has_text=REFERENCE).click))
    page.locator("#incident-narrative").fill("两个月没有人告诉我案件进展，也不知道律师费会是多少。")
    page.locator("#incident-occurred_on").fill((clock.today() - timedelta(days=30)).isoformat())
    _saved(posted(page, "/sections/incident",
                  page.get_by_role("button", name="Save what happened").click))
    page.locator("#section-remedy input[value=apology]").check()
    _saved(posted(page, "/sections/remedy",
                  page.get_by_role("button", name="Save the remedy sought").click))
    settled(page)
    expect(page.locator("#completeness")).to_contain_text("5 of 5 required sections complete")
    with page.expect_navigation():
        page.locator("#intake-actions").get_by_role(
            "link", name="Read back to the client").click()
    page.get_by_label("By phone").check()
    with page.expect_navigation():
        page.get_by_role("button", name="The client confirms these points").click()
    with page.expect_navigation():
        page.locator("#intake-actions").get_by_role(
            "button", name="Register and acknowledge").click()
    return page.url.rsplit("/", 1)[1]


def test_gaps_overdue_report_reminder_and_the_record_on_the_complaint(
        en_page: Page, live_server: LiveServer, smtp: SMTPServer) -> None:  # noqa: F811
    page = en_page
    login(page, "partner")
    _create_matter(page)
    _record_expectations(page)
    _log_report(page)

    clock.advance(timedelta(days=45))  # the next report was due 25 days after the last one
    logout(page)
    login(page, "partner")
    page.goto(f"/matters/{REFERENCE}")
    expect(page.locator("#matter-tags")).to_contain_text("Progress report overdue")
    page.goto("/")
    overdue = page.locator("#prevention")
    expect(overdue).to_contain_text(REFERENCE)
    expect(overdue).to_contain_text("20 days overdue")
    check_page(page)
    _reminder_reaches_the_lawyer(live_server, smtp)
    logout(page)

    login(page, "reception")
    reference = _register_complaint(page)
    assert reference.startswith("TS-"), reference
    record = page.locator("#prevention-record")
    expect(record).to_contain_text(REFERENCE)
    expect(page.locator("#prevention-summary")).to_contain_text(
        "No progress report for 50 days before the complaint")
    expect(page.locator("#prevention-summary")).to_contain_text(
        "fee arrangement and estimate not recorded")
    settled(page)
    check_page(page)
    logout(page)

    # The fee estimate recorded now is on the matter, and shows as late on the complaint.
    login(page, "partner")
    page.goto(f"/matters/{REFERENCE}")
    fees = page.locator("#expectation-fees")
    fees.locator("summary").click()
    fees.locator("textarea[name=text]").fill("固定收费人民币30,000元，分两期支付。")
    posted(page, "/expectations/fees", fees.get_by_role("button", name="Record").click)
    settled(page)
    expect(page.locator("#matter-tags")).not_to_contain_text("expectation")
    # 陈志远 supervises the matter, so the complaint about it is kept from him.
    assert page.goto(f"/complaints/{reference}").status == 404
    logout(page)
    login(page, "partner2")
    page.goto(f"/complaints/{reference}")
    expect(page.locator("#prevention-summary")).to_contain_text(
        "fee arrangement and estimate not recorded")
    expect(page.locator("#prevention-record")).to_contain_text("Recorded late")
    with live_server.app.app_context():
        matter = db.session.query(Matter).filter_by(reference=REFERENCE).one()
        assert matter.expectation_gaps == 0
