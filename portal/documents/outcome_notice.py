"""The outcome notice's context: plain data only, both languages side by side, the client's
language first (as the acknowledgement).

It formats the facts the resolution service gathered (strings, dates, Decimals); it imports no
model and decides nothing about the complaint. Two refusals live here as defence in depth, so
that no caller can get them wrong: internal measures (internal criticism, disciplinary
measures) are dropped before anything reaches a client document, and a notice whose routes of
further recourse are blank in either language is refused (ValueError).

The helpers below (remedy names, money, the letter's common part) are shared with
`resolution_letters.py` (the completion notice and the apology letter).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from portal import clock
from portal.clock import LOCAL_TZ
from portal.documents.acknowledgement import (
    bilingual_date,
    bilingual_moment,
    firm_context,
    languages_for,
)
from portal.documents.pdf import render_pdf
from portal.locales import html_lang

TEMPLATE = "pdf/outcome_notice.html"

# What a client may be told a remedy is called (the catalogue's client-facing kinds).
CLIENT_REMEDY_NAMES = {
    "explanation": {"zh": "解释说明", "en": "Explanation"},
    "written_apology": {"zh": "书面道歉", "en": "Written apology"},
    "partial_refund": {"zh": "部分退还律师费", "en": "Partial fee refund"},
    "full_refund": {"zh": "全额退还律师费", "en": "Full fee refund"},
    "free_follow_up": {"zh": "免费后续服务", "en": "Free follow-up service"},
}
# Recorded confidentially, visible to partners only: never in anything a client receives.
INTERNAL_REMEDY_KINDS = frozenset({"internal_criticism", "disciplinary"})
DEFAULT_CURRENCY = "CNY"
CENT = Decimal("0.01")

HEADINGS = {
    "outcome": {"zh": "投诉处理结果通知书", "en": "Outcome of Your Complaint"},
    "outcome_revised": {"zh": "投诉处理结果通知书（修订）",
                        "en": "Outcome of Your Complaint (Revised)"},
    "completion": {"zh": "投诉处理措施完成通知书", "en": "Remedies Carried Out"},
    "apology": {"zh": "致歉函", "en": "Letter of Apology"},
}
SUBJECTS = {
    "outcome": {"zh": "投诉处理结果通知", "en": "Outcome of your complaint"},
    "outcome_revised": {"zh": "投诉处理结果通知（修订）",
                        "en": "Revised outcome of your complaint"},
    "completion": {"zh": "投诉处理措施已完成", "en": "The agreed remedies are carried out"},
    "apology": {"zh": "致歉函", "en": "Letter of apology"},
}


def client_remedies(remedies: Iterable[Mapping] | None) -> list[Mapping]:
    """The remedies a client may see: internal measures dropped; an unknown kind refused
    (a kind added to the catalogue must be classed as client-facing or internal here)."""
    kept = []
    for remedy in remedies or []:
        kind = remedy.get("kind")
        if kind in INTERNAL_REMEDY_KINDS:
            continue
        if kind not in CLIENT_REMEDY_NAMES:
            raise ValueError(f"unknown remedy kind for a client document: {kind!r}")
        kept.append(remedy)
    return kept


def money(amount: Decimal | int | str | None, currency: str | None = None) -> str | None:
    """"CNY 1,234.50" in both languages: the ISO code, thousands separators, 2 decimals."""
    if amount is None:
        return None
    value = Decimal(str(amount)).quantize(CENT, rounding=ROUND_HALF_UP)
    code = (currency or DEFAULT_CURRENCY).strip().upper() or DEFAULT_CURRENCY
    return f"{code} {value:,.2f}"


def remedy_name(kind: str) -> dict:
    return {"code": kind, **CLIENT_REMEDY_NAMES[kind]}


def _text(value: str | None) -> str:
    return (value or "").strip()


def letter_base(kind: str, heading: str, facts: Mapping, config: Mapping,
                now: datetime | None) -> dict:
    """What every resolution document shares: languages, titles, dates, the firm, the client,
    the postal address (the print-for-post version when set)."""
    now = now or clock.now()
    languages = languages_for(facts.get("language"))
    reference = facts["reference"]
    firm = firm_context(config)
    names = HEADINGS[heading]
    handler = facts.get("handler")
    return {
        "kind": kind,
        "language": languages[0],
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "heading": dict(names),
        "title": {lang: f"{names[lang]} {reference}" for lang in languages},
        "subject": " / ".join(f"{SUBJECTS[heading][lang]} {reference}" for lang in languages),
        "created_iso": now.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "reference": reference,
        "received": bilingual_moment(facts.get("received_at")),
        "complainant_name": facts.get("complainant_name") or "",
        "handler": {"name": handler.get("name") or "", "email": handler.get("email") or "",
                    "phone": handler.get("phone") or ""} if handler else None,
        "postal_address": _text(facts.get("postal_address")) or None,
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }


def recourse_texts(recourse: Mapping | None) -> dict:
    """Both languages' routes of further recourse; ValueError when either is blank."""
    texts = {lang: _text((recourse or {}).get(lang)) for lang in ("zh", "en")}
    blank = [lang for lang, text in texts.items() if not text]
    if blank:
        raise ValueError("the routes of further recourse are blank in "
                         + " and ".join({"zh": "Chinese", "en": "English"}[b] for b in blank))
    return texts


def _timetable(answer_by: dict | None, remedies: list[dict]) -> list[dict]:
    steps = []
    if answer_by:
        steps.append({"on": answer_by, "step": {"zh": "请您答复是否接受处理结果",
                                                "en": "Your answer: do you accept the outcome?"}})
    for remedy in remedies:
        if remedy["due"]:
            steps.append({"on": remedy["due"],
                          "step": {"zh": f"{remedy['zh']}履行完毕",
                                   "en": f"{remedy['en']} carried out"}})
    return sorted(steps, key=lambda step: step["on"]["iso"])  # stable: the answer first


def outcome_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Everything the outcome notice (PDF and email) may show, from the plain `facts`."""
    version = int(facts.get("notice_version") or 1)
    revised = version > 1
    recourse = recourse_texts(facts.get("recourse"))
    base = letter_base("outcome", "outcome_revised" if revised else "outcome", facts, config, now)
    remedies = [{**remedy_name(r["kind"]),
                 "amount": money(r.get("amount"), r.get("currency")),
                 "scope": _text(r.get("scope")),
                 "due": bilingual_date(r.get("due"))}
                for r in client_remedies(facts.get("remedies"))]
    answer_by = bilingual_date(facts.get("answer_by"), "full")
    round_number = facts.get("round_number")
    return {
        **base,
        "notice_version": version,
        "revised": revised,
        "round_number": int(round_number) if round_number else None,
        "client_summary": _text(facts.get("client_summary")),
        "summary_lang_tag": base["lang_tag"],  # written in the client's language
        "remedies": remedies,
        "timetable": _timetable(answer_by, remedies),
        "answer_by": answer_by,
        "recourse": recourse,
        "client_link": _text(facts.get("client_link")),
    }


def render_outcome_notice(context: dict) -> bytes:
    """The outcome notice's PDF from `outcome_context` (the print-for-post version when the
    context carries a postal address)."""
    return render_pdf(TEMPLATE, context)
