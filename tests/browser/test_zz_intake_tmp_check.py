"""TEMPORARY (intake helper's own check, deleted after use)."""
import re
from tests.browser.helpers import check_page, check_accessibility, login, HTML

def test_builder_in_a_browser(page, live_server):
    errors = []
    page.on("request", lambda r: print("REQ", r.method, r.url, r.post_data if r.method == "POST" else ""))
    page.on("response", lambda r: print("RESP", r.status, r.url, r.text()[-900:] if r.request.method == "POST" and "sections" in r.url else ""))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    login(page, "reception")
    page.goto("/complaints")
    check_page(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Start a draft").click()
    assert re.search(r"/complaints/D\d+$", page.url), page.url
    check_page(page)
    # complainant: type, pick
    page.locator("#complainant-q").type("李")
    page.locator("#complainant-suggestions button[name=client_id]").first.wait_for()
    page.locator("#complainant-suggestions button[name=client_id]").first.click()
    page.locator("#section-complainant .alert-ok").wait_for()
    assert "李明" in page.locator("#section-complainant").inner_text()
    print("VERSIONS", page.eval_on_selector_all("input[name=version]", "els => els.map(e => e.id + '=' + e.value)"))
    # respondents: type + Enter (implicit submission -> search)
    page.locator("#respondents-q").fill("王")
    page.locator("#respondents-q").press("Enter")
    page.locator("#respondents-suggestions button[name=add]").first.wait_for()
    page.locator("#respondents-suggestions button[name=add]", has_text="王磊").click()
    page.wait_for_timeout(2000)
    print(page.locator("#section-respondents").inner_html())
    page.locator("#section-respondents .alert-ok").wait_for()
    # matter
    page.locator("#matter-q").type("0142")
    page.locator("#matter-suggestions button[name=matter_id]").first.click()
    page.locator("#section-matter .alert-ok").wait_for()
    # incident: first a bad date -> 422 inline
    page.locator("#incident-narrative").fill("王律师三个月不回电话。")
    page.locator("#incident-occurred_on").fill("2099-01-01")
    page.get_by_role("button", name="Save what happened").click()
    page.locator("#incident-occurred_on-error").wait_for()
    assert page.locator("#incident-narrative").input_value() == "王律师三个月不回电话。"
    page.locator("#incident-occurred_on").fill("2026-05-20")
    page.get_by_role("button", name="Save what happened").click()
    page.locator("#section-incident .alert-ok").wait_for()
    page.locator("#remedy-remedies_sought-0").check()
    page.get_by_role("button", name="Save the remedy sought").click()
    page.locator("#section-remedy .alert-ok").wait_for()
    page.wait_for_function("document.querySelector('#completeness').innerText.includes('5 of 5')")
    page.locator("#intake-actions a", has_text="Read back to the client").wait_for()
    # evidence upload via htmx
    page.locator("#evidence-file").set_input_files(files=[{"name": "合同.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}])
    page.get_by_role("button", name="Upload").click()
    page.locator("#section-evidence .alert-ok").wait_for()
    page.wait_for_timeout(6000)  # timeline poll
    assert "Evidence added" in page.locator("#timeline").inner_text()
    check_page(page)
    with page.expect_navigation():
        page.locator("#intake-actions a", has_text="Read back to the client").click()
    check_page(page)
    page.get_by_label("In person").check()
    with page.expect_navigation():
        page.get_by_role("button", name="The client confirms these points").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Register and acknowledge").click()
    assert re.search(r"/complaints/TS-\d{4}-\d{5}$", page.url), page.url
    check_page(page)
    page.screenshot(path="/tmp/pages/registered.png", full_page=True)
    assert not [e for e in errors if "favicon" not in e], errors
