"""The triage area's actions. Each loads the complaint through the visibility rule (404 when
hidden), checks the form's shape (422 with what was typed), then runs one service in
`htmx.write`: 409 when the page was loaded before someone else changed the complaint, 422
with the reason when a rule says no. A change of state reloads the case file; a change
inside the area answers the area."""

from __future__ import annotations

from flask import Response, abort, flash, request, url_for
from flask_babel import gettext as _
from flask_wtf import FlaskForm

from portal.links import external_url
from portal.models.complaint import Complaint
from portal.models.user import Role
from portal.security import require, roles
from portal.services.intake.errors import IntakeError
from portal.services.triage import allegations, assignment, closure, conflicts, triage
from portal.services.triage import withdrawal as withdrawals
from portal.services.triage.triage import AllegationInput
from portal.web import htmx
from portal.web.intake import context as intake
from portal.web.intake.context import actor, load, posted_version, show_url
from portal.web.triage import bp
from portal.web.triage.area import TEMPLATE, Overrides, context
from portal.web.triage_forms import (
    ROWS_MAX,
    AllegationForm,
    AssignForm,
    CloseForm,
    ConflictForm,
    GradingForm,
    TriageForm,
    WithdrawForm,
    set_allegation_choices,
)

EVERYONE = (Role.RECEPTIONIST, Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)
CHANGED = "complaint-changed"


def _page(complaint: Complaint, overrides: Overrides) -> dict:
    """The whole case file (a browser without JavaScript), this area as the action left it."""
    page = intake.page(complaint)
    page["case_areas"] = [
        (shown, context(complaint, actor(), overrides) if shown.name == "triage" else data)
        for shown, data in page["case_areas"]]
    return page


def _answer(complaint: Complaint, overrides: Overrides | None = None,
            status: int = 200) -> Response:
    overrides = overrides or Overrides()
    if status == 200 and overrides.note and not htmx.wants_fragment():
        flash(overrides.note, "ok")
    return htmx.answer(
        TEMPLATE, "intake/show.html",
        lambda full: _page(complaint, overrides) if full else {
            "complaint": complaint, "area": context(complaint, actor(), overrides)},
        status=status, trigger=CHANGED if status == 200 else None,
        redirect_to=show_url(complaint, "area-triage"))


def _moved(complaint: Complaint, message: str) -> Response:
    """The complaint changed state: the whole case file is shown again."""
    flash(message, "ok")
    return htmx.redirect(show_url(complaint, "area-triage"))


def _attach(form: FlaskForm, error: IntakeError) -> None:
    """The refusal's messages beside the fields they name, the rest above the form."""
    for name, messages in error.errors.items():
        target = form._fields.get(name)
        if target is not None and isinstance(target.errors, list | tuple) \
                and target.type != "FieldList":
            target.errors = [*target.errors, *messages]
        else:
            form.form_errors.extend(messages)


def _refused(complaint: Complaint, name: str, form: FlaskForm):
    def refused(error: IntakeError, status: int) -> Response:
        if status == 409:
            return _answer(complaint, Overrides(forms={name: form}, error=error.message,
                                                stale_version=posted_version(), focus=name),
                           status)
        if not error.errors:  # a rule about the complaint, not about what was typed
            return _answer(complaint, Overrides(forms={name: form}, error=error.message,
                                                focus=name), status)
        _attach(form, error)
        return _answer(complaint, Overrides(forms={name: form}, focus=name), status)
    return refused


def _invalid(complaint: Complaint, name: str, form: FlaskForm) -> Response:
    return _answer(complaint, Overrides(forms={name: form}, focus=name), 422)


@bp.route("/complaints/<key>/triage", methods=["POST"])
@roles(Role.PARTNER)
def triage_complaint(key: str):
    complaint = load(key)
    # The choices are the area's to show; the service checks the handler posted.
    form = TriageForm(prefix="triage").prepare(complaint.respondents, [], actor().id)
    if request.form.get("add_row"):  # another blank allegation row; nothing is saved
        if len(form.allegations) < ROWS_MAX:
            form.allegations.append_entry()
        return _answer(complaint, Overrides(forms={"triage": form}, focus="triage"))
    if not form.validate_on_submit():
        return _invalid(complaint, "triage", form)
    items = [AllegationInput(row.form.text.data or "", row.form.category.data,
                             row.form.respondent.data) for row in form.allegations]
    return htmx.write(
        lambda: triage.triage(actor(), complaint, severity=form.severity.data,
                              categories=form.categories.data,
                              assessment=form.assessment.data, allegations=items,
                              handler_id=form.handler.data, expected_version=posted_version()),
        done=lambda _c: _moved(complaint, _("The complaint is triaged; its investigation "
                                            "clocks have started.")),
        refused=_refused(complaint, "triage", form))


@bp.route("/complaints/<key>/triage/revise", methods=["POST"])
@roles(Role.PARTNER)
def revise(key: str):
    complaint = load(key)
    form = GradingForm(prefix="revise")
    if not form.validate_on_submit():
        return _invalid(complaint, "revise", form)
    return htmx.write(
        lambda: triage.revise(actor(), complaint, severity=form.severity.data,
                              categories=form.categories.data, assessment=form.assessment.data,
                              expected_version=posted_version()),
        done=lambda _c: _moved(complaint, _("The triage has been revised.")),
        refused=_refused(complaint, "revise", form))


