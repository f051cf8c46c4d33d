"""Rendered pages are kept per viewer and never outlive the data they show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from portal.db import data_version, db, write_transaction
from portal.models import Client, ClockPause, Complaint, State, User
from portal.models.audit import AuditEvent
from portal.models.user import Role
from portal.services import audit
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


def test_a_page_that_read_only_the_date_is_kept_for_the_day(app, client, auth, clock):
    """The home page's deadlines are days: it is rendered again when the date changes, not
    every minute."""
    clock.set(datetime(2026, 11, 30, 15, 50, tzinfo=UTC))  # 23:50 in Shanghai
    auth.login_as("partner")
    client.get("/")
    client.get("/")
    clock.advance(timedelta(minutes=2))
    with counting(app) as statements:
        client.get("/")
    assert not any("FROM complaint" in s for s in statements)
    clock.advance(timedelta(minutes=10))  # past midnight
    with counting(app) as statements:
        client.get("/")
    assert any("FROM complaint" in s for s in statements)


def test_the_new_complaint_form_offers_the_current_minute_from_a_kept_page(app, reception,
                                                                          clock):
    """The list's new-complaint form is filled in with the time it is served at, while the list
    itself is kept for the day."""
    clock.set(datetime(2026, 11, 30, 2, 0, 10, tzinfo=UTC))  # 10:00 in Shanghai
    reception.get("/complaints")
    assert 'value="2026-11-30T10:00"' in reception.get("/complaints").text
    clock.advance(timedelta(minutes=2))
    with counting(app) as statements:
        page = reception.get("/complaints").text
    assert 'value="2026-11-30T10:02"' in page
    assert "minute-" not in page
    assert not any("FROM complaint" in s for s in statements)  # served from the cache


def test_a_page_that_read_the_time_is_kept_for_its_minute(app, partner, clock):
    """A case file whose clocks are paused shows for how long: it is rendered again each
    minute."""
    reference = _add_registered(app, "甄暂停")
    with app.app_context(), write_transaction():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        partner_user = db.session.scalar(select(User).where(User.username == "partner"))
        db.session.add(ClockPause(complaint_id=complaint.id, reason="等待客户材料",
                                  paused_at=clock.now(), paused_by_id=partner_user.id))
    partner.get("/")
    partner.get(f"/complaints/{reference}")
    with counting(app) as statements:
        partner.get(f"/complaints/{reference}")
    assert not any("FROM clock_pause" in s for s in statements)
    clock.advance(timedelta(minutes=2))
    with counting(app) as statements:
        partner.get(f"/complaints/{reference}")
    assert any("FROM clock_pause" in s for s in statements)


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


# --- the signed-in user, kept by data version ----------------------------------------------


def _change_user(app, username: str, change) -> None:
    """As another process would: in a transaction of its own, committed."""
    with app.app_context(), write_transaction():
        change(db.session.scalar(select(User).where(User.username == username)))


def test_a_page_from_the_cache_costs_one_statement(app, partner, clock):
    partner.get("/")
    partner.get("/")
    with counting(app) as statements:
        assert partner.get("/").status_code == 200
    # The user comes from the cache too: the data version has not moved since it was loaded.
    # (SQLite's BEGIN is a statement here, in-process; PostgreSQL's read needs none.)
    asked = [statement for statement in statements if statement != "BEGIN"]
    assert asked == ["SELECT n FROM data_version WHERE id = 1"], statements


def test_a_user_deactivated_elsewhere_is_signed_out_at_the_next_request(app, partner):
    partner.get("/")
    assert partner.get("/").status_code == 200
    _change_user(app, "partner2", lambda user: setattr(user, "active", False))
    response = partner.get("/")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_a_session_ended_elsewhere_is_signed_out_at_the_next_request(app, partner):
    """Rotating the token (signing out everywhere, a password reset) ends every copy."""
    assert partner.get("/admin/users").status_code == 200
    _change_user(app, "partner2", User.rotate_session_token)
    response = partner.get("/admin/users")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_a_role_taken_away_elsewhere_applies_at_the_next_request(app, partner):
    assert partner.get("/admin/users").status_code == 200
    assert partner.get("/admin/users").status_code == 200
    _change_user(app, "partner2", lambda user: user.set_roles({Role.COMMITTEE}))
    assert partner.get("/admin/users").status_code == 403


def test_what_a_kept_user_does_names_them(app, partner):
    """Restored without a statement, the user is the session's own object, as if loaded."""
    reference = _add_registered(app, "甄保存")
    partner.get("/")
    partner.get("/")  # the user is kept now
    page = partner.get(f"/complaints/{reference}")
    assert page.status_code == 200
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "complaint.viewed")
            .order_by(AuditEvent.id.desc())).all()
        assert events[0].actor_label == "partner2"


# --- the audit of a view, from a cached page ---------------------------------------------


def test_every_view_of_a_cached_case_file_is_audited_and_the_chain_holds(app, partner, clock):
    """On PostgreSQL the event of a cached page's view is written in two round trips on a
    connection of its own (services/audit_alone.py): each view still gets its row, chained
    and checkpointed like every other. (The clock is frozen: a page is rendered again when
    the minute turns.)"""
    reference = _add_registered(app, "甄审计")
    with app.app_context():
        complaint_id = db.session.scalar(
            select(Complaint.id).where(Complaint.reference == reference))
    partner.get("/")  # the session's first page creates its CSRF secret: never cached
    first = partner.get(f"/complaints/{reference}")
    for _ in range(3):
        again = partner.get(f"/complaints/{reference}")
        assert again.status_code == 200 and again.data == first.data  # from the cache
    with app.app_context():
        views = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "complaint.viewed",
                                     AuditEvent.object_id == str(complaint_id))).all()
        assert len(views) == 4
        assert {event.details["view"] for event in views} == {"record"}
        result = audit.verify()
        assert result.broken is None
        assert result.head is not None and result.head[0] == max(e.id for e in views)
        assert result.checkpoint is not None and result.checkpoint.event_id == result.head[0]


def test_a_kept_value_that_read_the_date_is_computed_again_the_next_day(app, clock):
    """/analytics keeps its figures by the data version; figures counted up to today are
    counted again when the date changes, and a page showing them follows."""
    from flask_login import login_user

    from portal import clock as portal_clock
    from portal.web import page_cache

    computed = []

    def figures():
        computed.append(portal_clock.today())
        return len(computed)

    def ask():
        with app.test_request_context("/analytics"):
            login_user(db.session.scalar(select(User).where(User.username == "partner")))
            with portal_clock.watching() as reads:
                value = page_cache.remember_value("figures", None, figures)
            return value, reads

    clock.set(datetime(2026, 11, 30, 15, 50, tzinfo=UTC))  # 23:50 in Shanghai
    assert ask()[0] == 1
    value, reads = ask()
    assert value == 1 and reads.date and not reads.time  # kept, and the page learns it is dated
    clock.advance(timedelta(minutes=15))
    assert ask()[0] == 2
