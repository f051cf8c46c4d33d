"""The ballot forms. They parse and check shapes; the services check the rules (and say why
not). A vote's radios are one per proposal, so that form is read in `pages.py`."""

from __future__ import annotations

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, RadioField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.fields.datetime import DateTimeLocalField
from wtforms.validators import InputRequired, Optional

from portal import clock
from portal.models.resolution import (
    DISCIPLINARY_LEVEL_LABELS,
    QUORUM_LABELS,
    REMEDY_KIND_LABELS,
    DisciplinaryLevel,
    QuorumRule,
    RemedyKind,
)
from portal.services.resolution.ballots import PROPOSALS_MAX, BallotInput, ProposalInput
from portal.web.intake_forms import (
    DATETIME_FORMATS,
    NO_REQUIRED_ATTR,
    MultiCheckboxField,
    local_input,
)

DEFAULT_DAYS = 3  # a new ballot closes this many days ahead, at the hour, by default


def _optional_int(value) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return -1  # no such proposal: the service says so


class ProposalFields(Form):
    """One proposal: remedies from the catalogue, their terms, and why."""

    remedies = MultiCheckboxField(_l("Remedies"), choices=[
        SelectChoice(k.value, REMEDY_KIND_LABELS[k]) for k in RemedyKind], validate_choice=False)
    partial_amount = StringField(_l("Partial refund: amount"), render_kw={"inputmode": "decimal"})
    full_amount = StringField(_l("Full refund: amount"), render_kw={"inputmode": "decimal"})
    scope = TextAreaField(_l("Free follow-up service: what it covers"), render_kw={"rows": 2})
    level = SelectField(_l("Disciplinary measure: level"), choices=[
        SelectChoice("", _l("Choose a level")),
        *(SelectChoice(level.value, DISCIPLINARY_LEVEL_LABELS[level])
          for level in DisciplinaryLevel)], validate_choice=False, render_kw=NO_REQUIRED_ATTR)
    rationale = TextAreaField(_l("Rationale"), render_kw={"rows": 3})

    def data_input(self) -> ProposalInput:
        return ProposalInput(remedies=list(self.remedies.data or []),
                             partial_amount=self.partial_amount.data or "",
                             full_amount=self.full_amount.data or "",
                             scope=self.scope.data or "", level=self.level.data or "",
                             rationale=self.rationale.data or "")


class NewBallotForm(FlaskForm):
    proposals = FieldList(FormField(ProposalFields), min_entries=1, max_entries=PROPOSALS_MAX)
    closes_at = DateTimeLocalField(_l("Voting closes at"), format=DATETIME_FORMATS,
                                   validators=[InputRequired(_l("Enter when the ballot closes."))])
    quorum_rule = RadioField(_l("Quorum"), default=QuorumRule.MAJORITY.value, choices=[
        SelectChoice(q.value, QUORUM_LABELS[q]) for q in QuorumRule],
        validators=[InputRequired(_l("Choose the quorum."))])
    max_refund = StringField(_l("Most a partner may refund in negotiation (optional)"),
                             validators=[Optional()], render_kw={"inputmode": "decimal"})
    revision_note = TextAreaField(_l("Other limits of a revision in negotiation (optional)"),
                                  validators=[Optional()], render_kw={"rows": 2})

    @classmethod
    def fresh(cls) -> NewBallotForm:
        closes = (clock.now() + timedelta(days=DEFAULT_DAYS)).replace(minute=0)
        return cls(formdata=None, data={"closes_at": local_input(closes),
                                        "quorum_rule": QuorumRule.MAJORITY.value})

    def data_input(self) -> BallotInput:
        from portal.services.calendar import LOCAL_TZ

        closes_at = self.closes_at.data.replace(tzinfo=LOCAL_TZ) if self.closes_at.data else None
        return BallotInput(proposals=[row.form.data_input() for row in self.proposals],
                           closes_at=closes_at, quorum_rule=self.quorum_rule.data or "",
                           max_refund=self.max_refund.data or "",
                           revision_note=self.revision_note.data or "")


class RecuseForm(FlaskForm):
    note = TextAreaField(_l("Why you recuse yourself"), render_kw={"rows": 2})


class ResolveForm(FlaskForm):
    proposal = RadioField(_l("The proposal the firm follows"), coerce=_optional_int,
                          validate_choice=False, validators=[Optional()])
    reason = TextAreaField(_l("Why this proposal"), render_kw={"rows": 3})
