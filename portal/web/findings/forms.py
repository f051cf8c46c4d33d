"""Forms of the first response and the findings. They parse shapes; the services check the
rules (and say what is wrong in the reader's language)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, RadioField, SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional

from portal.models.complaint import REMEDY_LABELS, Remedy
from portal.models.investigation import (
    CATEGORY_LABELS,
    FINDING_LABELS,
    FIRST_RESPONSE_METHOD_LABELS,
    RESPONSIBILITY_LABELS,
    SEVERITY_LABELS,
    Category,
    Finding,
    FirstResponseMethod,
    Responsibility,
    Severity,
)
from portal.web.calendar import IsoDateField
from portal.web.intake_forms import DATETIME_FORMATS, NO_REQUIRED_ATTR, MultiCheckboxField


def _choices(labels: dict, members) -> list[SelectChoice]:
    return [SelectChoice(m.value, labels[m]) for m in members]


def _int_or_none(value) -> int | None:
    """A posted id; anything else becomes -1, which the service refuses by name."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return -1


class FirstResponseForm(FlaskForm):
    method = RadioField(_l("How the client was answered"), validate_choice=False,
                        choices=_choices(FIRST_RESPONSE_METHOD_LABELS, FirstResponseMethod))
    responded_at = DateTimeLocalField(_l("When (call or meeting)"), format=DATETIME_FORMATS,
                                      validators=[Optional()])
    summary = TextAreaField(_l("What the client was told"))
    next_steps = TextAreaField(_l("What happens next"))
    next_contact_on = IsoDateField(_l("The client will next hear from us by"))


class FindingForm(FlaskForm):
    finding = RadioField(_l("Finding"), validate_choice=False,
                         choices=_choices(FINDING_LABELS, Finding))
    reasoning = TextAreaField(_l("Reasoning"))
    nature_found = SelectField(_l("Nature as found"), validate_choice=False,
                               render_kw=NO_REQUIRED_ATTR)
    severity_found = SelectField(_l("Severity as found"), validate_choice=False,
                                 render_kw=NO_REQUIRED_ATTR)
    responsibility = RadioField(_l("Responsibility"), validate_choice=False,
                                choices=_choices(RESPONSIBILITY_LABELS, Responsibility))
    rule_ids = MultiCheckboxField(_l("Rules engaged"), coerce=_int_or_none,
                                  validate_choice=False)
    remedies = MultiCheckboxField(_l("Remedies recommended"), validate_choice=False,
                                  choices=_choices(REMEDY_LABELS, Remedy))
    remedy_notes = TextAreaField(_l("Notes on the remedies"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        blank = [SelectChoice("", _l("Not decided yet"))]
        self.nature_found.choices = blank + _choices(CATEGORY_LABELS, Category)
        self.severity_found.choices = blank + _choices(SEVERITY_LABELS, Severity)


class SubmitForm(FlaskForm):
    """Only the CSRF token; the version and the findings' fingerprint travel as fields."""
