"""Audit details hold ids and codes, never the complainant's name, address, phone or story.

The record holds those, so that retention can anonymise a complaint later without breaking
the hash chain. This drives the intake and public flows end to end and reads every event.
"""

from __future__ import annotations

import json
import smtplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models.audit import AuditEvent
from portal.models.outbox import OutboxMessage
from portal.models.user import User
from portal.services import outbox
from tests.web.test_intake_readback import send_link
from tests.web.test_intake_support import HX, complete_draft, get
from tests.web.test_public_form import valid_form

PUBLIC = {"name": "欧阳娜娜", "phone": "139 8765 4321", "email": "ouyang.nana@example.org",
          "narrative": "欧阳娜娜投诉：律师把我的案卷弄丢了，我多次打电话都没有人回应。"}
STAFF_ENTERED = ["陈小红", "138 0013 9999", "chen.xiaohong@example.com", "chen.xiaohong",
                 "北京市海淀区中关村大街1号", "王律师收费后三个月没有任何进展", "退还一半律师费"]
OVERRIDE_REASON = "陈小红本人出国，一周内无法联系。"
CORRECTION = "我的名字是陈小虹，不是陈小红。"
STAFF_CHANGES = {"name": "周建国（新）", "email": "zhou.new@firm.example"}


def all_details(app) -> list[str]:
    with app.app_context():
        return [json.dumps(event.details or {}, ensure_ascii=False)
                for event in db.session.scalars(select(AuditEvent).order_by(AuditEvent.id))]


def deliver(app, monkeypatch, failure: Exception | None, later: timedelta = timedelta()) -> None:
    def send(_email):
        if failure is not None:
            raise failure

    monkeypatch.setattr(outbox, "_send", send)
    with app.app_context():
        outbox.deliver_due(now=clock.now() + later)


@pytest.fixture
def everything(client, auth, app, monkeypatch) -> str:
    """A public submission, then a staff intake through to registration and mail delivery."""
    assert client.post("/complaint", data=valid_form(**PUBLIC)).status_code == 303
    auth.login_as("receptionist")
    key = complete_draft(client, app)
    path = send_link(client, app, key)
    auth.logout()
    assert client.get(path).status_code == 200
    assert client.post(path, data={"action": "correct", "correction": CORRECTION}) \
        .status_code == 200
    auth.login_as("partner")
    response = client.post(f"/complaints/{key}/override",
                           data={"override-reason": OVERRIDE_REASON}, headers=HX)
    assert response.status_code == 200, response.text
    assert client.post(f"/complaints/{key}/register", headers=HX).status_code == 200
    refused = smtplib.SMTPRecipientsRefused(
        {"chen.xiaohong@example.com": (550, b"5.1.1 <chen.xiaohong@example.com> unknown")})
    deliver(app, monkeypatch, refused)
    deliver(app, monkeypatch, None, later=timedelta(hours=2))
    complaint = get(app, key)
    with app.app_context():
        sent = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.complaint_id == complaint.id,
            OutboxMessage.status == "sent")).first()
    assert sent is not None
    assert client.post(f"/complaints/{key}/mail/{sent.id}/resend", headers=HX) \
        .status_code == 200
    with app.app_context(), writes_by_default():
        staff = db.session.scalar(select(User).where(User.username == "investigator"))
    edit = client.post(f"/admin/users/{staff.id}/edit", data={
        **STAFF_CHANGES, "department": "", "roles": ["investigator"], "active": "y"})
    assert edit.status_code in (200, 303), edit.text
    return key


def test_no_event_holds_personal_data(app, everything):
    actions = set()
    with app.app_context():
        actions = set(db.session.scalars(select(AuditEvent.action)))
    # the flows above really ran
    assert {"complaint.submitted_online", "complaint.confirmation_requested", "mail.queued",
            "complaint.correction_requested", "complaint.confirmation_overridden",
            "complaint.registered", "mail.failed", "mail.sent", "mail.resent",
            "user.updated"} <= actions
    secrets = [*PUBLIC.values(), "ouyang.nana", "8765 4321", *STAFF_ENTERED, OVERRIDE_REASON,
               "出国", CORRECTION, "陈小虹", *STAFF_CHANGES.values(), "zhou.new"]
    for details in all_details(app):
        leaked = [secret for secret in secrets if secret in details]
        assert not leaked, details


def test_the_timeline_still_shows_the_recipient_and_the_reason(client, app, everything):
    page = client.get(f"/complaints/{everything}/timeline", headers=HX)
    assert page.status_code == 200
    assert "chen.xiaohong@example.com" in page.text  # read from the outbox message
    assert OVERRIDE_REASON in page.text  # read from the record
