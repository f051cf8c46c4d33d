"""A serious complaint walked through the investigation in Chromium, by the real pages:

1. partner 陈志远 triages it on the case file (serious, two categories, an assessment, two
   allegations) and assigns himself as the lead with the two investigators the routing table
   requires for "serious" (one investigator alone is refused);
2. investigators 周建国 and 吴丽娟 each open the workspace and record a statement (the
   complainant's, then the responsible lawyer's);
3. the lead records the findings on every allegation and submits them: the complaint awaits
   the committee's decision and the confidential report downloads.

The complaint is about matter M-2025-0188, whose supervising partner is 刘慧敏 (partner2), and
names 孙海燕 (committee2, who has a login) as a respondent. Neither can be assigned: the
assignment panel lists both as refused with the reason, and a POST forced past the form is
refused (422) without a change. Neither can open the workspace or the case file (404).
Pages are checked with axe (and kept for the Nu checker) on the way.
"""

from __future__ import annotations

import itertools

from playwright.sync_api import Page, expect

from portal.db import db, writes_by_default
from portal.models import Complaint, State
from portal.models.investigation import Assignment, AssignmentRole
from tests.browser.helpers import LiveServer, check_page, login, logout
from tests.browser.test_intake_browser import audit_page, settled
from tests.triage_support import person, registered, triaged

MATTER = "M-2025-0188"  # 王芳's divorce; responsible lawyer 李娜, supervising partner 刘慧敏
RESPONDENTS = ("李娜", "孙海燕")  # 李娜 has no login; 孙海燕 is committee2
_numbers = itertools.count(66001)

MATTER_PARTNER_REASON = "刘慧敏 worked on the matter this complaint is about."
RESPONDENT_REASON = "孙海燕 is a respondent to this complaint."


def _registered(server: LiveServer) -> tuple[str, int]:
    reference = f"TS-2026-{next(_numbers):05d}"
    complaint_id = registered(server.app, reference, matter=MATTER, respondents=RESPONDENTS,
                              client="王芳", email="wang.fang@example.com")
    return reference, complaint_id


def _ids(server: LiveServer, *keys: str) -> list[int]:
    with server.app.app_context():
        return [person(key).id for key in keys]


def _complaint(server: LiveServer, complaint_id: int) -> Complaint:
    """A detached copy with its state and current team."""
    with server.app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        _ = [a.user for a in complaint.assignments]
        db.session.expunge_all()
        return complaint


# --------------------------------------------------------------------------- the steps


def _triage(page: Page, reference: str) -> None:
    page.goto(f"/complaints/{reference}")
    step = page.locator("#triage-step")
    step.get_by_label("Serious", exact=True).check()
    step.get_by_label("Fees and billing", exact=True).check()
    step.get_by_label("Delay", exact=True).check()
    step.get_by_label("Assessment").fill(
        "The client paid the full fee; the property claim was filed a month late.")
    rows = step.locator("fieldset.allegation-row")
    for row, (text, category, respondent) in zip(rows.all(), [
            ("Filed the property claim a month after the agreed date.", "Delay", "李娜"),
            ("Signed off a fee note above the engagement letter.", "Fees and billing",
             "孙海燕")], strict=False):
        row.locator("textarea").fill(text)
        row.locator("select[name$='-category']").select_option(label=category)
        row.locator("select[name$='-respondent']").select_option(label=respondent)
    check_page(page)
    with page.expect_navigation():
        step.get_by_role("button", name="Record the triage").click()
    expect(page.locator("#area-triage")).to_contain_text("Lead: Partner; at least 2")


