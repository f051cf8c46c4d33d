"""Internal criticism and disciplinary measures never reach the client: every document the
portal sends a client (acknowledgement, progress notice, outcome notice, completion notice,
apology letter: each PDF, its print-for-post version and its email) is rendered for a
complaint whose decision holds internal measures, whose words would give them away, and
none of those words appears in any of them (the PDFs read back with pdftotext)."""

from __future__ import annotations

import re
import subprocess
from datetime import timedelta

import pytest

from portal import clock
from portal.db import db, write_transaction
from portal.documents import (
    apology_context,
    completion_context,
    for_post,
    outcome_context,
    render,
    render_apology_letter,
    render_completion_notice,
    render_pdf,
)
from portal.documents.templating import TEMPLATES_DIR
from portal.models import Complaint, FirstResponse
from portal.services import notices
from portal.services.resolution import outcome
from tests.decision_support import INTERNAL, awaiting, decide, person, set_recourse

FORBIDDEN = re.compile(r"内部批评|纪律处分|internal\s+criticism|disciplinary", re.IGNORECASE)
ADDRESS = "上海市徐汇区漕溪北路 88 号 5 楼 502 室"
EMAILS = {"acknowledgement": "acknowledgement", "progress": "progress_notice",
          "outcome": "outcome", "completion": "completion", "apology": "apology"}


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


def _completion_facts(complaint: Complaint) -> dict:
    """What a completion notice is told: every remedy of the decision carried out, the
    internal measures with the words of their confidential record."""
    words = dict((kind, scope) for kind, _amount, scope, _level in INTERNAL)
    return {
        "reference": complaint.label, "language": complaint.language,
        "complainant_name": complaint.complainant.name,
        "handler": {"name": complaint.handler.name, "email": complaint.handler.email or ""},
        "remedies_done": [{"kind": r.kind, "amount": r.amount, "currency": r.currency,
                           "done_on": clock.today(), "details": words.get(r.kind, r.scope)}
                          for r in complaint.current_decision.remedies],
        "client_link": "https://portal.example/c/token", "postal_address": None,
    }


@pytest.fixture
def documents(app) -> dict[str, str]:
    """name -> the text a client would read (PDFs through pdftotext, emails as written)."""
    cid = awaiting(app)
    set_recourse(app)
    decide(app, cid)
    texts: dict[str, str] = {}
    with app.app_context(), app.test_request_context():
        complaint = db.session.get(Complaint, cid)
        internal = [r for r in complaint.current_decision.remedies if r.is_internal]
        assert {r.kind for r in internal} == {"internal_criticism", "disciplinary"}
        with write_transaction():
            complaint = db.session.get(Complaint, cid)
            complaint.first_response = FirstResponse(
                method="notice", responded_at=clock.now(), recorded_by_id=person("partner2").id,
                next_steps="我们将在两周内完成调查。",
                next_contact_on=clock.today() + timedelta(days=14))
        complaint = db.session.get(Complaint, cid)
        contexts = {kind: notices.context_for(complaint, kind)
                    for kind in ("acknowledgement", "progress")}
        read = outcome.prepare(person("partner2"), complaint)
        contexts["completion"] = completion_context(_completion_facts(complaint), app.config)
        contexts["apology"] = apology_context({
            "reference": complaint.label, "language": complaint.language,
            "complainant_name": complaint.complainant.name,
            "letter_text": "尊敬的李明先生：\n\n就未能及时回复您的询问一事，本所谨向您郑重致歉。",
            "signer": {"name": "刘慧敏", "title": "合伙人"},
            "remedies": [{"kind": r.kind, "scope": r.scope} for r in internal]}, app.config)
        db.session.commit()
        prepared = outcome.render_notice(read, app.config)
        texts["outcome.pdf"] = pdftotext(prepared.pdf)
        texts["outcome.txt"], texts["outcome.html"] = prepared.body_text, prepared.body_html
        contexts["outcome"] = outcome_context(read.facts, app.config, now=read.at)
        renderers = {"acknowledgement": lambda c: notices.render_context("acknowledgement", c),
                     "progress": lambda c: notices.render_context("progress", c),
                     "outcome": lambda c: render_pdf("pdf/outcome_notice.html", c),
                     "completion": render_completion_notice, "apology": render_apology_letter}
        for kind, context in contexts.items():
            texts[f"{kind}.pdf"] = pdftotext(renderers[kind](context))
            texts[f"{kind}.post.pdf"] = pdftotext(renderers[kind](for_post(context, ADDRESS)))
            for suffix in ("txt", "html"):
                name = f"emails/{EMAILS[kind]}.{suffix}"
                if (TEMPLATES_DIR / name).is_file():
                    texts[f"{kind}.{suffix}"] = render(name, context)
    return texts


def test_no_client_document_mentions_an_internal_measure(documents):
    expected = {f"{kind}.{part}" for kind in EMAILS for part in ("pdf", "post.pdf")}
    expected |= {f"{kind}.{part}" for kind in ("acknowledgement", "progress", "outcome",
                                               "completion") for part in ("txt", "html")}
    assert expected <= set(documents)
    leaks = {name: FORBIDDEN.findall(text) for name, text in documents.items()
             if FORBIDDEN.search(text)}
    assert not leaks


def test_the_documents_do_say_what_the_client_is_owed(documents):
    """The check above reads real documents: the client-facing remedies are in them."""
    flat = {name: re.sub(r"\s+", "", text) for name, text in documents.items()}
    assert "书面道歉" in flat["outcome.pdf"] and "Writtenapology" in flat["outcome.pdf"]
    assert "CNY3,000.00" in flat["outcome.pdf"] and "CNY3,000.00" in flat["completion.pdf"]
    assert "二审阶段的证据整理" in flat["outcome.pdf"]
    assert re.sub(r"\s+", "", ADDRESS) in flat["outcome.post.pdf"]
    assert "郑重致歉" in flat["apology.pdf"]
