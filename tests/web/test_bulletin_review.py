"""Drafting a bulletin from the case file and reviewing it: partners only (and not a
partner conflicted on the complaint), every identity replaced on the page, undo with a
reason, flags after an edit, publishing refused while one is open, refusals keep the input."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from portal.db import db
from portal.models import Bulletin
from tests.bulletin_support import IDENTITIES, REFERENCE, finished
from tests.web.test_intake_support import HX

CASE = f"/complaints/{REFERENCE}"


@pytest.fixture(autouse=True)
def _firm_writes_chinese(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "zh_CN"


def _version(html: str) -> str:
    return re.search(r'name="version" value="(\d+)"', html).group(1)


def _drafted(app, client, auth) -> int:
    finished(app)
    auth.login("partner2")
    response = client.post(f"{CASE}/bulletin", headers=HX)
    assert response.status_code in (200, 303), response.text
    with app.app_context():
        return db.session.scalar(select(Bulletin.id))


def test_a_partner_drafts_from_the_case_file_and_no_identity_is_on_the_review(
        app, client, auth):
    bid = _drafted(app, client, auth)
    page = client.get(f"/bulletins/{bid}/review", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = re.search(r'<div class="bulletin-text[^>]*>(.*?)</div>', page.text, re.S).group(1)
    visible = re.sub(r"<[^>]+>", "", re.sub(r' title="[^"]*"', "", text))
    for identity in IDENTITIES:
        assert identity not in visible, identity
    assert "客户甲" in visible


def test_others_cannot_see_or_draft(app, client, auth):
    bid = _drafted(app, client, auth)
    for username in ("investigator", "committee1", "reception"):
        auth.logout()
        auth.login(username)
        assert client.get(f"/bulletins/{bid}/review").status_code in (403, 404)
        assert client.post(f"/bulletins/{bid}/review/publish",
                           data={"version": "1"}).status_code in (403, 404)
    auth.logout()
    auth.login("partner")  # 陈志远 supervises the complaint's matter: conflicted
    assert client.get(f"/bulletins/{bid}/review").status_code == 404


def test_undo_needs_a_reason_and_keeps_what_was_typed(app, client, auth):
    bid = _drafted(app, client, auth)
    page = client.get(f"/bulletins/{bid}/review", headers={"Accept-Language": "en"})
    refused = client.post(f"/bulletins/{bid}/review/undo", headers={**HX, "Accept-Language": "en"},
                          data={"version": _version(page.text), "index": "0", "reason": ""})
    assert refused.status_code == 422 and "Say why" in refused.text
    done = client.post(f"/bulletins/{bid}/review/undo", headers=HX, data={
        "version": _version(page.text), "index": "0", "reason": "普通用语"})
    assert done.status_code == 200
    with app.app_context():
        assert db.session.get(Bulletin, bid).kept[0]["reason"] == "普通用语"


def test_an_edit_naming_the_lawyer_is_flagged_and_publishing_refused_keeping_the_text(
        app, client, auth):
    bid = _drafted(app, client, auth)
    page = client.get(f"/bulletins/{bid}/review")
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        title, body = bulletin.title, bulletin.body + "\n后来王磊承认了错误。"
    saved = client.post(f"/bulletins/{bid}/review/edit", headers=HX, data={
        "version": _version(page.text), "title": title, "body": body})
    assert saved.status_code == 200 and 'class="flagged"' in saved.text
    refused = client.post(f"/bulletins/{bid}/review/publish",
                          headers={**HX, "Accept-Language": "en"},
                          data={"version": _version(saved.text)})
    assert refused.status_code == 422 and "still look" in refused.text
    stale = client.post(f"/bulletins/{bid}/review/edit", headers=HX, data={
        "version": _version(page.text), "title": title, "body": body + "我写的新段落"})
    assert stale.status_code == 409 and "我写的新段落" in stale.text
    with app.app_context():
        assert db.session.get(Bulletin, bid).status == "draft"


def test_publishing_clears_the_flags_first_then_forgets_the_complaint(app, client, auth):
    bid = _drafted(app, client, auth)
    page = client.get(f"/bulletins/{bid}/review")
    while 'class="flagged"' in page.text:
        flagged = re.search(r'name="text" value="([^"]+)"', page.text).group(1)
        page = client.post(f"/bulletins/{bid}/review/replace", headers=HX, data={
            "version": _version(page.text), "text": flagged})
        assert page.status_code == 200
    published = client.post(f"/bulletins/{bid}/review/publish", headers=HX,
                            data={"version": _version(page.text)})
    assert published.status_code in (200, 204, 303)
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        assert bulletin.status == "published" and bulletin.complaint_id is None
    assert client.get(f"/bulletins/{bid}/review").status_code in (303, 302, 200)


def test_a_complaint_not_finished_cannot_be_drafted_even_by_posting(app, client, auth):
    finished(app, state="accepted")
    auth.login("partner2")
    page = client.get(CASE)
    assert "Draft a bulletin from this case" not in page.text
    refused = client.post(f"{CASE}/bulletin", headers={**HX, "Accept-Language": "en"})
    assert refused.status_code == 422 and "not finished" in refused.text
    with app.app_context():
        assert db.session.scalar(select(Bulletin)) is None


def test_a_record_too_long_for_the_engine_is_refused_with_a_message(app, client, auth):
    finished(app, narrative="律师迟延回复。" * 30_000)
    auth.login("partner2")
    refused = client.post(f"{CASE}/bulletin", headers={**HX, "Accept-Language": "en"})
    assert refused.status_code == 422 and "200,000 characters" in refused.text
    with app.app_context():
        assert db.session.scalar(select(Bulletin)) is None
