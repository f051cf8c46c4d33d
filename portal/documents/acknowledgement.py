"""The acknowledgement notice's context: plain data only, both languages side by side.

It formats the facts the service gathered (`notices.acknowledgement_facts`: strings, dates,
numbers); it imports no model and computes nothing about the complaint itself.

The PDF and the email are bilingual by design (the client's language first), so labels are
written here and in templates/pdf/ in both languages rather than going through gettext.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

from babel.dates import format_date, format_time

from portal import clock
from portal.clock import LOCAL_TZ
from portal.locales import format_locale, html_lang

LANGUAGES = ("zh", "en")

REMEDY_NAMES = {
    "explanation": {"zh": "作出解释说明", "en": "An explanation"},
    "apology": {"zh": "赔礼道歉", "en": "An apology"},
    "partial_refund": {"zh": "部分退还律师费", "en": "A partial refund of fees"},
    "full_refund": {"zh": "全额退还律师费", "en": "A full refund of fees"},
    "free_follow_up": {"zh": "免费提供后续法律服务", "en": "Free follow-up legal service"},
    "other": {"zh": "其他", "en": "Other"},
}


def languages_for(language: str | None) -> list[str]:
    """The client's language first, then the other one."""
    first = language if language in LANGUAGES else "zh"
    return [first] + [lang for lang in LANGUAGES if lang != first]


def bilingual_date(day: date | None, fmt: str = "long") -> dict | None:
    if day is None:
        return None
    return {"iso": day.isoformat(),
            **{lang: format_date(day, fmt, locale=format_locale(lang)) for lang in LANGUAGES}}


def bilingual_moment(moment: datetime | None) -> dict | None:
    if moment is None:
        return None
    local = moment.astimezone(LOCAL_TZ)
    text = bilingual_date(local.date())
    hour = format_time(local, "HH:mm", locale="en_GB")
    return {**text, "iso": local.isoformat(timespec="minutes"),
            "zh": f"{text['zh']} {hour}", "en": f"{text['en']}, {hour}"}


def _period(start: date | None, end: date | None) -> dict | None:
    if start is None:
        return None
    first = bilingual_date(start)
    if end is None or end == start:
        return first
    last = bilingual_date(end)
    return {"iso": f"{start.isoformat()}/{end.isoformat()}",
            "zh": f"{first['zh']}至{last['zh']}", "en": f"{first['en']} to {last['en']}"}


def _deadline(deadline: Mapping | None) -> dict | None:
    if not deadline or deadline.get("due") is None:
        return None
    return {**bilingual_date(deadline["due"], "full"),
            "working_days": int(deadline["working_days"]),
            "provisional": bool(deadline["provisional"])}


def firm_context(config: Mapping) -> dict:
    return {
        "name_zh": config["FIRM_NAME_ZH"], "name_en": config["FIRM_NAME_EN"],
        "address_zh": config["FIRM_ADDRESS_ZH"], "address_en": config["FIRM_ADDRESS_EN"],
        "phone": config["FIRM_PHONE"], "email": config["FIRM_COMPLAINTS_EMAIL"],
    }


def acknowledgement_context(facts: Mapping, config: Mapping,
                            now: datetime | None = None) -> dict:
    """Everything the acknowledgement (PDF and email) may show, as strings, lists and dicts,
    from the plain `facts` the service gathered."""
    now = now or clock.now()
    languages = languages_for(facts.get("language"))
    reference = facts["reference"]
    firm = firm_context(config)
    return {
        "kind": "acknowledgement",
        "language": languages[0],
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {"zh": f"投诉受理通知书 {reference}",
                  "en": f"Acknowledgement of complaint {reference}"},
        "created_iso": now.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "reference": reference,
        "received": bilingual_moment(facts.get("received_at")),
        "complainant_name": facts.get("complainant_name") or "",
        "respondents": list(facts.get("respondents") or []),
        "matter": dict(facts["matter"]) if facts.get("matter") else None,
        "narrative": facts.get("narrative") or "",
        "occurred": _period(facts.get("occurred_on"), facts.get("occurred_until")),
        "place": facts.get("place") or "",
        "remedies": [{"code": code, **REMEDY_NAMES.get(code, {"zh": code, "en": code})}
                     for code in facts.get("remedies") or []],
        "remedy_details": facts.get("remedy_details") or "",
        "deadline": _deadline(facts.get("deadline")),
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }
