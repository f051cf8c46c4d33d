"""`flask users create`: staff accounts from the command line, e.g. a new firm's first partners.

The demo seed is refused in production, so this is how a real firm gets its first partner
accounts. The account is active at once (no second partner exists yet to approve it; whoever
can run this command could change the database anyway) and the creation is audited with the
actor label "cli". Fields follow the same rules as the admin form (services/accounts.py).
"""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup
from sqlalchemy.exc import IntegrityError

from portal.db import db, write_transaction
from portal.models.user import Role
from portal.services import accounts

cli = AppGroup("users", help="Staff accounts.")

ACTOR_LABEL = "cli"

MESSAGES = {
    ("username", "format"): "the username must be 2 to 64 letters, digits, dots, hyphens or "
                            "underscores, starting with a letter or digit",
    ("username", "taken"): "this username is already taken",
    ("name", "required"): "the name is empty",
    ("name", "length"): f"a name has at most {accounts.NAME_MAX} characters",
    ("name", "single_line"): "a name is written on one line",
    ("email", "invalid"): "this is not an email address the portal can send mail to",
    ("email", "taken"): "another person already has this email address",
    ("password", "length"): f"a password has {accounts.PASSWORD_MIN} to "
                            f"{accounts.PASSWORD_MAX} characters",
}


def _refused(error: accounts.AccountError) -> click.ClickException:
    reason = MESSAGES.get((error.field, error.code), error.code)
    return click.ClickException(f"{error.field}: {reason}")


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise click.ClickException("no password on standard input")
        return line.rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@cli.command("create")
@click.option("--username", required=True, help="The sign-in name (stored in lower case).")
@click.option("--name", required=True, help="The person's full name.")
@click.option("--email", default=None, help="Their email address (alerts go there).")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([role.value for role in Role]),
              help="A role to hold; repeat for several, e.g. --role partner --role committee.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts); "
                   "otherwise it is prompted for twice.")
def create(username: str, name: str, email: str | None, roles: tuple[str, ...],
           password_stdin: bool) -> None:
    """Create an active account at once, without a second partner's approval."""
    try:
        accounts.check_account_fields(username=username, name=name, email=email)
        password = _read_password(password_stdin)
        accounts.check_account_fields(password=password)
    except accounts.AccountError as error:
        raise _refused(error) from error
    password_hash = accounts.hash_password(password)  # slow: before the write transaction
    chosen = {Role(value) for value in roles}
    try:
        with write_transaction():
            user = accounts.create_user(
                None, actor_label=ACTOR_LABEL, username=username, name=name, email=email,
                password_hash=password_hash, roles=chosen,
            )
            created = user.username
    except accounts.AccountError as error:
        raise _refused(error) from error
    except IntegrityError as error:  # someone took the name or address meanwhile
        db.session.rollback()
        raise click.ClickException("this username or email address is already in use") from error
    click.echo(f"Created {created} ({', '.join(sorted(roles))}); they can sign in now.")
