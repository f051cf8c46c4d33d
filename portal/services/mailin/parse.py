"""One email's raw bytes read into plain data: ids, sender, subject, body text, attachments.

`parse` never raises: whatever the bytes, it returns a `ParsedMessage`, and what was wrong with
them is listed in `problems`. Nothing is fetched: an HTML body is reduced to its text, so its
remote images, style sheets and scripts go with the markup. Attachment names come through as
the sender wrote them; whoever stores the files sanitises them.

Headers are read from their raw values (8-bit bytes decoded like a body, RFC 2047 words with
the same charset rules), so a broken header never costs the rest of the message; the MIME
structure is the `email` package's (policy `default`, `compat32` if that one gives up).
"""

from __future__ import annotations

import base64
import binascii
import codecs
import html
import logging
import re
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from functools import lru_cache
from itertools import islice

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

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
_MAX_SUBJECT = 300
_MAX_MESSAGE_ID = 255
_MAX_DEPTH = 30  # multipart nesting; real mail stays under ten
_LONG_HEADER = 4096  # bytes; a 200-character Chinese file name takes some 2,000
_MIME_HEADER = re.compile(rb"(?im)^content-(?:type|disposition):[^\n]*(?:\n[ \t][^\n]*)*")
# A nested message written back as it came: no header refolded, 8-bit bytes kept.
_VERBATIM = email_policy.default.clone(linesep="\r\n", refold_source="none")


@dataclass(frozen=True)
class Attachment:
    filename: str  # as the sender gave it (RFC 2231 / 2047 decoded), "" when none; not sanitised
    content_type: str  # the declared type, lower-case
    data: bytes  # the decoded payload


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
    data = _as_bytes(raw)
    attempts = (True,) if _outsized_parameters(data) else (False, True)
    for fallback in attempts:
        try:
            return _read(data, authserv_id, fallback=fallback)
        except Exception:  # whatever the bytes, the mailbox must go on
            log.warning("email unreadable (compat32 fallback: %s)", fallback, exc_info=True)
    return _unreadable()


def message_ids(value: str | None) -> list[str]:
    """Every "<...>" token of a header value, whitespace and controls removed."""
    found = []
    for match in _ANGLE.finditer(value or ""):
        inner = _INVISIBLE.sub("", match.group(1))
        if inner and len(inner) + 2 <= _MAX_MESSAGE_ID:
            found.append(f"<{inner}>")
    return found


# -- the message ------------------------------------------------------------------------------


def _as_bytes(raw: object) -> bytes:
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _outsized_parameters(data: bytes) -> bool:
    """Policy `default` parses MIME parameters in quadratic time: a Content-Type of some
    hundred kilobytes would hold the mailbox for minutes. compat32 reads those in one pass."""
    return any(len(match.group(0)) > _LONG_HEADER for match in _MIME_HEADER.finditer(data))


def _unreadable() -> ParsedMessage:
    return ParsedMessage(
        message_id=None, in_reply_to=[], references=[], subject="", sender_address=None,
        sender_name=None, date_header=None, text="", attachments=[],
        auth=AuthResults(None, None, None), automatic=None,
        problems=["malformed_mime", "no_sender"],
    )


def _read(data: bytes, authserv_id: str | None, *, fallback: bool) -> ParsedMessage:
    policy = email_policy.compat32 if fallback else email_policy.default
    message = message_from_bytes(data, policy=policy)
    headers = _Headers(message)
    body = _Body(message)
    address, name = _sender(headers.first("from"))
    problems = body.problems | _header_problems(headers, data, address)
    if fallback:
        problems.add("malformed_mime")
    return ParsedMessage(
        message_id=_message_id(headers.first("message-id")),
        in_reply_to=message_ids(_raw_text(headers.first("in-reply-to"))),
        references=message_ids(_raw_text(headers.first("references"))),
        subject=_one_line(_decode_header(headers.first("subject")))[:_MAX_SUBJECT].rstrip(),
        sender_address=address,
        sender_name=name,
        date_header=_date(headers.first("date")),
        text=body.text,
        attachments=body.attachments,
        auth=_auth(headers, authserv_id),
        automatic=_automatic(headers, message.get_content_type(), address),
        problems=[code for code in _PROBLEMS if code in problems],
    )


