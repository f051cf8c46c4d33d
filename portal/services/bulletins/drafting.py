"""A partner marks a finished complaint as a typical case: the portal drafts a bulletin from
the record and runs it through the redaction engine with every party the record names.

The draft is written in the firm's language (zh_CN unless configured otherwise): the summary
is the complaint's narrative, what went wrong comes from the findings, what was done from the
decision's client-facing remedies (internal measures stay out: they would point at a lawyer),
the lessons from the investigators' recommendations, and the rules engaged from the findings.

The audit event names the bulletin and never the complaint: once published, nothing may lead
from the bulletin back to the case.
"""

from __future__ import annotations

from datetime import date

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _

from portal import clock
from portal.db import db
from portal.models.bulletin import Bulletin, BulletinStatus
from portal.models.complaint import Complaint, State
from portal.models.investigation import (
    CATEGORY_LABELS,
    FINDING_LABELS,
    RESPONSIBILITY_LABELS,
    RULE_SOURCE_LABELS,
)
from portal.models.resolution import INTERNAL_REMEDIES, REMEDY_KIND_LABELS
from portal.models.user import User
from portal.privacy import MAX_CHARS, TextTooLong, redact
from portal.services import audit
from portal.services.bulletins.common import TITLE_MAX, BulletinError, require_partner
from portal.services.bulletins.parties import parties_of
from portal.services.rules_catalogue import citation, ordered

FINISHED = (State.FOLLOW_UP, State.CLOSED)


def may_draft(complaint: Complaint, user: User) -> bool:
    return complaint.state in FINISHED and complaint.can_view(user) and user.has_role("partner")


def _label(labels: dict, code: str | None) -> str:
    return str(labels.get(code, code)) if code else ""


def _sections(complaint: Complaint, language: str) -> list[tuple[str, list[str]]]:
    wrong = []
    for a in complaint.allegations:
        line = f"{a.number}. {a.text}"
        if a.finding:
            line += f" — {_label(FINDING_LABELS, a.finding)}"
        if a.reasoning:
            line += f"：{a.reasoning}" if language == "zh" else f": {a.reasoning}"
        wrong.append(line)
    decision = complaint.current_decision
    done = [str(REMEDY_KIND_LABELS.get(r.kind, r.kind)) for r in decision.remedies
            if r.kind not in INTERNAL_REMEDIES] if decision else []
    found = dict.fromkeys(_label(RESPONSIBILITY_LABELS, a.responsibility)
                          for a in complaint.allegations if a.responsibility)
    lessons = [f"{_('Responsibility')}: {'、'.join(found)}"] if found else []
    lessons += [a.remedy_notes for a in complaint.allegations if a.remedy_notes]
    return [(_("Summary"), [complaint.narrative or ""]),
            (_("What went wrong"), wrong or [_("No findings were recorded.")]),
            (_("What was done"), done or [_("No remedy was decided.")]),
            (_("Lessons"), lessons or [_("To be written by the reviewing partner.")]),
            (_("Rules engaged"), rule_citations(complaint, language) or [_("None recorded.")])]


def rule_citations(complaint: Complaint, language: str) -> list[str]:
    rules = {r.id: r for a in complaint.allegations for r in a.rules}
    return [f"{RULE_SOURCE_LABELS.get(r.source, r.source)} {citation(r.article, language)}"
            for r in ordered(list(rules.values()))]


def compose(complaint: Complaint) -> tuple[str, str, list[str]]:
    """The draft's title and text before redaction, and the rules engaged, in the firm's
    language."""
    locale = current_app.config["BABEL_DEFAULT_LOCALE"]
    language = "en" if locale.startswith("en") else "zh"
    with force_locale(locale):
        categories = "、".join(_label(CATEGORY_LABELS, c) for c in complaint.categories or [])
        title = _("Typical case: %(categories)s", categories=categories or _("complaint"))
        sections = _sections(complaint, language)
        rules = rule_citations(complaint, language)
    text = "\n\n".join(f"{heading}\n" + "\n".join(lines) for heading, lines in sections)
    return title[:TITLE_MAX], text, rules


def replacement_records(source: str, redaction) -> list[dict]:
    """Each replacement as the review keeps it: the label, the kind and the words replaced,
    in the order they appear."""
    return [{"label": r.label, "kind": r.kind, "original": source[r.start:r.end]}
            for r in redaction.replacements]


def draft(actor: User, complaint: Complaint) -> Bulletin:
    """Draft a bulletin from a complaint in follow-up or closed."""
    require_partner(actor)
    if complaint.state not in FINISHED:
        raise BulletinError(_("Only a complaint in follow-up or closed can become a bulletin: "
                              "this one is not finished."))
    title, text, rules = compose(complaint)
    parties = parties_of(complaint)
    try:
        body = redact(text, parties)
    except TextTooLong:
        raise BulletinError(_("The record's text is longer than %(max)s characters, more "
                              "than the redaction engine takes at once: shorten the narrative "
                              "or the findings first.", max=f"{MAX_CHARS:,}")) from None
    heading = redact(title, parties)
    received = complaint.received_at.date()
    bulletin = Bulletin(
        status=BulletinStatus.DRAFT, title=heading.text, body=body.text,
        language="en" if current_app.config["BABEL_DEFAULT_LOCALE"].startswith("en") else "zh",
        month=date(received.year, received.month, 1), categories=list(complaint.categories or []),
        rules=rules, created_by_id=actor.id, created_at=clock.now(), updated_at=clock.now(),
        complaint_id=complaint.id, source_text=text,
        replacements=replacement_records(text, body), kept=[])
    db.session.add(bulletin)
    db.session.flush()
    audit.record("bulletin.drafted", actor=actor, obj=bulletin, details={
        "replacements": len(body.replacements), "categories": bulletin.categories})
    return bulletin
