"""The completion notice (the agreed remedies are carried out) and the apology letter: plain
data only, both languages side by side, the client's language first.

Like the outcome notice (whose helpers this module shares), they format the facts the
services gathered and import no model; internal measures are dropped here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from portal.documents.acknowledgement import bilingual_date
from portal.documents.outcome_notice import client_remedies, letter_base, money, remedy_name
from portal.documents.pdf import render_pdf

COMPLETION_TEMPLATE = "pdf/completion_notice.html"
APOLOGY_TEMPLATE = "pdf/apology_letter.html"


def completion_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """Everything the completion notice (PDF and email) may show."""
    done = [{**remedy_name(r["kind"]),
             "amount": money(r.get("amount"), r.get("currency")),
             "details": (r.get("details") or "").strip(),
             "done_on": bilingual_date(r.get("done_on"))}
            for r in client_remedies(facts.get("remedies_done"))]
    return {
        **letter_base("completion", "completion", facts, config, now),
        "remedies_done": done,
        "client_link": (facts.get("client_link") or "").strip(),
    }


def apology_context(facts: Mapping, config: Mapping, now: datetime | None = None) -> dict:
    """The apology letter: the firm's text as written, signed. ValueError when it is blank."""
    text = (facts.get("letter_text") or "").strip()
    if not text:
        raise ValueError("the apology letter has no text")
    base = letter_base("apology", "apology", facts, config, now)
    signer = facts.get("signer") or {}
    return {
        **base,
        "letter_text": text,
        "text_lang_tag": base["lang_tag"],  # written in the client's language
        "signer": {"name": signer.get("name") or "", "title": signer.get("title") or ""},
    }


def render_completion_notice(context: dict) -> bytes:
    return render_pdf(COMPLETION_TEMPLATE, context)


def render_apology_letter(context: dict) -> bytes:
    return render_pdf(APOLOGY_TEMPLATE, context)