def _header_problems(headers: _Headers, data: bytes, address: str | None) -> set[str]:
    problems = set()
    if _header_crlf(headers) or _bare_cr(data):
        problems.add("header_crlf")
    if address is None:
        problems.add("no_sender")
    return problems


# -- headers ----------------------------------------------------------------------------------

_ANGLE = re.compile(r"<([^<>]*)>")
_INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")
_BARE_ID = re.compile(r"[^<>@\s]+@[^<>@\s]+")
_LINE_BREAKING = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_SPACES = re.compile(r" {2,}")
_FOLD = re.compile(r"[\r\n]")
_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_BARE_CR = re.compile(rb"\r(?!\n)")
_ADDRESS = re.compile(r"[^\s@<>]+@[^\s@<>]+")
_CRLF_HEADERS = ("subject", "from", "to", "message-id", "in-reply-to", "references")


class _Headers:
    """The raw header values of the top of a message, in order."""

    def __init__(self, message: Message) -> None:
        self._items = [(str(name).lower(), str(value)) for name, value in message.raw_items()]

    def all(self, name: str) -> list[str]:
        return [value for key, value in self._items if key == name]

    def first(self, name: str) -> str | None:
        return next((value for key, value in self._items if key == name), None)


def _raw_text(raw: str | None) -> str:
    """A raw header value unfolded, its 8-bit bytes (surrogate-escaped) decoded."""
    text = _FOLD.sub("", raw or "")
    if not _SURROGATE.search(text):
        return text
    try:
        data = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)
    return _decode(data, None)[0]


def _decode_header(raw: str | None) -> str:
    """A raw header value with its RFC 2047 encoded words decoded (controls left in)."""
    text = _raw_text(raw)
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
        yield value if isinstance(value, str) else _decode(value, charset)[0]


def _one_line(text: str) -> str:
    """Control characters and line breaks as spaces, runs of spaces collapsed, stripped."""
    text = _SURROGATE.sub("\ufffd", _LINE_BREAKING.sub(" ", text))
    return _SPACES.sub(" ", text).strip()


def _header_crlf(headers: _Headers) -> bool:
    """A CR or LF hidden in an encoded word of a header someone may copy into a reply."""
    decoded = (_decode_header(value) for name in _CRLF_HEADERS for value in headers.all(name))
    return any("\r" in value or "\n" in value for value in decoded)


def _bare_cr(data: bytes) -> bool:
    end = _HEADER_END.search(data)
    return _BARE_CR.search(data[: end.start() if end else len(data)]) is not None


