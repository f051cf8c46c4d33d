"""Forms of the complaint builder. They parse and check shapes; the service checks the rules.

Every form is built with a prefix (its section name) so that field ids stay unique on the
page that shows all sections at once.
"""

from __future__ import annotations

from datetime import datetime

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    DateTimeLocalField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from portal.models.complaint import (
    CHANNEL_LABELS,
    EVIDENCE_CATEGORY_LABELS,
    REMEDY_LABELS,
    Channel,
    ConfirmationMethod,
    EvidenceCategory,
    Remedy,
)
from portal.services.intake.sections import NARRATIVE_MAX

# A <select> with `required` must start with an empty placeholder (HTML spec); ours always
# have a sensible default, so the server checks instead of the browser.
NO_REQUIRED_ATTR = {"required": False}
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def channel_choices() -> list[tuple[str, str]]:
    return [(c.value, str(CHANNEL_LABELS[c])) for c in Channel]


def remedy_choices() -> list[tuple[str, str]]:
    return [(r.value, str(REMEDY_LABELS[r])) for r in Remedy]


def category_choices() -> list[tuple[str, str]]:
    return [(c.value, str(EVIDENCE_CATEGORY_LABELS[c])) for c in EvidenceCategory]


def language_choices() -> list[tuple[str, str]]:
    return [("zh", "中文"), ("en", "English")]


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewComplaintForm(FlaskForm):
    channel = SelectField(
        _l("Channel"), validators=[DataRequired(_l("Choose how the complaint came in."))],
        render_kw=NO_REQUIRED_ATTR,
    )
    received_at = DateTimeLocalField(
        _l("Received at"), format=DATETIME_FORMATS,
        validators=[DataRequired(_l("Enter when the complaint was received."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.channel.choices = channel_choices()


class ComplainantForm(FlaskForm):
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(_l("Enter the complainant's name.")),
                    Length(max=100, message=_l("A name has at most %(max)d characters."))],
        render_kw={"autocomplete": "off"},
    )
    phone = StringField(
        _l("Phone"),
        validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))],
        render_kw={"type": "tel", "autocomplete": "off"},
    )
    email = StringField(
        _l("Email"),
        validators=[Optional(), Length(max=254, message=_l("At most %(max)d characters."))],
        render_kw={"type": "email", "autocomplete": "off"},
    )
    id_number = StringField(
        _l("ID or passport number"),
        validators=[Optional(), Length(max=40, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "off"},
    )
    address = StringField(
        _l("Postal address"),
        validators=[Optional(), Length(max=300, message=_l("At most %(max)d characters."))],
        render_kw={"autocomplete": "off"},
    )
    language = RadioField(
        _l("Preferred language"), default="zh",
        validators=[DataRequired(_l("Choose Chinese or English."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.language.choices = language_choices()


class IncidentForm(FlaskForm):
    narrative = TextAreaField(
        _l("What happened"),
        validators=[DataRequired(_l("Describe what happened, in the client's words.")),
                    Length(max=NARRATIVE_MAX,
                           message=_l("The description has at most %(max)d characters."))],
        render_kw={"rows": 8},
    )
    occurred_on = DateField(
        _l("When (first day)"),
        validators=[DataRequired(_l("Enter when it happened (the first day, if it went on "
                                    "for a while)."))],
    )
    occurred_until = DateField(_l("Until (last day, if it went on)"), validators=[Optional()])
    occurred_place = StringField(
        _l("Where"),
        validators=[Optional(), Length(max=200, message=_l("At most %(max)d characters."))],
    )


class RemedyForm(FlaskForm):
    remedies_sought = MultiCheckboxField(
        _l("What the client wants"),
        validators=[DataRequired(_l("Choose at least one thing the client wants."))],
    )
    remedy_details = TextAreaField(
        _l("Details"),
        validators=[Optional(),
                    Length(max=2000, message=_l("The details have at most %(max)d characters."))],
        render_kw={"rows": 4},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.remedies_sought.choices = remedy_choices()


class ChannelForm(NewComplaintForm):
    """The same two fields, edited later in the builder's channel section."""


class EvidenceForm(FlaskForm):
    file = FileField(
        _l("File"), validators=[FileRequired(_l("Choose a file to upload."))],
        render_kw={"accept": ".pdf,.jpg,.jpeg,.png,.gif,.webp,.docx,.xlsx,.pptx,.doc,.xls,"
                             ".eml,.txt,.csv,.log,.md"},
    )
    category = SelectField(
        _l("Kind of evidence"),
        validators=[DataRequired(_l("Choose what kind of evidence this is."))],
        render_kw=NO_REQUIRED_ATTR,
    )
    description = StringField(
        _l("Description (optional)"),
        validators=[Optional(),
                    Length(max=300, message=_l("A description has at most %(max)d characters."))],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # No default: a fee invoice was once filed as an engagement contract because the
        # first kind was preselected. The empty first option makes it a real choice.
        self.category.choices = [("", _("Choose the kind of evidence"))] + category_choices()


class ConfirmForm(FlaskForm):
    method = RadioField(
        _l("How did the client confirm?"),
        validators=[DataRequired(_l("Choose how the client confirmed: in person or by phone."))],
    )
    # Needed when the way of confirming does not match the channel (the service's rule).
    note = TextAreaField(
        _l("Note"),
        validators=[Optional(),
                    Length(max=2000, message=_l("The note has at most %(max)d characters."))],
        render_kw={"rows": 3},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.method.choices = [
            (ConfirmationMethod.IN_PERSON.value, pgettext("confirmation", "In person")),
            (ConfirmationMethod.PHONE.value, pgettext("confirmation", "By phone")),
        ]


class OverrideForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason for registering without the client's confirmation"),
        validators=[DataRequired(_l("Give the reason for registering without the client's "
                                    "confirmation.")),
                    Length(max=2000, message=_l("The reason has at most %(max)d characters."))],
        render_kw={"rows": 3},
    )


class DiscardForm(FlaskForm):
    """Discarding a draft: the reason is kept on the record; the box makes it deliberate."""

    reason = TextAreaField(
        _l("Why is this draft discarded?"),
        validators=[DataRequired(_l("Say why this draft is discarded (for example: a "
                                    "duplicate of D12, or a test).")),
                    Length(max=2000, message=_l("The reason has at most %(max)d characters."))],
        render_kw={"rows": 3},
    )
    confirm = BooleanField(
        _l("Yes, discard this draft. It leaves the worklists and can no longer be edited."),
        validators=[DataRequired(_l("Tick the box to confirm that this draft is discarded."))],
    )


class CorrectionForm(FlaskForm):
    correction = TextAreaField(
        _l("What should be corrected?"),
        validators=[Optional(),
                    Length(max=5000, message=_l("Please keep it under %(max)d characters."))],
        render_kw={"rows": 6},
    )


def local_input(moment: datetime | None) -> datetime | None:
    """An aware moment as the naive Asia/Shanghai value a datetime-local input shows."""
    from portal.services.calendar import LOCAL_TZ

    if moment is None:
        return None
    return moment.astimezone(LOCAL_TZ).replace(tzinfo=None, second=0, microsecond=0)