def _refusals_listed(page: Page) -> None:
    """The panel's table of who cannot be chosen names both, with the reason."""
    table = page.locator("#area-triage table.candidates")
    expect(table.locator("tr", has_text="刘慧敏")).to_contain_text(MATTER_PARTNER_REASON)
    expect(table.locator("tr", has_text="孙海燕")).to_contain_text(RESPONDENT_REASON)
    choices = page.locator("#area-triage select[name='assign-lead'] option")
    expect(choices.filter(has_text="刘慧敏")).to_have_count(0)
    expect(choices.filter(has_text="孙海燕")).to_have_count(0)
    boxes = page.locator("#area-triage .checks label")
    expect(boxes.filter(has_text="刘慧敏")).to_have_count(0)
    expect(boxes.filter(has_text="孙海燕")).to_have_count(0)


_FORCE = """([lead, investigator]) => {
  const form = document.querySelector("#area-triage form[action$='/assignment']");
  const select = form.querySelector("select[name='assign-lead']");
  select.add(new Option("forced", String(lead)));
  select.value = String(lead);
  const box = form.querySelector("input[name='assign-investigators']");
  const extra = box.cloneNode();
  extra.value = String(investigator);
  extra.checked = true;
  box.parentElement.appendChild(extra);
}"""


def _forced_assignment_refused(page: Page, server: LiveServer, complaint_id: int) -> None:
    """Options the form does not offer, added in the page: the server still says no."""
    matter_partner, respondent = _ids(server, "partner2", "committee2")
    page.locator("#area-triage .checks label", has_text="周建国").locator("input").check()
    page.evaluate(_FORCE, [matter_partner, respondent])
    with page.expect_response(lambda r: r.url.endswith("/assignment")) as response:
        page.get_by_role("button", name="Assign", exact=True).click()
    assert response.value.status == 422
    settled(page)
    expect(page.locator("#assign-lead-error")).to_contain_text(MATTER_PARTNER_REASON)
    expect(page.locator("#assign-investigators-error")).to_contain_text(RESPONDENT_REASON)
    complaint = _complaint(server, complaint_id)
    assert complaint.state == State.TRIAGED and complaint.assignments == []


def _assign(page: Page, server: LiveServer, complaint_id: int) -> None:
    area = page.locator("#area-triage")
    lead, = _ids(server, "partner")
    area.locator("select[name='assign-lead']").select_option(str(lead))
    area.locator(".checks label", has_text="周建国").locator("input").check()
    area.get_by_role("button", name="Assign", exact=True).click()  # one is not enough
    settled(page)
    expect(page.locator("#assign-investigators-error")).to_contain_text(
        "This severity needs at least 2 investigator(s) besides the lead.")
    assert _complaint(server, complaint_id).assignments == []
    audit_page(page)
    area.locator(".checks label", has_text="吴丽娟").locator("input").check()
    with page.expect_navigation():
        area.get_by_role("button", name="Assign", exact=True).click()
    area = page.locator("#area-triage")
    expect(area.locator("dt:text-is('Lead') + dd")).to_contain_text("陈志远")
    investigators = area.locator("dt:text-is('Investigators') + dd")
    expect(investigators).to_contain_text("周建国")
    expect(investigators).to_contain_text("吴丽娟")
    check_page(page)


def _record_statement(page: Page, reference: str, speaker: str, text: str) -> None:
    """As an assigned investigator: from the case file to the workspace, then the form."""
    page.goto(f"/complaints/{reference}")
    with page.expect_navigation():
        page.get_by_role("link", name="Open the workspace").click()
    assert page.url.endswith(f"/complaints/{reference}/investigation")
    statements = page.locator("#ws-statements")
    statements.locator("select[name='statement-speaker']").select_option(label=speaker)
    statements.locator("select[name='statement-method']").select_option(label="Phone call")
    statements.locator("textarea[name='statement-text']").fill(text)
    statements.get_by_role("button", name="Record the statement").click()
    settled(page)
    expect(page.locator("#ws-statements")).to_contain_text("The statement has been recorded.")
    expect(page.locator("#ws-statements")).to_contain_text(text)
    check_page(page)


