"""Where a redirect taken from the request (`?next=`, a form's `next`) may lead: this site only.

Browsers are generous with what they call a URL: they drop tabs and line breaks, read `\\` as
`/`, and `//host` or `/\\host` is another site. A value is accepted only when it is a path on
this site however it is read: as sent, with its percent-escapes decoded, and with backslashes
taken as slashes.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote, urlsplit

MAX_LENGTH = 2000
_DECODE_ROUNDS = 3  # "%252F" is "%2F" after one round and "/" after two


def _has_control(text: str) -> bool:
    # Cc: ASCII and C1 control characters; Zl/Zp: Unicode line and paragraph separators.
    return any(unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _readings(target: str) -> list[str]:
    readings = [target]
    for _round in range(_DECODE_ROUNDS):
        decoded = unquote(readings[-1])
        if decoded == readings[-1]:
            break
        readings.append(decoded)
    return readings


def _is_same_site_path(text: str) -> bool:
    path = text.replace("\\", "/")
    if not path.startswith("/") or path.startswith("//") or _has_control(path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def same_site_path(target: str | None) -> str | None:
    """`target` when it is a path on this site (such as `/complaints?q=x`), otherwise None."""
    if not target or len(target) > MAX_LENGTH:
        return None
    if all(_is_same_site_path(reading) for reading in _readings(target)):
        return target
    return None
