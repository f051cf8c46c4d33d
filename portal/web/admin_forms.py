"""Forms for user administration and the audit-trail filters."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    Regexp,
    ValidationError,
)
from wtforms.widgets import CheckboxInput, ListWidget

from portal.forms import password_rules
from portal.models.user import ROLE_LABELS, Role
from portal.services.accounts import ALIAS_MAX, ALIASES_MAX, NAME_MAX, USERNAME_PATTERN


class CheckboxList(SelectMultipleField):
    """Several choices as a list of checkboxes (a user may hold several roles)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _role_choices() -> list[SelectChoice]:
    return [SelectChoice(role.value, ROLE_LABELS[role]) for role in Role]


def _roles_field() -> CheckboxList:
    return CheckboxList(_l("Roles"), choices=_role_choices(), validate_choice=True,
                        description=_l("With no role, the person signs in to the matters they "
                                       "work on and to the bulletin board only."))


def _email_field() -> EmailField:
    return EmailField(
        _l("Email"),
        validators=[
            Optional(),
            Length(max=254, message=_l("An email address has at most %(max)d characters.")),
            Email(_l("This is not a valid email address."), check_deliverability=False),
        ],
        render_kw={"autocomplete": "off"},
    )


def _name_field() -> StringField:
    return StringField(
        _l("Full name"),
        validators=[
            DataRequired(_l("Please enter the person's name.")),
            Length(max=NAME_MAX, message=_l("A name has at most %(max)d characters.")),
        ],
    )


def _department_field() -> SelectField:
    # choices are filled by the route from the departments in the database
    return SelectField(_l("Department"), default="", validate_choice=True)


class UserCreateForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[
            DataRequired(_l("Please enter a username.")),
            Length(min=2, max=64, message=_l("A username has %(min)d to %(max)d characters.")),
            Regexp(
                USERNAME_PATTERN,
                message=_l("Use letters, digits, dots, hyphens and underscores only."),
            ),
        ],
        render_kw={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"},
    )
    name = _name_field()
    email = _email_field()
    department = _department_field()
    roles = _roles_field()
    password = PasswordField(
        _l("Initial password"), validators=password_rules(),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", _l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


def _check_aliases(_form, field) -> None:
    lines = field.data or []
    if len(lines) > ALIASES_MAX:
        raise ValidationError(_l("At most %(max)d other spellings.", max=ALIASES_MAX))
    if any(len(line) > ALIAS_MAX for line in lines):
        raise ValidationError(_l("One spelling has at most %(max)d characters.", max=ALIAS_MAX))


class LinesField(TextAreaField):
    """A textarea holding one value per line (blank lines dropped)."""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist else ""
        self.data = [line.strip() for line in text.splitlines() if line.strip()]

    def _value(self) -> str:
        return "\n".join(self.data or [])


class UserEditForm(FlaskForm):
    name = _name_field()
    email = _email_field()
    aliases = LinesField(
        _l("Other spellings of the name (one per line)"),
        description=_l("Pinyin, an English or a former name. A client who names this person "
                       "so in an online complaint is recognised, and the person is kept out "
                       "of that complaint until a receptionist has verified it."),
        validators=[_check_aliases],
    )
    department = _department_field()
    roles = _roles_field()
    active = BooleanField(_l("Active (may sign in)"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        _l("New password"), validators=password_rules(),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("password", _l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class FilterForm(FlaskForm):
    """A GET form: bound to the query string, no CSRF token (it changes nothing)."""

    class Meta:
        csrf = False


class UserFilterForm(FilterForm):
    """The filter box above the user list."""

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100, message=_l("At most %(max)d characters."))],
    )
    role = SelectField(
        _l("Role"), choices=[SelectChoice("", _l("Any role")), *_role_choices()], default="",
        validate_choice=True,
    )
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any")), SelectChoice("active", _l("Active")),
                 SelectChoice("disabled", _l("Disabled")), SelectChoice("nologin", _l("No login")),
                 SelectChoice("pending", _l("Pending approval"))],
        default="",
        validate_choice=True,
    )


# The filter turns a day into a moment in Beijing time and then UTC, plus a day for the end:
# year 1 or 9999 would overflow Python's datetime (a 500) on the way.
AUDIT_FIRST_DAY, AUDIT_LAST_DAY = date(1900, 1, 1), date(9998, 12, 31)
AUDIT_DAY_INPUT = {"type": "date", "min": AUDIT_FIRST_DAY.isoformat(),
                   "max": AUDIT_LAST_DAY.isoformat()}


def audit_day(form: FlaskForm, field: DateField) -> None:
    if field.data and not AUDIT_FIRST_DAY <= field.data <= AUDIT_LAST_DAY:
        raise ValidationError(_l("Enter a date between %(first)s and %(last)s.",
                                 first=AUDIT_FIRST_DAY.isoformat(),
                                 last=AUDIT_LAST_DAY.isoformat()))


class AuditFilterForm(FilterForm):
    """Filters of the audit-trail browser (a GET form)."""

    action = SelectField(_l("Action"), default="", validate_choice=True)  # choices: the database
    actor = StringField(
        _l("Actor (username)"),
        validators=[Optional(), Length(max=100, message=_l("At most %(max)d characters."))],
    )
    object_type = SelectField(_l("Object type"), default="", validate_choice=True)
    object_id = StringField(
        _l("Object id"),
        validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))],
    )
    date_from = DateField(
        _l("From"), validators=[Optional(), audit_day], format="%Y-%m-%d",
        render_kw=AUDIT_DAY_INPUT,
    )
    date_to = DateField(
        _l("To"), validators=[Optional(), audit_day], format="%Y-%m-%d",
        render_kw=AUDIT_DAY_INPUT,
    )

    def validate_date_to(self, field: DateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
