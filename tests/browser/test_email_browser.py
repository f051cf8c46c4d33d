"""The email channel in Chromium: an email with a PDF and an HTML file renamed .pdf is
delivered to the real mailbox (Dovecot); after one worker pass the receptionist finds the
draft with the client matched, the PDF as evidence and the disguised file refused."""

from __future__ import annotations

from playwright.sync_api import expect

from portal.services.mailin import imap
from tests.browser.helpers import check_page, login, switch_language
from tests.browser.test_intake_browser import settled
from tests.imap_fixture import LoopbackMailbox, dovecot_server  # noqa: F401
from tests.mail_support import HTML_AS_PDF, PDF, email


def test_an_email_becomes_a_draft_the_receptionist_can_check(live_server, dovecot_server,
                                                             en_page):
    box = LoopbackMailbox(dovecot_server)
    box.empty()
    box.configure(live_server.app)
    box.deliver(email(sender="Emily Carter <emily.carter@example.co.uk>",
                      subject="Complaint about my bill",
                      body="I was charged twice for the same hearing.",
                      attachments=[("bill.pdf", "application/pdf", PDF),
                                   ("statement.pdf", "application/pdf", HTML_AS_PDF)]))
    with live_server.app.app_context():
        assert imap.fetch_once(imap.settings()) == 1

    login(en_page, "reception")
    switch_language(en_page, "en")
    verify = en_page.locator("section", has=en_page.locator("#verify-h"))
    verify.get_by_role("link").filter(has_text="D").first.click()
    settled(en_page)
    expect(en_page.locator("h1")).to_contain_text("Complaint D")
    expect(en_page.locator(".record-tags")).to_contain_text("Email to verify")
    received = en_page.locator("#email-received")
    expect(received).to_contain_text("emily.carter@example.co.uk")
    expect(received).to_contain_text("SPF: pass")
    expect(received).to_contain_text("Attachment “statement.pdf” refused")
    expect(received).to_contain_text("a web page or drawing")
    expect(en_page.locator("#section-complainant")).to_contain_text("Emily Carter")
    evidence = en_page.locator("#section-evidence")
    expect(evidence).to_contain_text("bill.pdf")
    expect(evidence).not_to_contain_text("statement.pdf")
    check_page(en_page)
