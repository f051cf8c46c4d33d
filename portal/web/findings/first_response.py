"""The first response on the case file: whether the promise of the acknowledgement was
kept, and the form to record it (handler, lead or partner)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash
from flask_babel import gettext as _
from sqlalchemy import select

from portal import clock
from portal.db import db
from portal.models.complaint import Complaint
from portal.models.deadline import DeadlineKind
from portal.models.investigation import FIRST_RESPONSE_METHOD_LABELS, FirstResponseMethod
from portal.models.notice import Notice
from portal.models.outbox import OutboxMessage
from portal.models.user import Role, User
from portal.security import roles
from portal.services import deadlines, notices
from portal.services import first_response as service
from portal.services.intake.errors import ConflictError, IntakeError
from portal.web import case_file, downloads, htmx
from portal.web.findings import bp
from portal.web.findings.common import ALL_STAFF, CHANGED, area_answer, override, overrides
from portal.web.findings.forms import FirstResponseForm
from portal.web.intake.context import actor, attach, load
from portal.web.intake.timeline import MAIL_STATUS_LABELS
from portal.web.intake_forms import local_input

AREA = "first_response"
TEMPLATE = "findings/_first_response.html"
PREFIX = "first-response"


def fresh_form() -> FirstResponseForm:
    return FirstResponseForm(formdata=None, prefix=PREFIX, data={
        "method": FirstResponseMethod.CALL.value, "responded_at": local_input(clock.now())})


def _progress_mail(complaint: Complaint) -> OutboxMessage | None:
    return db.session.scalar(
        select(OutboxMessage).where(OutboxMessage.complaint_id == complaint.id,
                                    OutboxMessage.kind == service.NOTICE_KIND)
        .order_by(OutboxMessage.id.desc()).limit(1))


@case_file.area(AREA, order=15, template=TEMPLATE)
def first_response_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """Shown from registration on to whoever sees the case file."""
    if complaint.registered_at is None or not complaint.can_view(user):
        return None
    response = complaint.first_response
    deadline = complaint.deadline(DeadlineKind.FIRST_RESPONSE)
    status = (deadlines.status(deadline, clock.today()) if deadline is not None else None)
    can_record = response is None and complaint.may_respond_first(user)
    mail = (_progress_mail(complaint) if response is not None
            and response.method == FirstResponseMethod.NOTICE else None)
    shown = overrides(AREA)
    return {
        "response": response,
        "deadline": deadline,
        "status": status,
        "status_label": deadlines.STATUS_LABELS.get(status) if status else None,
        "can_record": can_record,
        "form": shown.get("form") or (fresh_form() if can_record else None),
        "error": shown.get("error"),
        "conflict": shown.get("conflict"),
        "method_labels": FIRST_RESPONSE_METHOD_LABELS,
        "mail": mail,
        "mail_status": MAIL_STATUS_LABELS.get(mail.status) if mail else None,
    }


def _input(form: FirstResponseForm) -> service.FirstResponseInput:
    at = form.responded_at.data
    return service.FirstResponseInput(
        method=form.method.data or "", summary=form.summary.data or "",
        responded_at=at.replace(tzinfo=clock.LOCAL_TZ) if at else None,
        next_steps=form.next_steps.data or "", next_contact_on=form.next_contact_on.data)


def _answer(complaint: Complaint, status: int = 200) -> Response:
    return area_answer(TEMPLATE, first_response_area, complaint, status=status,
                       trigger=CHANGED if status == 200 else None, redirect=status == 200)


@bp.route("/complaints/<key>/first-response", methods=["POST"])
@roles(*ALL_STAFF)
def record(key: str):
    complaint = load(key)
    user = actor()
    if not (user.has_role(Role.PARTNER) or complaint.handles(user)):
        abort(403)
    form = FirstResponseForm(prefix=PREFIX)
    if not form.validate_on_submit():
        override(AREA, form=form)
        return _answer(complaint, 422)

    def done(_response) -> Response:
        if not htmx.wants_fragment():
            flash(_("The first response has been recorded."), "ok")
        return _answer(complaint)

    def refused(error: Exception, status: int) -> Response:
        if isinstance(error, ConflictError):
            override(AREA, form=form, conflict=error.message)
        elif isinstance(error, IntakeError) and error.errors:
            attach(form, error)
            override(AREA, form=form)
        else:
            override(AREA, form=form, error=str(error))
        return _answer(complaint, status)

    return htmx.write(lambda: service.record(actor(), complaint, _input(form)),
                      done=done, refused=refused)


@bp.route("/complaints/<key>/first-response/notice.pdf")
@roles(*ALL_STAFF)
def progress_notice(key: str):
    """The progress notice as the client received it (once the worker has issued it)."""
    complaint = load(key)
    response = complaint.first_response
    notice = (db.session.get(Notice, response.notice_id)
              if response is not None and response.notice_id else None)
    if notice is None:
        abort(404)
    path = notices.path_of(notice)
    notices.read_bytes(notice)  # refuses a file that no longer matches its SHA-256
    return downloads.attachment(path, content_type="application/pdf", name=notice.filename,
                                ascii_name=notice.filename)
