"""Discarding a draft (kept, audited, off the worklists) and spotting a client's other drafts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, Client, Complaint, State, User
from portal.services import drafts, worklist


@pytest.fixture
def ctx(app):
    # The messages are asserted in English; the portal's default language is Chinese.
    with app.test_request_context(headers={"Accept-Language": "en"}), writes_by_default():
        yield


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _draft(client: Client | None = None, state: State = State.DRAFT) -> Complaint:
    complaint = Complaint(state=state, channel="phone", complainant=client,
                          created_by=_user("reception"))
    db.session.add(complaint)
    db.session.flush()
    return complaint


def test_a_discarded_draft_is_kept_audited_and_off_the_home_page(ctx):
    reception = _user("reception")
    draft = _draft(Client(name="周雅琴", phone="13811112222"))
    assert draft in worklist.for_user(reception).drafts
    drafts.discard(reception, draft, "  重复录入，见 D1  ", expected_version=draft.version)
    kept = db.session.get(Complaint, draft.id)
    assert kept.state == State.DISCARDED and kept.discard_reason == "重复录入，见 D1"
    assert kept.discarded_by == reception and kept.discarded_at is not None
    assert draft not in worklist.for_user(reception).drafts
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "complaint.discarded"))
    assert event.object_id == str(draft.id) and "重复" not in str(event.details)


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_a_reason_is_required(ctx, reason):
    draft = _draft()
    with pytest.raises(drafts.DraftError, match="Say why this draft is discarded"):
        drafts.discard(_user("reception"), draft, reason)
    assert draft.state == State.DRAFT


def test_a_registered_complaint_or_a_stale_page_cannot_discard(ctx):
    registered = _draft(state=State.REGISTERED)
    with pytest.raises(drafts.DraftError, match="Only a draft can be discarded"):
        drafts.discard(_user("reception"), registered, "test")
    draft = _draft()
    with pytest.raises(drafts.DraftError) as refused:
        drafts.discard(_user("reception"), draft, "test", expected_version=draft.version - 1)
    assert refused.value.stale and draft.state == State.DRAFT


def test_the_same_clients_recent_drafts_are_offered_never_merged(ctx, clock):
    reception = _user("reception")
    client = Client(name="周雅琴", phone="13811112222", email="Zhou@example.com")
    older = _draft(client)
    same_phone = _draft(Client(name="周女士", phone="13811112222"))
    same_email = _draft(Client(name="Zhou Y.", email="zhou@example.com"))
    other = _draft(Client(name="张伟", phone="13700000000"))
    discarded = _draft(client, state=State.DISCARDED)
    new = _draft(client)
    found = drafts.recent_for_client(reception, new)
    assert set(found) == {older, same_phone, same_email}
    assert other not in found and discarded not in found and new not in found
    clock.advance(timedelta(days=31))
    assert drafts.recent_for_client(reception, _draft(client)) == []
    assert db.session.get(Complaint, older.id).state == State.DRAFT  # nothing merged


def test_only_what_the_viewer_may_see_is_offered(ctx):
    client = Client(name="周雅琴", phone="13811112222")
    theirs = _draft(client)  # a receptionist's draft: a partner may not see an unsorted one
    mine = Complaint(state=State.DRAFT, complainant=client, created_by=_user("partner"))
    db.session.add(mine)
    db.session.flush()
    assert drafts.recent_for_client(_user("partner"), mine) == []
    assert drafts.recent_for_client(_user("reception"), mine) == [theirs]