def _answer(page: Page, number: int, finding: str) -> None:
    item = page.locator("#area-findings article.finding").nth(number - 1)
    item.get_by_label(finding, exact=True).check()
    item.get_by_label("Reasoning").fill("Both statements agree on the dates of the filing.")
    item.get_by_label("An individual lawyer").check()
    item.locator("summary", has_text="ACLA rules on lawyers' practice conduct").click()
    item.get_by_label("Art. 37", exact=False).check()
    item.get_by_label("Apology").check()
    item.get_by_role("button", name=f"Save allegation {number}").click()
    settled(page)
    expect(page.locator("#area-findings article.finding").nth(number - 1)).to_contain_text(
        "Saved.")


def _submit_findings(page: Page, reference: str) -> None:
    page.goto(f"/complaints/{reference}")
    _answer(page, 1, "Established")
    _answer(page, 2, "Not established")
    expect(page.locator("#findings-submit")).to_contain_text("Every allegation is answered.")
    audit_page(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit the findings").click()
    area = page.locator("#area-findings")
    expect(area).to_contain_text("Submitted on")
    link = area.get_by_role("link", name="Download the investigation report (PDF, confidential)")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(".pdf")
    check_page(page)


def _kept_out(page: Page, reference: str, username: str) -> None:
    """Neither the workspace nor the case file exists for them."""
    login(page, username)
    for url in (f"/complaints/{reference}/investigation", f"/complaints/{reference}"):
        response = page.goto(url)
        assert response is not None and response.status == 404, (username, url)
    logout(page)


# --------------------------------------------------------------------------- the tests


def test_a_serious_complaint_from_triage_to_submitted_findings_with_two_investigators(
        live_server: LiveServer, en_page: Page):
    page = en_page
    reference, complaint_id = _registered(live_server)

    login(page, "partner")
    _triage(page, reference)
    _refusals_listed(page)
    _assign(page, live_server, complaint_id)
    logout(page)

    login(page, "investigator")
    _record_statement(page, reference, "The complainant",
                      "王芳: the lawyer promised to file in May and filed in late June.")
    logout(page)
    login(page, "investigator2")
    _record_statement(page, reference, "Respondent: 李娜",
                      "李娜: the bank statements came late; the client was told by WeChat.")
    logout(page)

    login(page, "partner")
    _submit_findings(page, reference)
    logout(page)

    complaint = _complaint(live_server, complaint_id)
    assert complaint.state == State.AWAITING_DECISION
    assert complaint.lead.username == "partner"
    assert sorted(u.username for u in complaint.investigators) == [
        "investigator", "investigator2"]
    for username in ("partner2", "committee2"):  # committee2 is a committee member too
        _kept_out(page, reference, username)


def test_the_respondent_and_the_matters_partner_can_neither_be_assigned_nor_open_it(
        live_server: LiveServer, en_page: Page):
    page = en_page
    reference, complaint_id = _registered(live_server)
    triaged(live_server.app, complaint_id, severity="serious", by="partner")

    login(page, "partner")
    page.goto(f"/complaints/{reference}")
    _refusals_listed(page)
    check_page(page)
    _forced_assignment_refused(page, live_server, complaint_id)
    audit_page(page)
    logout(page)

    with live_server.app.app_context(), writes_by_default():  # now under investigation
        complaint = db.session.get(Complaint, complaint_id)
        lead, first, second = (person(k) for k in ("partner", "investigator", "investigator2"))
        complaint.assignments.extend([
            Assignment(user=lead, role=AssignmentRole.LEAD),
            Assignment(user=first, role=AssignmentRole.INVESTIGATOR),
            Assignment(user=second, role=AssignmentRole.INVESTIGATOR)])
        complaint.state, complaint.handler = State.INVESTIGATING, lead
        db.session.commit()
    for username in ("partner2", "committee2"):
        _kept_out(page, reference, username)
    login(page, "investigator2")  # an assigned investigator does open it
    response = page.goto(f"/complaints/{reference}/investigation")
    assert response is not None and response.status == 200
