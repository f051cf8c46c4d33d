"""Notices to post (area "post" of the case file): for a client without an email address, the
acknowledgement and every later notice printed for post, with the day each was posted; and the
download of a client notice's PDF (services/postal.py)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, flash
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.notice import Notice
from portal.models.user import Role, User
from portal.security import roles
from portal.services import notices, postal
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.resolution.common import StaleVersion
from portal.web import case_file, downloads, htmx
from portal.web.decision import bp
from portal.web.decision.common import (
    FormState,
    answer,
    override,
    overrides,
    posted_date,
    refused_state,
    text,
)
from portal.web.intake.context import actor, load, posted_version

AREA = "post"
TEMPLATE = "decision/_post.html"
ALL_STAFF = (Role.RECEPTIONIST, Role.INVESTIGATOR, Role.COMMITTEE, Role.PARTNER)
# The notices a client receives (the investigation report is internal and never listed here).
CLIENT_KINDS = {
    "acknowledgement": _l("Acknowledgement"),
    "progress": _l("Progress notice"),
    "outcome": _l("Outcome notice"),
    "completion": _l("Completion notice"),
    "apology": _l("Letter of apology"),
}


@case_file.area(AREA, order=12, template=TEMPLATE)
def post_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    """For intake staff and partners, once a notice is owed or printed for post."""
    if not postal.may_post(user, complaint):
        return None
    owed = postal.acknowledgement_owed(complaint)
    printed = [n for n in postal.post_notices(complaint) if n.kind in CLIENT_KINDS]
    if not owed and not printed:
        return None
    shown = overrides(AREA)
    posted = shown.get("posted", {})
    return {
        "owed": owed,
        "address": postal.postal_address(complaint),
        "print_state": shown.get("print") or FormState(version=complaint.version),
        "notices": [{"notice": n, "state": posted.get(n.id) or FormState(values={
            "posted_on": n.posted_on.isoformat() if n.posted_on else "",
            "expected": n.posted_on.isoformat() if n.posted_on else ""})} for n in printed],
        "kinds": CLIENT_KINDS,
        "note": shown.get("note"),
    }


def _loaded(key: str) -> Complaint:
    complaint = load(key)
    if not postal.may_post(actor(), complaint):
        abort(404)
    return complaint


def _respond(complaint: Complaint, status: int = 200) -> Response:
    return answer(TEMPLATE, post_area, complaint, status)


def _succeeded(complaint: Complaint, message: str):
    def done(_result) -> Response:
        override(AREA, note=message)
        if not htmx.wants_fragment():
            flash(message, "ok")
        return _respond(complaint)
    return done


@bp.route("/complaints/<key>/acknowledgement/print", methods=["POST"])
@roles(Role.RECEPTIONIST, Role.PARTNER)
def print_acknowledgement(key: str):
    """Render the acknowledgement for post with no transaction open, then store it."""
    complaint = _loaded(key)
    state = FormState(version=posted_version())
    try:
        if state.version != complaint.version:
            raise StaleVersion()
        if not postal.acknowledgement_owed(complaint):
            raise ConflictError(_("The acknowledgement was already printed or emailed: "
                                  "reload the page."))
        context = postal.acknowledgement_context(complaint)
    except IntakeError as error:
        override(AREA, print=refused_state(state, error))
        return _respond(complaint, htmx.refusal_status(error) or 422)
    db.session.commit()  # end the read before rendering
    pdf = postal.render(postal.ACKNOWLEDGEMENT, context)

    def refused(error: Exception, status: int) -> Response:
        override(AREA, print=refused_state(state, error))
        return _respond(complaint, status)

    return htmx.write(
        lambda: postal.store_acknowledgement(actor(), complaint, pdf,
                                             expected_version=state.version),
        done=_succeeded(complaint, _("The acknowledgement is ready to print for post. Record "
                                     "the day it is posted.")),
        refused=refused)


@bp.route("/complaints/<key>/notices/<int:notice_id>/posted", methods=["POST"])
@roles(Role.RECEPTIONIST, Role.PARTNER)
def posted(key: str, notice_id: int):
    complaint = _loaded(key)
    notice = db.session.get(Notice, notice_id)
    if notice is None or notice.complaint_id != complaint.id or notice.delivery != postal.POST:
        abort(404)
    state = FormState(values={"expected": text("expected")})
    posted_on = posted_date("posted_on", state)
    if state.errors:
        override(AREA, posted={notice_id: state})
        return _respond(complaint, 422)

    def refused(error: Exception, status: int) -> Response:
        override(AREA, posted={notice_id: refused_state(state, error)})
        return _respond(complaint, status)

    return htmx.write(
        lambda: postal.record_posted(actor(), complaint, notice_id, posted_on,
                                     expected=state.values["expected"]),
        done=_succeeded(complaint, _("The posting date is recorded.")), refused=refused)


def may_download(user: User, complaint: Complaint, notice: Notice) -> bool:
    """A client notice: the outcome notices for whoever sees the decision materials; a
    notice printed for post for intake staff and partners."""
    if notice.kind not in CLIENT_KINDS:
        return False
    if notice.kind == "outcome" and complaint.can_see_decision_materials(user):
        return True
    return notice.delivery == postal.POST and postal.may_post(user, complaint)


@bp.route("/complaints/<key>/notices/<int:notice_id>.pdf")
@roles(*ALL_STAFF)
def download(key: str, notice_id: int):
    complaint = load(key)
    notice = db.session.get(Notice, notice_id)
    if (notice is None or notice.complaint_id != complaint.id
            or not may_download(actor(), complaint, notice)):
        abort(404)
    path = notices.path_of(notice)
    notices.read_bytes(notice)  # refuses a file that no longer matches its SHA-256
    return downloads.attachment(path, content_type="application/pdf", name=notice.filename,
                                ascii_name=notice.filename)
