"""One email's raw bytes read into plain data: ids, sender, subject, body text, attachments.

`parse` never raises: whatever the bytes, it returns a `ParsedMessage`, and what was wrong with
them is listed in `problems`. Nothing is fetched: an HTML body is reduced to its text, so its
remote images, style sheets and scripts go with the markup. Attachment names come through as
the sender wrote them; whoever stores the files sanitises them.

This module walks the MIME structure: it chooses the body, collects the attachments (a nested
message is one, as its own bytes) and keeps to the limits. The structure is the `email`
package's: policy `default`, or `compat32` if that one gives up (or when the message has
hundreds of parts or outsized parameters, which `default` is slow on). The headers are read by
`mail_headers` (from their raw values, so a broken header never costs the rest of the message),
the charsets and the HTML by `mail_text`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.policy import Policy

from portal.services.mailin import mail_headers
from portal.services.mailin.mail_headers import (
    AuthResults,
    Headers,
    decode_header,
    message_ids,
    raw_text,
)
from portal.services.mailin.mail_text import SURROGATE, clean_text, decode_text, html_to_text

__all__ = ["Attachment", "AuthResults", "ParsedMessage", "message_ids", "parse"]

log = logging.getLogger("portal.mailin")

# The problem codes, in the order `ParsedMessage.problems` lists them.
_PROBLEMS = (
    "malformed_mime",
    "header_crlf",
    "no_sender",
    "charset_guessed",
    "undecodable_text",
    "html_converted",
    "active_html_removed",
    "nested_message",
    "too_many_attachments",
)
_MAX_ATTACHMENTS = 50
_MAX_DEPTH = 30  # multipart nesting; real mail stays under ten
_LONG_HEADER = 8192  # bytes; a 200-character Chinese file name takes some 2,000
_MANY_PARAMETERS = 32  # a long name in RFC 2231 pieces takes a score
_MANY_PARTS = 500
_MIME_HEADER = re.compile(rb"(?im)^content-(?:type|disposition):[^\n]*(?:\n[ \t][^\n]*)*")
# A nested message written back as it came: no header refolded, 8-bit bytes kept.
_VERBATIM = email_policy.default.clone(linesep="\r\n", refold_source="none")


@dataclass(frozen=True)
class Attachment:
    filename: str  # as the sender gave it (RFC 2231 / 2047 decoded), "" when none; not sanitised
    content_type: str  # the declared type, lower-case
    data: bytes  # the decoded payload


@dataclass(frozen=True)
class ParsedMessage:
    message_id: str | None
    in_reply_to: list[str]
    references: list[str]
    subject: str
    sender_address: str | None
    sender_name: str | None
    date_header: datetime | None
    text: str
    attachments: list[Attachment]
    auth: AuthResults
    automatic: str | None
    problems: list[str]


def parse(raw: bytes, authserv_id: str | None = None) -> ParsedMessage:
    """Read one message as fetched from the mailbox; never raises."""
    data, cut = _tamed(_as_bytes(raw))
    for policy, malformed in _attempts(data, cut):
        try:
            return _read(data, authserv_id, policy, malformed=malformed)
        except Exception:  # whatever the bytes, the mailbox must go on
            log.warning("email unreadable with %s", policy, exc_info=True)
    return _unreadable()


# -- the message ------------------------------------------------------------------------------


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _tamed(data: bytes) -> tuple[bytes, bool]:
    """The message with any overlong Content-Type or Content-Disposition cut short, and whether
    one was outsized (overlong, or too many parameters: then compat32 reads the message). The
    `email` package takes quadratic time over parameters (policy `default` much more so): a
    header of some megabytes would hold the mailbox for hours."""
    if not any(_outsized(match.group(0)) for match in _MIME_HEADER.finditer(data)):
        return data, False
    return _MIME_HEADER.sub(lambda match: _cut(match.group(0)), data), True


def _outsized(header: bytes) -> bool:
    return len(header) > _LONG_HEADER or header.count(b";") > _MANY_PARAMETERS


def _cut(header: bytes) -> bytes:
    return header[:_LONG_HEADER].rstrip(b"\r\n") if _outsized(header) else header


def _unreadable() -> ParsedMessage:
    return ParsedMessage(
        message_id=None, in_reply_to=[], references=[], subject="", sender_address=None,
        sender_name=None, date_header=None, text="", attachments=[],
        auth=AuthResults(None, None, None), automatic=None,
        problems=["malformed_mime", "no_sender"],
    )


def _attempts(data: bytes, cut: bool) -> list[tuple[Policy, bool]]:
    """Policy `default`, then compat32 (the message is then malformed). compat32 straight
    away when headers were cut or the parts are many: `default` takes some 0.5 ms a part."""
    if cut or data.count(b"\n--") > _MANY_PARTS:
        return [(email_policy.compat32, cut)]
    return [(email_policy.default, False), (email_policy.compat32, True)]


def _read(
    data: bytes, authserv_id: str | None, policy: Policy, *, malformed: bool
) -> ParsedMessage:
    message = message_from_bytes(data, policy=policy)
    headers = Headers(message)
    body = _Body(message)
    address, name = mail_headers.sender(headers.first("from"))
    problems = body.problems | _header_problems(headers, data, address)
    if malformed:
        problems.add("malformed_mime")
    return ParsedMessage(
        message_id=mail_headers.message_id(headers.first("message-id")),
        in_reply_to=message_ids(raw_text(headers.first("in-reply-to"))),
        references=message_ids(raw_text(headers.first("references"))),
        subject=mail_headers.subject(headers.first("subject")),
        sender_address=address,
        sender_name=name,
        date_header=mail_headers.date_header(headers.first("date")),
        text=body.text,
        attachments=body.attachments,
        auth=mail_headers.auth(headers, authserv_id),
        automatic=mail_headers.automatic(headers, message.get_content_type(), address),
        problems=[code for code in _PROBLEMS if code in problems],
    )


def _header_problems(headers: Headers, data: bytes, address: str | None) -> set[str]:
    problems = set()
    if mail_headers.header_crlf(headers, data):
        problems.add("header_crlf")
    if address is None:
        problems.add("no_sender")
    return problems


# -- the MIME tree ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Leaf:
    part: Message
    content_type: str  # as declared
    body_type: str  # as read: a multipart that lost its boundary reads as text/plain
    charset: str | None
    filename: str
    attached: bool  # Content-Disposition: attachment, or a file name
    garbled: bool  # parameters the email package could not put together

    @property
    def nested(self) -> bool:
        return self.content_type == "message/rfc822"


class _Body:
    """The body text and the attachments of a message, and what was wrong with them."""

    def __init__(self, message: Message) -> None:
        self.problems: set[str] = set()
        parts = list(self._tree(message))
        leaves = [_leaf(part) for part in parts if not _children(part)]
        chosen = _body_part(leaves)
        self.text = self._text(chosen) if chosen is not None else ""
        self.attachments = self._attachments(leaf for leaf in leaves if leaf is not chosen)
        if any(part.defects for part in parts) or any(leaf.garbled for leaf in leaves):
            # (after the payloads were decoded: that adds defects too)
            self.problems.add("malformed_mime")

    def _tree(self, part: Message, depth: int = 0) -> Iterator[Message]:
        """The part and its descendants in order; nested messages are not entered."""
        yield part
        children = _children(part)
        if children and depth >= _MAX_DEPTH:
            self.problems.add("malformed_mime")
            return
        for child in children:
            yield from self._tree(child, depth + 1)

    def _text(self, leaf: _Leaf) -> str:
        text, problem = decode_text(_payload(leaf.part) or b"", leaf.charset)
        if problem:
            self.problems.add(problem)
        if leaf.body_type == "text/html":
            text, active = html_to_text(text)
            self.problems.add("html_converted")
            if active:
                self.problems.add("active_html_removed")
        return clean_text(text)

    def _attachments(self, leaves: Iterator[_Leaf]) -> list[Attachment]:
        kept = [leaf for leaf in leaves if leaf.attached or leaf.nested]
        if len(kept) > _MAX_ATTACHMENTS:
            self.problems.add("too_many_attachments")
        if any(leaf.nested for leaf in kept):
            self.problems.add("nested_message")
        return [self._attachment(leaf) for leaf in kept[:_MAX_ATTACHMENTS]]

    def _attachment(self, leaf: _Leaf) -> Attachment:
        data = _payload(leaf.part)
        if data is None:
            self.problems.add("malformed_mime")
        return Attachment(leaf.filename, leaf.content_type, data or b"")


def _children(part: Message) -> list[Message]:
    # is_multipart() first: get_payload() of a text part decodes it, with whatever charset
    if not part.is_multipart() or part.get_content_maintype() != "multipart":
        return []
    return [child for child in part.get_payload() if isinstance(child, Message)]


def _body_part(leaves: list[_Leaf]) -> _Leaf | None:
    for wanted in ("text/plain", "text/html"):
        for leaf in leaves:
            if leaf.body_type == wanted and not leaf.attached:
                return leaf
    return None


def _leaf(part: Message) -> _Leaf:
    view = _parameters(part)
    content_type = part.get_content_type()
    disposition = str(view.get("content-disposition", "")).split(";", 1)[0].strip().lower()
    try:
        filename, charset, garbled = _filename(view), _param_text(view.get_param("charset")), False
    except Exception:  # e.g. "filename*=a; filename*0=b": RFC 2231 pieces that cannot be sorted
        filename, charset, garbled = "", "", True
    return _Leaf(
        part=part,
        content_type=content_type,
        body_type="text/plain" if content_type.startswith("multipart/") else content_type,
        charset=charset or None,
        filename=filename,
        attached=disposition == "attachment" or bool(filename),
        garbled=garbled,
    )


def _parameters(part: Message) -> Message:
    """A compat32 copy of the part's Content-Type and Content-Disposition, 8-bit bytes decoded:
    its parameters come as the sender wrote them (RFC 2231 values as triples)."""
    view = Message()
    for name, value in part.raw_items():
        if str(name).lower() in {"content-type", "content-disposition"}:
            view[str(name)] = raw_text(str(value))
    return view


def _filename(view: Message) -> str:
    for header, param in (("content-disposition", "filename"), ("content-type", "name")):
        name = _param_text(view.get_param(param, None, header))
        if name:
            return name
    return ""


def _param_text(value: str | tuple | None) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):  # RFC 2231: (charset, language, percent-decoded text)
        charset, _language, text = value
        with suppress(UnicodeEncodeError):  # not percent-encoded bytes: keep as written
            text = decode_text(text.encode("latin-1"), charset)[0]
        return SURROGATE.sub("\ufffd", text).strip()
    return SURROGATE.sub("\ufffd", decode_header(value)).strip()


def _payload(part: Message) -> bytes | None:
    """The decoded bytes of a leaf; a nested message's own bytes; None if unreadable."""
    if part.is_multipart():
        written = [_message_bytes(item) for item in part.get_payload() if isinstance(item, Message)]
        if any(item is None for item in written):
            return None
        return b"".join(item for item in written if item is not None)
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else b""


def _message_bytes(message: Message) -> bytes | None:
    for policy in (_VERBATIM, email_policy.compat32):
        try:
            return message.as_bytes(policy=policy)
        except Exception:  # a header the generator cannot write: try the lenient one
            log.info("nested message not written with %s", policy, exc_info=True)
    return None

