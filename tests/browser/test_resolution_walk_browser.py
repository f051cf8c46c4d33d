"""A complaint awaiting the committee, walked to follow-up in Chromium by the real pages:

1. partner 刘慧敏 records the matter's fees and opens a ballot with two proposals;
2. the committee is three: 郑志强 (committee1), 孙海燕 (committee2) and 陈志远 (partner, also on
   the committee), who is recused automatically as the matter's supervising partner. He cannot
   vote, not even by posting the form past the page; the two others vote, each seeing only
   "N of 2 have voted" and their own vote, and the tally appears once the second vote closes
   the ballot;
3. the partner records the decision and issues the outcome notice: it reaches the client's
   inbox (a real SMTP server) with the PDF, read back with pdftotext: Chinese, English and
   the routes of recourse, no internal measure;
4. the client opens the link from the email, disputes; the partner records the discussion of
   round 1 and revises the decision within the committee's limit; the revised notice arrives;
   the client accepts it on the page;
5. the partner starts the remedies and records each done (the refund with its receipt, the
   apology letter); the completion notice reaches the client and the complaint is in
   follow-up.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import Ballot, Complaint, State, User, Vote
from portal.models.user import Role
from portal.services import outbox
from tests.browser.helpers import LiveServer, check_page, login, logout, track_documents
from tests.browser.test_intake_browser import pdf_attachment, pdf_text, settled, smtp  # noqa: F401
from tests.findings_factory import make_investigation
from tests.remedies_support import PNG
from tests.smtp_fixture import SMTPServer

REFERENCE = "TS-2026-67001"
CLIENT_EMAIL = "li.ming.walk@example.com"
INTERNAL_NOTE = "内部批评：王磊未按时回复委托人"
SUMMARY_ZH = "经核查，王律师确有三次未按约定时间回复您的询问，本所对此深表歉意。"
REVISED_ZH = "经与您沟通，本所同意将退费提高至人民币三千元，并书面致歉。"
DISPUTE_ZH = "退费金额太少，律师的拖延让我多付了差旅费。"


@pytest.fixture
def committee_of_three(live_server: LiveServer) -> Iterator[None]:
    """The demo has a fourth committee member (马文博): off the committee for this test."""
    app = live_server.app
    with app.app_context(), writes_by_default():
        member = db.session.scalar(select(User).where(User.username == "committee3"))
        roles = set(member.roles)
        member.set_roles(roles - {Role.COMMITTEE})
        db.session.commit()
    yield
    with app.app_context(), writes_by_default():
        member = db.session.scalar(select(User).where(User.username == "committee3"))
        member.set_roles(roles)
        db.session.commit()


def _awaiting_decision(server: LiveServer) -> int:
    """Findings submitted on a complaint about M-2025-0142 (陈志远 its supervising partner)."""
    with server.app.app_context():
        complaint_id = make_investigation(reference=REFERENCE, client_email=CLIENT_EMAIL,
                                          state=State.AWAITING_DECISION)
        with writes_by_default():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.findings_submitted_at = clock.now()
            complaint.matter.fees_paid = None
            db.session.commit()
        return complaint_id


def _deliver(server: LiveServer, smtp: SMTPServer, count: int) -> list:  # noqa: F811
    """The worker's turn; the client's messages so far (at least `count`)."""
    with server.app.app_context():
        outbox.deliver_due()
    messages = smtp.wait_for(count)
    return [m for m, e in zip(messages, smtp.envelopes, strict=True)
            if CLIENT_EMAIL in e.rcpt_tos]


# --------------------------------------------------------------------------- the steps


def _fees_and_ballot(page: Page) -> int:
    page.goto(f"/complaints/{REFERENCE}")
    area = page.locator("#area-decision")
    area.get_by_text("Record the fees").click()
    area.get_by_label("Fees agreed").fill("20000")
    area.get_by_label("Fees paid").fill("12000")
    area.get_by_role("button", name="Save the fees").click()
    expect(page.locator("#area-decision")).to_contain_text("CNY 12,000.00")

    page.get_by_role("link", name="Open a ballot").click()
    form = page.locator("#ballot-new")
    first = form.locator("fieldset:has(> legend:text-is('Proposal 1'))")
    first.get_by_label("Written apology").check()
    first.get_by_label("Partial fee refund").check()
    first.get_by_label("Partial refund: amount").fill("2000")
    first.get_by_label("Internal criticism").check()
    first.get_by_label("Rationale").fill("律师三次迟延答复：致歉并退还部分律师费。")
    form.get_by_role("button", name="Add a proposal").click()
    second = page.locator("#ballot-new fieldset:has(> legend:text-is('Proposal 2'))")
    second.get_by_label("Explanation").check()
    second.get_by_label("Rationale").fill("仅作书面解释。")
    closes = (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    page.locator("#ballot-new").get_by_label("Voting closes at").fill(closes)
    page.locator("#ballot-new").get_by_label(re.compile("Most a partner may refund")).fill("3000")
    settled(page)
    check_page(page)
    with page.expect_navigation(url=re.compile(r"/ballots/\d+$")):
        page.get_by_role("button", name="Open the ballot").click()
    return int(page.url.rsplit("/", 1)[1])


def _recused_partner_cannot_vote(page: Page, server: LiveServer, ballot_id: int) -> None:
    """陈志远 is on the member list as recused; his forced vote changes nothing."""
    members = page.locator("section", has=page.locator("#members-h"))
    expect(members.locator("li", has_text="陈志远")).to_contain_text("Conflicted")
    logout(page)
    login(page, "partner")
    assert page.request.get(f"/ballots/{ballot_id}").status == 404
    token = page.locator("body").get_attribute("data-hx-headers")
    csrf = re.search(r'"X-CSRFToken": "([^"]+)"', token).group(1)
    ids = _proposal_ids(server, ballot_id)
    answer = page.request.post(f"/ballots/{ballot_id}/votes", form={
        "csrf_token": csrf, **{f"choice-{pid}": "approve" for pid in ids}})
    assert answer.status == 404  # he may not even see the complaint
    assert _votes(server, ballot_id) == []
    logout(page)


def _proposal_ids(server: LiveServer, ballot_id: int) -> list[int]:
    with server.app.app_context():
        return [p.id for p in db.session.get(Ballot, ballot_id).proposals]


def _votes(server: LiveServer, ballot_id: int) -> list[tuple[int, str]]:
    with server.app.app_context():
        return [(v.user_id, v.choice) for v in db.session.scalars(
            select(Vote).where(Vote.ballot_id == ballot_id))]


def _vote(page: Page, username: str, ballot_id: int, choices: tuple[str, str], comment: str,
          voted_before: int) -> None:
    login(page, username)
    home = page.locator("section", has=page.locator("#com-h"))
    expect(home).to_contain_text(REFERENCE)
    home.get_by_role("link", name=re.compile(REFERENCE)).first.click()
    expect(page).to_have_url(re.compile(f"/ballots/{ballot_id}$"))
    count = page.locator("#ballot-count")
    expect(count).to_contain_text(f"{voted_before} of 2 eligible members")
    # Sealed: nobody's comment or choice is on the page before the close.
    expect(page.locator("main")).not_to_contain_text("陈述属实")
    vote = page.locator("#ballot-vote")
    for number, choice in enumerate(choices):
        vote.locator(f"fieldset:has(> legend:text-is('Proposal {number + 1}'))").get_by_label(
            choice, exact=True).check()
    vote.get_by_label("Comment on proposal 1 (optional)").fill(comment)
    settled(page)
    check_page(page)
    vote.get_by_role("button", name="Record my vote").click()
    settled(page)


def _tally_after_close(page: Page) -> None:
    count = page.locator("#ballot-count")
    expect(count).to_contain_text("Closed: 2 of 2 eligible members voted")
    page.reload()
    main = page.locator("main")
    expect(main).to_contain_text("陈述属实，应当致歉。")
    expect(main).to_contain_text("同意，退费合理。")
    expect(page.locator("#proposal-1-h")).to_contain_text("Adopted")
    settled(page)
    check_page(page)


def _decide_and_issue(page: Page) -> None:
    page.goto(f"/complaints/{REFERENCE}")
    record = page.locator("#decision-record")
    due = (clock.now() + timedelta(days=20)).strftime("%Y-%m-%d")
    for box in record.locator("input[type=date]").all():
        box.fill(due)
    record.get_by_label("Summary of the findings for the client").fill(SUMMARY_ZH)
    record.get_by_role("button", name="Record the decision").click()
    expect(page.locator("#decision-1")).to_be_visible()
    settled(page)
    check_page(page)
    page.locator("#decision-issue").get_by_role("button", name="Issue the notice").click()
    expect(page.locator("#decision-notices")).to_contain_text("Version 1")


def _notice_says(message, tmp_path: Path, *expected: str) -> str:
    text = pdf_text(pdf_attachment(message), tmp_path)
    flat = re.sub(r"\s+", "", text)
    for phrase in expected:
        assert re.sub(r"\s+", "", phrase) in flat, (phrase, text[:2000])
    for internal in ("内部批评", "Internal criticism", "internal criticism", "王磊未按时"):
        assert internal not in flat, internal
    return text


def _client_link(message) -> str:
    body = message.get_body(preferencelist=("plain",)).get_content()
    url = re.search(r"https?://\S+/c/\S+", body).group(0)
    return url[url.index("/c/"):]


def _client_answers(browser: Browser, server: LiveServer, link: str, kind: str,
                    reason: str = "", notices: int = 1) -> None:
    context = browser.new_context(base_url=server.url, locale="zh-CN")
    try:
        page = context.new_page()
        track_documents(page)
        page.goto(link)
        expect(page.locator("main")).to_contain_text(REFERENCE)
        expect(page.locator("#client-notices li")).to_have_count(notices)
        if reason:
            page.locator("textarea[name=reason]").fill(reason)
        settled(page)
        check_page(page)
        page.locator(f"button[name=kind][value={kind}]").click()
        settled(page)
        expect(page.locator("main")).to_contain_text("您已接受" if kind == "accepted" else "不满意")
    finally:
        context.close()


def _negotiate(page: Page) -> None:
    page.goto(f"/complaints/{REFERENCE}")
    area = page.locator("#decision-negotiation")
    expect(area).to_contain_text(DISPUTE_ZH)
    area.get_by_label("What was discussed with the client").fill(
        "电话沟通：客户要求退费三千元，本所同意。")
    area.get_by_role("button", name="Record the discussion").click()
    area = page.locator("#decision-negotiation")
    refund = area.locator("fieldset", has_text="Partial fee refund")
    refund.get_by_label("Amount", exact=True).fill("3500")
    area.get_by_label("Why the decision is revised").fill("客户的差旅费损失属实。")
    area.get_by_label("Summary for the client").fill(REVISED_ZH)
    area.get_by_role("button", name="Revise the decision").click()
    # Above the committee's limit: refused, nothing typed is lost.
    area = page.locator("#decision-negotiation")
    expect(area.locator(".alert-error, .error").first).to_be_visible()
    expect(area.get_by_label("Summary for the client")).to_have_value(REVISED_ZH)
    refund = area.locator("fieldset", has_text="Partial fee refund")
    refund.get_by_label("Amount", exact=True).fill("3000")
    area.get_by_role("button", name="Revise the decision").click()
    expect(page.locator("#decision-2")).to_contain_text("revised in round 1")
    page.locator("#decision-issue").get_by_role("button", name="Issue the notice").click()
    expect(page.locator("#decision-notices")).to_contain_text("Version 2")


def _carry_out(page: Page, tmp_path: Path) -> None:
    page.goto(f"/complaints/{REFERENCE}")
    page.locator("#area-remedies").get_by_role("button", name="Start the remedies").click()
    area = page.locator("#area-remedies")
    expect(area.locator(".remedy-task")).to_have_count(3)
    refund = area.locator(".remedy-task", has_text="Partial fee refund")
    refund.get_by_text("Record it as done").click()
    refund.get_by_label("Amount paid (CNY)").fill("3000")
    refund.get_by_label("Paid on").fill(clock.now().strftime("%Y-%m-%d"))
    refund.get_by_label("Method").select_option(index=1)
    receipt = tmp_path / "回单.png"
    receipt.write_bytes(PNG)
    refund.get_by_label("Receipt", exact=True).set_input_files(str(receipt))
    refund.get_by_role("button", name="Record as done").click()
    area = page.locator("#area-remedies")
    expect(area.locator(".remedy-task", has_text="Partial fee refund")).to_contain_text("Done")
    apology = area.locator(".remedy-task", has_text="Written apology")
    apology.get_by_text("Record it as done").click()
    apology.get_by_label("The letter of apology").fill(
        "李明先生：对于王律师未能及时回复您，本所深表歉意。")
    apology.get_by_role("button", name="Record as done").click()
    area = page.locator("#area-remedies")
    expect(area.locator(".remedy-task", has_text="Written apology")).to_contain_text("Done")
    internal = area.locator(".remedy-task", has_text="Internal criticism")
    expect(internal).to_contain_text("Internal: partners only")
    settled(page)
    check_page(page)


# --------------------------------------------------------------------------- the story


def test_a_ballot_runs_to_its_close_and_the_outcome_is_answered_and_carried_out(
        en_page: Page, browser: Browser, live_server: LiveServer, smtp: SMTPServer,  # noqa: F811
        committee_of_three: None, tmp_path: Path):
    page = en_page
    complaint_id = _awaiting_decision(live_server)

    login(page, "partner2")
    ballot_id = _fees_and_ballot(page)
    expect(page.locator("#ballot-count")).to_contain_text("0 of 2 eligible members")
    _recused_partner_cannot_vote(page, live_server, ballot_id)

    _vote(page, "committee1", ballot_id, ("Approve", "Object"), "陈述属实，应当致歉。", 0)
    expect(page.locator("#ballot-count")).to_contain_text("1 of 2 eligible members")
    expect(page.locator("#ballot-vote")).to_contain_text("Your vote is recorded")
    logout(page)

    # The partner who opened it sees the count, never the vote, while it is open.
    login(page, "partner2")
    page.goto(f"/ballots/{ballot_id}")
    expect(page.locator("#ballot-count")).to_contain_text("1 of 2 eligible members")
    expect(page.locator("main")).not_to_contain_text("陈述属实")
    logout(page)

    _vote(page, "committee2", ballot_id, ("Approve", "Abstain"), "同意，退费合理。", 1)
    _tally_after_close(page)
    logout(page)

    login(page, "partner2")
    _decide_and_issue(page)
    first = _deliver(live_server, smtp, 1)
    assert len(first) == 1
    _notice_says(first[0], tmp_path, SUMMARY_ZH, "Outcome", "Written apology", "2,000.00",
                 "律师协会", "12348", "lawyers' association")
    _client_answers(browser, live_server, _client_link(first[0]), "disputed", DISPUTE_ZH)

    _negotiate(page)
    second = _deliver(live_server, smtp, 2)
    assert len(second) == 2
    _notice_says(second[-1], tmp_path, REVISED_ZH, "3,000.00", "律师协会")
    _client_answers(browser, live_server, _client_link(second[-1]), "accepted",
                    notices=2)

    _carry_out(page, tmp_path)
    with live_server.app.app_context():
        assert db.session.get(Complaint, complaint_id).state == State.FOLLOW_UP
    mail = _deliver(live_server, smtp, 5)
    subjects = [str(m["Subject"]) for m in mail]
    # two outcome notices, the apology, the completion notice and the follow-up survey
    assert len(mail) == 5, subjects
    completion = [m for m in mail if "carried out" in str(m["Subject"]).lower()
                  or "完成" in str(m["Subject"])]
    assert len(completion) == 1, subjects
    _notice_says(completion[0], tmp_path, "3,000.00", "完成", "carried out")
    page.goto(f"/complaints/{REFERENCE}")
    expect(page.locator(".case-head, main").first).to_contain_text("Follow-up")
