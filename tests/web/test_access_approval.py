"""Granting access takes a second partner: tried as the respondent partner would attack it."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import select

from portal import create_app
from portal.db import db
from portal.models.access_request import AccessRequest
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from tests.conftest import AuthActions
from tests.unit.test_intake_filetypes import PDF
from tests.web.test_admin import NEW, edit_data, get_user
from tests.web.test_admin import user_id as account_id
from tests.web.test_intake_evidence import upload
from tests.web.test_intake_support import get, new_draft, save, user_id

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true"}
MOLE = {**NEW, "username": "mole", "email": "mole@firm.example"}


@pytest.fixture
def partner2(client, auth):
    """刘慧敏, a partner, and (in the attack tests) the lawyer complained about."""
    auth.login_as("partner")
    return client


@pytest.fixture
def second(app):
    """陈志远, the firm's other partner, in a browser of his own."""
    other = app.test_client()
    AuthActions(other).login("partner")
    return other


def waiting(app) -> list[AccessRequest]:
    with app.app_context():
        requests = db.session.scalars(select(AccessRequest).where(
            AccessRequest.status == "pending").order_by(AccessRequest.id)).all()
        db.session.expunge_all()
        return requests


def last_actions(app, n: int) -> list[str]:
    with app.app_context():
        return db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id.desc())
                                  .limit(n)).all()[::-1]


def sign_in(app, username: str, password: str) -> int:
    return AuthActions(app.test_client()).login(username, password).status_code


def respondents_case_with_evidence(app, client, auth) -> tuple[str, int]:
    """A draft about 刘慧敏 with a PDF, made by the receptionist."""
    auth.login_as("receptionist")
    key = new_draft(client)
    save(client, app, key, "respondents", {"add": user_id(app, "刘慧敏")})
    upload(client, key, PDF)
    evidence_id = get(app, key).evidence[0].id
    auth.logout()
    return key, evidence_id


# ------------------------------------------------------------------ the attacks


def test_a_respondent_cannot_make_an_account_to_read_their_own_case(client, auth, app, second):
    key, evidence_id = respondents_case_with_evidence(app, client, auth)
    auth.login_as("partner")  # 刘慧敏
    assert client.post("/admin/users/new", data=MOLE).status_code == 303
    mole = app.test_client()
    assert AuthActions(mole).login("mole", NEW["password"]).status_code == 401
    assert mole.get(f"/complaints/{key}/evidence/{evidence_id}").status_code in (302, 303)
    [request] = waiting(app)
    refused = client.post(f"/admin/requests/{request.id}/approve", headers=EN)
    assert refused.status_code == 403
    assert "You asked for this change" in refused.text
    assert sign_in(app, "mole", NEW["password"]) == 401
    # a second partner's approval is what makes the account real
    assert second.post(f"/admin/requests/{request.id}/approve").status_code == 303
    assert sign_in(app, "mole", NEW["password"]) == 303


def test_a_respondent_cannot_take_over_the_receptionists_account(partner2, app):
    reception = get_user(app, "reception")
    response = partner2.post(f"/admin/users/{reception.id}/password",
                             data={"password": "i know this one", "confirm": "i know this one"})
    assert response.status_code == 303
    assert sign_in(app, "reception", "i know this one") == 401
    assert sign_in(app, "reception", "redress-demo") == 303  # the real owner is unaffected
    [request] = waiting(app)
    assert partner2.post(f"/admin/requests/{request.id}/approve").status_code == 403
    assert get_user(app, "reception").password_hash == reception.password_hash


def test_a_partner_cannot_grant_themselves_a_role(partner2, app):
    me = get_user(app, "partner2")
    response = partner2.post(f"/admin/users/{me.id}/edit",
                             data=edit_data(me, roles=["partner", "receptionist"]))
    assert response.status_code == 303
    assert get_user(app, "partner2").roles == {Role.PARTNER}
    [request] = waiting(app)
    refused = partner2.post(f"/admin/requests/{request.id}/approve", headers={**EN, **HTMX})
    assert refused.status_code == 403
    assert "You asked for this change" in refused.text
    assert get_user(app, "partner2").roles == {Role.PARTNER}


def test_nobody_approves_a_change_to_their_own_account(partner2, app, second):
    me = get_user(app, "partner2")
    second.post(f"/admin/users/{me.id}/edit", data=edit_data(me, roles=["partner", "committee"]))
    [request] = waiting(app)
    assert request.requested_by_id == account_id(app, "partner")
    refused = partner2.post(f"/admin/requests/{request.id}/approve", headers=EN)
    assert refused.status_code == 403
    assert "concerns your own account" in refused.text
    assert get_user(app, "partner2").roles == {Role.PARTNER}
    assert last_actions(app, 2) == ["access.requested", "access.approval_refused"]


@pytest.mark.parametrize("role", ["receptionist", "investigator", "committee"])
def test_only_partners_decide(client, auth, app, role):
    partner = app.test_client()
    AuthActions(partner).login("partner2")
    partner.post("/admin/users/new", data=MOLE)
    [request] = waiting(app)
    auth.login_as(role)
    assert client.post(f"/admin/requests/{request.id}/approve").status_code == 403
    assert client.post(f"/admin/requests/{request.id}/reject").status_code == 403
    assert client.get("/admin/requests").status_code == 403
    assert get_user(app, "mole").active is False


def test_unknown_request_is_404_and_a_decided_one_is_409(partner2, app, second):
    assert second.post("/admin/requests/999999/approve").status_code == 404
    partner2.post("/admin/users/new", data=MOLE)
    [request] = waiting(app)
    assert second.post(f"/admin/requests/{request.id}/reject").status_code == 303
    again = second.post(f"/admin/requests/{request.id}/approve", headers={**EN, **HTMX})
    assert again.status_code == 409
    assert "already been decided" in again.text
    assert again.text.lstrip().startswith('<section id="access-requests"')
    assert get_user(app, "mole").active is False


