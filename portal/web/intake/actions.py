"""The record's actions: read-back and confirmation, the emailed link, a partner's
override, verification of an online submission, registration, an email sent again."""

from __future__ import annotations

from flask import Response, abort, current_app, flash, redirect
from flask_babel import gettext as _

from portal.formatting import format_day
from portal.links import external_url
from portal.models.complaint import Complaint
from portal.models.user import Role
from portal.security import require, roles
from portal.services import drafts
from portal.services.intake import confirmation, registration
from portal.services.intake.completeness import SECTION_LABELS, missing_sections
from portal.services.intake.errors import ConflictError, IntakeError
from portal.web import htmx
from portal.web.intake import bp
from portal.web.intake.context import (
    CHANGED,
    STAFF,
    actions_context,
    actor,
    attach,
    common,
    load,
    page,
    posted_version,
    show_url,
    timeline_context,
)
from portal.web.intake.record import record_view
from portal.web.intake_forms import ConfirmForm, DiscardForm, OverrideForm
from portal.web.readback_render import (
    client_locale,
    confirmation_email,
    link_days,
    points_html,
)


def _read_back_page(complaint: Complaint, form: ConfirmForm | None = None, status: int = 200,
                    error: str | None = None, conflict: str | None = None) -> Response:
    missing = missing_sections(complaint)
    context = {
        **common(complaint),
        "points_html": points_html(complaint),
        "client_locale": client_locale(complaint),
        "form": form or ConfirmForm(formdata=None, prefix="confirm"),
        "missing": missing,
        "missing_labels": [str(SECTION_LABELS[s]) for s in missing],
        "expected_method": confirmation.CONFIRMATION_FOR_CHANNEL.get(complaint.channel),
        "error": error,
        "conflict": conflict,
        "version": posted_version() if conflict else complaint.version,
    }
    return htmx.answer("intake/read_back.html", "intake/read_back.html", lambda _full: context,
                       status=status)


@bp.route("/complaints/<key>/read-back")
@roles(*STAFF)
def read_back(key: str):
    complaint = load(key)
    response = _read_back_page(complaint)
    record_view(complaint, "read_back")
    return response


@bp.route("/complaints/<key>/confirm", methods=["POST"])
@roles(*STAFF)
def confirm(key: str):
    complaint = load(key)
    form = ConfirmForm(prefix="confirm")
    if not form.validate_on_submit():
        return _read_back_page(complaint, form, 422)

    def confirmed(_result) -> Response:
        flash(_("The client's confirmation has been recorded."), "ok")
        return htmx.redirect(show_url(complaint))

    def refused(error: IntakeError, status: int) -> Response:
        if isinstance(error, ConflictError):
            return _read_back_page(complaint, form, status, conflict=_(
                "The record was changed after this read-back was opened, so the confirmation "
                "was not recorded. Reload the page and read the new version to the client."))
        if not error.errors:  # a rule about the record, not about what was typed
            return _read_back_page(complaint, form, status, error=error.message)
        attach(form, error)
        return _read_back_page(complaint, form, status)

    return htmx.write(lambda: confirmation.confirm_read_back(
        actor(), complaint, form.method.data, note=form.note.data,
        expected_version=posted_version()),
        done=confirmed, refused=refused)


def _action_response(complaint: Complaint, *, status: int = 200, note: str | None = None,
                     error: str | None = None, override_form: OverrideForm | None = None,
                     discard_form: DiscardForm | None = None,
                     discard_version: int | None = None) -> Response:
    if status == 200 and not htmx.wants_fragment():
        flash(note or _("Done."), "ok")

    def context(full: bool) -> dict:
        if full:
            return page(complaint, note=note, error=error, override_form=override_form,
                        discard_form=discard_form, discard_version=discard_version)
        return {**common(complaint), "with_versions": status == 200,
                **actions_context(complaint, note=note, error=error,
                                  override_form=override_form, discard_form=discard_form,
                                  discard_version=discard_version)}

    return htmx.answer("intake/_actions.html", "intake/show.html", context, status=status,
                       trigger=CHANGED if status == 200 else None,
                       redirect_to=show_url(complaint))


def _link_url(token: str) -> str:
    return external_url("readback.confirm", token=token)


