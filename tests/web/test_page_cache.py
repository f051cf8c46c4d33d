"""Rendered pages are kept per viewer and never outlive the data they show."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from portal.db import data_version, db, write_transaction
from portal.models import Client, Complaint, State, User
from tests.web.test_query_counts import _counting as counting


def _add_registered(app, name: str) -> str:
    with app.app_context(), write_transaction():
        complaint = Complaint(state=State.REGISTERED, reference="TS-2026-09001",
                              channel="phone", complainant=Client(name=name, language="zh"))
        db.session.add(complaint)
    return "TS-2026-09001"


def test_a_repeated_page_is_served_without_rendering_it_again(app, partner):
    partner.get("/complaints?state=all")  # the session's first page creates its CSRF secret
    first = partner.get("/complaints?state=all")
    with counting(app) as statements:
        again = partner.get("/complaints?state=all")
    assert again.status_code == 200 and again.data == first.data
    # Signing in and checking the data version only: no list query, no count.
    assert not any("FROM complaint" in s for s in statements), statements


def test_a_change_by_anyone_shows_at_once(app, partner):
    before = partner.get("/complaints?state=all").text
    assert "甄可见" not in before
    _add_registered(app, "甄可见")
    after = partner.get("/complaints?state=all").text
    assert "甄可见" in after


def test_each_viewer_gets_their_own_page(app, client, auth):
    auth.login_as("receptionist")
    with app.app_context(), write_transaction():
        reception = db.session.scalar(select(User).where(User.username == "reception"))
        db.session.add(Complaint(state=State.DRAFT, channel="phone", created_by=reception,
                                 complainant=Client(name="仅前台", language="zh")))
    assert "仅前台" in client.get("/complaints?state=all").text
    auth.logout()
    auth.login_as("partner")  # an unsorted draft: partners do not see it
    assert "仅前台" not in client.get("/complaints?state=all").text


def test_viewing_a_record_does_not_move_the_data_version_but_a_save_does(app, partner):
    reference = _add_registered(app, "甄版本")
    with app.app_context():
        start = data_version()
    assert partner.get(f"/complaints/{reference}").status_code == 200
    with app.app_context():
        assert data_version() == start
    _add_registered_note(app, reference)
    with app.app_context():
        assert data_version() == start + 1


def _add_registered_note(app, reference: str) -> None:
    with app.app_context(), write_transaction():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        complaint.narrative = "补充说明"


def test_a_flashed_message_is_shown_once(app, reception):
    response = reception.post("/complaints", data={
        "new-channel": "phone", "new-received_at": "2026-11-30T10:00"})
    assert response.status_code in (302, 303)
    shown = reception.get(response.headers["Location"]).text
    assert "Fill in the sections" in shown or "填写" in shown
    again = reception.get(response.headers["Location"]).text
    assert shown.count('class="flash') > again.count('class="flash')


def test_the_page_follows_the_clock(app, partner, clock):
    partner.get("/")
    partner.get("/")
    with counting(app) as statements:
        partner.get("/")
    assert not any("FROM complaint" in s for s in statements)
    clock.advance(timedelta(minutes=2))
    with counting(app) as statements:
        partner.get("/")
    assert any("FROM complaint" in s for s in statements)


def test_the_cache_can_be_turned_off(app, partner):
    app.extensions["redress_page_cache"] = None
    partner.get("/complaints")
    with counting(app) as statements:
        partner.get("/complaints")
    assert any("FROM complaint" in s for s in statements)


def test_a_complaint_that_becomes_hidden_answers_404_at_once(app, partner):
    """Who may see a complaint is cached with the pages: a change that hides it (the partner
    named a respondent) is seen by the very next request."""
    reference = _add_registered(app, "甄隐藏")
    assert partner.get(f"/complaints/{reference}").status_code == 200
    assert partner.get(f"/complaints/{reference}").status_code == 200  # from the cache
    with app.app_context(), write_transaction():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        complaint.respondents.append(
            db.session.scalar(select(User).where(User.username == "partner2")))
    assert partner.get(f"/complaints/{reference}").status_code == 404
