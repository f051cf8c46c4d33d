"""Email addresses and the names that go with them: one rule for every way in and out.

Staff forms, the public form, the JSON import and the outbox all ask these functions, so an
address or a name accepted at intake is one the outbox can send to. (They used to differ:
`用户@example.com` passed intake and then failed in the outbox, whose mail relay does not
offer SMTPUTF8, and a name with a line break was saved and then broke registration.)

Nothing here needs the database or a request, so any module can import it.
"""

from __future__ import annotations

import base64
import re
import unicodedata

from email_validator import EmailNotValidError, ValidatedEmail, validate_email
from flask_babel import gettext as _

# An address without the SMTPUTF8 extension: the local part (before the @) is ASCII; a
# Unicode domain is fine (it is sent as punycode).
_RULES = {"check_deliverability": False, "allow_smtputf8": False}
LINE_MAX = 78  # RFC 5322: header lines of at most 78 characters
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 '\-]*")  # needs no quoting or encoding
_WORD_BYTES = 42  # 42 bytes of UTF-8 → 56 base64 characters → a 68-character encoded-word


class AddressError(ValueError):
    """An address the portal cannot send mail to; `code` says why."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code

    @property
    def message(self) -> str:
        """What to tell the person who typed it (translated)."""
        if self.code == "international_local_part":
            return _("Our mail cannot reach an address with Chinese or other non-Latin "
                     "letters before the @. Please give another address, or a phone number "
                     "instead.")
        return _("Enter an email address such as name@example.com.")


def is_single_line(text: str | None) -> bool:
    """No line break, tab or other control character (Unicode line separators included):
    what a name, a subject or an address header can hold."""
    return not text or not any(
        unicodedata.category(ch) in ("Cc", "Zl", "Zp") for ch in text)


def _validated(address: str) -> ValidatedEmail:
    if not isinstance(address, str) or not is_single_line(address):
        raise AddressError("invalid", "not a single line")
    try:
        return validate_email(address.strip(), **_RULES)
    except EmailNotValidError as error:
        try:
            validate_email(address.strip(), check_deliverability=False, allow_smtputf8=True)
        except EmailNotValidError:
            raise AddressError("invalid", str(error)) from error
        raise AddressError("international_local_part", str(error)) from error


def normalise_address(address: str) -> str:
    """The address as recorded and shown (a Unicode domain stays readable); AddressError
    when the outbox could not send to it."""
    return _validated(address).normalized


def sendable_address(address: str) -> str:
    """The address as the outbox sends it: ASCII, a Unicode domain as punycode."""
    result = _validated(address)
    return result.ascii_email or result.normalized


def _encoded_words(name: str) -> list[str]:
    """RFC 2047 encoded-words (UTF-8, base64), never splitting a character between two."""
    words, chunk = [], b""
    for ch in name:
        data = ch.encode("utf-8")
        if chunk and len(chunk) + len(data) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += data
    words.append(chunk)
    return [f"=?utf-8?b?{base64.b64encode(w).decode('ascii')}?=" for w in words]


def format_address(name: str | None, address: str, header: str = "To") -> str:
    """One mailbox for an address header, `Name <address>`, that reads as exactly one address.

    A display name holding commas or `@` (`Wang, attacker@evil.example`) must not turn into
    extra recipients. Quoting is not enough on its own: Python's email package refolds a
    header line longer than 78 characters and can drop the quotes or decode encoded-words
    while doing so (CPython gh-121284 and relatives). So a name that is not plain letters and
    digits is sent as base64 encoded-words (no specials left to misread), and the value is
    folded here into lines short enough that the library leaves it as it is.
    """
    address = sendable_address(address)
    name = " ".join((name or "").split())
    if not name or not is_single_line(name):
        return address
    if _PLAIN_NAME.fullmatch(name) and len(header) + len(name) + len(address) + 5 <= LINE_MAX:
        return f"{name} <{address}>"
    if len(address) + 3 > LINE_MAX:
        return address  # the address alone fills a line: leave the name out
    return "\r\n ".join([*_encoded_words(name), f"<{address}>"])


# Phone numbers: digits with the usual separators, an optional extension ("ext. 12", "转 12").
_PHONE = re.compile(r"^\+?[0-9\s().\-/]{5,30}(\s*(ext\.?|x|#|转|分机)\s*[0-9]{1,6})?$", re.I)
PHONE_MAX = 40


def plausible_phone(value: str | None) -> bool:
    """The one phone rule (staff intake, the public form, the import): a loose check, 5 to
    20 digits with the usual separators and an extension, at most 40 characters."""
    if not value or len(value) > PHONE_MAX:
        return False
    digits = sum(ch.isdigit() for ch in value)
    return bool(_PHONE.match(value)) and 5 <= digits <= 20
