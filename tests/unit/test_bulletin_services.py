"""Bulletin services: drafting from a finished complaint, the review's verbs, publishing that
forgets the source, withdrawing; refusals change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import AuditEvent, Bulletin, Complaint, State
from portal.services.bulletins import drafting, publishing, review
from portal.services.bulletins.common import BulletinError
from portal.services.bulletins.parties import parties_of
from portal.services.triage.common import StaleVersion
from tests.bulletin_support import IDENTITIES, finished, person


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


def _draft(app, complaint_id: int) -> int:
    with app.app_context(), write_transaction():
        return drafting.draft(person("partner2"), db.session.get(Complaint, complaint_id)).id


def _in(app, bulletin_id: int):
    """Run `verb(actor, bulletin, parties)` in a write; returns nothing."""
    def run(verb, *args, **kwargs):
        with app.app_context(), write_transaction():
            bulletin = db.session.get(Bulletin, bulletin_id)
            complaint = db.session.get(Complaint, bulletin.complaint_id) \
                if bulletin.complaint_id else None
            parties = parties_of(complaint) if complaint else []
            return verb(bulletin, parties, *args, **kwargs)
    return run


def test_a_draft_names_nobody_and_keeps_its_source_until_published(app):
    cid = finished(app)
    bid = _draft(app, cid)
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        for identity in IDENTITIES:
            assert identity not in bulletin.body, identity
        assert bulletin.complaint_id == cid and bulletin.source_text
        assert {r["original"] for r in bulletin.replacements} >= {"李明", "王律师"}
        version = bulletin.version
    run = _in(app, bid)
    with app.app_context():
        open_flags = review.flags(db.session.get(Bulletin, bid),
                                  parties_of(db.session.get(Complaint, cid)))
    for flag in open_flags:
        run(lambda b, p, f=flag: review.keep(person("partner2"), b, f.text, "not a name",
                                              expected_version=b.version))
    run(lambda b, p: publishing.publish(person("partner2"), b, p,
                                        expected_version=b.version))
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        assert bulletin.status == "published" and bulletin.version > version
        assert (bulletin.complaint_id, bulletin.source_text, bulletin.replacements,
                bulletin.kept) == (None, None, None, None)
        details = [e.details for e in db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "bulletin"))]
        assert details and all("complaint" not in str(d) and "李明" not in str(d)
                               for d in details)
        events = db.session.scalars(select(AuditEvent).where(
            AuditEvent.object_type == "complaint", AuditEvent.object_id == str(cid)))
        assert not [e for e in events if e.action.startswith("bulletin")]


def test_undoing_a_replacement_restores_the_words_and_they_are_not_flagged_again(app):
    cid = finished(app)
    bid = _draft(app, cid)
    run = _in(app, bid)
    with app.app_context():
        records = db.session.get(Bulletin, bid).replacements
    index = next(i for i, r in enumerate(records) if r["original"] == "王律师")
    run(lambda b, p: review.undo(person("partner2"), b, index, "a test of undo",
                                 expected_version=b.version))
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        assert "王律师" in bulletin.body
        assert "王律师" not in [f.text for f in review.flags(bulletin, parties_of(
            db.session.get(Complaint, cid)))]
        undone = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "bulletin.replacement_undone"))
        assert "王律师" not in str(undone.details)


def test_an_edit_that_names_someone_is_flagged_and_publishing_is_refused(app):
    cid = finished(app)
    bid = _draft(app, cid)
    run = _in(app, bid)
    run(lambda b, p: review.edit(person("partner2"), b, title=b.title,
                                 body=b.body + "\n王磊后来承认了错误。",
                                 expected_version=b.version))
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        texts = [f.text for f in review.flags(bulletin, parties_of(
            db.session.get(Complaint, cid)))]
        assert "王磊" in texts
    with pytest.raises(BulletinError, match="still look"):
        run(lambda b, p: publishing.publish(person("partner2"), b, p,
                                            expected_version=b.version))
    run(lambda b, p: review.replace_flag(person("partner2"), b, p, "王磊",
                                         expected_version=b.version))
    with app.app_context():
        assert "王磊" not in db.session.get(Bulletin, bid).body


def test_removing_marked_words_replaces_every_occurrence(app):
    cid = finished(app)
    bid = _draft(app, cid)
    run = _in(app, bid)
    run(lambda b, p: review.remove(person("partner2"), b, "strategy",
                                   expected_version=b.version))
    with app.app_context():
        bulletin = db.session.get(Bulletin, bid)
        assert "strategy" not in bulletin.body and "[removed]" in bulletin.body
    with pytest.raises(BulletinError, match="not in the text"):
        run(lambda b, p: review.remove(person("partner2"), b, "no such words",
                                       expected_version=b.version))


def test_a_complaint_that_is_not_finished_cannot_become_a_bulletin(app):
    cid = finished(app, state=State.ACCEPTED)
    with pytest.raises(BulletinError, match="not finished"):
        _draft(app, cid)
    with app.app_context():
        assert db.session.scalar(select(Bulletin)) is None


def test_a_stale_version_is_refused(app):
    cid = finished(app)
    bid = _draft(app, cid)
    run = _in(app, bid)
    with pytest.raises(StaleVersion):
        run(lambda b, p: review.edit(person("partner2"), b, title="x", body="y",
                                     expected_version=b.version - 1))


def test_with_a_second_partner_required_the_drafter_cannot_publish(app):
    app.config["BULLETIN_SECOND_PARTNER"] = True
    cid = finished(app, narrative="律师没有回复。")
    bid = _draft(app, cid)
    run = _in(app, bid)
    with pytest.raises(BulletinError, match="second partner"):
        run(lambda b, p: publishing.publish(person("partner2"), b, p,
                                            expected_version=b.version))
    run(lambda b, p: publishing.publish(person("partner"), b, p, expected_version=b.version))
    with app.app_context():
        assert db.session.get(Bulletin, bid).published_by_id == person("partner").id
