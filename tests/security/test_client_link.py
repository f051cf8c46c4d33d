"""What an attacker tries with the client's page: an expired, tampered or revoked link (and a
link naming one complaint with another's key), another complaint's notice or a staff-only
document through a valid link, probing the lost-link form for who has a complaint; and what the
client must never see (internal measures) or leak (personal data in links, cached pages)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.models import Complaint, OutboxMessage
from portal.services.resolution import client_link, lost_link
from tests.client_support import (
    EMAIL,
    INTERNAL_WORDS,
    REFERENCE,
    answers_of,
    decision_id,
    notice_id,
    outcome_sent,
    page_url,
    revise,
    state_of,
    token,
)
from tests.security.helpers import changed_tables, snapshot

OTHER = "TS-2026-00078"
INTERNAL_LABELS = ("Internal criticism", "Disciplinary measure", "内部批评", "纪律处分",
                   "internal_criticism", "disciplinary", "Formal reprimand", "Warning")


def _attempts(client, app, url: str, cid: int) -> list:
    """GET the page, download its outcome notice and post an answer."""
    nid = notice_id(app, cid, "outcome")
    return [client.get(url), client.get(f"{url}/notices/{nid}"),
            client.post(f"{url}/answer", data={"kind": "accepted",
                                               "decision": str(decision_id(app, cid))})]


def _refused_and_unchanged(app, client, url: str, cid: int, status: int, words: str) -> None:
    before = snapshot(app)
    for response in _attempts(client, app, url, cid):
        assert response.status_code == status, response.request.path
        assert words in response.text
        assert response.headers["Cache-Control"] == "no-store"
        assert OUTCOME_MARK not in response.text
    assert changed_tables(before, snapshot(app)) == []
    assert answers_of(app, cid) == [] and state_of(app, cid) == "outcome_sent"


OUTCOME_MARK = "OUTCOME-NOTICE-BYTES"


def test_an_expired_link_is_refused_and_changes_nothing(app, client, clock):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    clock.advance(app.config["CLIENT_LINK_MAX_AGE"])
    assert client.get(url).status_code == 200  # still valid on its last second
    clock.advance(app.config["CLIENT_LINK_MAX_AGE"] / 90)
    _refused_and_unchanged(app, client, url, cid, 410, "This link has expired")
    assert "/c/lost" in client.get(url).text  # and says how to get a new one


@pytest.mark.parametrize("mangle", [
    lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
    lambda t: "WzIsImtleSJd" + t[t.index("."):],  # another payload, the same signature
    lambda t: t.split(".")[0],  # no signature at all
    lambda t: "not-a-token",
])
def test_a_tampered_link_is_404_and_changes_nothing(app, client, mangle):
    cid = outcome_sent(app)
    url = f"/c/{mangle(token(app, cid))}"
    _refused_and_unchanged(app, client, url, cid, 404, "This link is not valid")


def test_links_signed_with_a_replaced_key_are_refused(app, client):
    cid = outcome_sent(app)
    other = outcome_sent(app, reference=OTHER)
    old = page_url(app, cid)
    with app.test_request_context(), write_transaction():
        client_link.rotate_key(db.session.get(Complaint, cid))
    _refused_and_unchanged(app, client, old, cid, 410, "This link has been replaced")
    # A well-signed link naming this complaint with the other complaint's key.
    with app.app_context():
        other_key = db.session.get(Complaint, other).client_link_key
        mixed = client_link._serializer().dumps([cid, other_key])
    _refused_and_unchanged(app, client, f"/c/{mixed}", cid, 410, "This link has been replaced")
    assert client.get(page_url(app, cid)).status_code == 200  # the new link works


def test_another_complaints_notice_and_staff_documents_are_404(app, client):
    cid = outcome_sent(app)
    other = outcome_sent(app, reference=OTHER)
    url = page_url(app, cid)
    theirs = notice_id(app, other, "outcome")
    report = notice_id(app, cid, "investigation_report")
    for nid in (theirs, report, 999999):
        response = client.get(f"{url}/notices/{nid}")
        assert response.status_code == 404
        assert response.mimetype == "text/html"
    page = client.get(url).text
    assert f"/notices/{report}" not in page and "STAFF-ONLY" not in page
    assert "Investigation report" not in page


def test_the_client_never_sees_internal_measures(app, client):
    cid = outcome_sent(app)
    url = page_url(app, cid)
    pages = [client.get(url).text]
    with app.app_context(), write_transaction():
        db.session.get(Complaint, cid).language = "zh"
    pages.append(client.get(url).text)
    client.post(f"{url}/answer", data={"kind": "disputed", "reason": "too small",
                                       "decision": str(decision_id(app, cid))})
    pages.append(client.get(url).text)
    revise(app, cid)
    pages.append(client.get(url).text)
    for html in pages:
        for words in (*INTERNAL_WORDS, *INTERNAL_LABELS):
            assert words not in html


def test_the_page_links_carry_no_personal_data(app, client):
    cid = outcome_sent(app)
    html = client.get(page_url(app, cid)).text
    links = re.findall(r'(?:href|action)="([^"]*)"', html)
    assert links
    for link in links:
        for personal in ("li.ming", "李明", "13800138000", "%E6%9D%8E"):
            assert personal not in link


# -- the lost link ---------------------------------------------------------------------------

def _ask(client, reference: str, email: str):
    return client.post("/c/lost", data={"reference": reference, "email": email})


def _without_csrf(html: str) -> str:
    return re.sub(r'name="csrf_token" value="[^"]*"', "", html)


def _sent(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(OutboxMessage.id)).where(
            OutboxMessage.kind == lost_link.MAIL_KIND))


def test_the_lost_link_form_answers_the_same_whatever_matches(app, client):
    cid = outcome_sent(app)
    old = page_url(app, cid)
    answers = []
    for reference, email in (("TS-2031-12345", EMAIL), (REFERENCE, "not.li@example.com"),
                             (REFERENCE, EMAIL)):
        response = _ask(client, reference, email)
        answers.append((response.status_code, _without_csrf(response.text)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0][0] == 200 and "If the reference and the email address match" in \
        answers[0][1]
    for _status, body in answers:
        assert EMAIL not in body and REFERENCE not in body
    assert _sent(app) == 1  # only the match
    assert client.get(old).status_code == 410  # and the earlier link is revoked


def test_the_lost_link_form_is_rate_limited_per_visitor(app, client):
    outcome_sent(app)
    limit = app.config["LOST_LINK_PER_IP_PER_HOUR"]
    for _ in range(limit):
        assert _ask(client, "TS-2031-12345", EMAIL).status_code == 200
    refused = _ask(client, REFERENCE, EMAIL)
    assert refused.status_code == 429 and "several requests" in refused.text
    assert _sent(app) == 0
    assert REFERENCE in refused.text  # what was typed stays in the form


def test_the_lost_link_form_refuses_a_forged_post_and_sends_nothing(app, client):
    outcome_sent(app)
    client.send_csrf = False
    response = _ask(client, REFERENCE, EMAIL)
    assert response.status_code == 400 and "did not come from this site" in response.text
    assert _sent(app) == 0
