"""The progress notice's context (the first response by email): plain data only, both
languages side by side, the client's language first (as the acknowledgement)."""

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


def progress_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Everything the progress notice (PDF and email) may show."""
    now = now or clock.now()
    languages = languages_for(facts.get("language"))
    reference = facts["reference"]
    firm = firm_context(config)
    return {
        "kind": "progress",
        "language": languages[0],
        "languages": languages,
        "lang_tag": html_lang(languages[0]),
        "title": {"zh": f"投诉处理进展通知书 {reference}",
                  "en": f"Progress on your complaint {reference}"},
        "created_iso": now.astimezone(LOCAL_TZ).isoformat(timespec="seconds"),
        "issued": bilingual_date(now.astimezone(LOCAL_TZ).date()),
        "reference": reference,
        "received": bilingual_moment(facts.get("received_at")),
        "complainant_name": facts.get("complainant_name") or "",
        "handler": dict(facts["handler"]) if facts.get("handler") else None,
        "next_steps": facts.get("next_steps") or "",
        "next_contact": bilingual_date(facts.get("next_contact_on"), "full"),
        "contact": {"email": firm["email"], "phone": firm["phone"]},
        "firm": firm,
    }
