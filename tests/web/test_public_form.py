"""The public online complaint form at /complaint, as a visitor (or a bot) meets it."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.models import AuditEvent, Channel, Client, Complaint, RateLimitHit, State, User
from portal.services import worklist
from tests.conftest import field_errors

NARRATIVE = "王律师收费后三个月没有任何进展，也不回复我的微信和电话。"


def valid_form(**changes) -> dict:
    data = {
        "name": "陈小红",
        "phone": "138 0013 9999",
        "email": "chen.xiaohong@example.com",
        "language": "zh",
        "lawyers": "王磊",
        "matter": "(2025)京0105民初12345号",
        "narrative": NARRATIVE,
        "occurred_on": "2026-05-20",
        "place": "电话",
        "remedies": ["explanation", "partial_refund"],
        "remedy_details": "退还一半律师费",
        "consent": "y",
        "website": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def count(app, model) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model))


def use_english(client) -> None:
    response = client.post("/language", data={"locale": "en", "next": "/complaint"})
    assert response.status_code == 303


# --- the page -------------------------------------------------------------------------------


def test_form_is_public_and_chinese_by_default(client):
    response = client.get("/complaint", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert response.status_code == 200
    assert "示例律师事务所" in response.text  # the firm's Chinese name
    assert 'name="csrf_token"' in response.text
    assert 'class="main-nav"' not in response.text  # no staff navigation for visitors
    assert "no-store" in response.headers["Cache-Control"]
    # Chinese locale: the preferred language defaults to Chinese.
    assert '<option selected value="zh">' in response.text


def test_form_switches_to_english(client):
    use_english(client)
    response = client.get("/complaint")
    assert response.status_code == 200
    assert 'lang="en"' in response.text
    assert "Make a complaint" in response.text
    assert "Privacy notice" in response.text
    assert '<option selected value="en">' in response.text


def test_form_works_without_javascript_and_asks_only_what_it_needs(client):
    html = client.get("/complaint").text
    form = html[html.index('<form id="complaint-form"'):]
    form = form[: form.index("</form>")]
    assert 'method="post"' in form and 'action="/complaint"' in form
    assert "data-hx-" not in form  # a plain form post
    assert 'name="id_number"' not in html  # data minimisation: no ID number online
    for name in ("name", "phone", "email", "language", "lawyers", "matter", "narrative",
                 "occurred_on", "place", "remedies", "remedy_details", "consent"):
        assert f'name="{name}"' in form, name
    assert form.count('type="checkbox" name="remedies"') == 6


def test_privacy_notice_says_what_why_who_how_long_and_contact(client, app):
    use_english(client)
    html = client.get("/complaint").text
    for heading in ("What we collect", "Why", "Who sees it", "How long we keep it",
                    "Your rights and how to contact us"):
        assert heading in html
    assert app.config["FIRM_COMPLAINTS_EMAIL"] in html
    assert f"{app.config['COMPLAINT_RETENTION_YEARS']} years" in html


def test_honeypot_is_hidden_from_people(client):
    html = client.get("/complaint").text
    block = re.search(r'<div class="honeypot" aria-hidden="true">(.*?)</div>', html, re.S)
    assert block, "honeypot wrapper missing"
    field = re.search(r"<input[^>]*name=\"website\"[^>]*>", block.group(1)).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field


def test_no_attribute_says_none(client):
    html = client.post("/complaint", data=valid_form(name="")).text
    assert '="None"' not in html


# --- submitting -----------------------------------------------------------------------------


def test_valid_submission_lands_in_the_verify_queue(client, app):
    response = client.post("/complaint", data=valid_form())
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/complaint/thanks")
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).one()
        assert complaint.state == State.DRAFT
        assert complaint.channel == Channel.WEB
        assert complaint.needs_verification is True
        assert complaint.reference is None
        assert complaint.created_by_id is None
        assert complaint.received_at is not None
        assert complaint.language == "zh"
        assert complaint.narrative == NARRATIVE
        assert complaint.occurred_on.isoformat() == "2026-05-20"
        assert complaint.occurred_place == "电话"
        assert complaint.remedies_sought == ["explanation", "partial_refund"]
        assert complaint.remedy_details == "退还一半律师费"
        assert complaint.respondents == [] and complaint.matter is None  # receptionist matches
        payload = complaint.submitted_payload
        assert payload["lawyers"] == "王磊"
        assert payload["matter"] == "(2025)京0105民初12345号"
        assert payload["remedies"] == ["explanation", "partial_refund"]
        assert "csrf_token" not in payload and "website" not in payload
        client_record = complaint.complainant
        assert (client_record.name, client_record.email) == ("陈小红", "chen.xiaohong@example.com")
        assert client_record.phone == "138 0013 9999" and client_record.id_number is None
        # A new person even though a client with this name could exist: nothing is matched.
        reception = db.session.scalar(select(User).where(User.username == "reception"))
        assert complaint in worklist.for_user(reception).to_verify
        event = db.session.scalar(
            select(AuditEvent).where(AuditEvent.action == "complaint.submitted_online"))
        assert event.object_id == str(complaint.id)
        flat = str(event.details)
        assert "陈小红" not in flat and "example.com" not in flat and "138" not in flat


def test_thank_you_page_says_what_happens_next(client, app):
    use_english(client)
    response = client.post("/complaint", data=valid_form(), follow_redirects=True)
    assert response.status_code == 200
    assert "What happens next" in response.text
    assert f"within {app.config['FIRST_RESPONSE_WORKING_DAYS']} working days" in response.text
    assert 'class="main-nav"' not in response.text


def test_full_width_phone_digits_are_accepted(client, app):
    response = client.post("/complaint", data=valid_form(phone="１３８００１３９９９９", email=""))
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(Client.phone).order_by(Client.id.desc())).first() \
            == "13800139999"


def test_language_follows_the_visitors_choice(client, app):
    use_english(client)
    form = valid_form(language="en", name="Jane Doe")
    assert client.post("/complaint", data=form).status_code == 303
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).one()
        assert complaint.language == "en" and complaint.complainant.language == "en"


# --- bad input ------------------------------------------------------------------------------


def test_invalid_form_is_422_keeps_the_text_and_shows_inline_errors(client, app):
    before = count(app, Complaint), count(app, Client)
    use_english(client)
    typed = "My lawyer never called back <b>at all</b>, for months."
    response = client.post("/complaint", data=valid_form(
        email="not-an-email", narrative=typed, consent=None, occurred_on="2026-02-30"))
    assert response.status_code == 422
    html = response.text
    assert "My lawyer never called back &lt;b&gt;at all&lt;/b&gt;, for months." in html
    assert 'value="not-an-email"' in html
    assert 'value="陈小红"' in html and 'value="2026-02-30"' in html
    assert 'value="partial_refund" checked' in html
    errors = field_errors(html)
    assert "This is not a valid email address." in errors
    assert "Please confirm that you have read the privacy notice." in errors
    assert any("year-month-day" in e for e in errors)
    assert 'id="email-error"' in html and 'aria-describedby="email-error"' in html
    assert (count(app, Complaint), count(app, Client)) == before


def test_a_way_to_contact_the_visitor_is_required(client):
    response = client.post("/complaint", data=valid_form(phone="", email=""))
    assert response.status_code == 422
    assert "Please give a phone number or an email address so that we can contact you." \
        in field_errors(response.text)


def test_other_remedy_needs_details(client):
    response = client.post("/complaint", data=valid_form(remedies=["other"], remedy_details=""))
    assert response.status_code == 422
    assert "Please describe the other remedy you would like." in field_errors(response.text)


@pytest.mark.parametrize("changes", [
    {"name": "x" * 101},
    {"name": "   "},
    {"phone": "call me maybe", "email": ""},
    {"email": "a@b"},
    {"language": "fr"},
    {"remedies": ["explanation", "a-yacht"]},
    {"occurred_on": "3000-01-01"},
    {"occurred_on": "yesterday"},
    {"narrative": "short"},
    {"narrative": "x" * 10_001},
    {"remedy_details": "y" * 2_001},
])
def test_malformed_input_is_422_never_500(client, app, changes):
    response = client.post("/complaint", data=valid_form(**changes))
    assert response.status_code == 422, changes
    assert field_errors(response.text)
    assert count(app, Complaint) == 0


def test_control_characters_are_stripped_not_stored(client, app):
    data = valid_form(name="陈\x1b小红", narrative=NARRATIVE + "\x07")
    response = client.post("/complaint", data=data)
    assert response.status_code == 303
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).one()
        assert complaint.complainant.name == "陈小红"
        assert "\x1b" not in str(complaint.submitted_payload)
        assert complaint.narrative == NARRATIVE


def test_nul_bytes_are_refused_and_nothing_is_stored(client, app):
    response = client.post("/complaint", data=valid_form(name="陈\x00小红"))
    assert response.status_code == 400
    assert count(app, Complaint) == 0


def test_honeypot_gets_thanks_but_nothing_is_stored(client, app):
    before = count(app, Complaint), count(app, Client), count(app, AuditEvent)
    response = client.post("/complaint", data=valid_form(website="http://spam.example"))
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/complaint/thanks")
    assert (count(app, Complaint), count(app, Client), count(app, AuditEvent)) == before


def test_rate_limit_is_429_after_n_and_keeps_the_text(client, app):
    app.config["PUBLIC_FORM_PER_IP_PER_HOUR"] = 2
    for _ in range(2):
        assert client.post("/complaint", data=valid_form()).status_code == 303
    use_english(client)
    typed = "A third complaint that must not be lost."
    response = client.post("/complaint", data=valid_form(narrative=typed))
    assert response.status_code == 429
    assert "We have received several complaints from your connection" in response.text
    assert typed in response.text and 'value="陈小红"' in response.text
    assert count(app, Complaint) == 2
    # The limit is per address, kept in the database (so it holds across processes).
    assert count(app, RateLimitHit) == 2
    with app.app_context():
        stored_keys = db.session.scalars(select(RateLimitHit.key)).all()
        assert all("127.0.0.1" not in key for key in stored_keys)  # a hash, not the address
    other = client.post("/complaint", data=valid_form(),
                        environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert other.status_code == 303


def test_bots_count_towards_the_limit(client, app):
    app.config["PUBLIC_FORM_PER_IP_PER_HOUR"] = 1
    assert client.post("/complaint", data=valid_form(website="spam")).status_code == 303
    assert client.post("/complaint", data=valid_form()).status_code == 429
    assert count(app, Complaint) == 0


def test_missing_csrf_token_is_400_stores_nothing_and_keeps_the_text(client, app):
    client.get("/complaint")
    client.send_csrf = False
    response = client.post("/complaint", data=valid_form())
    assert response.status_code == 400
    assert NARRATIVE in response.text
    assert 'name="csrf_token" value="' in response.text  # a fresh token to try again
    assert count(app, Complaint) == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent)
                                 .where(AuditEvent.action == "csrf.rejected")) == 1


def test_wrong_csrf_token_is_400(client, app):
    client.send_csrf = False
    response = client.post("/complaint", data=valid_form(csrf_token="forged"))
    assert response.status_code == 400
    assert count(app, Complaint) == 0


def test_form_token_in_the_page_is_accepted(client, app):
    """What a browser without JavaScript does: send the hidden csrf_token input."""
    html = client.get("/complaint").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    client.send_csrf = False
    response = client.post("/complaint", data=valid_form(csrf_token=token))
    assert response.status_code == 303
    assert count(app, Complaint) == 1
