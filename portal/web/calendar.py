"""Partners keep the working-day calendar: overrides, and confirming a provisional year."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, Length, ValidationError

from portal import clock
from portal.i18n import client_language
from portal.models.user import Role
from portal.security import roles
from portal.services import calendar
from portal.web import htmx

bp = Blueprint("calendar", __name__)


class IsoDateField(DateField):
    """A date input that names the rejected text in its error, and never echoes text that is
    not a date into `<input type="date" value>` (invalid HTML; browsers drop it anyway)."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip()
        if not raw:
            self.data = None
            return
        try:
            self.data = date.fromisoformat(raw)
        except ValueError:
            self.data = None
            raise ValueError(
                _("“%(value)s” is not a date: use the form YYYY-MM-DD.", value=raw[:40])
            ) from None

    def _value(self) -> str:
        return self.data.isoformat() if self.data else ""


class OverrideForm(FlaskForm):
    year = HiddenField()
    day = IsoDateField(_l("Date"), validators=[InputRequired(_l("Please enter a date."))])
    kind = RadioField(
        _l("The firm treats this day as"),
        choices=[SelectChoice("workday", _l("A working day")),
                 SelectChoice("day_off", _l("A day off"))],
        validators=[InputRequired(_l("Please choose working day or day off."))],
    )
    note = StringField(
        _l("Note"),
        validators=[Length(max=200, message=_l("At most %(max)d characters.", max=200))],
    )

    def validate_day(self, field: DateField) -> None:
        if field.data is not None and field.data.year != _form_year(self):
            raise ValidationError(
                _("Enter a date in %(year)s, the year shown on this page.",
                  year=str(_form_year(self)))
            )


def _form_year(form: OverrideForm) -> int:
    try:
        year = int(form.year.data or "")
    except ValueError:
        abort(400)
    _check_year(year)
    return year


def _check_year(year: int) -> None:
    try:
        calendar.check_year(year)
    except calendar.CalendarError:
        abort(400)


def _requested_year(default_current: bool = True) -> int:
    raw = request.values.get("year")
    if (raw is None or raw == "") and default_current:
        return calendar.local_day(clock.now()).year
    if not raw or not raw.isdigit():
        abort(400)
    year = int(raw)
    _check_year(year)
    return year


def _context(year: int, form: OverrideForm | None = None) -> dict:
    form = form or OverrideForm(formdata=None, year=str(year))
    return {"schedule": calendar.year_schedule(year), "form": form, "lang": client_language()}


def _answer(partial: str, year: int, status: int = 200, **context):
    """htmx swaps the partial; a browser without JavaScript gets the whole page back after a
    refusal, or is sent back to the year's page after a success."""
    return htmx.answer(partial, "calendar/index.html", lambda full: _context(year, **context),
                       status=status, redirect_to=url_for("calendar.index", year=year))


def _bad_request(error: Exception, status: int):
    """The year and day were checked before the write, so a refusal here is a bad request."""
    abort(400)


def _not_found(error: Exception, status: int):
    abort(404)


@bp.route("/calendar")
@roles(Role.PARTNER)
def index():
    year = _requested_year()
    return htmx.page_or_partial("calendar/index.html", "calendar/_year.html",
                                **_context(year))


@bp.route("/calendar/overrides", methods=["POST"])
@roles(Role.PARTNER)
def add_override():
    form = OverrideForm()
    year = _form_year(form)
    if not form.validate():
        return _answer("calendar/_overrides.html", year, 422, form=form)
    htmx.write(lambda: calendar.set_override(current_user._get_current_object(), form.day.data,
                                             form.kind.data == "workday", form.note.data),
               done=lambda override: None, refused=_bad_request)
    if not htmx.wants_fragment():
        flash(_("The override for %(day)s was saved.", day=form.day.data.isoformat()), "ok")
    return _answer("calendar/_overrides.html", year)


@bp.route("/calendar/overrides/<day>/remove", methods=["POST"])
@roles(Role.PARTNER)
def remove_override(day: str):
    try:
        when = date.fromisoformat(day)
    except ValueError:
        abort(404)
    htmx.write(lambda: calendar.remove_override(current_user._get_current_object(), when),
               done=lambda removed: None, refused=_not_found)
    if not htmx.wants_fragment():
        flash(_("The override for %(day)s was removed.", day=when.isoformat()), "ok")
    return _answer("calendar/_overrides.html", when.year)


@bp.route("/calendar/confirm", methods=["POST"])
@roles(Role.PARTNER)
def confirm_year():
    year = _requested_year(default_current=False)
    htmx.write(lambda: calendar.confirm_year(current_user._get_current_object(), year),
               done=lambda confirmed: None, refused=_bad_request)
    if not htmx.wants_fragment():
        flash(_("The schedule for %(year)s is confirmed.", year=str(year)), "ok")
    return _answer("calendar/_status.html", year)