def _message_id(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = _raw_text(raw)
    ids = message_ids(value)
    if ids:
        return ids[0]
    bare = _INVISIBLE.sub("", value)
    if _BARE_ID.fullmatch(bare) and len(bare) + 2 <= _MAX_MESSAGE_ID:
        return f"<{bare}>"
    return None


def _sender(raw: str | None) -> tuple[str | None, str | None]:
    """The first usable address of the From: header and its display name."""
    if raw is None:
        return None, None
    try:
        pairs = getaddresses([_raw_text(raw)])
    except (ValueError, TypeError, IndexError):
        return None, None
    for name, addr in pairs:
        address = _one_line(addr).lower()
        if _ADDRESS.fullmatch(address):
            return address, _one_line(_decode_header(name)) or None
    return None, None


def _date(raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        value = parsedate_to_datetime(_raw_text(raw).strip())
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


def _auth(headers: _Headers, authserv_id: str | None) -> AuthResults:
    """The results our own server prepended: the top Authentication-Results header (with
    `authserv_id`, the top one that server signed); any further down came with the mail."""
    wanted = authserv_id.strip().lower() if authserv_id else None
    for raw in headers.all("authentication-results"):
        server, *results = _without_comments(_raw_text(raw)).split(";")
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
    return _without_comments(_raw_text(raw)).split(";", 1)[0].strip().lower()


def _automatic(headers: _Headers, content_type: str, address: str | None) -> str | None:
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


def _present(headers: _Headers, *names: str) -> bool:
    return any(headers.first(name) is not None for name in names)


# -- charsets ---------------------------------------------------------------------------------

_ALIASES = {
    "gbk": "gb18030", "gb2312": "gb18030", "gb_2312": "gb18030", "x-gbk": "gb18030",
    "cp936": "gb18030", "big5": "big5hkscs", "x-big5": "big5hkscs", "cp950": "big5hkscs",
}
_WIDER = {"gbk": "gb18030", "gb2312": "gb18030", "big5": "big5hkscs", "cp950": "big5hkscs"}
_REFUSED = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined", "charmap"}
# Lead bytes of the punctuation and of the frequent characters (GB2312 level 1, Big5 level 1).
_COMMON_LEADS = {
    "gb2312": frozenset(range(0xA1, 0xA4)) | frozenset(range(0xB0, 0xD8)),
    "big5": frozenset(range(0xA1, 0xC7)),
}
_SAMPLE = 2000


def _codec(declared: str | None) -> str | None:
    """The Python codec for a declared charset, or None if missing or unknown."""
    name = (declared or "").strip().strip("\"'").lower()
    if not name or len(name) > 40:
        return None
    try:
        canonical = codecs.lookup(_ALIASES.get(name, name)).name
    except (LookupError, ValueError, TypeError):
        return None
    return None if canonical in _REFUSED else _WIDER.get(canonical, canonical)


def _decode(data: bytes, declared: str | None) -> tuple[str, str | None]:
    """The text, and "charset_guessed" or "undecodable_text" when the declaration failed."""
    codec = _codec(declared)
    if codec is not None:
        text = _strict(data, codec)
        if text is not None:
            return text, None
    if data.isascii():
        return data.decode("ascii"), None
    text = _guess(data)
    if text is not None:
        return text, "charset_guessed"
    return data.decode("utf-8", "replace"), "undecodable_text"


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except (ValueError, LookupError, TypeError):
        return None


def _guess(data: bytes) -> str | None:
    """UTF-8, else GB18030 or Big5-HKSCS; Big5 bytes nearly always also read as GB18030, so
    when both read, the one whose characters are the common ones wins (ties to GB18030)."""
    text = _strict(data, "utf-8")
    if text is not None:
        return text
    gb, big5 = _strict(data, "gb18030"), _strict(data, "big5hkscs")
    if gb is not None and big5 is not None and _score(big5, "big5") > _score(gb, "gb2312"):
        return big5
    return gb if gb is not None else big5


def _score(text: str, charset: str) -> float:
    sample = list(islice((char for char in text if ord(char) > 0x7F), _SAMPLE))
    if not sample:
        return 0.0
    return sum(_common(char, charset) for char in sample) / len(sample)


@lru_cache(maxsize=8192)
def _common(char: str, charset: str) -> bool:
    try:
        encoded = char.encode(charset)
    except UnicodeEncodeError:
        return False
    return len(encoded) == 2 and encoded[0] in _COMMON_LEADS[charset]


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def _clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SURROGATE.sub("\ufffd", _CONTROLS.sub("", text))
    return text.lstrip("\ufeff").strip()


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
        text, problem = _decode(_payload(leaf.part) or b"", leaf.charset)
        if problem:
            self.problems.add(problem)
        if leaf.body_type == "text/html":
            text, active = _html_to_text(text)
            self.problems.add("html_converted")
            if active:
                self.problems.add("active_html_removed")
        return _clean_text(text)

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
            view[str(name)] = _raw_text(str(value))
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
            text = _decode(text.encode("latin-1"), charset)[0]
        return _SURROGATE.sub("\ufffd", text).strip()
    return _SURROGATE.sub("\ufffd", _decode_header(value)).strip()


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


# -- HTML -------------------------------------------------------------------------------------

_DROPPED = ("script", "style", "head", "template", "iframe", "object", "embed", "noscript")
_ACTIVE_TAGS = {"script", "iframe", "object", "embed"}
_ACTIVE_PREFIXES = ("on", "hx-", "data-hx")
_BREAKS = (
    "div", "li", "tr", "ul", "ol", "dl", "dt", "dd", "table", "pre", "hr", "section",
    "article", "header", "footer", "nav", "aside", "address", "form", "fieldset", "figure",
    "figcaption", "main", "center", "caption",
)
_PARAGRAPHS = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote")
_WHITESPACE = re.compile(r"\s+")
_LINE_SPACES = re.compile(r"[ \t\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
# Noncharacters marking where a block (one line break) or a paragraph (a blank line) ends.
_BLOCK, _PARAGRAPH = "\ufdd0", "\ufdd1"
_MARKS = re.compile(r"[\s\ufdd0\ufdd1]+")  # (one pass: no backtracking over long runs)
_MARK = {
    **dict.fromkeys(_BREAKS, _BLOCK), **dict.fromkeys(_PARAGRAPHS, _PARAGRAPH), "td": " ", "th": " "
}
_SCRIPT_URL = re.compile(r"^(?:javascript|vbscript):")
_ACTIVE_MARKUP = re.compile(
    r"<(?:script|iframe|object|embed)\b|\s(?:on|hx-|data-hx)[\w-]*\s*=", re.IGNORECASE
)


def _html_to_text(markup: str) -> tuple[str, bool]:
    """The text of an HTML body, and whether it held active content (scripts, handlers)."""
    if "<" not in markup:
        return _tidy(_WHITESPACE.sub(" ", html.unescape(markup))), False
    try:
        # "<?" to "<": no processing instruction (an XML declaration makes bs4 warn)
        soup = BeautifulSoup(markup.replace("<?", "<"), "html.parser")
        return _tidy(_soup_text(soup)), _active(soup)
    except Exception:  # the parser rejected the markup: fall back to dropping anything tag-like
        log.info("HTML body not parsed", exc_info=True)
        text = html.unescape(re.sub(r"<[^<>]*>", " ", markup))
        return _tidy(text), _ACTIVE_MARKUP.search(markup) is not None


def _active(soup: BeautifulSoup) -> bool:
    for tag in soup.find_all(True):
        if tag.name in _ACTIVE_TAGS or any(map(_active_attribute, tag.attrs.items())):
            return True
    return False


def _active_attribute(attribute: tuple[str, object]) -> bool:
    name, value = attribute
    if name.lower().startswith(_ACTIVE_PREFIXES):
        return True
    return isinstance(value, str) and bool(_SCRIPT_URL.match(_INVISIBLE.sub("", value).lower()))


def _soup_text(soup: BeautifulSoup) -> str:
    """The text in document order: dropped elements skipped, blocks and paragraphs marked,
    whitespace collapsed outside <pre>. The tree is walked, not edited: deep trees stay fast."""
    out: list[str] = []
    stack: list[tuple[PageElement, bool]] = [(soup, False)]
    pre = 0
    while stack:
        node, closing = stack.pop()
        if not isinstance(node, Tag):
            out.append(_string_text(node, pre))
        elif closing:
            out.append(_MARK.get(node.name, ""))
            pre -= node.name == "pre"
        elif node.name == "br":
            out.append("\n")
        elif node.name not in _DROPPED:
            out.append(_MARK.get(node.name, ""))
            pre += node.name == "pre"
            stack.append((node, True))
            stack.extend((child, False) for child in reversed(node.contents))
    return "".join(out)


def _string_text(node: PageElement, pre: int) -> str:
    if not isinstance(node, NavigableString) or isinstance(node, PreformattedString):
        return ""  # comments, CDATA, doctypes, <?...?>
    return str(node) if pre else _WHITESPACE.sub(" ", node)


def _tidy(text: str) -> str:
    text = _MARKS.sub(_marked_break, text)
    lines = (_LINE_SPACES.sub(" ", line).strip() for line in text.replace("\xa0", " ").split("\n"))
    return _BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


def _marked_break(match: re.Match[str]) -> str:
    run = match.group(0)
    if _PARAGRAPH in run:
        return "\n\n"
    if _BLOCK in run:
        return "\n" * min(2, max(1, run.count("\n")))
    return run
