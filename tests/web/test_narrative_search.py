"""Searching complaints by what the narrative says, Chinese included: a substring search
through trigram indexes (SQLite FTS5, PostgreSQL pg_trgm), kept in step with every change."""

from __future__ import annotations

from sqlalchemy import delete

from portal.db import db, write_transaction
from portal.models import Complaint
from tests.triage_support import registered


def _narrate(app, complaint_id: int, narrative: str) -> None:
    with app.app_context(), write_transaction():
        db.session.get(Complaint, complaint_id).narrative = narrative


def _found(partner, q: str, state: str = "all") -> bool:
    return "TS-2026-00101" in partner.get("/complaints", query_string={"q": q,
                                                                       "state": state}).text


def test_a_chinese_phrase_from_the_narrative_finds_the_complaint(app, partner):
    _narrate(app, registered(app), "律师在开庭前一周才通知我补交证据，导致证据未被采纳。")
    assert _found(partner, "补交证据")
    assert _found(partner, "证据未被采纳")
    assert not _found(partner, "证据已被采纳")


def test_latin_text_matches_whatever_its_case_and_quotes(app, partner):
    _narrate(app, registered(app), 'The "final" invoice charged 100% of the FIXED fee twice.')
    assert _found(partner, "fixed fee")
    assert _found(partner, '"final" invoice')
    assert _found(partner, "100%")
    assert not _found(partner, "100%%")


def test_an_edited_narrative_is_searched_as_it_now_reads(app, partner):
    complaint_id = registered(app)
    _narrate(app, complaint_id, "律师拖延提交上诉状。")
    assert _found(partner, "上诉状")
    _narrate(app, complaint_id, "律师多收了代理费。")
    assert not _found(partner, "上诉状")
    assert _found(partner, "多收了代理费")


def test_two_characters_read_narratives_only_within_a_narrower_list(app, partner):
    complaint_id = registered(app)
    with app.app_context(), write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        complaint.narrative, complaint.state, complaint.reference = "材料丢失。", "draft", None
    label = f">D{complaint_id}<"

    def listed(q: str, state: str) -> bool:
        return label in partner.get("/complaints", query_string={"q": q, "state": state}).text

    assert not listed("丢失", "all")  # too short for the index: names and references only
    assert listed("丢失", "open")  # the drafts: a narrower list, whose narratives are read
    assert listed("李明", "all")  # the complainant's name matches anywhere


def test_a_complaint_hidden_from_the_viewer_is_not_found_by_its_words(app, client, auth):
    _narrate(app, registered(app), "律师泄露了我的商业秘密。")
    auth.login("partner")  # 陈志远 supervises M-2025-0142: the complaint is hidden from him
    assert "TS-2026-00101" not in client.get(
        "/complaints", query_string={"q": "商业秘密", "state": "all"}).text


def test_a_deleted_complaint_leaves_the_index(app):
    complaint_id = registered(app)
    _narrate(app, complaint_id, "独一无二的叙述文字")
    with app.app_context(), write_transaction():
        db.session.execute(delete(Complaint).where(Complaint.id == complaint_id))
    with app.app_context():
        from portal.services.intake.search import _narrative_contains

        assert db.session.scalars(
            db.select(Complaint.id).where(_narrative_contains("独一无二的叙述"))).all() == []


def test_the_matters_title_finds_its_complaints(app, partner):
    registered(app)
    with app.app_context():
        from portal.models import Matter

        title = db.session.scalar(db.select(Matter.title).where(
            Matter.reference == "M-2025-0142"))
    assert _found(partner, title[:4])
