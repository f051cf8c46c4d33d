"""The email channel against a real IMAP server (Dovecot): messages become drafts, replies
find their complaint, nothing is lost or stored twice, receipts go once and never to robots."""

from __future__ import annotations

import imaplib
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, OutboxMessage
from portal.services import outbox
from portal.services.mailin import imap
from tests.imap_fixture import dovecot_server, imap_mailbox  # noqa: F401
from tests.mail_support import HTML_AS_PDF, PDF, email, email_drafts, fetch, received
from tests.smtp_fixture import smtp_server  # noqa: F401
from tests.triage_support import person, registered


def receipts(app, address: str) -> list[OutboxMessage]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "mail_receipt", OutboxMessage.recipient == address)).all()
        db.session.expunge_all()
        return rows


def test_a_new_message_becomes_a_draft_to_verify(app, imap_mailbox):
    imap_mailbox.deliver(email(attachments=[("合同.pdf", "application/pdf", PDF),
                                            ("invoice.pdf", "application/pdf", HTML_AS_PDF)]))
    assert fetch(app) == 1
    [draft] = email_drafts(app)
    assert draft.is_draft and draft.needs_verification and draft.channel == "email"
    assert draft.complainant.name == "李明"  # the one client on file with the address
    assert draft.narrative.startswith("投诉王磊律师拖延\n\n王磊律师一直没有提交材料")
    names = sorted((e.original_name, e.content_type) for e in draft.evidence)
    assert names == [("original-message.eml", "message/rfc822"),
                     ("合同.pdf", "application/pdf")]
    [mail] = received(app)
    assert {"code": "attachment_refused", "name": "invoice.pdf",
            "reason": "markup"} in mail.problems
    assert mail.received_at.year != 2020  # the server's INTERNALDATE, not the Date: header
    assert mail.auth == {"spf": "pass", "dkim": "pass", "dmarc": "pass"}
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 1


def test_the_staff_a_message_names_are_kept_out_until_verified(app, imap_mailbox):
    imap_mailbox.deliver(email())
    fetch(app)
    [draft] = email_drafts(app)
    with app.app_context():
        wang = person("王磊")
        assert {e.user_id for e in draft.exclusions} == {wang.id}
        assert not db.session.get(Complaint, draft.id).can_view(wang)


