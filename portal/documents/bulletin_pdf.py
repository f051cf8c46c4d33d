"""A published bulletin as a PDF for circulation inside the firm: the letterhead, "内部资料 /
Internal" on every page, the title, the month, the categories, the rules engaged and the text.

Plain data only, as every document: the facts are the bulletin's own fields (the route reads
them and ends its read before rendering), and a published bulletin has no link to a
complaint, so nothing here can name one. The frame is in both languages, the bulletin's
language first; the title, the text and the rules are printed as written.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from babel.dates import format_skeleton

from portal import clock
from portal.clock import LOCAL_TZ
from portal.documents.acknowledgement import firm_context, languages_for
from portal.documents.pdf import render_pdf
from portal.locales import LANGUAGES, format_locale, html_lang

TEMPLATE = "pdf/bulletin.html"
HEADING = {"zh": "案例通报", "en": "Case bulletin"}
INTERNAL = {"zh": "内部资料", "en": "Internal"}


def bilingual_month(month: date | None) -> dict | None:
    """2026年3月 / March 2026: a bulletin keeps no finer date."""
    if month is None:
        return None
    return {lang: format_skeleton("yMMMM", month, locale=format_locale(lang))
            for lang in LANGUAGES}


def paragraphs(text: str) -> list[str]:
    """The text in paragraphs (split at blank lines); each keeps its own line breaks."""
    blocks = (block.strip("\n") for block in (text or "").replace("\r\n", "\n").split("\n\n"))
    return [block for block in blocks if block.strip()]


def bulletin_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Everything the bulletin's PDF shows. `facts`: id, title, body, language, month (a
    date), categories ([{"zh", "en"}] labels), rules (citations as printed)."""
    now = now or clock.now()
    languages = languages_for(facts.get("language"))
    title = (facts.get("title") or "").strip()
    internal = " / ".join(INTERNAL[lang] for lang in languages)
    number = facts["id"]
    return {
        "kind": "bulletin",
        "language": languages[0],
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "text_lang_tag": html_lang(facts.get("language") or languages[0]),
        "heading": dict(HEADING),
        "title": {lang: f"{HEADING[lang]} · {title}" for lang in languages},
        "internal": internal,
        # Every page's footer (pdf/_notice.css prints `reference` through tojson, which
        # escapes anything but ASCII in a way CSS does not read: ASCII only here).
        "reference": f"INTERNAL - Bulletin {number}",
        "created_iso": now.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "firm": firm_context(config),
        "bulletin_title": title,
        "month": bilingual_month(facts.get("month")),
        "categories": [{lang: str(c.get(lang) or "") for lang in LANGUAGES}
                       for c in facts.get("categories") or []],
        "rules": [str(rule) for rule in facts.get("rules") or [] if str(rule).strip()],
        "paragraphs": paragraphs(facts.get("body") or ""),
    }


def render_bulletin(context: dict) -> bytes:
    return render_pdf(TEMPLATE, context)
