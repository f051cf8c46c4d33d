"""Signing in and out, changing one's password, choosing the language."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from portal.db import db
from portal.forms import ChangePasswordForm, LoginForm
from portal.security import public, signed_in, start_session
from portal.services import accounts

bp = Blueprint("auth", __name__)


def _throttle() -> accounts.Throttle:
    config = current_app.config
    return accounts.Throttle(
        window=config["LOGIN_THROTTLE_WINDOW"],
        per_account=config["LOGIN_THROTTLE_PER_ACCOUNT"],
        per_ip=config["LOGIN_THROTTLE_PER_IP"],
    )


def _is_local(target: str | None) -> bool:
    if not target:
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc and target.startswith("/") and "\\" not in target


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("home.index"))
    form = LoginForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        else:
            result, user = accounts.authenticate(
                form.username.data, form.password.data, g.client_ip, _throttle()
            )
            db.session.commit()
            if result is accounts.LoginResult.OK:
                start_session()
                login_user(user)
                next_url = request.args.get("next")
                return redirect(next_url if _is_local(next_url) else url_for("home.index"), 303)
            if result is accounts.LoginResult.THROTTLED:
                form.form_errors.append(
                    _("Too many failed attempts from this computer. Wait 15 minutes, "
                      "or ask a partner to reset your password.")
                )
                status = 429
            else:
                form.form_errors.append(_("Wrong username or password."))
                status = 401
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@signed_in
def logout():
    accounts.logout(current_user._get_current_object())
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 422
        elif accounts.change_password(
            current_user._get_current_object(), form.current_password.data, form.new_password.data
        ):
            db.session.commit()
            user = current_user._get_current_object()
            start_session()
            login_user(user)  # this tab keeps working; every other copy of the cookie is dead
            flash(_("Your password has been changed. Other sessions have been signed out."), "ok")
            return redirect(url_for("home.index"), 303)
        else:
            db.session.commit()
            form.current_password.errors.append(_("This is not your current password."))
            status = 422
    return render_template("auth/password.html", form=form), status


@bp.route("/language", methods=["POST"])
@public
def set_language():
    locale = request.form.get("locale", "")
    if locale not in current_app.config["LANGUAGES"]:
        flash(_("This language is not available."), "error")
        return redirect(url_for("home.index"), 303)
    session["locale"] = locale
    if current_user.is_authenticated:
        accounts.set_locale(current_user._get_current_object(), locale)
        db.session.commit()
    back = request.form.get("next")
    return redirect(back if _is_local(back) else url_for("home.index"), 303)
