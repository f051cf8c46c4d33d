"""A typical case becomes a bulletin in Chromium, by the real pages.

The complaint (in follow-up) was made by 高明, whose name is also an ordinary word ("高明的
律师", a skilful lawyer). Its narrative names her in three forms (高明, 高先生, Gao Ming), the
lawyer by surname and honorific (王律师) and by name (王磊), a phone number written with spaces
and a court case number. Partner 刘慧敏 drafts the bulletin from the case file, reviews it,
undoes the one replacement that took the ordinary word for the client, publishes it, and
investigator 周建国 reads it on the board and downloads the PDF. Neither the page nor the PDF
holds any of the identities; the ordinary word survives.
"""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Page, expect

from portal.db import db, write_transaction
from portal.models import Complaint
from tests.browser.helpers import LiveServer, check_page, login, logout
from tests.browser.test_intake_browser import pdf_text, settled
from tests.bulletin_support import finished

REFERENCE = "TS-2026-68001"
NARRATIVE = ("委托人高明称，王律师在（2025）京0105民初12345号案件中三次未按约定时间回复她。"
             "高先生的丈夫也多次拨打159 0000 1234无人接听。Gao Ming later wrote that she had "
             "expected that 高明的律师会提前准备证据, and that 王磊 never explained the fees.")
IDENTITIES = ("委托人高明", "高先生", "Gao Ming", "王律师", "王磊", "159 0000 1234",
              "（2025）京0105民初12345号", "京0105民初12345")
ORDINARY = "高明的律师会提前准备"


def _finished_case(server: LiveServer) -> None:
    app = server.app
    complaint_id = finished(app, reference=REFERENCE, narrative=NARRATIVE)
    with app.app_context(), write_transaction():
        client = db.session.get(Complaint, complaint_id).complainant
        client.name, client.phone = "高明", "15900001234"


def _no_identity(text: str) -> None:
    flat = re.sub(r"\s+", "", text)
    for identity in IDENTITIES:
        assert re.sub(r"\s+", "", identity) not in flat, identity


def test_a_partner_drafts_reviews_and_publishes_and_an_investigator_reads_it(
        en_page: Page, live_server: LiveServer, tmp_path: Path):
    page = en_page
    _finished_case(live_server)

    login(page, "partner2")
    page.goto(f"/complaints/{REFERENCE}")
    with page.expect_navigation(url=re.compile(r"/bulletins/\d+/review$")):
        page.get_by_role("button", name="Draft a bulletin from this case").click()
    bulletin_id = int(page.url.split("/")[-2])
    text = page.locator(".bulletin-text")
    expect(text).to_contain_text("客户甲")
    _no_identity(text.inner_text())
    expect(text).not_to_contain_text(ORDINARY)  # the engine took the adjective for her name
    settled(page)
    check_page(page)

    # The last replacement of 高明 is the adjective: undo it, with the reason.
    replacements = page.locator("#bulletin-review ol.review-list > li")
    adjective = replacements.filter(has_text="← 高明").last
    adjective.get_by_text("Undo this replacement").click()
    adjective.get_by_role("button", name="Undo").click()
    expect(page.locator("#bulletin-review .error").first).to_contain_text("Say why")
    adjective = page.locator("#bulletin-review ol.review-list > li").filter(
        has_text="← 高明").last
    adjective.get_by_label("Why these words may stay").fill("这里是形容词“高明”，不是人名。")
    adjective.get_by_role("button", name="Undo").click()
    expect(page.locator("#bulletin-review .alert-ok")).to_contain_text("back in the text")
    expect(page.locator(".bulletin-text")).to_contain_text(ORDINARY)

    # Anything the engine still flags is replaced before publishing.
    while page.locator("#bulletin-flags-h").count():
        page.get_by_role("button", name="Replace it everywhere").first.click()
        page.wait_for_load_state("networkidle")
    settled(page)
    check_page(page)
    with page.expect_navigation(url=re.compile(rf"/bulletins/{bulletin_id}$")):
        page.get_by_role("button", name="Publish the bulletin").click()
    logout(page)

    login(page, "investigator")
    page.goto("/bulletins")
    page.get_by_role("searchbox").fill("提前准备")
    page.wait_for_load_state("networkidle")
    board = page.locator("#bulletin-list")
    expect(board).to_contain_text(re.compile("Typical case|典型案例"))
    _no_identity(board.inner_text())
    board.get_by_role("link").first.click()
    expect(page).to_have_url(re.compile(rf"/bulletins/{bulletin_id}$"))
    main = page.locator("main")
    expect(main).to_contain_text(ORDINARY)
    _no_identity(main.inner_text())
    assert REFERENCE not in page.content()
    settled(page)
    check_page(page)

    pdf = page.request.get(f"/bulletins/{bulletin_id}.pdf")
    assert pdf.status == 200 and pdf.body().startswith(b"%PDF")
    printed = pdf_text(pdf.body(), tmp_path)
    _no_identity(printed)
    assert REFERENCE not in printed
    assert re.sub(r"\s+", "", ORDINARY) in re.sub(r"\s+", "", printed)
