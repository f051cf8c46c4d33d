"""`flask users create`: a firm's first partners from the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.models.access_request import AccessRequest
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from tests.conftest import AuthActions

PASSWORD = "first partner's password"
ARGS = ["users", "create", "--username", "Founder", "--name", "王创始",
        "--email", "Founder@Firm.example", "--role", "partner"]


def _user(app, username: str) -> User | None:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None:
            db.session.expunge(user)
        return user


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(User.id)))


def test_creates_an_active_partner_at_once_and_audits_it_as_cli(app, runner):
    result = runner.invoke(args=[*ARGS, "--role", "committee"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert "Created founder (committee, partner)" in result.output
    assert PASSWORD not in result.output  # the prompt does not echo it
    founder = _user(app, "founder")
    assert founder.active and founder.roles == {Role.PARTNER, Role.COMMITTEE}
    assert founder.email == "founder@firm.example"
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "user.created"))
        assert (event.actor_id, event.actor_label, event.object_id) == (None, "cli",
                                                                        str(founder.id))
        assert event.details["roles"] == ["committee", "partner"]
        assert PASSWORD not in str(event.details)
        assert db.session.scalar(select(AccessRequest.id)) is None  # no approval needed
    assert AuthActions(app.test_client()).login("founder", PASSWORD).status_code == 303


def test_password_from_standard_input_for_scripts(app, runner):
    result = runner.invoke(args=[*ARGS, "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert AuthActions(app.test_client()).login("founder", PASSWORD).status_code == 303


def test_the_two_passwords_must_match(app, runner):
    before = _count(app)
    result = runner.invoke(args=ARGS, input=f"{PASSWORD}\nsomething else\n")
    assert result.exit_code != 0
    assert "do not match" in result.output
    assert _count(app) == before


@pytest.mark.parametrize("change, message", [
    ({"--username": "has space"}, "username: the username must be"),
    ({"--username": "PARTNER2"}, "username: this username is already taken"),
    ({"--email": "liu.huimin@FIRM.example"}, "email: another person already has"),
    ({"--email": "用户@example.com"}, "email: this is not an email address"),
    ({"--name": " "}, "name: the name is empty"),
    ({"--role": "king"}, "Invalid value for '--role'"),
])
def test_refuses_what_the_admin_form_refuses(app, runner, change, message):
    args = list(ARGS)
    for option, value in change.items():
        args[args.index(option) + 1] = value
    before = _count(app)
    result = runner.invoke(args=[*args, "--password-stdin"], input=f"{PASSWORD}\n")
    assert result.exit_code != 0
    assert message in result.output
    assert _count(app) == before


@pytest.mark.parametrize("password", ["short", "", "x" * 129])
def test_refuses_a_bad_password(app, runner, password):
    result = runner.invoke(args=[*ARGS, "--password-stdin"], input=f"{password}\n")
    assert result.exit_code != 0
    assert "password" in result.output
    assert _user(app, "founder") is None


def test_a_role_is_required(runner):
    result = runner.invoke(args=ARGS[:-2], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code != 0 and "--role" in result.output
