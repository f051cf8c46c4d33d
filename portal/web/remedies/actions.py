"""The remedies area's actions. Each loads the complaint through the visibility rule and the
task as the viewer may see it (404 otherwise: an internal measure for anyone but a partner),
reads and checks the form (422 with what was typed), then runs one service in `htmx.write`:
409 when the page was loaded before someone else changed the complaint or the task. Starting
the remedies and the last client-facing task (state changes) reload the case file; the rest
answers the area."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, request
from flask_babel import gettext as _

from portal.db import db, write_transaction
from portal.models.complaint import Complaint, State
from portal.models.resolution import RemedyTask
from portal.models.user import Role
from portal.security import require, roles
from portal.services import evidence
from portal.services.intake.errors import IntakeError
from portal.services.resolution import completion
from portal.services.resolution import remedies as service
from portal.web import downloads, htmx
from portal.web.findings.common import area_answer, override
from portal.web.intake.context import actor, load, posted_version, show_url
from portal.web.remedies import bp
from portal.web.remedies.area import AREA, TEMPLATE, remedies_area
from portal.web.remedies.forms import FormState, posted_date, posted_id, refused, text

ALL_STAFF = (Role.RECEPTIONIST, Role.INVESTIGATOR, Role.COMMITTEE, Role.PARTNER)
CHANGED = "complaint-changed"


def _respond(complaint: Complaint, status: int = 200) -> Response:
    return area_answer(TEMPLATE, remedies_area, complaint, status=status,
                       trigger=CHANGED if status == 200 else None, redirect=status == 200)


def _moved(complaint: Complaint, message: str) -> Response:
    """The complaint changed state: the whole case file is shown again."""
    flash(message, "ok")
    return htmx.redirect(show_url(complaint, "area-remedies"))


def _noted(complaint: Complaint, message: str) -> Response:
    override(AREA, note=message)
    if not htmx.wants_fragment():
        flash(message, "ok")
    return _respond(complaint)


def _refusal(complaint: Complaint, slot: str, state: FormState, task_id: int | None = None):
    def answer(error: Exception, status: int) -> Response:
        refused(state, error)
        override(AREA, **({slot: {task_id: state}} if task_id is not None else {slot: state}))
        return _respond(complaint, status)
    return answer


def _task(complaint: Complaint, task_id: int) -> RemedyTask:
    """The task, if the viewer may see it: 404 for an internal measure unless a partner, and
    for anyone who neither sees the decision materials nor owns the task."""
    user = actor()
    task = service.find(complaint, task_id)
    if task is None:
        abort(404)
    if service.is_internal(task) and not complaint.can_see_internal_measures(user):
        abort(404)
    if not complaint.can_see_decision_materials(user) and task.owner_id != user.id:
        abort(404)
    return task


# -- starting --------------------------------------------------------------------------------

@bp.route("/complaints/<key>/remedies/start", methods=["POST"])
@roles(Role.PARTNER)
def start(key: str):
    complaint = load(key)
    state = FormState(version=posted_version())
    decision = complaint.current_decision
    plans = {}
    for remedy in decision.remedies if decision is not None else []:
        owner = posted_id(f"owner-{remedy.id}", state)
        due = posted_date(f"due-{remedy.id}", state)
        plans[remedy.id] = service.Plan(owner, due)
    if state.errors:
        override(AREA, start=state)
        return _respond(complaint, 422)

    def done(created: list[RemedyTask]) -> Response:
        if complaint.state == State.FOLLOW_UP:
            return _moved(complaint, _("Nothing is owed to the client, so the complaint moves "
                                       "to follow-up; the internal measures are recorded as "
                                       "tasks."))
        return _moved(complaint, _("The remedies are started: %(count)d task(s), each with "
                                   "its owner and due date.", count=len(created)))

    return htmx.write(
        lambda: service.start(actor(), complaint, plans, expected_version=state.version),
        done=done, refused=_refusal(complaint, "start", state))


# -- reassigning -----------------------------------------------------------------------------

@bp.route("/complaints/<key>/remedies/<int:task_id>/assign", methods=["POST"])
@roles(Role.PARTNER)
def reassign(key: str, task_id: int):
    complaint = load(key)
    task = _task(complaint, task_id)
    state = FormState(version=posted_version())
    plan = service.Plan(posted_id("owner", state), posted_date("due", state))
    if state.errors:
        override(AREA, assign={task.id: state})
        return _respond(complaint, 422)
    return htmx.write(
        lambda: service.reassign(actor(), complaint, task.id, plan,
                                 expected_version=state.version),
        done=lambda saved: _noted(complaint, _("The task is now %(owner)s's, due on "
                                               "%(day)s.", owner=saved.owner.name,
                                               day=saved.due.isoformat())),
        refused=_refusal(complaint, "assign", state, task.id))


# -- completing ------------------------------------------------------------------------------

def _entry(state: FormState) -> completion.Entry:
    return completion.Entry(
        paid_amount=text("paid_amount", state), paid_on=posted_date("paid_on", state),
        method=text("method", state), letter_text=text("letter_text", state),
        notes=text("notes", state))


@bp.route("/complaints/<key>/remedies/<int:task_id>/complete", methods=["POST"])
@roles(*ALL_STAFF)
def complete(key: str, task_id: int):
    complaint = load(key)
    task = _task(complaint, task_id)
    user = actor()
    require(task.owner_id == user.id or complaint.can_see_internal_measures(user))
    task_id, refund = task.id, service.form_of(task.remedy.kind) == service.Form.REFUND
    state = FormState(version=posted_version())
    entry = _entry(state)
    upload = request.files.get("receipt") if refund else None
    if refund and (upload is None or not upload.filename):
        state.add("receipt", _("Attach the receipt of the payment."))
    refuse = _refusal(complaint, "complete", state, task_id)
    if state.errors:
        return refuse(IntakeError(_("Check the fields marked.")), 422)

    def done(saved: RemedyTask) -> Response:
        if complaint.state == State.FOLLOW_UP and not service.is_internal(saved):
            return _moved(complaint, _("Every remedy owed to the client is carried out: the "
                                       "completion notice is on its way and the complaint "
                                       "moves to follow-up."))
        return _noted(complaint, _("The task is recorded as done."))

    def attempt(last_try: bool) -> Response | None:
        """Read, handle the files with no transaction open, write; None when the write found
        this task the last client-facing one without its completion notice prepared."""
        try:
            read = completion.read(user, complaint, task_id, entry)
        except IntakeError as error:
            return refuse(error, htmx.refusal_status(error) or 422)
        db.session.commit()  # end the read: no transaction stays open while files are handled
        received = None
        if refund:
            upload.stream.seek(0)
            try:  # copied, hashed and type-checked before the write starts
                received = evidence.receive(upload.stream, upload.filename)
            except evidence.EvidenceError as error:
                error.errors = {"receipt": [error.message]}
                return refuse(error, htmx.refusal_status(error) or 422)
        rendered = completion.render_documents(read, current_app.config)

        def refused_or_again(error: Exception, status: int) -> Response | None:
            if isinstance(error, completion.CompletionPending) and not last_try:
                return None
            return refuse(error, status)

        return htmx.write(
            lambda: completion.complete(actor(), complaint, task_id, entry, rendered,
                                        expected_version=state.version, receipt=received),
            done=done, refused=refused_or_again)

    response = attempt(last_try=False)
    return response if response is not None else attempt(last_try=True)


# -- the receipt -----------------------------------------------------------------------------

@bp.route("/complaints/<key>/remedies/<int:task_id>/receipt")
@roles(*ALL_STAFF)
def receipt(key: str, task_id: int):
    """A refund's receipt, for whoever may see the decision materials (404 for everyone
    else); each download is audited."""
    complaint = load(key)
    if not complaint.can_see_decision_materials(actor()):
        abort(404)
    task = _task(complaint, task_id)
    item = service.receipt_of(task)
    if item is None:
        abort(404)
    path = evidence.path_of(item)
    if not path.is_file():
        abort(404)
    with write_transaction():
        evidence.record_download(actor(), item)
    return downloads.attachment(path, content_type=item.content_type,
                                name=evidence.download_name(item),
                                ascii_name=evidence.ascii_download_name(item))
