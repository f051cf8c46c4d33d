"""Flask-Login wiring: the session holds a rotating per-user token, never the user id."""

from __future__ import annotations

from flask import Flask, flash, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.util import identity_key

from portal.db import db
from portal.extensions import login_manager
from portal.models.user import User, UserRole
from portal.web import htmx, page_cache
from portal.web.redirects import same_site_path


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # our own idle/absolute timeouts apply
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        known = page_cache.recall_shared(_SIGNED_IN, token)
        if known is not None and (user := _restored(known)) is not None:
            return user
        # Every request asks for the user's roles: load them in the same statement.
        user = db.session.scalars(
            select(User).options(joinedload(User.role_rows))
            .where(User.session_token == token, User.active.is_(True))
        ).unique().first()
        if user is not None:
            page_cache.keep_shared(_SIGNED_IN, token, _snapshot(user))
        return user

    @login_manager.unauthorized_handler
    def unauthorized():

        message = (
            _l("Your session has expired. Please sign in again.")
            if g.get("session_expired")
            else login_manager.login_message
        )
        flash(str(message), "info")
        target = url_for("auth.login", next=_safe_next())
        return htmx.redirect_to_login(target)


# The signed-in user's row and roles, kept as plain data by session token at the current data
# version (portal/web/page_cache.py). Any change to a user, a role, or a token moves the version,
# so a kept row is exactly what the database holds; a deactivated user or a rotated token is
# looked up afresh on the next request, in every process. Restored, the row is an ordinary
# object of the session, as if it had been loaded, without a statement.
_SIGNED_IN = "signed_in_user"

Snapshot = tuple[dict[str, object], tuple[tuple[int, str], ...]]


def _snapshot(user: User) -> Snapshot:
    columns = {column.key: getattr(user, column.key) for column in User.__table__.columns}
    return columns, tuple((row.id, row.role) for row in user.role_rows)


def _restored(snapshot: Snapshot) -> User | None:
    """The user in the session, or None when the session already holds one of these rows (a
    test's or a command's session that outlives requests): then it is loaded as usual."""
    columns, roles = snapshot
    session = db.session()
    keys = [identity_key(User, columns["id"])] + [identity_key(UserRole, id_) for id_, _ in roles]
    if any(key in session.identity_map for key in keys):
        return None
    user = User(**columns)
    rows = [UserRole(id=id_, user_id=user.id, role=role) for id_, role in roles]
    for instance in (user, *rows):
        make_transient_to_detached(instance)
    set_committed_value(user, "role_rows", rows)
    session.add(user)
    return user


def _safe_next() -> str | None:
    if request.method != "GET" or htmx.wants_fragment():
        return None
    return same_site_path(request.full_path.rstrip("?"))
