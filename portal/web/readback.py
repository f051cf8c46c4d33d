"""The client's side of the read-back: a signed, expiring, single-use link from an email.

GET shows the key points in the client's language with two choices (confirm, or ask for a
correction); it changes nothing, so a mail scanner that follows the link uses nothing up.
POST records the answer once. Forged links get 400; expired, used or cancelled links 410,
with the explanation in both languages. Plain forms: works without JavaScript.
"""

from __future__ import annotations

from flask import Blueprint, current_app, make_response, render_template, request
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.locales import LOCALES, both_first
from portal.models.complaint import ConfirmationLink
from portal.security import public
from portal.services.audit_alone import record_alone
from portal.services.intake.confirmation import (
    LinkStatus,
    answer_confirmation_link,
    check_confirmation_token,
)
from portal.services.intake.errors import IntakeError, LinkUnavailable
from portal.web import htmx
from portal.web.intake_forms import CorrectionForm
from portal.web.readback_render import client_locale, points_html

bp = Blueprint("readback", __name__)

_STATUS_CODES = {
    LinkStatus.INVALID: 400,
    LinkStatus.EXPIRED: 410,
    LinkStatus.USED: 410,
    LinkStatus.CANCELLED: 410,
}


def _locales(link: ConfirmationLink | None) -> list[str]:
    return both_first(client_locale(link.complaint)) if link else list(LOCALES)


def _messages(status: LinkStatus) -> tuple[str, str]:
    if status is LinkStatus.EXPIRED:
        return _("This link has expired"), _(
            "For your security the link works for a limited time only. Please contact us and "
            "we will send you a new one.")
    if status is LinkStatus.USED:
        return _("This link has already been used"), _(
            "Your answer was recorded when you first used this link. If you want to change "
            "something, please contact us.")
    if status is LinkStatus.CANCELLED:
        return _("This link is no longer valid"), _(
            "The record of your complaint has changed since this link was sent, or a newer "
            "link was sent to you. Please use the most recent email, or contact us.")
    return _("This link is not valid"), _(
        "The link is incomplete or has been altered. Please open it again from the email we "
        "sent you, or copy the whole address into your browser.")


def _unavailable(status: LinkStatus, link: ConfirmationLink | None, status_code: int | None = None):
    blocks = []
    for locale in _locales(link):
        with force_locale(locale):
            title, message = _messages(status)
            blocks.append({"locale": locale, "title": title, "message": message,
                           "contact": _("Contact: %(email)s, %(phone)s",
                                        email=current_app.config["FIRM_COMPLAINTS_EMAIL"],
                                        phone=current_app.config["FIRM_PHONE"])})
    with force_locale(_locales(link)[0]):
        html = render_template("readback/unavailable.html", blocks=blocks)
    return make_response(html, status_code or _STATUS_CODES[status])


def _render(link: ConfirmationLink, template: str, status: int = 200, **context):
    complaint = link.complaint
    locale = client_locale(complaint)
    points = points_html(complaint, locale)
    with force_locale(locale):
        html = render_template(template, points_html=points, complaint=complaint, **context)
    return make_response(html, status)


@bp.route("/confirm/<token>", methods=["GET", "POST"])
@public
def confirm(token: str):
    config = current_app.config
    status, link = check_confirmation_token(
        token, config["SECRET_KEY"], config["CONFIRMATION_LINK_MAX_AGE"])
    if status is not LinkStatus.VALID:
        return _unavailable(status, link)
    if request.method == "GET":
        response = _render(link, "readback/confirm.html", form=CorrectionForm(formdata=None))
        record_alone("complaint.viewed", obj=link.complaint, actor_label="client",
                     details={"view": "confirmation_link", "link_id": link.id})
        return response
    return _answer(link)


def _answer(link: ConfirmationLink):
    action = request.form.get("action")
    locale = client_locale(link.complaint)
    with force_locale(locale):
        form = CorrectionForm()
        if action not in ("confirm", "correct") or not form.validate():
            return _render(link, "readback/confirm.html", 422 if action else 400, form=form)

    def answer() -> None:
        with force_locale(locale):
            answer_confirmation_link(link, confirmed=action == "confirm",
                                     correction=form.correction.data)

    def refused(error: IntakeError, status: int):
        if isinstance(error, LinkUnavailable):  # answered a moment ago (another tab, twice)
            return _unavailable(LinkStatus.USED, link)
        form.correction.errors = [*form.correction.errors, error.message]
        return _render(link, "readback/confirm.html", status, form=form)

    return htmx.write(answer, refused=refused, done=lambda _none: _render(
        link, "readback/done.html", confirmed=action == "confirm"))
