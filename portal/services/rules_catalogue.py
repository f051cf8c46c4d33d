"""The catalogue of rules a finding may engage: the Lawyers Law, the ACLA's rules and the
firm's own procedures. Partners add entries, edit their titles, mark them verified and
deactivate them; an entry is never deleted, so past findings keep naming it."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from portal.db import db
from portal.documents.investigation_report import citation as both_citations
from portal.models.investigation import RuleArticle, RuleSource
from portal.models.user import User
from portal.services import addresses, audit
from portal.services.intake.errors import FieldErrors, IntakeError
from portal.services.rules_seed import SEED_RULES

ARTICLE_MAX, TITLE_MAX = 40, 200
SOURCE_ORDER = {source.value: index for index, source in enumerate(RuleSource)}


class RuleError(IntakeError):
    """A catalogue entry refused; the messages are translated, by field."""


def _refuse_if_any(errors: FieldErrors) -> None:
    if errors.errors:
        first = next(iter(errors.errors.values()))[0]
        raise RuleError(first, errors=errors.errors)


def citation(article: str, language: str) -> str:
    """`article` as a citation in `language` ("zh" or "en"): 38 → 第38条 / Art. 38,
    4.2 → 第4章第2节 / Ch. 4, s. 2, anything else as written."""
    return both_citations(article)["zh" if language == "zh" else "en"]


def _natural(article: str) -> tuple:
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", article))


def ordered(rules: list[RuleArticle]) -> list[RuleArticle]:
    """By source (the law, the ACLA's rules, the firm's), then by article number."""
    return sorted(rules, key=lambda r: (SOURCE_ORDER.get(r.source, 99), _natural(r.article)))


def catalogue() -> list[RuleArticle]:
    return ordered(list(db.session.scalars(select(RuleArticle))))


def active_rules() -> list[RuleArticle]:
    return ordered(list(db.session.scalars(select(RuleArticle).where(RuleArticle.active))))


def seed_rules() -> int:
    """Add the seeded entries a database lacks (made without the migration); returns how
    many. Entries already there, edited or not, are left alone."""
    present = set(db.session.execute(select(RuleArticle.source, RuleArticle.article)).all())
    missing = [RuleArticle(source=source, article=article, title_zh=zh, title_en=en,
                           to_verify=True, active=True)
               for source, article, zh, en in SEED_RULES if (source, article) not in present]
    db.session.add_all(missing)
    db.session.flush()
    return len(missing)


@dataclass
class RuleTitles:
    title_zh: str
    title_en: str
    to_verify: bool


def _line(value: str | None) -> str:
    return " ".join((value or "").split())


def _check_titles(titles: RuleTitles, errors: FieldErrors) -> RuleTitles:
    checked = RuleTitles(_line(titles.title_zh), _line(titles.title_en), bool(titles.to_verify))
    for name in ("title_zh", "title_en"):
        value = getattr(checked, name)
        if not value:
            errors.add(name, _("Enter the title in both languages."))
        elif len(value) > TITLE_MAX:
            errors.add(name, _("A title has at most %(max)d characters.", max=TITLE_MAX))
    return checked


def _exists(source: str, article: str) -> bool:
    return db.session.scalar(select(RuleArticle.id).where(
        RuleArticle.source == source, RuleArticle.article == article)) is not None


def add_rule(actor: User, *, source: str, article: str, titles: RuleTitles) -> RuleArticle:
    errors = FieldErrors()
    article = (article or "").strip()
    if source not in SOURCE_ORDER:
        errors.add("source", _("Choose where the rule comes from."))
    if not article:
        errors.add("article", _("Enter the article number or the procedure's code."))
    elif len(article) > ARTICLE_MAX or not addresses.is_single_line(article):
        errors.add("article", _("An article reference is one line of at most %(max)d "
                                "characters.", max=ARTICLE_MAX))
    titles = _check_titles(titles, errors)
    _refuse_if_any(errors)
    if _exists(source, article):
        raise RuleError(_("This article is already in the catalogue: edit it instead."),
                        field="article")
    rule = RuleArticle(source=source, article=article, title_zh=titles.title_zh,
                       title_en=titles.title_en, to_verify=titles.to_verify, active=True)
    db.session.add(rule)
    db.session.flush()
    audit.record("rule.added", actor=actor, obj=rule,
                 details={"rule_id": rule.id, "source": source, "article": article,
                          "to_verify": rule.to_verify})
    return rule


def update_rule(actor: User, rule: RuleArticle, *, titles: RuleTitles,
                active: bool) -> RuleArticle:
    """New titles, verified or not, active or not; the source and article stay."""
    errors = FieldErrors()
    titles = _check_titles(titles, errors)
    _refuse_if_any(errors)
    new = {"title_zh": titles.title_zh, "title_en": titles.title_en,
           "to_verify": titles.to_verify, "active": bool(active)}
    changed = sorted(name for name, value in new.items() if getattr(rule, name) != value)
    for name, value in new.items():
        setattr(rule, name, value)
    db.session.flush()
    if changed:
        audit.record("rule.updated", actor=actor, obj=rule,
                     details={"rule_id": rule.id, "changed": changed,
                              "to_verify": rule.to_verify, "active": rule.active})
    return rule
