"""Forms shared by several areas."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from portal.services.accounts import PASSWORD_MAX, PASSWORD_MIN


def password_rules():
    return [
        DataRequired(_l("Please enter a password.")),
        Length(
            min=PASSWORD_MIN,
            max=PASSWORD_MAX,
            message=_l("A password has %(min)d to %(max)d characters.",
                       min=PASSWORD_MIN, max=PASSWORD_MAX),
        ),
    ]


class LoginForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(_l("Please enter your username.")), Length(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none"},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password.")), Length(max=PASSWORD_MAX)],
        render_kw={"autocomplete": "current-password"},
    )


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"), validators=password_rules(), render_kw={"autocomplete": "new-password"}
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("new_password", _l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
