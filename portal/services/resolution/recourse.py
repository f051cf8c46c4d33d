"""The routes of further recourse a client is told about, kept per jurisdiction in both
languages by the partners (/admin/recourse). An outcome notice is refused while its
jurisdiction's text is empty in either language (`outcome.check_issuable`)."""

from __future__ import annotations

import re

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint
from portal.models.resolution import RecourseText
from portal.models.user import Role, User
from portal.services import audit
from portal.services.intake.errors import ConflictError
from portal.services.resolution.common import ResolutionError, text_of

DEFAULT_JURISDICTION = "PRC"
TEXT_MAX = 4_000
JURISDICTION = re.compile(r"[A-Z][A-Z0-9-]{1,19}")
LANGUAGE_NAMES = {"zh": _l("Chinese"), "en": _l("English")}


class RecourseConflict(ConflictError):
    def __init__(self) -> None:
        super().__init__(_(
            "Someone else changed this recourse text after you opened the page, so nothing "
            "was saved. What you typed is still on screen: copy what you need, then reload "
            "the page."))


def jurisdiction_of(complaint: Complaint) -> str:
    matter = complaint.matter
    return (matter.jurisdiction if matter is not None else None) or DEFAULT_JURISDICTION


def text_for(jurisdiction: str) -> RecourseText | None:
    return db.session.get(RecourseText, jurisdiction)


def missing_languages(jurisdiction: str) -> list[str]:
    """The languages (named in the reader's language) in which the text is empty."""
    text = text_for(jurisdiction)
    values = {"zh": text.text_zh if text else "", "en": text.text_en if text else ""}
    return [str(LANGUAGE_NAMES[lang]) for lang, value in values.items()
            if not (value or "").strip()]


def all_texts() -> list[RecourseText]:
    return list(db.session.scalars(select(RecourseText).order_by(RecourseText.jurisdiction)))


def _require_partner(actor: User) -> None:
    if not actor.has_role(Role.PARTNER):
        raise ResolutionError(_("Only partners keep the recourse texts."))


def _texts(text_zh: str, text_en: str) -> tuple[str, str]:
    zh, en = text_of(text_zh), text_of(text_en)
    errors: dict[str, list[str]] = {}
    for name, value in (("text_zh", zh), ("text_en", en)):
        if not value:
            errors[name] = [_("Write the routes of recourse in both languages: a notice with "
                              "either one empty is refused.")]
        elif len(value) > TEXT_MAX:
            errors[name] = [_("At most %(max)d characters.", max=TEXT_MAX)]
    if errors:
        raise ResolutionError(next(iter(errors.values()))[0], errors=errors)
    return zh, en


def update(actor: User, jurisdiction: str, *, text_zh: str, text_en: str,
           expected_version: int) -> RecourseText:
    """A partner changes a jurisdiction's text (both languages required; audited)."""
    _require_partner(actor)
    row = db.session.get(RecourseText, jurisdiction, with_for_update=True,
                         populate_existing=True)
    if row is None:
        raise ResolutionError(_("There is no recourse text for this jurisdiction."))
    if row.version != expected_version:
        raise RecourseConflict()
    zh, en = _texts(text_zh, text_en)
    changed = [lang for lang, old, new in (("zh", row.text_zh, zh), ("en", row.text_en, en))
               if old != new]
    row.text_zh, row.text_en = zh, en
    row.updated_at, row.updated_by_id = clock.now(), actor.id
    db.session.flush()
    audit.record("recourse.updated", actor=actor, object_type="recourse_text",
                 object_id=jurisdiction, details={"jurisdiction": jurisdiction,
                                                  "languages": changed, "version": row.version})
    return row


def add(actor: User, jurisdiction: str, *, text_zh: str, text_en: str) -> RecourseText:
    """A partner adds a jurisdiction (a matter's `jurisdiction` code, e.g. "HK")."""
    _require_partner(actor)
    code = (jurisdiction or "").strip().upper()
    if not JURISDICTION.fullmatch(code):
        raise ResolutionError(_("A jurisdiction is a code of 2 to 20 capital letters, digits or "
                                "hyphens, as on the matters, for example PRC or UK."),
                              field="jurisdiction")
    if db.session.get(RecourseText, code) is not None:
        raise ResolutionError(_("%(code)s already has a recourse text: edit it instead.",
                                code=code), field="jurisdiction")
    zh, en = _texts(text_zh, text_en)
    row = RecourseText(jurisdiction=code, text_zh=zh, text_en=en, updated_at=clock.now(),
                       updated_by_id=actor.id)
    db.session.add(row)
    db.session.flush()
    audit.record("recourse.added", actor=actor, object_type="recourse_text", object_id=code,
                 details={"jurisdiction": code, "version": row.version})
    return row


def seed_defaults() -> int:
    """Add the seeded jurisdictions a database lacks (made without the migration); returns how
    many. Texts already there, edited or not, are left alone."""
    from portal.services.resolution.recourse_seed import RECOURSE_SEED

    present = set(db.session.scalars(select(RecourseText.jurisdiction)))
    missing = [RecourseText(jurisdiction=code, text_zh=zh, text_en=en)
               for code, (zh, en) in RECOURSE_SEED.items() if code not in present]
    db.session.add_all(missing)
    return len(missing)
