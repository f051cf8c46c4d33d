"""Dates, times and sizes as the staff pages show them: one spelling per locale.

The English pages use British order (1 Dec 2026), as the notices do, rather than Babel's US
default (12/1/26); the Chinese pages use 2026年12月1日. Templates reach these through the
`date`, `datetime` and `filesize` filters; code that builds a message uses the functions.
"""

from __future__ import annotations

from datetime import date, datetime

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_skeleton
from babel.dates import format_time as babel_time
from babel.units import format_unit
from flask_babel import get_locale, to_user_timezone

from portal.locales import LANGUAGES, format_locale

# Babel's English default is US order; the firm writes dates the British way.
_DISPLAY_LOCALES = {language: Locale.parse(format_locale(language)) for language in LANGUAGES}
_TIME = "HH:mm"
_UNITS = ((1024 ** 3, "digital-gigabyte"), (1024 ** 2, "digital-megabyte"),
          (1024, "digital-kilobyte"))


def display_locale() -> Locale:
    locale = get_locale()
    language = locale.language if locale is not None else "zh"
    return _DISPLAY_LOCALES.get(language, _DISPLAY_LOCALES["en"])


def format_day(value: date | datetime | None, fmt: str = "medium") -> str:
    """A date: "short" and "medium" both give the one medium form (1 Dec 2026, 2026年12月1日);
    "long" and "full" spell the month and the weekday (Tuesday, 1 December 2026)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = to_user_timezone(value).date()
    return babel_date(value, "long" if fmt == "long" else "full" if fmt == "full" else "medium",
                      locale=display_locale())


def format_month(value: date | None) -> str:
    """A month: 2026年3月 / March 2026 (bulletins keep no finer date)."""
    if value is None:
        return ""
    return format_skeleton("yMMMM", value, locale=display_locale())


def format_moment(value: datetime | None, fmt: str = "medium") -> str:
    """A date and time in the portal's time zone: 1 Dec 2026, 13:26 / 2026年12月1日 13:26."""
    if value is None:
        return ""
    local = to_user_timezone(value)
    day = format_day(local.date(), fmt)
    time = babel_time(local, _TIME, locale=display_locale())
    separator = ", " if display_locale().language == "en" else " "
    return f"{day}{separator}{time}"


def format_size(size: int | None) -> str:
    """A file size through Babel's units: 608 bytes / 608字节, 1.2 MB, 12.5 kB."""
    if size is None:
        return ""
    locale = display_locale()
    for factor, unit in _UNITS:
        if size >= factor:
            return format_unit(round(size / factor, 1), unit, "short", format="#,##0.#",
                               locale=locale)
    return format_unit(size, "digital-byte", "long", locale=locale)
