"""How the portal spells its two languages, in one place.

A client's language is stored as "zh" or "en"; the interface locale (Flask-Babel, the
catalogues, the user's setting) is "zh_CN" or "en"; Babel itself may answer "zh_Hans_CN";
HTML's lang attribute is "zh-CN" or "en". Every conversion goes through these functions.
Nothing here needs a request or the database.
"""

from __future__ import annotations

LANGUAGES = ("zh", "en")  # a client's language, as stored
DEFAULT_LANGUAGE = "zh"
LOCALES = ("zh_CN", "en")  # the interface's locales, as configured
DEFAULT_LOCALE = "zh_CN"
LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}  # each in its own language
# Babel's locale for dates and numbers in each language: English in day-month order, as the
# notices print it.
FORMAT_LOCALES = {"zh": "zh_Hans_CN", "en": "en_GB"}


def language_of(locale: object) -> str:
    """"zh" for any Chinese locale (zh, zh_CN, zh_Hans_CN, a Babel Locale), else "en"."""
    text = str(locale or "")
    return "zh" if text == "zh" or text.startswith(("zh_", "zh-")) else "en"


def locale_of(language: str | None) -> str:
    """The interface locale that speaks a client's language ("zh" → "zh_CN")."""
    return "en" if language == "en" else DEFAULT_LOCALE


def html_lang(locale: object) -> str:
    """The HTML lang attribute for a locale ("zh_CN" → "zh-CN")."""
    return "zh-CN" if language_of(locale) == "zh" else "en"


def both_first(locale: str) -> list[str]:
    """Both interface locales, `locale` first (bilingual mail and notices)."""
    return [locale, *(other for other in LOCALES if other != locale)]


def format_locale(language: str) -> str:
    """The Babel locale that formats dates and numbers in a client's language."""
    return FORMAT_LOCALES[language_of(language)]
