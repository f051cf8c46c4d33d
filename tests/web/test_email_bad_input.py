"""Bad email: each becomes a draft that says what was wrong, never a crash or a lost message."""

from __future__ import annotations

from email.message import EmailMessage

from tests.imap_fixture import dovecot_server, imap_mailbox  # noqa: F401
from tests.mail_support import PDF, email, email_drafts, fetch, received

GBK_BODY = "我的律师收费过高，要求退款。"


def _raw_gbk(charset: str = "gbk", declared: str = "gbk") -> bytes:
    head = (f"From: =?{charset}?b?" + __import__("base64").b64encode(
        "李明".encode(charset)).decode() + "?= <li.ming@example.com>\r\n"
        "To: complaints@firm.example\r\nSubject: =?gbk?b?"
        + __import__("base64").b64encode("收费投诉".encode("gbk")).decode() + "?=\r\n"
        "Message-ID: <gbk-1@client.example>\r\nMIME-Version: 1.0\r\n"
        f"Content-Type: text/plain; charset={declared}\r\n"
        "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode("ascii") + GBK_BODY.encode(charset) + b"\r\n"


def _one(app, imap_mailbox, raw: bytes):
    imap_mailbox.deliver(raw)
    fetch(app)
    [mail] = received(app)
    assert imap_mailbox.count("INBOX") == 0 and imap_mailbox.count("Processed") == 1
    return mail


def test_a_gbk_body_reads_as_chinese(app, imap_mailbox):
    mail = _one(app, imap_mailbox, _raw_gbk())
    assert GBK_BODY in mail.body and mail.subject == "收费投诉" and mail.sender_name == "李明"
    [draft] = email_drafts(app)
    assert GBK_BODY in draft.narrative


def test_a_big5_body_reads_as_chinese(app, imap_mailbox):
    raw = _raw_gbk(declared="big5").replace(GBK_BODY.encode("gbk"),
                                            "我的律師收費過高".encode("big5"))
    mail = _one(app, imap_mailbox, raw)
    assert "我的律師收費過高" in mail.body


def test_a_gbk_body_declared_as_utf8_is_still_read(app, imap_mailbox):
    mail = _one(app, imap_mailbox, _raw_gbk(declared="utf-8"))
    assert GBK_BODY in mail.body and "charset_guessed" in mail.problem_codes()


def test_a_message_over_the_size_limit_keeps_its_header_and_says_so(app, imap_mailbox):
    app.config["MAIL_INBOX_MAX_BYTES"] = 2000
    mail = _one(app, imap_mailbox, email(attachments=[("big.pdf", "application/pdf",
                                                       PDF + b"0" * 5000)]))
    assert "too_large" in mail.problem_codes()
    assert mail.subject == "投诉王磊律师拖延"
    [draft] = email_drafts(app)
    assert [e.original_name for e in draft.evidence] == ["original-message.eml"]


def test_attachment_names_that_traverse_or_reverse_are_cleaned(app, imap_mailbox):
    mail = _one(app, imap_mailbox, email(attachments=[
        ("../../etc/passwd.pdf", "application/pdf", PDF),
        ("invoice\u202egpj.pdf", "application/pdf", PDF)]))
    [draft] = email_drafts(app)
    names = {e.original_name for e in draft.evidence}
    assert "passwd.pdf" in names and "invoicegpj.pdf" in names
    assert all("/" not in n and "\u202e" not in n for n in names)
    assert "attachment_renamed" in mail.problem_codes()


def test_a_zip_bomb_and_a_nested_message_are_not_opened(app, imap_mailbox):
    import io
    import zipfile

    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * 20_000_000)
    inner = EmailMessage()
    inner["From"] = "x@y.example"
    inner["Subject"] = "inner"
    inner.set_content("inner body")
    outer = EmailMessage()
    outer["From"] = "li.ming@example.com"
    outer["Subject"] = "附件"
    outer["Message-ID"] = "<nested@client.example>"
    outer.set_content("见附件")
    outer.add_attachment(bomb.getvalue(), maintype="application", subtype="zip",
                         filename="bomb.zip")
    outer.add_attachment(inner)
    mail = _one(app, imap_mailbox, outer.as_bytes())
    assert "nested_message" in mail.problem_codes()
    refused = [p for p in mail.problems if p["code"] == "attachment_refused"]
    assert [p["name"] for p in refused] == ["bomb.zip"]


def test_a_malformed_mime_structure_still_makes_a_draft(app, imap_mailbox):
    raw = (b"From: li.ming@example.com\r\nSubject: broken\r\nMessage-ID: <broken@x>\r\n"
           b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed\r\n\r\n"
           b"--nobody\r\nContent-Type: text/plain\r\n\r\nhello\r\n")
    mail = _one(app, imap_mailbox, raw)
    assert "malformed_mime" in mail.problem_codes()
    assert len(email_drafts(app)) == 1


def test_an_html_body_loses_its_scripts_and_htmx_attributes(app, imap_mailbox, reception):
    message = EmailMessage()
    message["From"] = "li.ming@example.com"
    message["Subject"] = "html"
    message["Message-ID"] = "<html@client.example>"
    message.set_content('<p data-hx-get="/admin" hx-on:click="alert(1)">律师不回电话'
                        '<script>fetch("/x")</script><img src="http://evil.example/t.png">'
                        '</p>', subtype="html")
    mail = _one(app, imap_mailbox, message.as_bytes())
    assert "律师不回电话" in mail.body
    assert "<" not in mail.body and "hx-" not in mail.body
    assert {"html_converted", "active_html_removed"} <= mail.problem_codes()
    [draft] = email_drafts(app)
    html = reception.get(f"/complaints/D{draft.id}").get_data(as_text=True)
    assert "evil.example" not in html and 'data-hx-get="/admin"' not in html


def test_crlf_in_a_header_is_flattened(app, imap_mailbox):
    raw = (b"From: li.ming@example.com\r\nSubject: =?utf-8?q?Hello=0D=0ABcc:_x@y.example?=\r\n"
           b"Message-ID: <crlf@client.example>\r\n\r\nbody\r\n")
    mail = _one(app, imap_mailbox, raw)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert "header_crlf" in mail.problem_codes()
