"""The first response: on time or late against the promised day, once only, and the
bilingual progress notice emailed through the outbox (rendered by the worker)."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, Complaint, Notice, OutboxMessage, State
from portal.services import first_response as service
from portal.services import notices, outbox
from tests.findings_factory import CST, make_investigation, user
from tests.smtp_fixture import smtp_server  # noqa: F401 (a fixture)

RECEIVED = datetime(2026, 3, 2, 10, 0, tzinfo=CST)  # a Monday
DUE = RECEIVED.date() + timedelta(days=3)  # Thursday 5 March


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def _record(complaint_id: int, data: service.FirstResponseInput, username: str = "partner2"):
    with writes_by_default():
        response = service.record(user(username), db.session.get(Complaint, complaint_id), data)
        db.session.commit()
    return response


def _call(at: datetime) -> service.FirstResponseInput:
    return service.FirstResponseInput(method="call", responded_at=at,
                                      summary="电话告知调查安排，客户表示理解。")


def test_a_call_on_the_promised_day_is_on_time(ctx, clock):
    clock.set(datetime(2026, 3, 6, 9, 0, tzinfo=CST))
    complaint_id = make_investigation(received_at=RECEIVED, first_response_due=DUE)
    response = _record(complaint_id, _call(datetime(2026, 3, 5, 23, 30, tzinfo=CST)),
                       username="investigator")  # the handler, late in the evening
    complaint = db.session.get(Complaint, complaint_id)
    assert response.late is False
    assert complaint.deadline("first_response").stopped_at == response.responded_at
    assert complaint.deadline("first_response").stopped_late is False
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "first_response.recorded"))
    assert event.details == {"first_response_id": response.id, "method": "call",
                             "late": False, "message_id": None}


def test_a_call_after_the_promised_day_stays_late(ctx, clock):
    clock.set(datetime(2026, 3, 9, 12, 0, tzinfo=CST))
    complaint_id = make_investigation(received_at=RECEIVED, first_response_due=DUE)
    response = _record(complaint_id, _call(datetime(2026, 3, 6, 0, 10, tzinfo=CST)))
    assert response.late is True
    assert db.session.get(Complaint, complaint_id).deadline("first_response").stopped_late


def test_it_is_recorded_once(ctx):
    complaint_id = make_investigation()
    _record(complaint_id, _call(datetime.now(CST) - timedelta(hours=1)))
    with pytest.raises(service.AlreadyResponded):
        _record(complaint_id, _call(datetime.now(CST) - timedelta(minutes=5)))
    assert db.session.scalar(select(AuditEvent.id).where(
        AuditEvent.action == "first_response.recorded").offset(1)) is None


@pytest.mark.parametrize("data, field", [
    (service.FirstResponseInput(method="call", responded_at=None, summary="x"), "responded_at"),
    (service.FirstResponseInput(method="meeting", responded_at=datetime(2030, 1, 1, tzinfo=CST),
                                summary="x"), "responded_at"),
    (service.FirstResponseInput(method="call", responded_at=RECEIVED - timedelta(days=2),
                                summary="x"), "responded_at"),
    (service.FirstResponseInput(method="call", responded_at=RECEIVED + timedelta(hours=2)),
     "summary"),
    (service.FirstResponseInput(method="notice", next_steps=""), "next_steps"),
    (service.FirstResponseInput(method="notice", next_steps="调查中"), "next_contact_on"),
    (service.FirstResponseInput(method="fax"), "method"),
])
def test_bad_input_is_refused_by_field(ctx, clock, data, field):
    clock.set(RECEIVED + timedelta(days=1))
    complaint_id = make_investigation(received_at=RECEIVED, first_response_due=DUE)
    with pytest.raises(service.FirstResponseError) as refused:
        _record(complaint_id, data)
    assert field in refused.value.errors
    assert db.session.get(Complaint, complaint_id).first_response is None


def test_only_from_registration_until_the_findings(ctx):
    complaint_id = make_investigation(state=State.AWAITING_DECISION)
    with pytest.raises(service.ConflictError):
        _record(complaint_id, _call(datetime.now(CST) - timedelta(hours=1)))


def test_someone_else_may_not_record_it(ctx):
    complaint_id = make_investigation()
    with pytest.raises(service.FirstResponseError):
        _record(complaint_id, _call(datetime.now(CST) - timedelta(hours=1)),
                username="investigator2")


def test_a_notice_needs_the_clients_email(ctx):
    complaint_id = make_investigation(client_email=None)
    with pytest.raises(service.FirstResponseError) as refused:
        _record(complaint_id, service.FirstResponseInput(
            method="notice", next_steps="调查中", next_contact_on=datetime.now(CST).date()))
    assert "method" in refused.value.errors


def test_the_progress_notice_is_queued_then_rendered_by_the_worker(ctx, smtp_server):
    complaint_id = make_investigation()
    next_contact = datetime.now(CST).date() + timedelta(days=10)
    response = _record(complaint_id, service.FirstResponseInput(
        method="notice", next_steps="我们正在调取委托合同和往来邮件，并将听取王律师的陈述。",
        next_contact_on=next_contact), username="investigator")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "progress"))
    assert message.attachments == [{"notice_kind": "progress", "notice_id": None}]
    assert response.notice_id is None and response.late is False
    assert "投诉处理进展通知" in message.subject and "Progress on your complaint" in message.subject
    with writes_by_default():
        assert outbox.deliver_due() >= 1
    complaint = db.session.get(Complaint, complaint_id, populate_existing=True)
    notice = db.session.get(Notice, complaint.first_response.notice_id)
    assert notice.kind == "progress"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(notices.read_bytes(notice)))
                     .pages)
    for expected in ("投诉处理进展通知书", "Progress on Your Complaint", "周建国",
                     "我们正在调取委托合同", f"{next_contact.year}年{next_contact.month}月"):
        assert expected in text, expected
    sent = smtp_server.messages[-1]
    assert [a.get_filename() for a in sent.iter_attachments()] == [notice.filename]
