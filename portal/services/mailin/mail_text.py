"""The text of an email: bytes decoded whatever charset they declare, an HTML body reduced to text.

A declared charset is read with the widest codec of its family (GB2312 and GBK as GB18030, Big5
as Big5-HKSCS); when none is declared, or the bytes do not read in it, they are guessed: UTF-8,
else GB18030 or Big5-HKSCS. Nothing in HTML is fetched: its remote images, style sheets and
scripts go with the markup, and whether it held active content is reported.
"""

from __future__ import annotations

import codecs
import html
import logging
import re
from functools import lru_cache
from itertools import islice

from bs4 import BeautifulSoup
from bs4.element import NavigableString, PageElement, PreformattedString, Tag

log = logging.getLogger("portal.mailin")

# Lone surrogates: the 8-bit bytes of a raw header, as the `email` package escapes them.
SURROGATE = re.compile(r"[\ud800-\udfff]")
# What may hide inside a Message-ID or a "javascript:" URL: whitespace, controls, surrogates.
INVISIBLE = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

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


def decode_text(data: bytes, declared: str | None) -> tuple[str, str | None]:
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


def clean_text(text: str) -> str:
    """Line breaks as "\\n", other controls but tabs removed, lone surrogates as U+FFFD, a
    leading byte order mark and surrounding whitespace stripped."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = SURROGATE.sub("\ufffd", _CONTROLS.sub("", text))
    return text.lstrip("\ufeff").strip()


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


def html_to_text(markup: str) -> tuple[str, bool]:
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
    return isinstance(value, str) and bool(_SCRIPT_URL.match(INVISIBLE.sub("", value).lower()))


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
