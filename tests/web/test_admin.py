"""Partners administer users and browse the audit trail."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from portal import clock
from portal.db import db, writes_by_default
from portal.models.access_request import AccessRequest
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from portal.services import audit
from tests.conftest import AuthActions, field_errors

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true"}
NEW = {"username": "new.clerk", "name": "新同事", "email": "new.clerk@firm.example",
       "department": "", "roles": ["receptionist"], "password": "a good long password",
       "confirm": "a good long password"}


def user_id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def get_user(app, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user


def edit_data(user: User, **changes) -> dict:
    data = {"name": user.name, "email": user.email or "",
            "department": str(user.department_id or ""),
            "roles": sorted(r.value for r in user.roles), "active": "y"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def approve_all(app, approver: str = "partner") -> None:
    """A second partner (陈志远 by default) approves every waiting change, through the page."""
    other = app.test_client()
    AuthActions(other).login(approver)
    with app.app_context():
        ids = db.session.scalars(select(AccessRequest.id).where(
            AccessRequest.status == "pending")).all()
    for request_id in ids:
        assert other.post(f"/admin/requests/{request_id}/approve").status_code == 303


def count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


# ------------------------------------------------------------------ list


def test_user_list_shows_people_roles_status_and_department(partner):
    page = partner.get("/admin/users", headers=EN)
    assert page.status_code == 200
    assert "Vary" in page.headers and "HX-Request" in page.headers["Vary"]
    html = page.text
    for text_ in ("陈志远", "partner2", "Partner", "Committee member", "Dispute Resolution",
                  "No login", "王磊"):
        assert text_ in html
    assert html.index("investigator") < html.index("王磊")  # accounts first


def test_filter_returns_only_the_table_for_htmx(partner):
    response = partner.get("/admin/users", query_string={"q": "committee"}, headers=HTMX)
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="user-table"')
    assert "<html" not in response.text
    names = re.findall(r'/admin/users/\d+/edit">([^<]+)<', response.text)
    assert sorted(names) == sorted(["郑志强", "孙海燕", "马文博"])


def test_filter_by_role_and_status_works_as_a_full_page(partner, app):
    page = partner.get("/admin/users", query_string={"role": "partner"})
    assert page.text.count("/edit\">") == 2 and "<html" in page.text
    nologin = partner.get("/admin/users", query_string={"status": "nologin"}, headers=HTMX)
    assert nologin.text.count("/edit\">") == 5


def test_filter_treats_like_wildcards_literally(partner):
    response = partner.get("/admin/users", query_string={"q": "%"}, headers=HTMX)
    assert response.text.count("/edit\">") == 0


def test_bad_filter_is_422_with_a_message(partner):
    response = partner.get("/admin/users", query_string={"role": "king"}, headers=EN)
    assert response.status_code == 422
    assert 'role="alert"' in response.text


# ------------------------------------------------------------------ create


def test_create_user_then_they_can_sign_in_once_a_second_partner_approves(partner, app):
    response = partner.post("/admin/users/new", data={**NEW, "username": "New.Clerk",
                                                      "roles": ["receptionist", "investigator"]})
    assert response.status_code == 303
    assert response.headers["Location"] == "/admin/users"
    user = get_user(app, "new.clerk")
    assert user.roles == set() and not user.active
    with app.app_context():
        assert db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())
                                  .limit(2)).all() == ["access.requested", "user.created"]
    other = app.test_client()
    assert AuthActions(other).login("new.clerk", "a good long password").status_code == 401
    approve_all(app)
    assert get_user(app, "new.clerk").roles == {Role.RECEPTIONIST, Role.INVESTIGATOR}
    assert AuthActions(other).login("new.clerk", "a good long password").status_code == 303


def test_a_lawyer_on_file_gets_a_sign_in_with_no_role_and_sees_only_their_matters(partner, app):
    with app.app_context():
        on_file = db.session.scalar(select(User.id).where(User.name == "王磊"))
        people = db.session.scalar(select(func.count()).select_from(User))
    response = partner.post("/admin/users/new", data={
        **NEW, "username": "wang.lei", "name": "王磊", "email": "Wang.Lei@firm.example",
        "roles": []})
    assert response.status_code == 303
    approve_all(app)
    lawyer = get_user(app, "wang.lei")
    assert lawyer.id == on_file and lawyer.roles == set() and lawyer.active
    assert count(app, User) == people  # the record on file, not a second 王磊
    own = app.test_client()
    assert AuthActions(own).login("wang.lei", "a good long password").status_code == 303
    assert own.get("/matters/M-2025-0142").status_code == 200  # he is responsible for it
    assert own.get("/matters/M-2025-0188").status_code == 404
    assert own.get("/complaints").status_code == 403
    assert own.get("/bulletins").status_code == 200


@pytest.mark.parametrize("changes, field_hint", [
    ({"username": "partner"}, "already taken"),
    ({"username": "PARTNER2"}, "already taken"),
    ({"email": "Chen.Zhiyuan@firm.example"}, "already has this email"),
    ({"password": "short", "confirm": "short"}, "8 to 128"),
    ({"confirm": "something else"}, "do not match"),
    ({"username": "has space"}, "letters, digits"),
    ({"name": ""}, "enter the person"),
    ({"email": "nope"}, "not a valid email"),
])
def test_create_user_errors_are_422_inline_and_keep_the_input(partner, app, changes,
                                                              field_hint):
    before = count(app, User)
    response = partner.post("/admin/users/new", data={**NEW, **changes}, headers=EN)
    assert response.status_code == 422
    errors = " ".join(field_errors(response.text))
    assert field_hint.lower() in errors.lower(), errors
    kept = {**NEW, **changes}
    assert f'value="{kept["username"]}"' in response.text  # what the user typed is kept
    assert "a good long password" not in response.text  # but never a password
    assert count(app, User) == before


def test_create_race_on_the_unique_constraint_is_422_not_500(partner, app, monkeypatch):
    from portal.services import accounts

    monkeypatch.setattr(accounts, "_check_unique", lambda *a, **k: None)
    response = partner.post("/admin/users/new", data={**NEW, "username": "partner"},
                            headers=EN)
    assert response.status_code == 422
    assert "already in use" in response.text


# ------------------------------------------------------------------ edit


def test_edit_roles_name_email_department(partner, app):
    user = get_user(app, "investigator2")
    response = partner.post(f"/admin/users/{user.id}/edit", data=edit_data(
        user, name="吴丽娟律师", email="wu@firm.example", department="1",
        roles=["investigator", "committee"]))
    assert response.status_code == 303
    after = get_user(app, "investigator2")
    assert (after.name, after.email, after.department_id) == ("吴丽娟律师", "wu@firm.example", 1)
    assert after.roles == {Role.INVESTIGATOR}  # the new role waits for a second partner
    approve_all(app)
    after = get_user(app, "investigator2")
    assert after.roles == {Role.INVESTIGATOR, Role.COMMITTEE}
    assert after.active and after.session_token == user.session_token


def test_edit_form_is_prefilled(partner, app):
    user = get_user(app, "partner")
    page = partner.get(f"/admin/users/{user.id}/edit").text
    assert 'value="陈志远"' in page
    assert re.search(r'value="partner"[^>]*checked|checked[^>]*value="partner"', page)
    assert re.search(r'id="active"[^>]*checked|checked[^>]*id="active"', page)


def test_disable_and_enable_again(partner, app):
    user = get_user(app, "committee3")
    assert partner.post(f"/admin/users/{user.id}/edit",
                        data=edit_data(user, active=None)).status_code == 303
    assert not get_user(app, "committee3").active
    assert AuthActions(app.test_client()).login("committee3").status_code == 401
    assert partner.post(f"/admin/users/{user.id}/edit",
                        data=edit_data(user)).status_code == 303
    assert AuthActions(app.test_client()).login("committee3").status_code == 401  # waiting
    approve_all(app)
    assert AuthActions(app.test_client()).login("committee3").status_code == 303


def test_partner_cannot_disable_themselves(client, auth, app):
    auth.login("partner")
    me = get_user(app, "partner")
    response = client.post(f"/admin/users/{me.id}/edit", data=edit_data(me, active=None),
                           headers=EN)
    assert response.status_code == 422
    assert "cannot disable your own account" in response.text
    assert get_user(app, "partner").active
    assert client.get("/").status_code == 200  # still signed in


def test_partner_cannot_remove_their_own_partner_role(client, auth, app):
    auth.login("partner")
    me = get_user(app, "partner")
    response = client.post(f"/admin/users/{me.id}/edit",
                           data=edit_data(me, roles=["committee"]), headers=EN)
    assert response.status_code == 422
    assert "cannot remove your own partner role" in response.text
    assert get_user(app, "partner").has_role(Role.PARTNER)


def test_one_partner_may_demote_another(partner, app):
    other = get_user(app, "partner")
    response = partner.post(f"/admin/users/{other.id}/edit",
                            data=edit_data(other, roles=["committee"]))
    assert response.status_code == 303
    assert not get_user(app, "partner").has_role(Role.PARTNER)


def test_edit_duplicate_email_is_422(partner, app):
    user = get_user(app, "investigator")
    response = partner.post(f"/admin/users/{user.id}/edit",
                            data=edit_data(user, email="LIU.HUIMIN@firm.example"), headers=EN)
    assert response.status_code == 422
    assert "already has this email" in response.text
    assert get_user(app, "investigator").email == user.email


def test_roles_may_all_be_removed_from_an_account_and_from_a_lawyer_without_login(partner, app):
    user = get_user(app, "reception")
    response = partner.post(f"/admin/users/{user.id}/edit", data=edit_data(user, roles=[]),
                            headers=EN)
    assert response.status_code == 303  # she still signs in: to her matters and the bulletins
    assert get_user(app, "reception").roles == set()
    assert get_user(app, "reception").active
    with app.app_context():
        lawyer = db.session.scalar(select(User).where(User.name == "王磊"))
        lawyer_id, lawyer_email = lawyer.id, lawyer.email
    response = partner.post(f"/admin/users/{lawyer_id}/edit",
                            data={"name": "王磊", "email": lawyer_email, "active": "y"})
    assert response.status_code == 303


def test_unknown_user_is_404(partner):
    assert partner.get("/admin/users/424242/edit").status_code == 404
    assert partner.post("/admin/users/424242/edit", data={"name": "x"}).status_code == 404


# ------------------------------------------------------------------ password reset


def test_reset_password_with_htmx_returns_the_partial(partner, app):
    user = get_user(app, "investigator")
    response = partner.post(f"/admin/users/{user.id}/password", headers={**HTMX, **EN},
                            data={"password": "brand new secret", "confirm": "brand new secret"})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<section id="password-reset"')
    assert "waits for another partner" in response.text
    assert get_user(app, "investigator").password_hash == user.password_hash
    assert AuthActions(app.test_client()).login("investigator", "brand new secret") \
        .status_code == 401
    approve_all(app)
    after = get_user(app, "investigator")
    assert after.session_token != user.session_token
    assert AuthActions(app.test_client()).login("investigator", "brand new secret") \
        .status_code == 303


def test_reset_password_errors_are_422_partial(partner, app):
    user = get_user(app, "investigator")
    response = partner.post(f"/admin/users/{user.id}/password", headers={**HTMX, **EN},
                            data={"password": "short", "confirm": "short"})
    assert response.status_code == 422
    assert response.text.lstrip().startswith('<section id="password-reset"')
    assert get_user(app, "investigator").password_hash == user.password_hash


def test_reset_password_without_javascript(partner, app):
    user = get_user(app, "investigator")
    page = partner.get(f"/admin/users/{user.id}/password")
    assert page.status_code == 200 and "<html" in page.text
    response = partner.post(f"/admin/users/{user.id}/password",
                            data={"password": "brand new secret", "confirm": "brand new secret"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/admin/users/{user.id}/edit"
    bad = partner.post(f"/admin/users/{user.id}/password",
                       data={"password": "brand new secret", "confirm": "other"})
    assert bad.status_code == 422 and "<html" in bad.text


def test_own_password_is_not_reset_here(client, auth, app):
    auth.login("partner2")
    me = get_user(app, "partner2")
    response = client.post(f"/admin/users/{me.id}/password", headers=EN,
                           data={"password": "brand new secret", "confirm": "brand new secret"})
    assert response.status_code == 422
    assert get_user(app, "partner2").password_hash == me.password_hash
    assert client.get("/").status_code == 200


def test_no_password_for_a_lawyer_without_login(partner, app):
    with app.app_context():
        lawyer_id = db.session.scalar(select(User.id).where(User.name == "李娜"))
    response = partner.post(f"/admin/users/{lawyer_id}/password",
                            data={"password": "brand new secret", "confirm": "brand new secret"})
    assert response.status_code == 422


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_other_roles_cannot_administer(client, auth, app, role):
    auth.login_as(role)
    target = user_id(app, "partner2")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/users/new", data=NEW).status_code == 403
    assert client.post(f"/admin/users/{target}/password",
                       data={"password": "hijacked pw!", "confirm": "hijacked pw!"}) \
        .status_code == 403
    assert client.get("/admin/audit").status_code == 403
    assert count(app, User, User.username == "new.clerk") == 0


# ------------------------------------------------------------------ audit trail


def add_events(app, n: int, action: str = "test.event", days_ago: int = 0) -> None:
    with app.app_context(), writes_by_default():
        actor = db.session.scalar(select(User).where(User.username == "committee2"))
        for i in range(n):
            # About matters: events about complaints are withheld from a partner who may not
            # see the complaint (tests/security/test_respondent_kept_out.py), and these
            # complaints do not exist.
            written = audit.record(action, actor=actor, object_type="matter", object_id=i,
                                   details={"i": i})
            if days_ago:
                # back-dating needs the hash recomputed, as if written then
                event = db.session.get(AuditEvent, written.id)
                event.at = clock.now() - timedelta(days=days_ago)
                event.hash = event.compute_hash(audit.chain_key())
                db.session.flush()
        db.session.commit()


def rows(html: str) -> list[str]:
    return re.findall(r'<span class="muted mono">#(\d+)</span>', html)


def test_audit_trail_newest_first_paginated_by_50(partner, app):
    add_events(app, 120)
    first = partner.get("/admin/audit", headers=EN)
    assert first.status_code == 200
    ids = [int(i) for i in rows(first.text)]
    assert len(ids) == 50 and ids == sorted(ids, reverse=True)
    assert "page 1 of 3" in first.text
    third = partner.get("/admin/audit", query_string={"page": 3}, headers=HTMX)
    assert third.text.lstrip().startswith('<div id="audit-table"')
    assert 0 < len(rows(third.text)) <= 50
    beyond = partner.get("/admin/audit", query_string={"page": 99}, headers=HTMX)
    assert rows(beyond.text) == rows(third.text)


def test_audit_trail_shows_who_what_which_when_where(partner, app):
    partner.post("/login", data={"username": "ghost", "password": "x" * 9},
                 environ_base={"REMOTE_ADDR": "198.51.100.4"})
    page = partner.get("/admin/audit", query_string={"action": "login.failed"}, headers=EN)
    assert page.status_code == 200
    assert "ghost" in page.text and "198.51.100.4" in page.text and "Sign-in failed" in page.text
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT', page.text)


def test_audit_filters(partner, app):
    add_events(app, 3)
    add_events(app, 2, action="test.old", days_ago=40)
    by_action = partner.get("/admin/audit", query_string={"action": "test.event"}, headers=HTMX)
    assert len(rows(by_action.text)) == 3
    by_actor = partner.get("/admin/audit", query_string={"actor": "COMMITTEE2"}, headers=HTMX)
    assert len(rows(by_actor.text)) == 5
    by_object = partner.get("/admin/audit", headers=HTMX,
                            query_string={"object_type": "matter", "object_id": "1"})
    assert len(rows(by_object.text)) == 2
    today = clock.now().date()
    recent = partner.get("/admin/audit", headers=HTMX, query_string={
        "actor": "committee2", "date_from": str(today - timedelta(days=1))})
    assert len(rows(recent.text)) == 3
    old = partner.get("/admin/audit", headers=HTMX, query_string={
        "actor": "committee2", "date_to": str(today - timedelta(days=30))})
    assert len(rows(old.text)) == 2


def test_audit_filter_errors_are_422(partner):
    response = partner.get("/admin/audit", headers={**EN, **HTMX}, query_string={
        "date_from": "2025-02-01", "date_to": "2025-01-01"})
    assert response.status_code == 422
    assert "before the start date" in response.text


def test_user_admin_is_audited_and_findable_by_object(partner, app):
    user = get_user(app, "committee1")
    partner.post(f"/admin/users/{user.id}/edit", data=edit_data(user, roles=["committee",
                                                                            "investigator"]))
    page = partner.get("/admin/audit", headers=EN,
                       query_string={"object_type": "user", "object_id": str(user.id)})
    assert "User changed" in page.text and "investigator" in page.text


def test_verify_chain_indicator(partner, app):
    response = partner.get("/admin/audit/verify", headers={**HTMX, **EN})
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="audit-verify"')
    assert "The chain is intact" in response.text
    full = partner.get("/admin/audit/verify", headers=EN)
    assert "<html" in full.text and "The chain is intact" in full.text
    with app.app_context(), writes_by_default():
        target = db.session.scalar(select(func.min(AuditEvent.id)))
        db.session.execute(text("UPDATE audit_event SET ip = '6.6.6.6' WHERE id = :id"),
                           {"id": target})
        db.session.commit()
    broken = partner.get("/admin/audit/verify", headers={**HTMX, **EN})
    assert f"broken at event #{target}" in broken.text
    assert "edited" in broken.text


def test_names_are_escaped_everywhere(partner, app):
    evil = '<script>alert(1)</script>"\'><img src=x>'
    response = partner.post("/admin/users/new", data={**NEW, "name": evil})
    assert response.status_code == 303
    uid = user_id(app, "new.clerk")
    for url in ("/admin/users", f"/admin/users/{uid}/edit", f"/admin/users/{uid}/password",
                "/admin/audit"):
        page = partner.get(url).text
        assert "<script>alert" not in page and "<img src=x>" not in page, url
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in partner.get("/admin/users").text
