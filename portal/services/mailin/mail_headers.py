"""The headers of one email read into plain data: subject, sender, date, Message-IDs, the
Authentication-Results our own server added, and whether the mail was sent automatically or
in bulk.

Headers are read from their raw values (8-bit bytes decoded like a body, RFC 2047 words with
the same charset rules: `mail_text.decode_text`), so a broken header never costs the rest of
the message. Values meant for one line (subject, sender) lose their controls and line breaks;
a CR or LF hidden in an encoded word, or a bare CR, is reported by `header_crlf`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from portal.services.mailin.mail_text import INVISIBLE, SURROGATE, decode_text

_MAX_SUBJECT = 300
_MAX_MESSAGE_ID = 255


@dataclass(frozen=True)
class AuthResults:
    spf: str | None
    dkim: str | None
    dmarc: str | None

    @property
    def failed(self) -> bool:
        return self.spf in {"fail", "softfail"} or "fail" in {self.dkim, self.dmarc}

    @property
    def forged(self) -> bool:
        """The sender is probably not who the From: says: no automatic receipt goes back."""
        return self.spf in {"fail", "softfail"} or self.dmarc == "fail"


def message_ids(value: str | None) -> list[str]:
    """Every "<...>" token of a header value, whitespace and controls removed."""
    found = []
    for match in _ANGLE.finditer(value or ""):
        inner = INVISIBLE.sub("", match.group(1))
        if inner and len(inner) + 2 <= _MAX_MESSAGE_ID:
            found.append(f"<{inner}>")
    return found


# -- header values ----------------------------------------------------------------------------

_ANGLE = re.compile(r"<([^<>]*)>")
_BARE_ID = re.compile(r"[^<>@\s]+@[^<>@\s]+")
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SPACES = re.compile(r" {2,}")
_FOLD = re.compile(r"[\r\n]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")
_ADDRESS = re.compile(r"[^\s@<>]+@[^\s@<>]+")
_CRLF_HEADERS = ("subject", "from", "to", "message-id", "in-reply-to", "references")


class Headers:
    """The raw header values of the top of a message, in order."""

    def __init__(self, message: Message) -> None:
        self._items = [(str(name).lower(), str(value)) for name, value in message.raw_items()]

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def first(self, name: str) -> str | None:
        return next((value for key, value in self._items if key == name), None)


def raw_text(raw: str | None) -> str:
    """A raw header value unfolded, its 8-bit bytes (surrogate-escaped) decoded."""
    text = _FOLD.sub("", raw or "")
    if not SURROGATE.search(text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return SURROGATE.sub("\ufffd", text)
    return decode_text(data, None)[0]


def decode_header(raw: str | None) -> str:
    """A raw header value with its RFC 2047 encoded words decoded (controls left in)."""
    text = raw_text(raw)
    pieces: list[tuple[str | None, bytes | str]] = []
    end = 0
    for match in _ENCODED_WORD.finditer(text):
        gap = text[end : match.start()]
        if gap and not (gap.isspace() and pieces and pieces[-1][0] is not None):
            pieces.append((None, gap))
        pieces.append(_encoded_word(match))
        end = match.end()
    pieces.append((None, text[end:]))
    return "".join(_decoded_pieces(pieces))


def _encoded_word(match: re.Match[str]) -> tuple[str | None, bytes | str]:
    charset = match.group(1).split("*", 1)[0]  # RFC 2231 language suffix
    encoded = match.group(3).encode("utf-8", "replace")
    if match.group(2) in "Qq":
        return charset, binascii.a2b_qp(encoded, header=True)
    data = _base64(encoded)
    return (charset, data) if data is not None else (None, match.group(0))


def _base64(encoded: bytes) -> bytes | None:
    encoded = re.sub(rb"[^A-Za-z0-9+/]", b"", encoded)
    if len(encoded) % 4 == 1:
        encoded = encoded[:-1]
    try:
        return base64.b64decode(encoded + b"=" * (-len(encoded) % 4))
    except (binascii.Error, ValueError):
        return None


def _decoded_pieces(pieces: list[tuple[str | None, bytes | str]]) -> Iterator[str]:
    """Adjacent words in one charset are decoded together: a character may span two."""
    merged: list[tuple[str | None, bytes | str]] = []
    for charset, value in pieces:
        last = merged[-1][0] if merged else None
        if charset is not None and last is not None and last.lower() == charset.lower():
            merged[-1] = (charset, bytes(merged[-1][1]) + bytes(value))
        else:
            merged.append((charset, value))
    for charset, value in merged:
        yield value if isinstance(value, str) else decode_text(value, charset)[0]


def _one_line(text: str) -> str:
    """Control characters and line breaks as spaces, runs of spaces collapsed, stripped."""
    text = SURROGATE.sub("\ufffd", _LINE_BREAKING.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def header_crlf(headers: Headers, data: bytes) -> bool:
    """A CR or LF hidden in an encoded word of a header someone may copy into a reply, or a
    bare CR among the raw headers of `data`, the message's bytes."""
    return _encoded_crlf(headers) or _bare_cr(data)


