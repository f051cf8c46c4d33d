"""Issue 7 §2 in Chromium: a draft discarded with a reason, the client's other recent drafts
named in the complainant section, and a draft's evidence re-categorised or removed."""

from __future__ import annotations

import io
import itertools
from collections.abc import Callable
from datetime import UTC, datetime

from playwright.sync_api import Page, Response, expect
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Evidence, State, User
from portal.services import evidence as evidence_service
from tests.browser.helpers import LiveServer, check_page, login, switch_language
from tests.browser.test_intake_browser import settled
from tests.unit.test_intake_filetypes import PDF

_numbers = itertools.count(1)


def _draft(server: LiveServer, **fields) -> str:
    """A draft created by the receptionist now, with what `fields` says; returns its key."""
    with server.app.app_context(), write_transaction():
        reception = db.session.scalar(select(User).where(User.username == "reception"))
        complaint = Complaint(state=State.DRAFT, created_by=reception, channel="phone",
                              received_at=datetime.now(UTC), **fields)
        db.session.add(complaint)
        db.session.flush()
        return complaint.label


def _posted(page: Page, path_end: str, action: Callable[[], None]) -> Response:
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.split("?")[0].endswith(path_end)) as info:
        action()
    return info.value


def test_a_draft_is_discarded_with_a_reason_and_leaves_the_home_page(live_server, en_page):
    key = _draft(live_server, complainant=Client(name=f"Discard Client {next(_numbers)}"))
    login(en_page, "reception")
    switch_language(en_page, "en")
    expect(en_page.locator("main")).to_contain_text(key)
    en_page.goto(f"/complaints/{key}")
    actions = en_page.locator("#intake-actions")
    actions.locator("summary", has_text="Discard draft").click()
    check_page(en_page)
    button = actions.get_by_role("button", name="Discard draft")
    en_page.get_by_label("Yes, discard this draft").check()
    response = _posted(en_page, "/discard", button.click)  # no reason given
    assert response.status == 422
    expect(en_page.locator("#discard-reason-error")).to_contain_text(
        "Say why this draft is discarded")
    en_page.get_by_label("Why is this draft discarded?").fill("A test call, not a complaint")
    en_page.get_by_label("Yes, discard this draft").check()
    _posted(en_page, "/discard", actions.get_by_role("button", name="Discard draft").click)
    expect(en_page.locator("#intake-actions h2")).to_have_text("Discarded draft")
    expect(en_page.locator("#intake-actions")).to_contain_text("A test call, not a complaint")
    expect(en_page.locator("#intake-actions")).to_contain_text("林晓雯")
    expect(en_page.locator("#complainant-name")).to_have_count(0)
    check_page(en_page)
    en_page.goto("/")
    expect(en_page.locator("main")).not_to_contain_text(key)
    switch_language(en_page, "zh_CN")


def test_the_clients_recent_draft_is_offered_instead(live_server, en_page):
    email = f"repeat.caller{next(_numbers)}@example.com"
    first = _draft(live_server, narrative="Fees charged twice for one hearing.",
                   complainant=Client(name="Repeat Caller", email=email))
    second = _draft(live_server, complainant=Client(name="Repeat Caller", email=email.upper()))
    login(en_page, "reception")
    switch_language(en_page, "en")
    en_page.goto(f"/complaints/{second}")
    notice = en_page.locator("#section-complainant .recent-drafts")
    expect(notice).to_contain_text("already has a draft or an open complaint")
    expect(notice).to_contain_text("Fees charged twice for one hearing.")
    check_page(en_page)
    notice.get_by_role("link", name=f"Open {first}").click()
    expect(en_page.locator("h1")).to_have_text(f"Complaint {first}")
    expect(en_page.get_by_role("link", name=f"Open {second}")).to_be_visible()
    switch_language(en_page, "zh_CN")


def _with_file(server: LiveServer, key: str, name: str) -> int:
    with server.app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, int(key[1:]))
        item = evidence_service.add_evidence(complaint.created_by, complaint,
                                             stream=io.BytesIO(PDF), filename=name,
                                             category="engagement_contract")
        return item.id


def test_a_drafts_evidence_is_recategorised_and_removed(live_server, en_page):
    key = _draft(live_server, complainant=Client(name=f"Evidence Client {next(_numbers)}"))
    item = _with_file(live_server, key, "fee-invoice.pdf")
    login(en_page, "reception")
    switch_language(en_page, "en")
    en_page.goto(f"/complaints/{key}")
    box = en_page.locator("#section-evidence")
    kind = en_page.get_by_label("Kind of evidence: fee-invoice.pdf")
    response = _posted(en_page, "/kind", lambda: kind.select_option("fee_receipts"))
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("The kind of evidence has been changed.")
    expect(en_page.get_by_label("Kind of evidence: fee-invoice.pdf")).to_have_value(
        "fee_receipts")
    box.locator("summary", has_text="Remove").click()
    settled(en_page)
    check_page(en_page)
    response = _posted(en_page, "/remove", box.get_by_role("button", name="Remove the file").click)
    assert response.status == 422
    expect(box.locator(".alert-error")).to_contain_text("Tick the box to confirm")
    expect(box).to_contain_text("fee-invoice.pdf")
    box.locator("summary", has_text="Remove").click()
    box.get_by_label("Yes, remove this file from the draft").check()
    response = _posted(en_page, "/remove", box.get_by_role("button", name="Remove the file").click)
    assert response.status == 200
    expect(box.locator(".alert-ok")).to_have_text("The file has been removed.")
    expect(box).to_contain_text("No files yet.")
    with live_server.app.app_context():
        assert db.session.get(Evidence, item) is None
    settled(en_page)
    check_page(en_page)
    switch_language(en_page, "zh_CN")
