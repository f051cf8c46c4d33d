"""In a real browser: an upload over the limit answers beside the file field (not in the flash
area, not as "connection reset"), and the public form over its limit comes back with the text.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Page, expect

from tests.browser.helpers import LiveServer, login

PDF_START = b"%PDF-1.4\n1 0 obj<<>>endobj\n"


@contextmanager
def config(server: LiveServer, **values) -> Iterator[None]:
    saved = {key: server.app.config[key] for key in values}
    server.app.config.update(values)
    try:
        yield
    finally:
        server.app.config.update(saved)


def new_draft(page: Page) -> None:
    page.goto("/complaints")
    with page.expect_navigation():
        page.get_by_role("button", name="Start a draft").click()
    page.evaluate("() => { window.__marker = 'same-document'; }")


def try_upload(page: Page, size: int) -> int:
    page.locator("#evidence-file").set_input_files(files=[{
        "name": "scan.pdf", "mimeType": "application/pdf",
        "buffer": PDF_START + b"%" * size}])
    page.locator("#evidence-category").select_option("fee_receipts")
    with page.expect_response(lambda r: r.request.method == "POST"
                              and r.url.endswith("/evidence")) as answer:
        page.locator("#section-evidence").get_by_role("button", name="Upload").click()
    return answer.value.status


def test_an_oversize_upload_is_answered_beside_the_file_field(en_page: Page,
                                                              live_server: LiveServer):
    login(en_page, "reception")
    new_draft(en_page)
    # Over the evidence limit (the service refuses it) and over the whole request's limit
    # (the body is not read): both answer in the section, beside the field.
    for limits in ({"EVIDENCE_MAX_BYTES": 64 * 1024},
                   {"EVIDENCE_MAX_BYTES": 32 * 1024, "MAX_CONTENT_LENGTH": 64 * 1024}):
        with config(live_server, **limits):
            assert try_upload(en_page, 256 * 1024) == 413
        expect(en_page.locator("#evidence-file-error")).to_contain_text(
            "The file is larger than")
        expect(en_page.locator("#flash")).not_to_contain_text("too large")
        expect(en_page.locator("#section-evidence")).to_contain_text("No files yet.")
        assert en_page.evaluate("() => window.__marker") == "same-document"


def test_the_public_form_over_its_limit_comes_back_with_the_text(en_page: Page,
                                                                 live_server: LiveServer):
    en_page.goto("/complaint")
    en_page.locator("#name").fill("Emily Carter")
    en_page.locator("#email").fill("emily.carter@example.com")
    story = "The lawyer never answered my calls. " * 200
    en_page.locator("#narrative").fill(story)
    with (config(live_server, MAX_FORM_MEMORY_SIZE=4096),
          en_page.expect_navigation() as navigation):
        en_page.get_by_role("button", name="Send my complaint").click()
    assert navigation.value.status == 413
    expect(en_page.locator("#form-notice")).to_contain_text("longer than we can accept")
    expect(en_page.locator("#name")).to_have_value("Emily Carter")
    expect(en_page.locator("#email")).to_have_value("emily.carter@example.com")
    assert en_page.locator("#narrative").input_value().startswith(story[:1000])
