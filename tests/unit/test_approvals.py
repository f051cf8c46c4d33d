"""Two-partner approval of access changes (services/approvals.py through services/accounts.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models.access_request import AccessRequest, AccessRequestKind, AccessRequestStatus
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from portal.services import accounts, approvals

THROTTLE = accounts.Throttle(window=timedelta(minutes=15), per_account=5, per_ip=20)


@pytest.fixture
def ctx(app):
    with app.test_request_context(), writes_by_default():
        yield


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _new_clerk(actor: User, roles=frozenset({Role.RECEPTIONIST})) -> User:
    return accounts.create_user(actor, username="clerk", name="新同事", email="clerk@firm.example",
                                password="long enough", roles=set(roles))


def _actions(user: User) -> list[str]:
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_type == "user",
                                        AuditEvent.object_id == str(user.id))
        .order_by(AuditEvent.id)))


def test_a_new_account_is_inactive_without_roles_until_a_second_partner_approves(ctx):
    creator, approver = _user("partner2"), _user("partner")
    clerk = _new_clerk(creator, {Role.RECEPTIONIST, Role.INVESTIGATOR})
    assert not clerk.active and not clerk.is_active and clerk.roles == set()
    [request] = approvals.pending_for(clerk)
    assert (request.kind, request.roles, request.requested_by_id) == (
        "create_account", ["investigator", "receptionist"], creator.id)
    approvals.approve(approver, request)
    assert clerk.active and clerk.roles == {Role.RECEPTIONIST, Role.INVESTIGATOR}
    assert (request.status, request.decided_by_id) == ("approved", approver.id)
    assert request.decided_at is not None
    assert _actions(clerk) == ["user.created", "access.requested", "access.approved"]


@pytest.mark.parametrize("who, code", [("partner2", "own_request"), ("reception", "not_partner")])
def test_nobody_approves_their_own_request_and_only_partners_approve(ctx, who, code):
    clerk = _new_clerk(_user("partner2"))
    [request] = approvals.pending_for(clerk)
    with pytest.raises(approvals.ApprovalError) as caught:
        approvals.approve(_user(who), request)
    assert caught.value.code == code
    assert not clerk.active and request.is_pending


def test_nobody_approves_a_change_to_their_own_account(ctx):
    partner, partner2 = _user("partner"), _user("partner2")
    change = accounts.update_user(partner, partner2, name=partner2.name, email=partner2.email,
                                  roles={Role.PARTNER, Role.RECEPTIONIST}, active=True)
    [request] = change.requests
    assert not partner2.has_role(Role.RECEPTIONIST)  # not held while waiting
    with pytest.raises(approvals.ApprovalError) as caught:
        approvals.approve(partner2, request)
    assert caught.value.code == "own_account"
    assert not partner2.has_role(Role.RECEPTIONIST)


def test_a_partner_granting_themselves_a_role_needs_another_partner(ctx):
    partner2 = _user("partner2")
    change = accounts.update_user(partner2, partner2, name=partner2.name, email=partner2.email,
                                  roles={Role.PARTNER, Role.RECEPTIONIST}, active=True)
    [request] = change.requests
    with pytest.raises(approvals.ApprovalError):
        approvals.approve(partner2, request)
    assert not partner2.has_role(Role.RECEPTIONIST)
    approvals.approve(_user("partner"), request)
    assert partner2.has_role(Role.RECEPTIONIST)


def test_revoking_and_disabling_take_effect_at_once(ctx):
    user = _user("investigator")
    token = user.session_token
    change = accounts.update_user(_user("partner2"), user, name=user.name, email=user.email,
                                  roles=set(), active=False)
    assert change.requests == []
    assert user.roles == set() and not user.active and user.session_token != token


def test_enabling_a_disabled_account_waits_for_approval(ctx):
    partner2, user = _user("partner2"), _user("committee3")
    accounts.update_user(partner2, user, name=user.name, email=user.email, roles=user.roles,
                         active=False)
    change = accounts.update_user(partner2, user, name=user.name, email=user.email,
                                  roles=user.roles, active=True)
    [request] = change.requests
    assert request.kind == AccessRequestKind.ENABLE_ACCOUNT and not user.active
    again = accounts.update_user(partner2, user, name=user.name, email=user.email,
                                 roles=user.roles, active=True)
    assert again.requests == []  # already waiting: no second request
    approvals.approve(_user("partner"), request)
    assert user.active


def test_one_request_per_role_and_unticking_a_waiting_role_withdraws_it(ctx):
    partner2, user = _user("partner2"), _user("investigator")
    change = accounts.update_user(partner2, user, name=user.name, email=user.email,
                                  roles={Role.INVESTIGATOR, Role.COMMITTEE, Role.RECEPTIONIST},
                                  active=True)
    assert sorted(r.roles[0] for r in change.requests) == ["committee", "receptionist"]
    # the form shows waiting roles ticked: saving again asks for nothing new
    same = accounts.update_user(partner2, user, name="周建国律师", email=user.email,
                                roles={Role.INVESTIGATOR, Role.COMMITTEE, Role.RECEPTIONIST},
                                active=True)
    assert same.requests == [] and user.name == "周建国律师"
    accounts.update_user(partner2, user, name=user.name, email=user.email,
                         roles={Role.INVESTIGATOR, Role.COMMITTEE}, active=True)
    waiting = approvals.pending_for(user)
    assert [r.roles for r in waiting] == [["committee"]]
    withdrawn = db.session.scalar(select(AccessRequest).where(
        AccessRequest.roles.is_not(None), AccessRequest.status == "rejected"))
    assert withdrawn.roles == ["receptionist"] and withdrawn.decided_by_id == partner2.id


def test_a_new_accounts_roles_cannot_be_changed_or_activated_while_waiting(ctx):
    partner2 = _user("partner2")
    clerk = _new_clerk(partner2)
    for roles, active, field in (({Role.RECEPTIONIST}, True, "active"),
                                 ({Role.PARTNER}, False, "roles")):
        with pytest.raises(accounts.AccountError) as caught:
            accounts.update_user(_user("partner"), clerk, name=clerk.name, email=clerk.email,
                                 roles=roles, active=active)
        assert caught.value.code == "awaiting_approval" and caught.value.field == field
    change = accounts.update_user(_user("partner"), clerk, name="新同事甲", email=clerk.email,
                                  roles={Role.RECEPTIONIST}, active=False)
    assert change.requests == [] and clerk.name == "新同事甲" and not clerk.active


def test_a_password_reset_waits_and_a_newer_one_replaces_it(ctx):
    partner2, partner, user = _user("partner2"), _user("partner"), _user("reception")
    digest, token = user.password_hash, user.session_token
    first = accounts.reset_password(partner2, user, "first new password").requests[0]
    second = accounts.reset_password(partner, user, "second new password").requests[0]
    assert user.password_hash == digest and user.session_token == token
    db.session.refresh(first)
    assert first.status == AccessRequestStatus.SUPERSEDED and first.password_hash is None
    with pytest.raises(approvals.ApprovalError) as caught:
        approvals.approve(partner2, first)
    assert caught.value.code == "decided"
    approvals.approve(partner2, second)
    assert user.session_token != token and second.password_hash is None  # not kept
    assert accounts.authenticate("reception", "second new password", "10.0.0.1",
                                 THROTTLE)[0] is accounts.LoginResult.OK


def test_a_request_is_decided_once(ctx):
    clerk = _new_clerk(_user("partner2"))
    [request] = approvals.pending_for(clerk)
    approvals.reject(_user("partner"), request)
    assert request.status == "rejected" and not clerk.active and clerk.roles == set()
    for decide in (approvals.approve, approvals.reject):
        with pytest.raises(approvals.ApprovalError) as caught:
            decide(_user("partner"), request)
        assert caught.value.code == "decided"
    assert "access.rejected" in _actions(clerk)


def test_a_stale_copy_cannot_be_approved_twice(ctx):
    """Two partners approving at the same moment: the conditional UPDATE lets one win."""
    clerk = _new_clerk(_user("partner2"))
    [request] = approvals.pending_for(clerk)
    db.session.execute(AccessRequest.__table__.update().values(status="approved"))
    assert request.status == "pending"  # the loaded copy still says pending
    with pytest.raises(approvals.ApprovalError) as caught:
        approvals.approve(_user("partner"), request)
    assert caught.value.code == "decided" and clerk.roles == set()


def test_without_second_partner_approval_changes_apply_at_once(app, ctx):
    app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] = False
    partner2 = _user("partner2")
    clerk = _new_clerk(partner2)
    assert clerk.active and clerk.roles == {Role.RECEPTIONIST}
    change = accounts.update_user(partner2, partner2, name=partner2.name,
                                  email=partner2.email, roles={Role.PARTNER, Role.RECEPTIONIST},
                                  active=True)
    assert change.requests == [] and partner2.has_role(Role.RECEPTIONIST)
    assert db.session.scalar(select(AccessRequest.id)) is None


@pytest.mark.parametrize("fields, field, code", [
    ({"username": "a b"}, "username", "format"),
    ({"username": "-x"}, "username", "format"),
    ({"name": "  "}, "name", "required"),
    ({"name": "x" * 101}, "name", "length"),
    ({"name": "Wang\nBcc: x@evil.example"}, "name", "single_line"),
    ({"email": "用户@example.com"}, "email", "invalid"),
    ({"email": "a@b.example\r\nBcc: x@evil.example"}, "email", "invalid"),
    ({"password": "short"}, "password", "length"),
])
def test_account_fields_follow_one_set_of_rules(ctx, fields, field, code):
    data = {"username": "clerk", "name": "新同事", "email": "clerk@firm.example",
            "password": "long enough", **fields}
    with pytest.raises(accounts.AccountError) as caught:
        accounts.create_user(_user("partner2"), roles={Role.RECEPTIONIST}, **data)
    assert (caught.value.field, caught.value.code) == (field, code)
    assert _user("clerk") is None