def test_a_csrf_less_approval_is_refused(partner2, app, second):
    partner2.post("/admin/users/new", data=MOLE)
    [request] = waiting(app)
    second.send_csrf = False
    assert second.post(f"/admin/requests/{request.id}/approve").status_code == 400
    assert get_user(app, "mole").active is False


# ------------------------------------------------------------------ the pages


def test_pending_accounts_and_roles_are_shown_as_waiting(partner2, app):
    partner2.post("/admin/users/new", data=MOLE)
    investigator = get_user(app, "investigator")
    partner2.post(f"/admin/users/{investigator.id}/edit",
                  data=edit_data(investigator, roles=["investigator", "committee"]))
    page = partner2.get("/admin/users", headers=EN).text
    row = re.search(r"<tr>\s*<td><a [^>]*>新同事</a>.*?</tr>", page, re.S).group(0)
    assert "Pending approval" in row and "Receptionist (awaiting approval)" in row
    assert "Committee member (awaiting approval)" in page
    assert 'id="access-requests"' in page and "You asked for this change" in page
    assert "/approve" not in page  # nothing here the requester could approve
    pending = partner2.get("/admin/users", query_string={"status": "pending"}, headers=HTMX)
    names = re.findall(r'/admin/users/\d+/edit">([^<]+)<', pending.text)
    assert sorted(names) == sorted(["新同事", "周建国"])
    edit = partner2.get(f"/admin/users/{investigator.id}/edit", headers=EN).text
    assert "Waiting for a second partner" in edit and "Committee member" in edit
    assert re.search(r'value="committee"[^>]*checked|checked[^>]*value="committee"', edit)


def test_the_second_partner_approves_with_htmx(partner2, app, second):
    partner2.post("/admin/users/new", data=MOLE)
    [request] = waiting(app)
    page = second.get("/admin/requests", headers=EN)
    assert page.status_code == 200 and f"/admin/requests/{request.id}/approve" in page.text
    response = second.post(f"/admin/requests/{request.id}/approve", headers={**EN, **HTMX})
    assert response.status_code == 200
    assert response.headers["HX-Trigger"] == "accessChanged"
    assert response.text.lstrip().startswith('<section id="access-requests"')
    assert "Approved: New account for 新同事" in response.text
    assert "No change is waiting" in response.text
    mole = get_user(app, "mole")
    assert mole.active and mole.roles == {Role.RECEPTIONIST}
    assert last_actions(app, 1) == ["access.approved"]
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
        assert event.actor.username == "partner" and event.object_id == str(mole.id)
        assert event.details["requested_by"] == account_id(app, "partner2")


def test_rejecting_keeps_the_account_inactive_and_the_requester_may_withdraw(partner2, app):
    partner2.post("/admin/users/new", data=MOLE)
    [request] = waiting(app)
    assert "Withdraw" in partner2.get("/admin/requests", headers=EN).text
    response = partner2.post(f"/admin/requests/{request.id}/reject", headers={**EN, **HTMX})
    assert response.status_code == 200 and "Rejected" in response.text
    assert waiting(app) == []
    assert last_actions(app, 1) == ["access.rejected"]
    assert sign_in(app, "mole", NEW["password"]) == 401


def test_revoking_and_disabling_need_no_approval(partner2, app):
    user = get_user(app, "committee1")
    response = partner2.post(f"/admin/users/{user.id}/edit",
                             data=edit_data(user, roles=["investigator"], active=None))
    assert response.status_code == 303
    after = get_user(app, "committee1")
    assert after.roles == set() and not after.active
    assert [r.kind for r in waiting(app)] == ["grant_roles"]  # only the added role waits


# ------------------------------------------------------------------ a firm with one partner


def test_approval_can_be_turned_off_with_a_warning_everywhere(app, partner2):
    app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] = False
    assert partner2.post("/admin/users/new", data=MOLE).status_code == 303
    assert sign_in(app, "mole", NEW["password"]) == 303
    assert waiting(app) == []
    mole = get_user(app, "mole")
    for url in ("/admin/users", "/admin/users/new", f"/admin/users/{mole.id}/edit",
                f"/admin/users/{mole.id}/password", "/admin/audit", "/admin/requests"):
        page = partner2.get(url, headers=EN)
        assert "Second-partner approval is turned off" in page.text, url
    app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] = True
    assert "Second-partner approval is turned off" not in partner2.get(
        "/admin/users", headers=EN).text


def test_start_up_warns_when_approval_is_off(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("ACCOUNT_CHANGES_NEED_SECOND_PARTNER", "false")
    with caplog.at_level(logging.WARNING):
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'x.sqlite3'}",
                          "SECRET_KEY": "x"})
    assert app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] is False
    assert "ACCOUNT_CHANGES_NEED_SECOND_PARTNER is off" in caplog.text
    caplog.clear()
    monkeypatch.delenv("ACCOUNT_CHANGES_NEED_SECOND_PARTNER")
    with caplog.at_level(logging.WARNING):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'y.sqlite3'}",
                    "SECRET_KEY": "x"})
    assert "ACCOUNT_CHANGES_NEED_SECOND_PARTNER" not in caplog.text


def test_demo_accounts_are_active_without_approval(app):
    with app.app_context():
        staff = db.session.scalars(select(User).where(User.username.is_not(None))).all()
        assert staff and all(user.active and user.roles for user in staff)
        assert db.session.scalar(select(AccessRequest.id)) is None
