"""The public complaint form: what a visitor may send, and the checks on it.

The form deliberately does not ask for an ID number (data minimisation): the receptionist
asks for it when they verify the submission, if the complaint needs it.
"""

from __future__ import annotations

import inspect
import re
import unicodedata
from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from portal import clock
from portal.models.complaint import REMEDY_LABELS, Remedy
from portal.services import addresses
from portal.services.addresses import plausible_phone

try:  # WTForms >= 3.3 deprecates (value, label) tuples
    from wtforms.fields.choices import SelectChoice as _Choice
except ImportError:  # pragma: no cover - older WTForms
    def _Choice(value, label):  # noqa: N802 - stands in for the class
        return (value, label)

NAME_MAX = 100
PHONE_MAX = 40
EMAIL_MAX = 254
LAWYERS_MAX = 300
MATTER_MAX = 200
NARRATIVE_MIN = 10
NARRATIVE_MAX = 10_000
PLACE_MAX = 200
REMEDY_DETAILS_MAX = 2_000
PAYLOAD_VALUE_MAX = 20_000

# Fields copied into Complaint.submitted_payload, exactly as the visitor sent them.
PAYLOAD_FIELDS = (
    "name", "phone", "email", "language", "lawyers", "matter", "narrative",
    "occurred_on", "place", "remedies", "remedy_details", "consent",
)

# ASCII and C1 control characters (line breaks are handled apart): what clean_line leaves is
# a single line by portal.services.addresses.is_single_line, the outbox's rule for names.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str | None) -> str | None:
    """Trim, unify line ends and drop control characters (PostgreSQL refuses NUL)."""
    if value is None:
        return None
    value = _CONTROL.sub("", value.replace("\r\n", "\n").replace("\r", "\n"))
    return value.strip()


def clean_line(value: str | None) -> str | None:
    value = clean_text(value)
    return " ".join(value.split()) if value is not None else None


def normalise_phone(value: str | None) -> str | None:
    """Full-width digits and punctuation (typed with a Chinese IME) become ASCII."""
    value = clean_line(value)
    return unicodedata.normalize("NFKC", value) if value else value


def phone_number(form: FlaskForm, field: StringField) -> None:
    if not field.data:
        return
    if not plausible_phone(field.data):
        raise ValidationError(
            _l("Enter a phone number with digits only, for example 138 0013 8000 "
               "or +86 21 5000 0000.")
        )


def email_address(form: FlaskForm, field: StringField) -> None:
    """The outbox's own rule (portal.services.addresses): an address accepted here is one
    the firm's mail can reach."""
    if not field.data:
        return
    try:
        field.data = addresses.normalise_address(field.data)
    except addresses.AddressError as error:
        if error.code == "international_local_part":
            raise ValidationError(error.message) from None
        raise ValidationError(_l("This is not a valid email address.")) from None


def not_in_future(form: FlaskForm, field: DateField) -> None:
    # A day of slack: the visitor's calendar may be ahead of the server's.
    if field.data and field.data > clock.today() + timedelta(days=1):
        raise ValidationError(_l("This date is in the future."))


