"""The client's emails when triage closes a complaint or the client withdraws it: plain data
only, both languages side by side (the client's language first), like the acknowledgement.

The service gathers the facts (`services/triage/letters.py`: strings and dates); this module
formats them and imports no model. The wording is written here and in templates/emails/ in
both languages rather than going through gettext, so the letter reads the same whatever the
language of the partner who sent it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from portal import clock
from portal.clock import LOCAL_TZ
from portal.documents.acknowledgement import (
    bilingual_date,
    bilingual_moment,
    firm_context,
    languages_for,
)
from portal.locales import html_lang

SUBJECTS = {
    "closure_notice": {"zh": "投诉结案通知", "en": "Closure of your complaint"},
    "withdrawal_confirmation": {"zh": "撤回投诉确认", "en": "Your complaint is withdrawn"},
}

# How the client told us they withdraw: "we received your request, made <by phone>, ..."
WITHDRAWAL_METHODS = {
    "phone": {"zh": "通过电话", "en": "by phone"},
    "email": {"zh": "通过电子邮件", "en": "by email"},
    "letter": {"zh": "通过信函", "en": "by letter"},
    "in_person": {"zh": "当面", "en": "in person"},
    "online": {"zh": "通过网上渠道", "en": "online"},
}


def subject(kind: str, languages: list[str], reference: str) -> str:
    return " / ".join(f"{SUBJECTS[kind][lang]} {reference}" for lang in languages)


def _base(kind: str, facts: Mapping, config: Mapping, now: datetime | None) -> dict:
    now = now or clock.now()
    languages = languages_for(facts.get("language"))
    firm = firm_context(config)
    return {
        "kind": kind,
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {lang: f"{SUBJECTS[kind][lang]} {facts['reference']}" for lang in languages},
        "subject": subject(kind, languages, facts["reference"]),
        "reference": facts["reference"],
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "received": bilingual_moment(facts.get("received_at")),
        "complainant_name": facts.get("complainant_name") or "",
        "handler_name": facts.get("handler_name") or "",
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }


def closure_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Closed at triage: out of scope, or a duplicate of the complaint named."""
    return {**_base("closure_notice", facts, config, now),
            "closure_kind": facts["closure_kind"],
            "reason": facts.get("reason") or "",
            "duplicate_reference": facts.get("duplicate_reference") or ""}


def withdrawal_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    method = facts.get("method") or ""
    return {**_base("withdrawal_confirmation", facts, config, now),
            "method": WITHDRAWAL_METHODS.get(method, {"zh": "", "en": ""}),
            "withdrawn": bilingual_moment(facts.get("withdrawn_at"))}