@bp.route("/complaints/<key>/confirmation-link", methods=["POST"])
@roles(*STAFF)
def send_link(key: str):
    complaint = load(key)
    days = link_days(current_app.config["CONFIRMATION_LINK_MAX_AGE"])
    return htmx.write(
        lambda: confirmation.request_confirmation_link(
            actor(), complaint, _link_url, secret_key=current_app.config["SECRET_KEY"],
            compose=confirmation_email),
        done=lambda _link: _action_response(complaint, note=_(
            "A confirmation link has been emailed to the client. It works once, for "
            "%(days)d days.", days=days)),
        refused=lambda error, status: _action_response(complaint, status=status,
                                                       error=error.message))


@bp.route("/complaints/<key>/override", methods=["POST"])
@roles(Role.PARTNER)
def override(key: str):
    complaint = load(key)
    require(complaint.can_override_confirmation(actor()))
    form = OverrideForm(prefix="override")
    if not form.validate_on_submit():
        return _action_response(complaint, status=422, override_form=form)

    def refused(error: IntakeError, status: int) -> Response:
        attach(form, error)
        return _action_response(complaint, status=status, override_form=form)

    return htmx.write(
        lambda: confirmation.override_confirmation(actor(), complaint, form.reason.data),
        done=lambda _result: _action_response(complaint, note=_(
            "Recorded: this complaint may be registered without the client's confirmation.")),
        refused=refused)


@bp.route("/complaints/<key>/discard", methods=["POST"])
@roles(*STAFF)
def discard(key: str):
    complaint = load(key)
    form = DiscardForm(prefix="discard")
    if not form.validate_on_submit():
        return _action_response(complaint, status=422, discard_form=form)

    def discarded(_result) -> Response:
        flash(_("The draft has been discarded. It is kept for the audit trail."), "ok")
        return htmx.redirect(show_url(complaint))

    def refused(error: IntakeError, status: int) -> Response:
        if isinstance(error, drafts.DraftError) and error.stale:
            return _action_response(complaint, status=409, error=error.message,
                                    discard_form=form, discard_version=posted_version())
        if error.field:
            attach(form, error)
            return _action_response(complaint, status=status, discard_form=form)
        return _action_response(complaint, status=status, error=error.message,
                                discard_form=form)

    return htmx.write(
        lambda: drafts.discard(actor(), complaint, form.reason.data,
                               expected_version=posted_version()),
        done=discarded, refused=refused)


@bp.route("/complaints/<key>/verify", methods=["POST"])
@roles(*STAFF)
def verify(key: str):
    complaint = load(key)
    return htmx.write(
        lambda: confirmation.mark_verified(actor(), complaint),
        done=lambda _result: _action_response(
            complaint, note=_("The online submission is marked as verified.")),
        refused=lambda error, status: _action_response(complaint, status=status,
                                                       error=error.message))


@bp.route("/complaints/<key>/register", methods=["POST"])
@roles(*STAFF)
def register(key: str):
    complaint = load(key)

    def registered(_result) -> Response:
        if complaint.complainant is not None and complaint.complainant.email:
            flash(_("Registered as %(reference)s. The first response is due by %(date)s; the "
                    "acknowledgement will be emailed to the client.",
                    reference=complaint.reference,
                    date=format_day(complaint.first_response_due, "long")), "ok")
        else:
            flash(_("Registered as %(reference)s. The first response is due by %(date)s. The "
                    "client has no email address: print the acknowledgement for post under "
                    "“Notices to post” and record the day it is posted.",
                    reference=complaint.reference,
                    date=format_day(complaint.first_response_due, "long")), "ok")
        return htmx.redirect(show_url(complaint))

    return htmx.write(
        lambda: registration.register(
            actor(), complaint,
            working_days=int(current_app.config["FIRST_RESPONSE_WORKING_DAYS"])),
        done=registered,
        refused=lambda error, status: _action_response(complaint, status=status, error=_(
            "The complaint cannot be registered yet. %(reasons)s", reasons=error.message)))


@bp.route("/complaints/<key>/mail/<int:message_id>/resend", methods=["POST"])
@roles(*STAFF)
def resend(key: str, message_id: int):
    complaint = load(key)
    message = registration.mail_for(complaint, message_id)
    if message is None:
        abort(404)

    def answered(note: str, status: int) -> Response:
        if not htmx.wants_fragment():
            flash(note, "ok" if status == 200 else "error")
            return redirect(show_url(complaint, "timeline"), 303)
        return htmx.partial("intake/_timeline.html", status=status, **common(complaint),
                            **timeline_context(complaint), timeline_note=note)

    return htmx.write(
        lambda: registration.resend_mail(actor(), complaint, message),
        done=lambda _message: answered(_("The email will be sent again."), 200),
        refused=lambda error, status: answered(str(error), status))