def _encoded_crlf(headers: Headers) -> bool:
    decoded = (decode_header(value) for name in _CRLF_HEADERS for value in headers.all(name))
    return any("\r" in value or "\n" in value for value in decoded)


def _bare_cr(data: bytes) -> bool:
    end = _HEADER_END.search(data)
    return _BARE_CR.search(data[: end.start() if end else len(data)]) is not None


def subject(raw: str | None) -> str:
    """The Subject: decoded, on one line, at most `_MAX_SUBJECT` characters."""
    return _one_line(decode_header(raw))[:_MAX_SUBJECT].rstrip()


def message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw_text(raw)
    ids = message_ids(value)
    if ids:
        return ids[0]
    bare = INVISIBLE.sub("", value)
    if _BARE_ID.fullmatch(bare) and len(bare) + 2 <= _MAX_MESSAGE_ID:
        return f"<{bare}>"
    return None


def sender(raw: str | None) -> tuple[str | None, str | None]:
    """The first usable address of the From: header and its display name."""
    if raw is None:
        return None, None
    try:
        pairs = getaddresses([raw_text(raw)])
    except (ValueError, TypeError, IndexError):
        return None, None
    for name, addr in pairs:
        address = _one_line(addr).lower()
        if _ADDRESS.fullmatch(address):
            return address, _one_line(decode_header(name)) or None
    return None, None


def date_header(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = parsedate_to_datetime(raw_text(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# -- authentication and automatic mail --------------------------------------------------------

_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*(?:"|\\?\Z)')  # an unclosed one runs to the end
_COMMENT = re.compile(r"\([^()]*\)")
_RESULT = re.compile(r"\s*(spf|dkim|dmarc)\s*(?:/\s*\d+\s*)?=\s*([a-z]+)", re.IGNORECASE)


def _without_comments(value: str) -> str:
    value = _QUOTED.sub('""', value)
    for _ in range(10):  # nested comments go innermost first
        value, count = _COMMENT.subn(" ", value)
        if not count:
            break
    return value


def auth(headers: Headers, authserv_id: str | None) -> AuthResults:
    """The results our own server prepended: the top Authentication-Results header (with
    `authserv_id`, the top one that server signed); any further down came with the mail."""
    wanted = authserv_id.strip().lower() if authserv_id else None
    for raw in headers.all("authentication-results"):
        server, *results = _without_comments(raw_text(raw)).split(";")
        if wanted is None or server.lower().split()[:1] == [wanted]:
            return _results(results)
    return AuthResults(None, None, None)


def _results(results: list[str]) -> AuthResults:
    found: dict[str, str] = {}
    for result in results:
        match = _RESULT.match(result)
        if match:
            found.setdefault(match.group(1).lower(), match.group(2).lower())
    return AuthResults(spf=found.get("spf"), dkim=found.get("dkim"), dmarc=found.get("dmarc"))


def _token(raw: str | None) -> str | None:
    """A header's value up to any parameters, without comments, lower-case."""
    if raw is None:
        return None
    return _without_comments(raw_text(raw)).split(";", 1)[0].strip().lower()


def automatic(headers: Headers, content_type: str, address: str | None) -> str | None:
    """Why the mail looks automatic or bulk: the code of the first sign found, or None."""
    auto_submitted = _token(headers.first("auto-submitted"))
    local = address.rsplit("@", 1)[0] if address else ""
    checks = (
        ("auto_submitted", auto_submitted is not None and auto_submitted != "no"),
        ("precedence", _token(headers.first("precedence")) in {"bulk", "list", "junk"}),
        ("list", _present(headers, "list-id", "list-unsubscribe")),
        ("null_return_path", _null(_token(headers.first("return-path")))),
        ("bounce", content_type == "multipart/report" or local in {"mailer-daemon", "postmaster"}),
        ("autoreply_header", _present(headers, "x-autoreply", "x-autorespond")),
    )
    return next((code for code, hit in checks if hit), None)


def _null(return_path: str | None) -> bool:
    return return_path is not None and return_path.replace(" ", "") == "<>"


def _present(headers: Headers, *names: str) -> bool:
    return any(headers.first(name) is not None for name in names)
