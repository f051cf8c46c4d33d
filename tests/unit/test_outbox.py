"""The transactional outbox against a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import hashlib
import io
import threading
from datetime import date, datetime, timedelta, timezone

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models import (
    AuditEvent,
    Client,
    Complaint,
    Deadline,
    Matter,
    Notice,
    OutboxMessage,
    OutboxStatus,
    State,
    User,
)
from portal.services import notices, outbox
from tests.smtp_fixture import free_port, smtp_server  # noqa: F401 (a fixture)

CST = timezone(timedelta(hours=8))


@pytest.fixture
def ctx(app):
    with app.app_context(), writes_by_default():
        yield app


# A matter neither demo partner worked on, so that both may see (and hear about) the complaint.
NEITHER_PARTNERS_MATTER = "M-2026-0057"


def make_complaint(language: str = "zh", email: str | None = "li.ming@example.com",
                   reference: str = "TS-2026-00042", matter: str = "M-2025-0142") -> Complaint:
    client = Client(name="李明" if language == "zh" else "Emily Carter", email=email,
                    language=language)
    complaint = Complaint(
        reference=reference, state=State.REGISTERED, language=language, channel="phone",
        received_at=datetime(2026, 9, 30, 10, 0, tzinfo=CST), complainant=client,
        matter=db.session.scalar(select(Matter).where(Matter.reference == matter)),
        respondents=[db.session.scalar(select(User).where(User.name == "王磊"))],
        narrative="王律师多次未按约定时间回复我的询问。", occurred_on=date(2026, 8, 1),
        remedies_sought=["explanation", "partial_refund"],
        deadlines=[Deadline(kind="first_response", due=date(2026, 10, 10))],
        registered_at=clock.now(),
    )
    db.session.add(complaint)
    db.session.flush()
    return complaint


def actions(complaint_id: int | None = None) -> list[str]:
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if complaint_id is not None:
        query = query.where(AuditEvent.object_type == "complaint",
                            AuditEvent.object_id == str(complaint_id))
    return list(db.session.scalars(query))


def test_committed_acknowledgement_is_delivered_once_with_its_pdf(ctx, smtp_server):
    complaint = make_complaint()
    message = notices.queue_acknowledgement(None, complaint)
    db.session.commit()
    assert message.attachments == [{"notice_kind": "acknowledgement", "notice_id": None}]
    assert db.session.scalars(select(Notice)).all() == []  # queuing renders nothing

    assert outbox.deliver_due() == 1
    assert outbox.deliver_due() == 0  # nothing twice
    assert outbox.deliver_due(now=clock.now() + timedelta(days=1)) == 0
    [email] = smtp_server.messages
    assert smtp_server.envelopes[0].rcpt_tos == ["li.ming@example.com"]
    assert email["Subject"].startswith("投诉受理通知 TS-2026-00042 / Acknowledgement")
    assert "李明" in email["To"]
    text = email.get_body(preferencelist=("plain",)).get_content()
    assert text.index("尊敬的李明") < text.index("Dear 李明")  # the client's language first
    assert "TS-2026-00042" in text
    html = email.get_body(preferencelist=("html",)).get_content()
    assert "TS-2026-00042" in html
    [attachment] = list(email.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "TS-2026-00042-acknowledgement-v1.pdf"
    pdf = attachment.get_content()
    assert "TS-2026-00042" in PdfReader(io.BytesIO(pdf)).metadata.title

    db.session.expire_all()
    stored = db.session.get(OutboxMessage, message.id)
    notice = db.session.scalars(select(Notice)).one()
    assert stored.status == OutboxStatus.SENT and stored.attempts == 1
    assert stored.message_id and stored.message_id.strip("<>") in email["Message-ID"]
    assert stored.attachments == [{"notice_kind": "acknowledgement", "notice_id": notice.id}]
    assert hashlib.sha256(pdf).hexdigest() == notice.sha256
    assert actions(complaint.id) == ["mail.queued", "notice.issued", "mail.sent"]


def test_rolled_back_transaction_sends_nothing(ctx, smtp_server):
    complaint = make_complaint()
    notices.queue_acknowledgement(None, complaint)
    db.session.rollback()
    assert outbox.deliver_due() == 0
    assert smtp_server.envelopes == []
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_smtp_down_retries_with_backoff_then_dies_and_alerts_partners(ctx, smtp_server):
    ctx.config.update(OUTBOX_MAX_ATTEMPTS=3, OUTBOX_BACKOFF_SECONDS=30,
                      MAIL_PORT=free_port())  # nothing listens there
    complaint = make_complaint(matter=NEITHER_PARTNERS_MATTER)
    message_id = notices.queue_acknowledgement(None, complaint).id
    db.session.commit()
    start = clock.now()

    def state():
        db.session.expire_all()
        return db.session.get(OutboxMessage, message_id)

    assert outbox.deliver_due(now=start) == 0
    first = state()
    assert (first.status, first.attempts) == (OutboxStatus.PENDING, 1)
    assert first.next_attempt_at == start + timedelta(seconds=30)
    assert "ConnectionRefused" in first.last_error
    notice_id = first.attachments[0]["notice_id"]
    assert notice_id is not None  # rendered on the first attempt, kept for the retries

    assert outbox.deliver_due(now=start + timedelta(seconds=29)) == 0
    assert state().attempts == 1  # not due yet
    outbox.deliver_due(now=start + timedelta(seconds=30))
    second = state()
    assert second.attempts == 2
    assert second.next_attempt_at == start + timedelta(seconds=30 + 60)  # doubled
    outbox.deliver_due(now=start + timedelta(seconds=90))
    dead = state()
    assert (dead.status, dead.attempts) == (OutboxStatus.DEAD, 3)
    assert dead.attachments[0]["notice_id"] == notice_id
    assert db.session.scalar(select(Notice.version)) == 1  # one version for all attempts
    # the alerts to the two partners are queued on the complaint, then it is marked dead
    assert actions(complaint.id) == ["mail.queued", "notice.issued", "mail.failed",
                                     "mail.failed", "mail.queued", "mail.queued", "mail.dead"]

    alerts = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == outbox.ALERT_KIND)).all()
    partners = {u.email for u in db.session.scalars(select(User).where(
        User.username.in_(["partner", "partner2"])))}
    assert {a.recipient for a in alerts} == partners

    # the mail server is back: the alerts go out, the dead message stays dead
    ctx.config["MAIL_PORT"] = smtp_server.port
    assert outbox.deliver_due(now=start + timedelta(seconds=100)) == len(partners)
    assert sorted(smtp_server.envelopes[i].rcpt_tos[0] for i in range(len(partners))) == \
        sorted(partners)
    alert = smtp_server.messages[0]
    assert "TS-2026-00042" in alert.get_body(preferencelist=("plain",)).get_content()
    assert state().status == OutboxStatus.DEAD


def test_a_dead_alert_does_not_raise_more_alerts(ctx):
    ctx.config.update(OUTBOX_MAX_ATTEMPTS=1, MAIL_PORT=free_port())
    outbox.queue(kind=outbox.ALERT_KIND, recipient="chen.zhiyuan@firm.example",
                 recipient_name="陈志远", subject="Undeliverable email", body_text="...")
    db.session.commit()
    outbox.deliver_due()
    assert [m.status for m in db.session.scalars(select(OutboxMessage))] == [OutboxStatus.DEAD]


def test_resend_attaches_the_same_notice_version(ctx, smtp_server):
    partner = db.session.scalar(select(User).where(User.username == "partner2"))
    complaint = make_complaint()
    original = notices.queue_acknowledgement(partner, complaint)
    db.session.commit()
    with pytest.raises(outbox.OutboxError):
        outbox.resend(partner, original)  # still pending
    outbox.deliver_due()
    db.session.expire_all()
    copy = outbox.resend(partner, db.session.get(OutboxMessage, original.id))
    db.session.commit()
    assert copy.status == OutboxStatus.PENDING and copy.id != original.id
    assert outbox.deliver_due() == 1
    first, second = smtp_server.messages
    pdfs = [next(m.iter_attachments()).get_content() for m in (first, second)]
    assert pdfs[0] == pdfs[1]
    assert len(db.session.scalars(select(Notice)).all()) == 1
    assert actions(complaint.id).count("mail.resent") == 1


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("recipient", "li.ming@example.com\r\nBcc: victim@example.com"),
        ("recipient", "not an address"),
        ("recipient_name", "李明\r\nBcc: victim@example.com"),
        ("recipient_name", "李明\nX-Injected: 1"),
        ("subject", "Hello\r\nBcc: victim@example.com"),
    ],
)
def test_header_injection_is_refused(ctx, field, value):
    fields = {"kind": "test", "recipient": "li.ming@example.com", "recipient_name": "李明",
              "subject": "Hello", "body_text": "Body"}
    fields[field] = value
    with pytest.raises(outbox.OutboxError):
        outbox.queue(**fields)
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_attachment_filenames_and_unknown_specs_are_refused(ctx):
    base = {"kind": "test", "recipient": "li.ming@example.com", "recipient_name": None,
            "subject": "Hello", "body_text": "Body"}
    for spec in ({"path": "/etc/passwd", "filename": "a\r\nb.pdf"}, {"url": "http://x"}, {}):
        with pytest.raises(outbox.OutboxError):
            outbox.queue(**base, attachments=[spec])


def test_file_attachments_outside_instance_data_are_not_sent(ctx, smtp_server):
    ctx.config["OUTBOX_MAX_ATTEMPTS"] = 1
    outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name=None,
                 subject="Hello", body_text="Body", attachments=[{"path": "/etc/passwd"}])
    db.session.commit()
    assert outbox.deliver_due() == 0
    assert all(e.rcpt_tos[0] != "li.ming@example.com" for e in smtp_server.envelopes)


def test_no_email_address_queues_nothing(ctx):
    complaint = make_complaint(email=None)
    assert notices.queue_acknowledgement(None, complaint) is None
    assert db.session.scalars(select(OutboxMessage)).all() == []


def test_queuing_does_not_render(ctx, monkeypatch):
    def boom(*args, **kwargs):
        raise AssertionError("rendered during registration")

    monkeypatch.setattr(notices, "render_pdf", boom)
    assert notices.queue_acknowledgement(None, make_complaint()) is not None


def test_claim_is_exclusive_and_stuck_messages_are_reclaimed(ctx, smtp_server):
    message = outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name=None,
                           subject="Hello", body_text="Body")
    db.session.commit()
    now = clock.now()
    assert outbox._claim(message.id, now) is True
    assert outbox._claim(message.id, now) is False  # a second worker loses
    # the first worker died mid-send: nobody touches it during the 10-minute lease...
    assert outbox.deliver_due(now=now + timedelta(minutes=9)) == 0
    # ...after which it is claimed again and sent
    assert outbox.deliver_due(now=now + timedelta(minutes=10, seconds=1)) == 1
    assert len(smtp_server.envelopes) == 1


def test_two_workers_never_send_the_same_message(ctx, smtp_server):
    for i in range(12):
        outbox.queue(kind="test", recipient=f"client{i}@example.com", recipient_name=None,
                     subject=f"Message {i}", body_text="Body")
    db.session.commit()
    results: list[int] = []
    errors: list[BaseException] = []

    def worker():
        try:
            with ctx.app_context():
                results.append(outbox.deliver_due(limit=50))
                db.session.remove()
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors
    assert sum(results) == 12
    recipients = [e.rcpt_tos[0] for e in smtp_server.envelopes]
    assert sorted(recipients) == sorted(f"client{i}@example.com" for i in range(12))
    db.session.expire_all()
    assert {m.status for m in db.session.scalars(select(OutboxMessage))} == {OutboxStatus.SENT}


def test_summary_counts_statuses(ctx):
    outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name=None,
                 subject="Hello", body_text="Body")
    assert outbox.summary() == {"pending": 1, "sending": 0, "sent": 0, "dead": 0}


def test_cli_work_once_and_status(app, runner, smtp_server):
    with app.app_context(), writes_by_default():
        outbox.queue(kind="test", recipient="li.ming@example.com", recipient_name="李明",
                     subject="Hello", body_text="Body")
        db.session.commit()
    result = runner.invoke(args=["outbox", "work", "--once"])
    assert result.exit_code == 0 and "1 sent." in result.output, result.output
    assert len(smtp_server.envelopes) == 1
    result = runner.invoke(args=["outbox", "status"])
    assert result.exit_code == 0 and "sent: 1" in result.output and "pending: 0" in result.output



def test_a_respondent_partner_is_not_alerted_about_mail_on_their_own_case(ctx):
    ctx.config.update(OUTBOX_MAX_ATTEMPTS=1, MAIL_PORT=free_port())  # nothing listens there
    respondent = db.session.scalar(select(User).where(User.username == "partner2"))
    complaint = make_complaint(matter=NEITHER_PARTNERS_MATTER)
    complaint.respondents.append(respondent)
    notices.queue_acknowledgement(None, complaint)
    db.session.commit()
    outbox.deliver_due()
    alerts = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == outbox.ALERT_KIND)).all()
    assert [a.recipient for a in alerts] == ["chen.zhiyuan@firm.example"]
    assert all(a.complaint_id == complaint.id for a in alerts)


def test_the_partner_of_the_matter_is_not_alerted_about_mail_on_it(ctx):
    ctx.config.update(OUTBOX_MAX_ATTEMPTS=1, MAIL_PORT=free_port())  # nothing listens there
    complaint = make_complaint(matter="M-2025-0142")  # 陈志远 supervises it (portal/demo.py)
    notices.queue_acknowledgement(None, complaint)
    db.session.commit()
    outbox.deliver_due()
    alerts = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.kind == outbox.ALERT_KIND)).all()
    assert [a.recipient for a in alerts] == ["liu.huimin@firm.example"]
