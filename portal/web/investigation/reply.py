"""The respondent's reply page, behind the signed link of the email: no login, CSRF kept.

GET shows the allegations concerning this respondent and the due date (never the narrative
or the evidence) and a form; it changes nothing, so it can be reopened (and a mail scanner
can follow it) until the reply is submitted. POST records the reply once. A forged link
gets 400, one naming no request 404, an expired, used or closed one 410: each a page in both
languages that changes nothing.
"""

from __future__ import annotations

from flask import current_app, g, make_response, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.locales import LOCALES, both_first
from portal.models.investigation import CATEGORY_LABELS, ReplyRequest
from portal.request_bodies import (
    body_too_large,
    had_nul_bytes,
    shows_nul_bytes,
    shows_oversize_body,
)
from portal.security import csrf_failed, public, shows_csrf_failure
from portal.services.intake.errors import IntakeError
from portal.services.investigation import replies
from portal.services.investigation.replies import LinkStatus, ReplyUnavailable
from portal.web import htmx
from portal.web.display import label_of
from portal.web.investigation import bp
from portal.web.investigation.forms import ReplyForm
from portal.web.investigation.mail import respondent_locale

STATUS_CODES = {
    LinkStatus.INVALID: 400,
    LinkStatus.UNKNOWN: 404,
    LinkStatus.EXPIRED: 410,
    LinkStatus.SUBMITTED: 410,
    LinkStatus.CLOSED: 410,
}


def _messages(status: LinkStatus) -> tuple[str, str]:
    if status is LinkStatus.SUBMITTED:
        return _("Your reply has already been received"), _(
            "A reply can be sent once through this link, and yours was received. If you want "
            "to add something, please write to the investigator or contact us.")
    if status is LinkStatus.EXPIRED:
        return _("This link has expired"), _(
            "For your security the link works for a limited time only. Please contact us and "
            "we will send you a new one.")
    if status is LinkStatus.CLOSED:
        return _("This investigation is closed"), _(
            "The investigation this link belongs to is no longer taking replies. If you still "
            "want to say something, please contact us.")
    if status is LinkStatus.UNKNOWN:
        return _("This link is not known"), _(
            "We cannot find the request this link belongs to. Please contact us.")
    return _("This link is not valid"), _(
        "The link is incomplete or has been altered. Please open it again from the email we "
        "sent you, or copy the whole address into your browser.")


def _locales(request: ReplyRequest | None) -> list[str]:
    return both_first(respondent_locale(request.respondent)) if request else list(LOCALES)


def unavailable(status: LinkStatus, request: ReplyRequest | None):
    """The explanation in both languages (the respondent's first), with the right status."""
    config = current_app.config
    blocks = []
    for locale in _locales(request):
        with force_locale(locale):
            title, message = _messages(status)
            blocks.append({"locale": locale, "title": title, "message": message,
                           "contact": _("Contact: %(email)s, %(phone)s",
                                        email=config["FIRM_COMPLAINTS_EMAIL"],
                                        phone=config["FIRM_PHONE"])})
    with force_locale(_locales(request)[0]):
        html = render_template("readback/unavailable.html", blocks=blocks)
    return make_response(html, STATUS_CODES[status])


def _page(request: ReplyRequest, template: str, status: int = 200, **context):
    with force_locale(respondent_locale(request.respondent)):
        html = render_template(
            template, request=request, allegations=replies.allegations_for(request),
            reference=replies.reference_of(request),
            category_label=lambda code: label_of(CATEGORY_LABELS, code), **context)
    return make_response(html, status)


@bp.route("/reply/<token>", methods=["GET", "POST"])
@public
@shows_csrf_failure  # a rejected form still gives the respondent their text
@shows_oversize_body
@shows_nul_bytes
def reply(token: str):
    config = current_app.config
    status, request = replies.check_token(token, config["SECRET_KEY"],
                                          config["REPLY_LINK_MAX_AGE"])
    if status is not LinkStatus.VALID:
        if csrf_failed():  # a forged form to a dead link: the portal's usual refusal
            raise g.csrf_failure
        return unavailable(status, request)
    with force_locale(respondent_locale(request.respondent)):
        form = ReplyForm()  # its messages in the respondent's language
        problem = _problem()
        valid = problem is None and form.validate_on_submit()
    if not form.is_submitted():
        return _page(request, "investigation/reply.html", form=form)
    if problem is not None:
        status_code, message = problem
        return _page(request, "investigation/reply.html", status_code, form=form,
                     problem=message)
    if not valid:
        return _page(request, "investigation/reply.html", 422, form=form)
    return _submit(request, form)


def _problem() -> tuple[int, str] | None:
    """What stops a POST before its content is even read (call within the page's locale)."""
    if body_too_large():
        return 413, _("Your reply is longer than we can accept, so nothing was sent. What we "
                      "received is below, perhaps cut short: please shorten it and send it "
                      "again.")
    if had_nul_bytes():
        return 400, _("Your text contained a character that cannot be stored (a NUL "
                      "character), so nothing was sent. Please check your text and send it "
                      "again.")
    if csrf_failed():
        return 400, _("This form has expired or did not come from this site, so nothing was "
                      "sent. Your text is still below: please send it again.")
    return None


def _submit(request: ReplyRequest, form: ReplyForm):
    locale = respondent_locale(request.respondent)

    def submit():
        with force_locale(locale):
            return replies.submit_reply(request, form.text.data)

    def refused(error: IntakeError, status: int):
        if isinstance(error, ReplyUnavailable):  # sent a moment ago, expired, or closed
            return unavailable(error.status, request)
        form.text.errors = [*form.text.errors, error.message]
        return _page(request, "investigation/reply.html", status, form=form)

    return htmx.write(submit, refused=refused,
                      done=lambda _statement: _page(request, "investigation/reply_done.html"))
