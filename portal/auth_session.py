"""Flask-Login wiring: the session holds a rotating per-user token, never the user id."""

from __future__ import annotations

from flask import Flask, flash, g, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from portal.db import db
from portal.extensions import login_manager
from portal.models.user import User
from portal.web import htmx
from portal.web.redirects import same_site_path


def init_login(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.session_protection = None  # our own idle/absolute timeouts apply
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please sign in to continue.")
    login_manager.login_message_category = "info"

    @login_manager.user_loader
    def load_user(token: str) -> User | None:
        # Every request asks for the user's roles: load them in the same statement.
        return db.session.scalars(
            select(User).options(joinedload(User.role_rows))
            .where(User.session_token == token, User.active.is_(True))
        ).unique().first()

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


def _safe_next() -> str | None:
    if request.method != "GET" or htmx.wants_fragment():
        return None
    return same_site_path(request.full_path.rstrip("?"))