@bp.route("/complaints/<key>/triage/close", methods=["POST"])
@roles(Role.PARTNER)
def close(key: str):
    complaint = load(key)
    form = CloseForm(prefix="close")
    if not form.validate_on_submit():
        return _invalid(complaint, "close", form)
    return htmx.write(
        lambda: closure.close(actor(), complaint, kind=form.kind.data, reason=form.reason.data,
                              duplicate_of=form.duplicate_of.data,
                              expected_version=posted_version()),
        done=lambda _c: _moved(complaint, _("The complaint is closed. The client is told by "
                                            "email when an address is on record.")),
        refused=_refused(complaint, "close", form))


@bp.route("/complaints/<key>/withdrawal", methods=["POST"])
@roles(*EVERYONE)
def withdraw(key: str):
    complaint = load(key)
    require(withdrawals.may_record(complaint, actor()))
    form = WithdrawForm(prefix="withdraw")
    if not form.validate_on_submit():
        return _invalid(complaint, "withdraw", form)
    return htmx.write(
        lambda: withdrawals.withdraw(actor(), complaint, reason=form.reason.data,
                                     method=form.method.data,
                                     expected_version=posted_version()),
        done=lambda _c: _moved(complaint, _("The withdrawal is recorded and the clocks have "
                                            "stopped. The client is sent a confirmation when "
                                            "an email address is on record.")),
        refused=_refused(complaint, "withdraw", form))


def _allegation_input(form: AllegationForm) -> AllegationInput:
    return AllegationInput(form.text.data or "", form.category.data, form.respondent.data)


def _allegation_form(complaint: Complaint, name: str) -> AllegationForm:
    require(allegations.may_edit(complaint, actor()))
    form = AllegationForm(prefix=name)
    set_allegation_choices(form, complaint.respondents)
    return form


@bp.route("/complaints/<key>/allegations", methods=["POST"])
@roles(Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)
def add_allegation(key: str):
    complaint = load(key)
    form = _allegation_form(complaint, "allegation-new")
    if not form.validate_on_submit():
        return _invalid(complaint, "allegation-new", form)
    return htmx.write(
        lambda: allegations.add(actor(), complaint, _allegation_input(form),
                                expected_version=posted_version()),
        done=lambda item: _answer(complaint, Overrides(note=_(
            "Allegation %(number)d added.", number=item.number))),
        refused=_refused(complaint, "allegation-new", form))


def _existing(complaint: Complaint, allegation_id: int) -> str:
    if allegations.find(complaint, allegation_id) is None:
        abort(404)
    return f"allegation-{allegation_id}"


@bp.route("/complaints/<key>/allegations/<int:allegation_id>", methods=["POST"])
@roles(Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)
def amend_allegation(key: str, allegation_id: int):
    complaint = load(key)
    name = _existing(complaint, allegation_id)
    form = _allegation_form(complaint, name)
    if not form.validate_on_submit():
        return _invalid(complaint, name, form)
    return htmx.write(
        lambda: allegations.amend(actor(), complaint, allegation_id, _allegation_input(form),
                                  expected_version=posted_version()),
        done=lambda item: _answer(complaint, Overrides(note=_(
            "Allegation %(number)d saved.", number=item.number))),
        refused=_refused(complaint, name, form))


@bp.route("/complaints/<key>/allegations/<int:allegation_id>/remove", methods=["POST"])
@roles(Role.PARTNER, Role.INVESTIGATOR, Role.COMMITTEE)
def remove_allegation(key: str, allegation_id: int):
    complaint = load(key)
    name = _existing(complaint, allegation_id)
    require(allegations.may_edit(complaint, actor()))
    return htmx.write(
        lambda: allegations.remove(actor(), complaint, allegation_id,
                                   expected_version=posted_version()),
        done=lambda _none: _answer(complaint, Overrides(note=_(
            "The allegation was removed; those after it are renumbered."))),
        refused=lambda error, status: _answer(complaint, Overrides(
            error=error.message, focus=name,
            stale_version=posted_version() if status == 409 else None), status))


@bp.route("/complaints/<key>/conflicts", methods=["POST"])
@roles(*EVERYONE)
def declare_conflict(key: str):
    complaint = load(key)
    user = actor()
    form = ConflictForm(prefix="conflict")
    form.user.choices = []
    if not form.validate_on_submit():
        return _invalid(complaint, "conflict", form)
    whose = form.user.data or user.id
    own = whose == user.id
    require(own or conflicts.may_record_others(complaint, user))

    def declared(_declaration) -> Response:
        if own:  # the case file is now hidden from them
            flash(_("Your conflict is recorded. This complaint is no longer shown to you."),
                  "ok")
            return htmx.redirect(url_for("home.index"))
        return _answer(complaint, Overrides(note=_("The conflict is recorded.")))

    return htmx.write(lambda: conflicts.declare(user, complaint, whose, form.reason.data),
                      done=declared, refused=_refused(complaint, "conflict", form))


def _workspace_url(complaint: Complaint) -> str:
    """Where an assignee starts: the investigator's workspace, which every assignee may open
    (the case file's page is for intake staff and partners)."""
    return external_url("investigation.workspace", key=complaint.label)


@bp.route("/complaints/<key>/assignment", methods=["POST"])
@roles(Role.PARTNER)
def assign(key: str):
    complaint = load(key)
    form = AssignForm(prefix="assign")
    if not form.validate_on_submit():
        return _invalid(complaint, "assign", form)
    return htmx.write(
        lambda: assignment.assign(actor(), complaint, lead_id=form.lead.data,
                                  investigator_ids=form.investigators.data or [],
                                  case_url=_workspace_url, expected_version=posted_version()),
        done=lambda _rows: _moved(complaint, _("The investigation is assigned; the people "
                                               "newly assigned are told by email.")),
        refused=_refused(complaint, "assign", form))