class PlainDateField(DateField):
    """A date input whose parse error speaks our language (not WTForms' catalogue)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(
                _l("Enter the date as year-month-day, for example 2026-03-15.")
            ) from None


def remedy_choices() -> list[tuple[str, object]]:
    """(code, label) for every remedy; some labels are functions (pgettext) to call."""
    return [
        (remedy.value, label() if inspect.isfunction(label) else label)
        for remedy, label in ((r, REMEDY_LABELS[r]) for r in Remedy)
    ]


def _remedy_select_choices() -> list:
    return [_Choice(code, label) for code, label in remedy_choices()]


class PublicComplaintForm(FlaskForm):
    # CSRF is checked by the view (see portal.web.public), so that a rejected token can
    # still give the visitor back what they typed.
    class Meta:
        csrf = False

    name = StringField(
        _l("Your name"),
        filters=[clean_line],
        validators=[
            DataRequired(_l("Please tell us your name.")),
            Length(max=NAME_MAX, message=_l("At most %(max)d characters.", max=NAME_MAX)),
        ],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX},
    )
    phone = TelField(
        _l("Phone"),
        filters=[normalise_phone],
        validators=[
            Optional(),
            Length(max=PHONE_MAX, message=_l("At most %(max)d characters.", max=PHONE_MAX)),
            phone_number,
        ],
        render_kw={"autocomplete": "tel", "maxlength": PHONE_MAX},
    )
    email = EmailField(
        _l("Email"),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=EMAIL_MAX, message=_l("At most %(max)d characters.", max=EMAIL_MAX)),
            email_address,
        ],
        render_kw={"autocomplete": "email", "maxlength": EMAIL_MAX},
    )
    language = SelectField(
        _l("Preferred language for our letters"),
        choices=lambda: [_Choice("zh", "中文"), _Choice("en", "English")],
        # Checked by validate_language; no `required` flag, which would make the page
        # invalid HTML (a required select needs an empty placeholder option).
        validate_choice=False,
    )
    lawyers = StringField(
        _l("Lawyer(s) you are complaining about"),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=LAWYERS_MAX, message=_l("At most %(max)d characters.", max=LAWYERS_MAX)),
        ],
        render_kw={"maxlength": LAWYERS_MAX},
    )
    matter = StringField(
        _l("Matter or court case number"),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=MATTER_MAX, message=_l("At most %(max)d characters.", max=MATTER_MAX)),
        ],
        render_kw={"maxlength": MATTER_MAX},
    )
    narrative = TextAreaField(
        _l("What happened"),
        filters=[clean_text],
        validators=[
            DataRequired(_l("Please describe what happened.")),
            Length(
                min=NARRATIVE_MIN,
                max=NARRATIVE_MAX,
                message=_l("Please write between %(min)d and %(max)d characters.",
                           min=NARRATIVE_MIN, max=NARRATIVE_MAX),
            ),
        ],
        render_kw={"rows": 8, "maxlength": NARRATIVE_MAX},
    )
    occurred_on = PlainDateField(
        _l("When did it happen?"),
        validators=[Optional(), not_in_future],
    )
    place = StringField(
        _l("Where did it happen?"),
        filters=[clean_line],
        validators=[
            Optional(),
            Length(max=PLACE_MAX, message=_l("At most %(max)d characters.", max=PLACE_MAX)),
        ],
        render_kw={"maxlength": PLACE_MAX},
    )
    remedies = SelectMultipleField(
        _l("What would you like the firm to do?"),
        choices=_remedy_select_choices,
        validate_choice=False,  # checked below, with a message a visitor understands
    )
    remedy_details = TextAreaField(
        _l("Details of what you would like"),
        filters=[clean_text],
        validators=[
            Optional(),
            Length(max=REMEDY_DETAILS_MAX,
                   message=_l("At most %(max)d characters.", max=REMEDY_DETAILS_MAX)),
        ],
        render_kw={"rows": 3, "maxlength": REMEDY_DETAILS_MAX},
    )
    consent = BooleanField(
        _l("I have read the privacy notice and agree that the firm uses my details "
           "to handle this complaint."),
        validators=[DataRequired(_l("Please confirm that you have read the privacy notice."))],
    )
    # The honeypot: hidden from people (CSS, aria-hidden, out of the tab order), filled in
    # by naive bots. Its name looks like a field worth filling.
    website = StringField(
        _l("Leave this field empty"),
        render_kw={"tabindex": "-1", "autocomplete": "off"},
    )

    def validate_language(self, field: SelectField) -> None:
        if field.data not in ("zh", "en"):
            raise ValidationError(_l("Please choose from the listed options."))

    def validate_remedies(self, field: SelectMultipleField) -> None:
        allowed = {remedy.value for remedy in Remedy}
        if any(value not in allowed for value in field.data or []):
            raise ValidationError(_l("Please choose from the listed options."))
        field.data = [r.value for r in Remedy if r.value in (field.data or [])]

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        if not (self.phone.data or self.email.data or self.phone.errors or self.email.errors):
            self._add_error(self.phone, _l("Please give a phone number or an email address "
                                           "so that we can contact you."))
            valid = False
        other = Remedy.OTHER.value in (self.remedies.data or [])
        if other and not self.remedy_details.data and not self.remedy_details.errors:
            self._add_error(self.remedy_details,
                            _l("Please describe the other remedy you would like."))
            valid = False
        return valid

    @staticmethod
    def _add_error(field, message) -> None:
        field.errors = [*field.errors, message]

    def remedy_options(self) -> list[tuple[str, object, bool]]:
        """(code, label, checked) for the checkboxes, keeping what the visitor ticked."""
        ticked = set(self.remedies.data or [])
        return [(code, label, code in ticked) for code, label in remedy_choices()]

    @property
    def is_bot(self) -> bool:
        return bool((self.website.raw_data or [""])[0])

    def payload(self) -> dict[str, object]:
        """The fields exactly as submitted (before cleaning), for the receptionist to compare."""
        raw: dict[str, object] = {}
        for name in PAYLOAD_FIELDS:
            values = getattr(self, name).raw_data or []
            values = [_CONTROL.sub("", str(v))[:PAYLOAD_VALUE_MAX] for v in values]
            raw[name] = values if name == "remedies" else (values[0] if values else "")
        return raw