def test_the_draft_page_shows_the_email_its_checks_and_refusals(app, imap_mailbox, reception):
    imap_mailbox.deliver(email(attachments=[("invoice.pdf", "application/pdf", HTML_AS_PDF)],
                               auth="spf=fail; dkim=none; dmarc=fail"))
    fetch(app)
    [draft] = email_drafts(app)
    page = reception.get(f"/complaints/D{draft.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Email to verify" in html and "The email as received" in html
    assert "SPF: fail" in html and "DMARC: fail" in html
    assert "failed the sender checks" in html
    assert "Attachment “invoice.pdf” refused" in html
    assert "<script>alert(1)" not in html


def test_the_same_message_fetched_twice_makes_one_draft(app, imap_mailbox):
    raw = email(message_id="<same-message@client.example>")
    imap_mailbox.deliver(raw)
    imap_mailbox.deliver(raw)  # delivered twice: two UIDs, one Message-ID
    assert fetch(app) == 1
    assert fetch(app) == 0
    assert len(email_drafts(app)) == 1
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 2


class Killed(BaseException):
    """Stands for the worker being killed: nothing after it runs, not even except blocks."""


def test_a_worker_killed_between_storing_and_moving_loses_and_doubles_nothing(
        app, imap_mailbox, monkeypatch):
    imap_mailbox.deliver(email())
    real_move = imap.MailBox.move

    def killed(*_args, **_kwargs):
        raise Killed

    monkeypatch.setattr(imap.MailBox, "move", killed)
    with pytest.raises(Killed):
        fetch(app)
    assert len(email_drafts(app)) == 1  # committed before the move
    assert imap_mailbox.count("INBOX") == 1  # ... and still in the folder
    monkeypatch.setattr(imap.MailBox, "move", real_move)
    assert fetch(app) == 0  # found stored: only moved on
    assert len(email_drafts(app)) == 1 and len(received(app)) == 1
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 1


def test_a_move_cut_off_after_its_copy_leaves_one_copy_in_processed(app, imap_mailbox,
                                                                      monkeypatch):
    """A server's MOVE may be a copy and an expunge; a dropped connection can separate them."""
    imap_mailbox.deliver(email(message_id="<cut-off@client.example>"))
    imap_mailbox.deliver(email(message_id="<cut-off@client.example>", subject="再发一次"))
    real_move = imap.MailBox.move

    def copied_then_killed(box, uid, folder, *_args, **_kwargs):
        box.copy(uid, folder)
        raise Killed

    monkeypatch.setattr(imap.MailBox, "move", copied_then_killed)
    with pytest.raises(Killed):
        fetch(app)
    assert imap_mailbox.count("INBOX") == 2 and imap_mailbox.count("Processed") == 1
    monkeypatch.setattr(imap.MailBox, "move", real_move)
    assert fetch(app) == 0
    assert len(email_drafts(app)) == 1
    # the copy is not made twice; the twin with the same Message-ID is kept, as it differs
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 2


def test_a_connection_dropped_mid_fetch_leaves_the_message_for_the_next_pass(
        app, imap_mailbox, monkeypatch):
    imap_mailbox.deliver(email())
    real = imap._fetch_data

    def dropped(box, uid, items):
        if "BODY.PEEK[]" in items:
            raise imaplib.IMAP4.abort("socket error: EOF")
        return real(box, uid, items)

    monkeypatch.setattr(imap, "_fetch_data", dropped)
    with pytest.raises(imaplib.IMAP4.abort):
        fetch(app)
    assert email_drafts(app) == [] and imap_mailbox.count("INBOX") == 1
    monkeypatch.setattr(imap, "_fetch_data", real)
    assert fetch(app) == 1
    assert len(email_drafts(app)) == 1 and imap_mailbox.count("INBOX") == 0


def _acknowledged(app) -> tuple[int, str]:
    """A registered complaint whose acknowledgement was sent with a known Message-ID."""
    complaint_id = registered(app)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        complaint.handler = person("partner2")
        message = outbox.queue(kind="acknowledgement", recipient="li.ming@example.com",
                               recipient_name="李明", subject="投诉受理通知书 TS-2026-00101",
                               body_text="…", complaint=complaint)
        message.status, message.message_id = "sent", "<ack-101@firm.example>"
    return complaint_id, "<ack-101@firm.example>"


def test_a_reply_to_the_acknowledgement_lands_on_the_timeline(app, imap_mailbox, reception):
    complaint_id, ack = _acknowledged(app)
    imap_mailbox.deliver(email(subject="Re: 投诉受理通知书", body="补充一份付款凭证。",
                               headers={"In-Reply-To": ack, "References": ack},
                               attachments=[("付款凭证.pdf", "application/pdf", PDF)]))
    fetch(app)
    assert email_drafts(app) == []  # not a new draft
    [mail] = received(app)
    assert mail.outcome == "correspondence" and mail.complaint_id == complaint_id
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert "付款凭证.pdf" in {e.original_name for e in complaint.evidence}
        notified = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "mail_reply_received")).all()
        assert [m.recipient for m in notified] == [person("partner2").email]
    html = reception.get("/complaints/TS-2026-00101").get_data(as_text=True)
    assert "Email received from li.ming@example.com" in html
    assert "补充一份付款凭证。" in html


def test_a_reference_in_the_subject_attaches_only_for_the_complainant(app, imap_mailbox):
    complaint_id = registered(app)
    imap_mailbox.deliver(email(subject="关于 TS-2026-00101 的补充"))
    imap_mailbox.deliver(email(sender="someone@elsewhere.example",
                               subject="关于 ts-2026-00101 的补充"))
    fetch(app)
    own, stranger = received(app)
    assert own.outcome == "correspondence" and own.complaint_id == complaint_id
    assert stranger.outcome == "draft" and stranger.complaint_id != complaint_id
    assert {"code": "reference_not_sender", "reference": "TS-2026-00101"} in stranger.problems


def test_clients_sharing_an_address_are_listed_and_none_is_chosen(app, imap_mailbox, reception):
    with app.app_context(), write_transaction():
        db.session.add(Client(name="李明（旧记录）", email="LI.MING@example.com"))
    imap_mailbox.deliver(email())
    fetch(app)
    [draft] = email_drafts(app)
    assert draft.complainant is None
    html = reception.get(f"/complaints/D{draft.id}").get_data(as_text=True)
    assert "Several clients on file use this address" in html
    assert "李明（旧记录）" in html


