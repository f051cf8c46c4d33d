"""The accounts service: passwords, sign-in, throttling, user administration."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal.db import db, writes_by_default
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from portal.services import accounts


@pytest.fixture
def ctx(app):
    with app.test_request_context(), writes_by_default():
        yield


def _user(username: str) -> User:
    return db.session.scalar(select(User).where(User.username == username))


def _throttle() -> accounts.Throttle:
    return accounts.Throttle(window=timedelta(minutes=15), per_account=5, per_ip=20)


def _last_action() -> str:
    return db.session.scalar(select(AuditEvent.action).order_by(AuditEvent.id.desc()))


def test_passwords_are_argon2id_with_owasp_parameters(ctx):
    digest = accounts.hash_password("correct horse battery")
    assert digest.startswith("$argon2id$")
    assert "m=19456,t=2,p=1" in digest
    assert accounts.hash_password("correct horse battery") != digest  # salted


def test_authenticate_ok_wrong_and_unknown(ctx):
    result, user = accounts.authenticate("partner", "redress-demo", "10.0.0.1", _throttle())
    assert result is accounts.LoginResult.OK and user.username == "partner"
    assert accounts.authenticate("partner", "nope", "10.0.0.1", _throttle())[0] \
        is accounts.LoginResult.BAD_CREDENTIALS
    assert accounts.authenticate("ghost", "nope", "10.0.0.1", _throttle())[0] \
        is accounts.LoginResult.BAD_CREDENTIALS


def test_authenticate_refuses_disabled_users_and_people_without_login(ctx):
    user = _user("partner")
    user.active = False
    assert accounts.authenticate("partner", "redress-demo", "10.0.0.1", _throttle())[0] \
        is accounts.LoginResult.BAD_CREDENTIALS
    assert accounts.authenticate("王磊", "", "10.0.0.1", _throttle())[0] \
        is accounts.LoginResult.BAD_CREDENTIALS


def test_create_user_normalises_and_audits(ctx):
    actor = _user("partner")
    user = accounts.create_user(actor, username="  New.Person ", name=" 新人 ",
                                email=" New@Firm.Example ", password="long enough",
                                roles={Role.RECEPTIONIST, Role.INVESTIGATOR})
    assert (user.username, user.name, user.email) == ("new.person", "新人", "new@firm.example")
    assert user.roles == set() and not user.active  # until a second partner approves
    assert user.password_hash.startswith("$argon2id$")
    created, requested = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())
                                            .limit(2)).all()[::-1]
    assert (created.action, created.object_type, created.object_id, created.actor_id) == (
        "user.created", "user", str(user.id), actor.id)
    assert (requested.action, requested.details["roles"]) == (
        "access.requested", ["investigator", "receptionist"])
    assert "long enough" not in str(created.details) + str(requested.details)


@pytest.mark.parametrize("username, email, field", [
    ("PARTNER", None, "username"),
    ("someone", "CHEN.zhiyuan@firm.example", "email"),
    ("PARTNER", "wang.lei@firm.example", "username"),  # the lawyer on file: still unique
])
def test_create_user_refuses_duplicates_case_insensitively(ctx, username, email, field):
    with pytest.raises(accounts.AccountError) as caught:
        accounts.create_user(_user("partner"), username=username, name="X", email=email,
                             password="long enough", roles={Role.RECEPTIONIST})
    assert caught.value.field == field
    assert db.session.scalar(select(func.count(User.id)).where(User.name == "X")) == 0


def test_an_account_for_a_lawyer_on_file_is_made_on_that_record(ctx):
    lawyer = db.session.scalar(select(User).where(User.name == "王磊"))
    people = db.session.scalar(select(func.count(User.id)))
    made = accounts.create_user(_user("partner"), username="wang.lei", name="王磊",
                                email="WANG.LEI@firm.example", password="long enough",
                                roles=set())
    assert made.id == lawyer.id and made.username == "wang.lei"
    assert db.session.scalar(select(func.count(User.id))) == people


def test_update_user_changes_roles_and_records_what_changed(app, ctx):
    app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] = False  # roles granted at once
    actor, user = _user("partner"), _user("investigator")
    token = user.session_token
    accounts.update_user(actor, user, name="周建国", email="zhou@firm.example",
                         roles={Role.INVESTIGATOR, Role.COMMITTEE}, active=True)
    assert user.roles == {Role.INVESTIGATOR, Role.COMMITTEE}
    assert user.session_token == token  # a role change needs no new session
    event = db.session.scalar(select(AuditEvent).order_by(AuditEvent.id.desc()))
    assert event.action == "user.updated"
    assert event.details["changed"]["roles"] == [["investigator"], ["committee", "investigator"]]
    assert set(event.details["changed"]) == {"roles", "email"}


def test_disabling_rotates_the_session_token(ctx):
    user = _user("investigator")
    token = user.session_token
    accounts.update_user(_user("partner"), user, name=user.name, email=user.email,
                         roles=user.roles, active=False)
    assert not user.active and user.session_token != token


@pytest.mark.parametrize("active, roles, field", [
    (False, {Role.PARTNER, Role.COMMITTEE}, "active"),
    (True, {Role.COMMITTEE}, "roles"),
])
def test_a_partner_cannot_lock_themselves_out(ctx, active, roles, field):
    me = _user("partner")
    with pytest.raises(accounts.AccountError) as caught:
        accounts.update_user(me, me, name=me.name, email=me.email, roles=roles, active=active)
    assert caught.value.field == field
    assert me.active and me.has_role(Role.PARTNER)


def test_a_partner_may_change_their_own_name_and_roles_otherwise(ctx):
    me = _user("partner")
    accounts.update_user(me, me, name="陈总", email=me.email, roles={Role.PARTNER}, active=True)
    assert me.name == "陈总" and me.roles == {Role.PARTNER}


def test_update_refuses_an_email_someone_else_has(ctx):
    with pytest.raises(accounts.AccountError):
        accounts.update_user(_user("partner"), _user("investigator"), name="x",
                             email="LIU.huimin@firm.example", roles={Role.INVESTIGATOR},
                             active=True)


def test_reset_password_rotates_the_token_and_audits(app, ctx):
    app.config["ACCOUNT_CHANGES_NEED_SECOND_PARTNER"] = False  # applied at once
    user = _user("committee2")
    token, digest = user.session_token, user.password_hash
    accounts.reset_password(_user("partner"), user, "a fresh password")
    assert user.session_token != token and user.password_hash != digest
    assert user.password_changed_at is not None
    assert _last_action() == "user.password_reset"
    assert accounts.authenticate("committee2", "a fresh password", "10.0.0.9",
                                 _throttle())[0] is accounts.LoginResult.OK


def test_reset_password_for_someone_without_login_is_refused(ctx):
    lawyer = db.session.scalar(select(User).where(User.name == "王磊"))
    with pytest.raises(accounts.AccountError):
        accounts.reset_password(_user("partner"), lawyer, "a fresh password")


def test_change_password_checks_the_current_one(ctx):
    user = _user("partner2")
    token = user.session_token
    assert not accounts.change_password(
        user, accounts.new_password_hash(user, "wrong", "another long one"))
    assert user.session_token == token
    assert accounts.change_password(
        user, accounts.new_password_hash(user, "redress-demo", "another long one"))
    assert user.session_token != token


def test_logout_rotates_the_token(ctx):
    user = _user("partner2")
    token = user.session_token
    accounts.logout(user)
    assert user.session_token != token
    assert _last_action() == "logout"


def test_throttle_counts_per_account_and_address(ctx):
    throttle = accounts.Throttle(window=timedelta(minutes=15), per_account=2, per_ip=3)
    for _ in range(2):
        accounts.authenticate("partner", "bad", "1.1.1.1", throttle)
    assert accounts.is_throttled("partner", "1.1.1.1", throttle)
    assert not accounts.is_throttled("partner", "2.2.2.2", throttle)
    assert not accounts.is_throttled("partner2", "1.1.1.1", throttle)
    accounts.authenticate("partner2", "bad", "1.1.1.1", throttle)
    assert accounts.is_throttled("anyone", "1.1.1.1", throttle)  # the address is spent


def test_old_login_attempts_are_forgotten(ctx):
    from portal import clock
    from portal.models.user import LoginAttempt

    db.session.add(LoginAttempt(username="partner", ip="10.0.0.9",
                                at=clock.now() - timedelta(days=2)))
    db.session.flush()
    accounts.authenticate("partner", "redress-demo", "10.0.0.1", _throttle())
    ips = db.session.scalars(select(LoginAttempt.ip)).all()
    assert ips == ["10.0.0.1"]
