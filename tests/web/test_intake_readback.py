"""The client's signed link: confirm once, correct, and every way a link can be bad."""

from __future__ import annotations

import re
import time

import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import ConfirmationLink, OutboxMessage
from portal.services.intake.confirmation import CONFIRMATION_SALT
from tests.conftest import field_errors
from tests.web.test_intake_support import HX, complete_draft, events, get, save


def send_link(client, app, key: str) -> str:
    """Ask for the link as the receptionist; return the path the client's email holds."""
    response = client.post(f"/complaints/{key}/confirmation-link", headers=HX)
    assert response.status_code == 200, response.text
    assert "A confirmation link has been emailed" in response.text
    with app.app_context():
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == "confirmation_request")
            .order_by(OutboxMessage.id.desc())).first()
        match = re.search(r"https?://[^/\s]+(/confirm/\S+)", message.body_text)
        assert match, message.body_text
        assert match.group(1) in message.body_html
        return match.group(1)


@pytest.fixture
def linked(client, auth, app):
    """A complete draft for an English-speaking client, link sent, receptionist signed out."""
    auth.login_as("receptionist")
    key = complete_draft(client, app, existing="Emily Carter", matter="M-2026-0057")
    path = send_link(client, app, key)
    auth.logout()
    return key, path


def test_link_email_is_queued_bilingual(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    send_link(client, app, key)
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        assert message.recipient == "chen.xiaohong@example.com"
        assert message.subject.count(" / ") == 1
        assert "王律师收费后三个月没有任何进展" in message.body_text
    requested = events(app, "complaint.confirmation_requested", get(app, key).id)
    assert len(requested) == 1
    assert "chen.xiaohong" not in str(requested[0].details)


def test_no_link_without_an_email_address(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    save(client, app, key, "complainant", {
        "complainant-name": "陈小红", "complainant-phone": "138 0013 9999",
        "complainant-email": "", "complainant-language": "zh"})
    response = client.post(f"/complaints/{key}/confirmation-link", headers=HX)
    assert response.status_code == 422
    assert "No email address is recorded" in response.text


def test_no_link_for_an_incomplete_record(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    with app.app_context(), writes_by_default():
        from portal.models import Complaint

        db.session.get(Complaint, int(key[1:])).remedies_sought = []
        db.session.commit()
    response = client.post(f"/complaints/{key}/confirmation-link", headers=HX)
    assert response.status_code == 422
    assert "not complete" in response.text


def test_client_sees_the_read_back_in_their_language_without_login(client, app, linked):
    _, path = linked
    page = client.get(path)
    assert page.status_code == 200
    assert '<html lang="en">' in page.text
    assert "Please check your complaint" in page.text
    assert "Emily Carter" in page.text and "Carter v. Shanghai supplier" in page.text
    assert "<script" not in page.text  # works without JavaScript
    assert page.text.count('name="csrf_token"') == 2
    assert "noindex" in page.text
    # Looking changes nothing: a mail scanner following the link does not use it up.
    assert client.get(path).status_code == 200
    viewed = events(app, "complaint.viewed", get(app, linked[0]).id)
    assert viewed and viewed[-1].actor_label == "client"


def test_client_confirms_once(client, app, linked):
    key, path = linked
    client.get(path)
    response = client.post(path, data={"action": "confirm"})
    assert response.status_code == 200
    assert "Your confirmation has been recorded" in response.text
    complaint = get(app, key)
    assert complaint.confirmation_method == "signed_link"
    assert complaint.confirmed_at is not None
    again = client.post(path, data={"action": "confirm"})
    assert again.status_code == 410
    assert "This link has already been used" in again.text
    assert client.get(path).status_code == 410


def test_client_asks_for_a_correction(client, auth, app, linked):
    key, path = linked
    client.get(path)
    empty = client.post(path, data={"action": "correct", "correction": "  "})
    assert empty.status_code == 422
    assert "Please write what should be corrected." in field_errors(empty.text)
    text = "The lawyer was 张敏, not 王磊."
    response = client.post(path, data={"action": "correct", "correction": text})
    assert response.status_code == 200
    assert "We have received your correction" in response.text
    complaint = get(app, key)
    assert complaint.correction_requested == text
    assert not complaint.is_confirmed
    assert client.post(path, data={"action": "confirm"}).status_code == 410
    # Staff see it on the record.
    auth.login_as("receptionist")
    page = client.get(f"/complaints/{key}")
    assert "The client asked for a correction" in page.text
    assert "张敏, not 王磊" in page.text


def test_a_tampered_token_is_400_in_both_languages(client, linked):
    _, path = linked
    token = path.rsplit("/", 1)[-1]
    forged = token[:-3] + ("xyz" if not token.endswith("xyz") else "abc")
    response = client.get(f"/confirm/{forged}")
    assert response.status_code == 400
    assert "This link is not valid" in response.text
    assert 'lang="zh-CN"' in response.text and 'lang="en"' in response.text
    assert client.post(f"/confirm/{forged}", data={"action": "confirm"}).status_code == 400
    assert client.get("/confirm/not-a-token").status_code == 400


def test_a_token_signed_for_something_else_is_400(client, app, linked):
    key, _ = linked
    with app.app_context():
        nonce = db.session.scalar(select(ConfirmationLink.nonce))
    other = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="another-purpose").dumps(nonce)
    assert client.get(f"/confirm/{other}").status_code == 400
    wrong_key = URLSafeTimedSerializer("not-the-secret", salt=CONFIRMATION_SALT)
    assert client.get(f"/confirm/{wrong_key.dumps(nonce)}").status_code == 400


def test_an_expired_link_is_410(client, app, linked):
    key, _ = linked

    class EightDaysAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 8 * 86400

    with app.app_context():
        nonce = db.session.scalar(select(ConfirmationLink.nonce))
    token = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=CONFIRMATION_SALT,
                                   signer=EightDaysAgo).dumps(nonce)
    response = client.get(f"/confirm/{token}")
    assert response.status_code == 410
    assert "This link has expired" in response.text
    assert '<html lang="en">' in response.text  # the client's language comes first
    assert client.post(f"/confirm/{token}", data={"action": "confirm"}).status_code == 410
    assert not get(app, key).is_confirmed


def test_a_link_is_cancelled_when_the_record_changes(client, auth, app, linked):
    key, path = linked
    auth.login_as("receptionist")
    save(client, app, key, "incident", {"incident-narrative": "Updated account of events.",
                                        "incident-occurred_on": "2026-05-20"})
    auth.logout()
    response = client.get(path)
    assert response.status_code == 410
    assert "This link is no longer valid" in response.text


def test_answering_needs_the_forms_csrf_token(client, app, linked):
    _, path = linked
    client.get(path)
    client.send_csrf = False
    response = client.post(path, data={"action": "confirm"})
    assert response.status_code == 400
    assert not get(app, linked[0]).is_confirmed


def test_registration_after_the_client_confirmed(client, auth, app, linked):
    key, path = linked
    client.get(path)
    client.post(path, data={"action": "confirm"})
    auth.login_as("receptionist")
    response = client.post(f"/complaints/{key}/register", headers=HX)
    assert response.status_code == 200
    assert get(app, key).state == "registered"


def test_link_uses_the_configured_public_address_not_the_request_host(client, auth, app):
    """Links in emails point where clients reach the portal, whatever Host the request had."""
    app.config["PUBLIC_BASE_URL"] = "https://redress.firm.example/"
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    response = client.post(f"/complaints/{key}/confirmation-link", headers=HX)
    assert response.status_code == 200
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
    assert "https://redress.firm.example/confirm/" in message.body_text
    assert "//localhost" not in message.body_text + (message.body_html or "")