def test_the_receipt_goes_once_a_day_and_marked_auto_replied(app, imap_mailbox, smtp_server,
                                                             clock):
    imap_mailbox.deliver(email(sender="new.client@client.example"))
    imap_mailbox.deliver(email(sender="new.client@client.example", subject="再补充一句"))
    fetch(app)
    assert len(receipts(app, "new.client@client.example")) == 1
    with app.app_context():
        outbox.deliver_due()
    [sent] = [m for m in smtp_server.messages if m["To"].endswith("new.client@client.example>")
              or m["To"] == "new.client@client.example"]
    assert sent["Auto-Submitted"] == "auto-replied"
    assert sent["In-Reply-To"].endswith("@client.example>")
    assert "已收到您的来信" in sent["Subject"]
    clock.advance(timedelta(hours=25))
    imap_mailbox.deliver(email(sender="new.client@client.example", subject="第三封"))
    fetch(app)
    assert len(receipts(app, "new.client@client.example")) == 2


@pytest.mark.parametrize("headers, auth", [
    ({"Auto-Submitted": "auto-replied"}, "spf=pass"),
    ({"Precedence": "bulk"}, "spf=pass"),
    ({"List-Id": "<news.client.example>"}, "spf=pass"),
    ({"Return-Path": "<>"}, "spf=pass"),
    ({}, "spf=fail; dmarc=fail"),
])
def test_no_receipt_to_robots_lists_or_forged_senders(app, imap_mailbox, headers, auth):
    imap_mailbox.deliver(email(sender="robot@client.example", headers=headers, auth=auth))
    fetch(app)
    assert len(email_drafts(app)) == 1  # flagged or not, never dropped
    assert receipts(app, "robot@client.example") == []


def test_no_receipt_to_the_firms_own_domain(app, imap_mailbox):
    imap_mailbox.deliver(email(sender="reception@firm.example"))
    fetch(app)
    assert receipts(app, "reception@firm.example") == []


def test_every_message_to_a_client_asks_for_replies_at_the_complaints_mailbox(app, smtp_server):
    app.config["MAIL_INBOX_ADDRESS"] = "complaints-inbox@firm.example"
    with app.app_context(), write_transaction():
        outbox.queue(kind="acknowledgement", recipient="li.ming@example.com", recipient_name="李明",
                     subject="通知", body_text="…")
    with app.app_context():
        outbox.deliver_due()
    [message] = smtp_server.wait_for(1)
    assert message["Reply-To"] == "complaints-inbox@firm.example"


def test_healthz_says_whether_the_email_channel_is_on(app, client):
    assert client.get("/healthz").get_json()["email_channel"] == "off"
    app.config["MAIL_INBOX_HOST"] = "127.0.0.1"
    assert client.get("/healthz").get_json()["email_channel"] == "on"


def test_the_commands_refuse_without_a_mailbox(app, runner):
    result = runner.invoke(args=["mail", "fetch", "--once"])
    assert result.exit_code == 1 and "email channel is off" in result.output


def test_deliver_and_fetch_from_the_command_line(app, imap_mailbox, runner, tmp_path):
    path = tmp_path / "complaint.eml"
    path.write_bytes(email())
    result = runner.invoke(args=["mail", "deliver", str(path)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["mail", "fetch", "--once"])
    assert result.exit_code == 0 and "1 message(s) stored." in result.output
    assert len(email_drafts(app)) == 1


def test_the_receptionist_verifies_an_email_draft_as_an_online_one(app, imap_mailbox, reception):
    imap_mailbox.deliver(email())
    fetch(app)
    [draft] = email_drafts(app)
    with app.app_context(), write_transaction():
        db.session.get(Complaint, draft.id).respondents = [person("王磊")]
    response = reception.post(f"/complaints/D{draft.id}/verify", headers={"HX-Request": "true"})
    assert response.status_code == 200
    with app.app_context():
        complaint = db.session.get(Complaint, draft.id)
        assert not complaint.needs_verification
        assert not complaint.can_view(person("王磊"))  # still out: now as the respondent
