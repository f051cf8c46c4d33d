"""Forms of the workspace and of the respondent's reply page. They parse and check shapes;
the services check the rules (who, which dates, whether the investigation is open)."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from portal import clock
from portal.models.complaint import Complaint
from portal.models.investigation import STATEMENT_METHOD_LABELS
from portal.services.investigation.common import PARTICIPANTS_MAX, TEXT_MAX
from portal.services.investigation.statements import STAFF_METHODS
from portal.web.intake_forms import NO_REQUIRED_ATTR, EvidenceForm, category_choices

COMPLAINANT = "complainant"
DUE_IN_DAYS = 10  # the reply form's suggested due date
TEXT_LENGTH = Length(max=TEXT_MAX, message=_l("At most %(max)d characters."))
EVIDENCE_ACCEPT = {"accept": ".pdf,.jpg,.jpeg,.png,.gif,.webp,.docx,.xlsx,.pptx,.doc,.xls,"
                             ".eml,.txt,.csv,.log,.md"}


def _respondent_choices(complaint: Complaint) -> list[tuple[str, str]]:
    return [(str(r.id), r.name) for r in complaint.respondents]


class StatementForm(FlaskForm):
    # One choice for whose statement it is: the complainant, or one of the respondents.
    speaker = SelectField(_l("Whose statement"), render_kw=NO_REQUIRED_ATTR,
                          validators=[DataRequired(_l("Choose whose statement this is."))])
    given_on = DateField(_l("Date given"), validators=[
        DataRequired(_l("Enter the date the statement was given."))])
    method = SelectField(_l("How it was given"), render_kw=NO_REQUIRED_ATTR,
                         validators=[DataRequired(_l("Choose how the statement was given."))])
    text = TextAreaField(_l("Statement"), render_kw={"rows": 8}, validators=[
        DataRequired(_l("Write down the statement.")), TEXT_LENGTH])
    attachment_category = SelectField(_l("Kind of evidence the attachments are"),
                                      render_kw=NO_REQUIRED_ATTR, validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments (optional)"), render_kw=EVIDENCE_ACCEPT)

    def __init__(self, complaint: Complaint, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.speaker.choices = [("", _("Choose")), (COMPLAINANT, _("The complainant"))] + [
            (value, _("Respondent: %(name)s", name=name))
            for value, name in _respondent_choices(complaint)]
        self.method.choices = [("", _("Choose"))] + [
            (m.value, str(STATEMENT_METHOD_LABELS[m])) for m in STAFF_METHODS]
        self.attachment_category.choices = [("", _("Choose the kind of evidence"))] + \
            category_choices()

    def uploads(self) -> list:
        """The files chosen (a browser sends one empty part when none was)."""
        return [f for f in (self.attachments.data or []) if getattr(f, "filename", "")]

    def party_and_respondent(self) -> tuple[str | None, int | None]:
        value = self.speaker.data or ""
        if value == COMPLAINANT:
            return "complainant", None
        return ("respondent", int(value)) if value.isdigit() else (None, None)


class ReplyRequestForm(FlaskForm):
    respondent_id = SelectField(_l("Respondent"), render_kw=NO_REQUIRED_ATTR,
                                validators=[DataRequired(_l("Choose which respondent should "
                                                            "reply."))])
    due_on = DateField(_l("Reply due by"), validators=[
        DataRequired(_l("Enter the date the reply is due."))])

    def __init__(self, complaint: Complaint, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.respondent_id.choices = [("", _("Choose"))] + _respondent_choices(complaint)

    def respondent(self) -> int | None:
        value = self.respondent_id.data or ""
        return int(value) if value.isdigit() else None


class NoteForm(FlaskForm):
    held_on = DateField(_l("Date of the interview"), validators=[
        DataRequired(_l("Enter the date of the interview."))])
    participants = StringField(_l("Who took part"), validators=[
        DataRequired(_l("Name who took part.")),
        Length(max=PARTICIPANTS_MAX, message=_l("At most %(max)d characters."))])
    text = TextAreaField(_l("Note"), render_kw={"rows": 8}, validators=[
        DataRequired(_l("Write down what was said.")), TEXT_LENGTH])


def blank_forms(complaint: Complaint) -> dict[str, FlaskForm]:
    """The workspace's forms as a new page shows them (suggested dates filled in)."""
    today = clock.today()
    return {
        "statement": StatementForm(complaint, formdata=None, prefix="statement",
                                   data={"given_on": today}),
        "reply": ReplyRequestForm(complaint, formdata=None, prefix="reply",
                                  data={"due_on": today + timedelta(days=DUE_IN_DAYS)}),
        "note": NoteForm(formdata=None, prefix="note", data={"held_on": today}),
        "evidence": EvidenceForm(formdata=None, prefix="evidence"),
    }


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("Your reply"), render_kw={"rows": 12}, validators=[
        DataRequired(_l("Please write your reply.")), TEXT_LENGTH])
