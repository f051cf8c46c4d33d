"""Read-back, confirmation, partner override and registration, through the pages."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import OutboxMessage
from portal.services import calendar
from portal.services.intake.record import local_today
from tests.web.test_intake_support import (
    HX,
    complete_draft,
    confirm_in_person,
    events,
    get,
    new_draft,
    save,
    version,
)


def register(client, key: str):
    return client.post(f"/complaints/{key}/register", headers=HX)


# --- the read-back view ----------------------------------------------------------------------


def test_read_back_is_in_the_clients_language_whatever_the_ui(reception, app):
    key = complete_draft(reception, app, existing="Emily Carter")  # prefers English
    reception.post("/language", data={"locale": "zh_CN"})
    page = reception.get(f"/complaints/{key}/read-back")
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text  # the staff interface stays Chinese
    points = page.text[page.text.index('class="read-back-points"'):]
    assert points.startswith('class="read-back-points" lang="en"')
    assert "20 May 2026" in points  # dates in the client's language, British order
    assert "Emily Carter" in points and "王磊" in points
    assert len(events(app, "complaint.viewed", get(app, key).id)) == 1


def test_read_back_of_a_chinese_client_uses_chinese_dates(reception, app):
    key = complete_draft(reception, app, existing="李明")
    reception.post("/language", data={"locale": "en"})
    page = reception.get(f"/complaints/{key}/read-back")
    assert '<html lang="en">' in page.text
    points = page.text[page.text.index('class="read-back-points"'):]
    assert points.startswith('class="read-back-points" lang="zh-CN"')
    assert "2026年5月20日" in points


def test_confirmation_needs_a_method(reception, app):
    key = complete_draft(reception, app)
    response = reception.post(f"/complaints/{key}/confirm",
                              data={"version": version(app, key)})
    assert response.status_code == 422
    assert 'id="confirm-method-error"' in response.text
    assert not get(app, key).is_confirmed


def test_confirmation_of_a_changed_record_is_409(reception, app):
    key = complete_draft(reception, app)
    read_at = version(app, key)
    save(reception, app, key, "incident", {
        "incident-narrative": "改过的描述", "incident-occurred_on": "2026-05-20"})
    response = reception.post(f"/complaints/{key}/confirm",
                              data={"confirm-method": "phone", "version": read_at})
    assert response.status_code == 409
    assert "read the new version to the client" in response.text
    assert not get(app, key).is_confirmed


# --- registration ----------------------------------------------------------------------------


def test_registration_is_blocked_until_complete(reception, app):
    key = new_draft(reception)
    response = register(reception, key)
    assert response.status_code == 422
    assert "Complete these sections first" in response.text
    assert get(app, key).reference is None


def test_registration_is_blocked_while_unconfirmed(reception, app):
    key = complete_draft(reception, app)
    response = register(reception, key)
    assert response.status_code == 422
    assert "The client has not confirmed the read-back" in response.text
    complaint = get(app, key)
    assert complaint.state == "draft" and complaint.reference is None
    # Without JavaScript: the whole page, same message.
    page = reception.post(f"/complaints/{key}/register")
    assert page.status_code == 422 and "<html" in page.text
    assert "The client has not confirmed the read-back" in page.text


def test_registration_after_confirmation(reception, app):
    key = complete_draft(reception, app)
    assert confirm_in_person(reception, app, key).status_code == 303
    confirmed = get(app, key)
    assert confirmed.confirmation_method == "in_person"
    assert confirmed.confirmed_by_id is not None
    response = register(reception, key)
    assert response.status_code == 200
    year = local_today().year
    reference = f"TS-{year}-00001"
    assert response.headers["HX-Redirect"] == f"/complaints/{reference}"
    complaint = get(app, reference)
    assert complaint.state == "registered"
    assert complaint.registered_at is not None
    registered = events(app, "complaint.registered", complaint.id)
    assert registered[0].details["reference"] == reference


def test_deadline_comes_from_the_working_day_calendar(reception, app):
    # Received Tuesday 29 September 2026: the National Day holiday (1-7 October) does not
    # count, so three working days later is Friday 9 October.
    key = complete_draft(reception, app, received="2026-09-29T10:30")
    confirm_in_person(reception, app, key)
    register(reception, key)
    complaint = get(app, key)
    with app.app_context():
        expected = calendar.first_response_due(complaint.received_at,
                                               app.config["FIRST_RESPONSE_WORKING_DAYS"])
    assert complaint.first_response_due == expected.due == date(2026, 10, 9)
    assert complaint.deadline("first_response").provisional is expected.provisional


def test_deadline_uses_the_configured_number_of_days(reception, app):
    app.config["FIRST_RESPONSE_WORKING_DAYS"] = 1
    key = complete_draft(reception, app, received="2026-09-29T10:30")
    confirm_in_person(reception, app, key)
    register(reception, key)
    assert get(app, key).first_response_due == date(2026, 9, 30)


def test_references_are_sequential(reception, app):
    keys = [complete_draft(reception, app) for _ in range(3)]
    for key in keys:
        confirm_in_person(reception, app, key)
        assert register(reception, key).status_code == 200
    year = local_today().year
    assert [get(app, k).reference for k in keys] == [
        f"TS-{year}-00001", f"TS-{year}-00002", f"TS-{year}-00003"]


def test_registration_queues_the_acknowledgement_without_rendering(reception, app,
                                                                   monkeypatch):
    import portal.documents as documents

    def no_rendering(*args, **kwargs):
        raise AssertionError("registration must not render the PDF")

    monkeypatch.setattr(documents, "render_pdf", no_rendering)
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    assert register(reception, key).status_code == 200
    with app.app_context():
        mail = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "acknowledgement")).all()
        assert len(mail) == 1
        assert mail[0].recipient == "chen.xiaohong@example.com"
        assert mail[0].status == "pending"


def test_registered_complaint_shows_deadline_and_timeline(reception, app):
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    register(reception, key)
    reference = get(app, key).reference
    page = reception.get(f"/complaints/{reference}")
    assert page.status_code == 200
    assert reference in page.text
    assert "Registered as " + reference in page.text
    assert "Email queued: Acknowledgement to chen.xiaohong@example.com" in page.text
    assert register(reception, reference).status_code == 422  # not twice


def test_online_submission_must_be_verified_before_registration(reception, app):
    key = complete_draft(reception, app)
    with app.app_context(), writes_by_default():
        from portal.models import Complaint

        db.session.get(Complaint, int(key[1:])).needs_verification = True
        db.session.commit()
    confirm_in_person(reception, app, key)
    response = register(reception, key)
    assert response.status_code == 422
    assert "mark it as verified first" in response.text
    verified = reception.post(f"/complaints/{key}/verify", headers=HX)
    assert verified.status_code == 200
    assert "marked as verified" in verified.text
    assert get(app, key).needs_verification is False
    assert register(reception, key).status_code == 200


# --- partner override ------------------------------------------------------------------------


def test_receptionist_cannot_override(reception, app):
    key = complete_draft(reception, app)
    response = reception.post(f"/complaints/{key}/override",
                              data={"override-reason": "客户联系不上"}, headers=HX)
    assert response.status_code == 403
    assert not get(app, key).is_confirmed


def test_partner_override_needs_a_reason(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    auth.logout()
    auth.login_as("partner")
    response = client.post(f"/complaints/{key}/override", data={"override-reason": "  "},
                           headers=HX)
    assert response.status_code == 422
    assert 'id="override-reason-error"' in response.text
    assert not get(app, key).is_confirmed


def test_partner_override_with_a_reason_allows_registration(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    auth.logout()
    auth.login_as("partner")
    reason = "客户出国，一周内无法联系，期限必须开始计算。"
    response = client.post(f"/complaints/{key}/override", data={"override-reason": reason},
                           headers=HX)
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "complaint-changed"
    complaint = get(app, key)
    assert complaint.confirmation_method == "override"
    assert complaint.confirmation_override_reason == reason
    overridden = events(app, "complaint.confirmation_overridden", complaint.id)
    assert overridden[0].details == {"reason_length": len(reason)}  # the record holds the text
    assert reason in client.get(f"/complaints/{key}/timeline", headers=HX).text
    assert register(client, key).status_code == 200
    assert get(app, key).state == "registered"


def test_a_respondent_partner_cannot_override(client, auth, app):
    auth.login_as("receptionist")
    key = complete_draft(client, app, lawyer="刘慧敏")  # partner2 is the respondent
    auth.logout()
    auth.login_as("partner")
    response = client.post(f"/complaints/{key}/override", data={"override-reason": "x" * 20},
                           headers=HX)
    assert response.status_code == 404  # their own case does not exist for them


# --- resend --------------------------------------------------------------------------------


def test_staff_can_resend_a_sent_email(reception, app):
    key = complete_draft(reception, app)
    confirm_in_person(reception, app, key)
    register(reception, key)
    reference = get(app, key).reference
    with app.app_context():
        message = db.session.scalar(select(OutboxMessage))
        pending_id = message.id
    early = reception.post(f"/complaints/{reference}/mail/{pending_id}/resend", headers=HX)
    assert early.status_code == 422
    assert "still waiting to be sent" in early.text
    with app.app_context(), writes_by_default():
        db.session.get(OutboxMessage, pending_id).status = "dead"
        db.session.commit()
    response = reception.post(f"/complaints/{reference}/mail/{pending_id}/resend", headers=HX)
    assert response.status_code == 200
    assert "The email will be sent again." in response.text
    with app.app_context():
        assert db.session.query(OutboxMessage).count() == 2
    assert re.search(r"Email queued again: Acknowledgement", response.text)
