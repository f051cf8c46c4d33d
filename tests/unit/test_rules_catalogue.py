"""The rules catalogue: seeded to be verified, added to and edited by partners, audited."""

from __future__ import annotations

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from portal import create_app
from portal.db import db, writes_by_default
from portal.models import AuditEvent, RuleArticle
from portal.services import rules_catalogue as rules
from portal.services.rules_seed import SEED_RULES
from tests.findings_factory import user


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


def test_the_seed_covers_the_law_the_acla_rules_and_the_firms_procedures(ctx):
    entries = rules.catalogue()
    assert len(entries) == len(SEED_RULES)
    assert {r.source for r in entries} == {"lawyers_law", "acla_rules", "acla_discipline",
                                           "firm_procedure"}
    assert all(r.to_verify and r.active for r in entries)
    assert [r.article for r in entries if r.source == "lawyers_law"][:3] == ["3", "23", "25"]
    titles = {r.title_en for r in entries if r.source == "firm_procedure"}
    assert {"Complaint handling procedure", "Conflict check procedure",
            "Fee agreement procedure"} <= titles


def test_seeding_again_adds_nothing_and_keeps_edits(ctx):
    with writes_by_default():
        entry = db.session.scalar(select(RuleArticle).where(RuleArticle.article == "38",
                                                            RuleArticle.source == "lawyers_law"))
        entry.title_en, entry.to_verify = "Confidentiality (checked)", False
        assert rules.seed_rules() == 0
        db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(RuleArticle)) == len(SEED_RULES)
    assert rules.catalogue()[4].title_en == "Confidentiality (checked)"


def test_a_migrated_database_has_the_catalogue(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'm.sqlite3'}"})
    with app.app_context():
        upgrade()
        rows = db.session.execute(select(RuleArticle.source, RuleArticle.article,
                                         RuleArticle.to_verify)).all()
        db.engine.dispose()
    assert sorted((s, a) for s, a, _v in rows) == sorted((s, a) for s, a, *_ in SEED_RULES)
    assert all(v for *_x, v in rows)


@pytest.mark.parametrize("article, language, expected", [
    ("38", "zh", "第38条"), ("38", "en", "Art. 38"), ("4.2", "zh", "第4章第2节"),
    ("4.2", "en", "Ch. 4, s. 2"), ("FP-01", "en", "FP-01")])
def test_citations_follow_the_readers_language(article, language, expected):
    assert rules.citation(article, language) == expected


def test_a_partner_adds_and_edits_an_entry_and_both_are_audited(ctx):
    titles = rules.RuleTitles("档案借阅程序", "File lending procedure", False)
    with writes_by_default():
        added = rules.add_rule(user("partner2"), source="firm_procedure", article="FP-06",
                               titles=titles)
        db.session.commit()
        rules.update_rule(user("partner2"), added, active=False, titles=rules.RuleTitles(
            "档案借阅程序", "File lending procedure", True))
        db.session.commit()
    assert added.id not in {r.id for r in rules.active_rules()}
    events = {e.action: e.details for e in db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("rule.%")))}
    assert events["rule.added"] == {"rule_id": added.id, "source": "firm_procedure",
                                    "article": "FP-06", "to_verify": False}
    assert events["rule.updated"]["changed"] == ["active", "to_verify"]


@pytest.mark.parametrize("source, article, titles, field", [
    ("firm_procedure", "FP-01", ("投诉", "Complaints"), "article"),
    ("gossip", "1", ("x", "y"), "source"),
    ("lawyers_law", "", ("x", "y"), "article"),
    ("lawyers_law", "99", ("", "y"), "title_zh"),
    ("lawyers_law", "99", ("x", "y" * 201), "title_en"),
])
def test_bad_entries_are_refused_by_field(ctx, source, article, titles, field):
    with writes_by_default(), pytest.raises(rules.RuleError) as refused:
        rules.add_rule(user("partner2"), source=source, article=article,
                       titles=rules.RuleTitles(*titles, False))
    db.session.rollback()
    assert field in refused.value.errors
