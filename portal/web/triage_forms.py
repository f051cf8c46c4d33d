"""Forms of triage, closure, withdrawal, allegations, conflicts, assignment and the routing
table. They parse and check shapes; the services check the rules (and say why not)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from portal.models.complaint import CLOSURE_LABELS, ClosureKind
from portal.models.investigation import (
    CATEGORY_LABELS,
    LEAD_LEVEL_LABELS,
    SEVERITY_LABELS,
    Category,
    LeadLevel,
    Severity,
)
from portal.services.triage.common import REASON_MAX, TEXT_MAX
from portal.services.triage.withdrawal import WITHDRAWAL_METHOD_LABELS, WithdrawalMethod
from portal.web.intake_forms import NO_REQUIRED_ATTR, MultiCheckboxField

TRIAGE_ROWS = 3  # blank allegation rows the triage form starts with
ROWS_MAX = 30


def _severity_choices() -> list[SelectChoice]:
    return [SelectChoice(s.value, str(SEVERITY_LABELS[s])) for s in Severity]


def _category_choices() -> list[SelectChoice]:
    return [SelectChoice(c.value, str(CATEGORY_LABELS[c])) for c in Category]


def people_choices(users) -> list[SelectChoice]:
    return [SelectChoice(u.id, u.name) for u in users]


def _optional_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # no such row: the service says so


def _text(label, limit: int, message=None, rows: int = 3) -> TextAreaField:
    checks = [DataRequired(message)] if message else [Optional()]
    return TextAreaField(label, validators=[
        *checks, Length(max=limit, message=_l("At most %(max)d characters."))],
        render_kw={"rows": rows})


class GradingForm(FlaskForm):
    """Severity, categories and the assessment: triage, and its revision."""

    severity = RadioField(_l("Severity"), validators=[InputRequired(_l("Choose the severity."))])
    categories = MultiCheckboxField(_l("Categories"))
    assessment = _text(_l("Assessment"), TEXT_MAX, _l("Write a short assessment."), rows=4)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.severity.choices = _severity_choices()
        self.categories.choices = _category_choices()

    def validate_categories(self, field) -> None:
        if not field.data:
            raise ValidationError(str(_l("Choose at least one category.")))


class AllegationFields(Form):
    """One allegation: a row of the triage form, or the form that adds or amends one."""

    text = _text(_l("Allegation"), TEXT_MAX, rows=2)
    category = SelectField(_l("Category"), validate_choice=False, render_kw=NO_REQUIRED_ATTR)
    respondent = SelectField(_l("Concerning"), coerce=_optional_int, validate_choice=False,
                             render_kw=NO_REQUIRED_ATTR)


def set_allegation_choices(fields, respondents) -> None:
    fields.category.choices = _category_choices()
    fields.respondent.choices = [SelectChoice("", str(_l("Nobody in particular"))),
                                 *people_choices(respondents)]


class TriageForm(GradingForm):
    allegations = FieldList(FormField(AllegationFields), min_entries=TRIAGE_ROWS,
                            max_entries=ROWS_MAX)
    handler = SelectField(_l("Handler"), coerce=_optional_int, validate_choice=False,
                          render_kw=NO_REQUIRED_ATTR)

    def prepare(self, respondents, handlers, default_handler: int | None) -> TriageForm:
        for row in self.allegations:
            set_allegation_choices(row.form, respondents)
        self.handler.choices = people_choices(handlers)
        if self.handler.data is None:
            self.handler.data = default_handler
        return self


class AllegationForm(FlaskForm, AllegationFields):
    """Add or amend one allegation after triage."""

    text = _text(_l("Allegation"), TEXT_MAX, _l("Write the allegation."), rows=2)


class CloseForm(FlaskForm):
    kind = RadioField(_l("Close the complaint as"), choices=[
        SelectChoice(k.value, CLOSURE_LABELS[k]) for k in ClosureKind],
        validators=[InputRequired(_l("Choose why the complaint is closed."))])
    duplicate_of = StringField(_l("Reference of the complaint it duplicates"),
                               validators=[Optional(), Length(max=20)])
    reason = _text(_l("Explanation for the client"), REASON_MAX,
                   _l("Explain the decision to the client."))


class WithdrawForm(FlaskForm):
    method = RadioField(_l("How the client said so"), choices=[
        SelectChoice(m.value, WITHDRAWAL_METHOD_LABELS[m]) for m in WithdrawalMethod],
        validators=[InputRequired(_l("Choose how the client said they withdraw."))])
    reason = _text(_l("The client's reason"), REASON_MAX,
                   _l("Record the client's reason (or that they gave none)."))
    confirm = BooleanField(
        _l("Yes, the client withdraws this complaint. Its clocks stop and it can no longer "
           "be handled."),
        validators=[DataRequired(_l("Tick the box to confirm the withdrawal."))])


class ConflictForm(FlaskForm):
    user = SelectField(_l("Whose conflict"), coerce=_optional_int, validate_choice=False,
                       render_kw=NO_REQUIRED_ATTR)
    reason = _text(_l("What is the conflict?"), REASON_MAX, _l("Say what the conflict is."))


class AssignForm(FlaskForm):
    lead = SelectField(_l("Lead"), coerce=_optional_int, validate_choice=False,
                       render_kw=NO_REQUIRED_ATTR)
    investigators = MultiCheckboxField(_l("Investigators"), coerce=int, validate_choice=False)


class RoutingForm(FlaskForm):
    lead_level = SelectField(_l("Lead's level"), choices=[
        SelectChoice(level.value, LEAD_LEVEL_LABELS[level]) for level in LeadLevel],
        render_kw=NO_REQUIRED_ATTR)
    investigators_required = IntegerField(
        _l("Investigators required"),
        validators=[InputRequired(_l("Enter a number.")),
                    NumberRange(1, 5, _l("Between %(min)s and %(max)s."))])
    investigation_days = IntegerField(
        _l("Investigation (working days)"),
        validators=[InputRequired(_l("Enter a number.")),
                    NumberRange(1, 250, _l("Between %(min)s and %(max)s."))])
    final_response_days = IntegerField(
        _l("Final response (working days)"),
        validators=[InputRequired(_l("Enter a number.")),
                    NumberRange(1, 250, _l("Between %(min)s and %(max)s."))])

    def validate_final_response_days(self, field) -> None:
        days = self.investigation_days.data
        if field.data is not None and days is not None and field.data < days:
            raise ValidationError(str(_l("The final response comes no earlier than the end "
                                         "of the investigation.")))
