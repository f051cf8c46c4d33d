"""A respondent's written reply: asked for by email with a signed, expiring link; the page
shows only the allegations concerning them and the due date; one reply, once."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock as portal_clock
from portal.db import db, writes_by_default
from portal.models.investigation import ReplyRequest, Statement
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services.investigation.replies import reply_token
from tests.security.helpers import changed_tables, snapshot
from tests.web.test_intake_support import HX
from tests.web.test_workspace import BASE, audit_of, rows
from tests.workspace_support import ALLEGATIONS, NARRATIVE, investigating, set_state, user_id

LINK = re.compile(r"https?://[^/\s]+(/reply/[A-Za-z0-9_.\-]+)")


@pytest.fixture
def lead(app, client, auth):
    investigating(app)
    auth.login_as("investigator")
    return client


def ask(client, app, respondent: str = "王磊", due_in: int = 10, htmx: bool = True):
    due = (portal_clock.today() + timedelta(days=due_in)).isoformat()
    return client.post(f"{BASE}/replies", headers=HX if htmx else {},
                       data={"reply-respondent_id": str(user_id(app, respondent)),
                             "reply-due_on": due})


def mail(app) -> OutboxMessage:
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage)
                                    .where(OutboxMessage.kind == "reply_request")
                                    .order_by(OutboxMessage.id.desc()).limit(1))
        db.session.expunge(message)
        return message


@pytest.fixture
def link(lead, app, auth) -> str:
    """The path of the link emailed to 王磊, the respondent then signed out (anonymous)."""
    assert ask(lead, app).status_code == 200
    path = LINK.search(mail(app).body_text).group(1)
    auth.logout()
    return path


def test_asking_emails_the_respondent_in_their_language(lead, app):
    response = ask(lead, app)
    assert response.status_code == 200, response.text
    assert "The respondent has been emailed a link" in response.text
    message = mail(app)
    assert message.recipient == "wang.lei@firm.example"
    assert "TS-2026-09001" in message.subject
    [request] = rows(app, ReplyRequest)
    due = request.due_on  # in Chinese: a lawyer without a login never chose a language
    assert f"{due.year}年{due.month}月{due.day}日" in message.body_text
    assert 'lang="zh-CN"' in message.body_html
    assert LINK.search(message.body_text) and LINK.search(message.body_html)
    assert NARRATIVE not in message.body_text
    [event] = audit_of(app, "reply.requested")
    assert event.details == {"reply_request_id": request.id,
                             "respondent_id": user_id(app, "王磊"),
                             "due_on": request.due_on.isoformat()}


def test_a_respondent_who_chose_english_is_written_to_in_english(lead, app):
    with app.app_context(), writes_by_default():
        db.session.scalar(select(User).where(User.name == "王磊")).locale = "en"
        db.session.commit()
    ask(lead, app)
    message = mail(app)
    assert message.subject == "Complaint TS-2026-09001: your written reply is requested"
    assert 'lang="en"' in message.body_html


@pytest.mark.parametrize(("due_in", "message"), [
    (-1, "The due date has passed."),
    (60, "The link works until"),
])
def test_a_due_date_outside_the_links_life_is_refused(lead, app, due_in, message):
    response = ask(lead, app, due_in=due_in)
    assert response.status_code == 422
    assert message in response.text
    assert rows(app, ReplyRequest) == []


def test_a_respondent_without_an_email_address_cannot_be_asked(lead, app):
    with app.app_context(), writes_by_default():
        db.session.scalar(select(User).where(User.name == "王磊")).email = None
        db.session.commit()
    response = ask(lead, app)
    assert response.status_code == 422
    assert "No usable email address is recorded for 王磊" in response.text
    assert rows(app, ReplyRequest) == []


def test_one_open_link_per_respondent(lead, app):
    assert ask(lead, app).status_code == 200
    response = ask(lead, app)
    assert response.status_code == 422
    assert "already has a link to reply" in response.text
    assert len(rows(app, ReplyRequest)) == 1


def test_the_page_shows_only_the_allegations_concerning_the_respondent(client, app, link):
    response = client.get(link)
    assert response.status_code == 200
    page = response.text
    assert ALLEGATIONS[0][0] in page  # 王磊's
    assert ALLEGATIONS[1][0] not in page and ALLEGATIONS[2][0] not in page
    assert NARRATIVE not in page and "李明" not in page
    due = rows(app, ReplyRequest)[0].due_on
    assert f"{due.year}年{due.month}月{due.day}日" in page  # in the respondent's language


def test_the_link_can_be_reopened_until_the_reply_is_sent_once(client, app, link):
    assert client.get(link).status_code == 200
    assert client.get(link).status_code == 200
    response = client.post(link, data={"text": "我已在期限内多次联系客户。"})
    assert response.status_code == 200
    assert "已收到" in response.text or "received" in response.text
    [statement] = rows(app, Statement)
    assert (statement.party, statement.method, statement.respondent_id) == (
        "respondent", "online_reply", user_id(app, "王磊"))
    assert statement.recorded_by_id is None
    [request] = rows(app, ReplyRequest)
    assert request.submitted_at is not None and request.statement_id == statement.id
    [event] = audit_of(app, "reply.submitted")
    assert event.actor_label == "respondent" and event.details == {
        "reply_request_id": request.id, "statement_id": statement.id,
        "respondent_id": user_id(app, "王磊")}


def test_a_second_reply_gets_410_and_changes_nothing(client, app, link):
    assert client.post(link, data={"text": "第一次答复"}).status_code == 200
    before = snapshot(app)
    second = client.post(link, data={"text": "第二次答复"})
    assert second.status_code == 410
    assert "already been received" in second.text
    assert 'lang="zh-CN"' in second.text and 'lang="en"' in second.text  # both languages
    assert client.get(link).status_code == 410
    assert changed_tables(before, snapshot(app)) == []


def test_an_expired_link_gets_410_and_changes_nothing(client, app, link, clock):
    clock.advance(timedelta(days=22))
    before = snapshot(app)
    assert client.get(link).status_code == 410
    response = client.post(link, data={"text": "迟到的答复"})
    assert response.status_code == 410
    assert "expired" in response.text
    assert changed_tables(before, snapshot(app)) == []


def test_a_tampered_link_gets_400_and_an_unknown_one_404(client, app, link):
    token = link.rsplit("/", 1)[1]
    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    before = snapshot(app)
    assert client.get(tampered).status_code == 400
    assert client.post(tampered, data={"text": "伪造"}).status_code == 400
    with app.app_context():
        request = db.session.scalar(select(ReplyRequest))
        request.nonce = "no-such-request"
        forged = reply_token(request, app.config["SECRET_KEY"])
        db.session.rollback()
    assert forged != token
    assert client.get(f"/reply/{forged}").status_code == 404
    assert changed_tables(before, snapshot(app)) == []


def test_a_link_of_a_closed_investigation_gets_410(client, app, link):
    set_state(app, "TS-2026-09001", "awaiting_decision")
    assert client.get(link).status_code == 410
    assert client.post(link, data={"text": "太晚了"}).status_code == 410
    assert rows(app, Statement) == []


def test_an_empty_reply_is_422_and_a_forged_form_400_with_the_text_kept(client, app, link):
    response = client.post(link, data={"text": "   "})
    assert response.status_code == 422
    assert "请填写您的答复" in response.text or "Please write your reply." in response.text
    client.send_csrf = False
    response = client.post(link, data={"text": "我的答复内容"})
    assert response.status_code == 400
    # The respondent (a lawyer without a login) reads the page in Chinese.
    assert "我的答复内容" in response.text and "并非来自本网站" in response.text
    assert rows(app, Statement) == []


def test_the_reply_appears_in_the_workspace(client, app, auth, link):
    client.post(link, data={"text": "我的书面答复"})
    auth.login_as("investigator")
    page = client.get(BASE).text
    assert "我的书面答复" in page and "sent through the reply link" in page
    assert "Received" in page
