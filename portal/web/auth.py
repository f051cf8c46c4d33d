"""Signing in and out, changing one's password, choosing the language."""

from __future__ import annotations

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

from portal.db import write_transaction
from portal.forms import ChangePasswordForm, LoginForm
from portal.security import public, signed_in, start_session
from portal.services import accounts
from portal.web.redirects import same_site_path

bp = Blueprint("auth", __name__)


def _throttle() -> accounts.Throttle:
    config = current_app.config
    return accounts.Throttle(
        window=config["LOGIN_THROTTLE_WINDOW"],
        per_account=config["LOGIN_THROTTLE_PER_ACCOUNT"],
        per_ip=config["LOGIN_THROTTLE_PER_IP"],
    )


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
            check = accounts.check_login(
                form.username.data, form.password.data, g.client_ip, _throttle()
            )
            with write_transaction():
                result, user = accounts.record_login(
                    check, form.username.data, g.client_ip, _throttle()
                )
            if result is accounts.LoginResult.OK:
                start_session()
                login_user(user)
                next_url = same_site_path(request.args.get("next"))
                return redirect(next_url or url_for("home.index"), 303)
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
    with write_transaction():
        accounts.logout(current_user._get_current_object())
    logout_user()
    session.clear()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"), 303)


@bp.route("/account/password", methods=["GET", "POST"])
@signed_in
def change_password():
    form = ChangePasswordForm()
    if request.method != "POST":
        return render_template("auth/password.html", form=form), 200
    if form.validate_on_submit():
        user = current_user._get_current_object()
        new_hash = accounts.new_password_hash(
            user, form.current_password.data, form.new_password.data
        )
        with write_transaction():
            changed = accounts.change_password(user, new_hash)
        if changed:
            start_session()
            login_user(user)  # this tab keeps working; every other copy of the cookie is dead
            flash(_("Your password has been changed. Other sessions have been signed out."), "ok")
            return redirect(url_for("home.index"), 303)
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
        with write_transaction():
            accounts.set_locale(current_user._get_current_object(), locale)
    back = same_site_path(request.form.get("next"))
    return redirect(back or url_for("home.index"), 303)
