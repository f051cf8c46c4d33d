"""The client's survey, /s/<token>: no login, CSRF kept, a plain form that works without
JavaScript, in the client's language (or the one they switch to), like the client's page.

GET shows the form; POST records the answer once (services/followup/survey.py) and thanks the
client. A used link, or one whose call-back was settled meanwhile, answers 410, an expired one
410, a forged one 404: a page in both languages that changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import (
    Response,
    current_app,
    g,
    make_response,
    render_template,
    request,
    url_for,
)
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.db import db
from portal.i18n import current_locale
from portal.locales import both_first
from portal.models.complaint import Complaint
from portal.request_bodies import (
    body_too_large,
    had_nul_bytes,
    shows_nul_bytes,
    shows_oversize_body,
)
from portal.security import csrf_failed, public, shows_csrf_failure
from portal.services.followup import survey as service
from portal.services.followup.survey import SurveySpent, SurveyStatus
from portal.services.intake.errors import IntakeError
from portal.web import htmx
from portal.web.client_page import page_locale
from portal.web.followup import bp

STATUS_CODES = {SurveyStatus.USED: 410, SurveyStatus.EXPIRED: 410, SurveyStatus.INVALID: 404}
SCORES = (1, 2, 3, 4, 5)


@dataclass
class SurveyForm:
    """The survey as typed, with the messages beside its fields and above it."""

    satisfaction: str = ""
    open_issue: str = ""
    comments: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)
    message: str | None = None

    @classmethod
    def posted(cls) -> SurveyForm:
        return cls(**{name: request.form.get(name, "").replace("\x00", "")
                      for name in ("satisfaction", "open_issue", "comments")})

    def entry(self) -> service.Entry:
        raw = self.satisfaction.strip()
        score = int(raw) if raw.isdigit() and len(raw) < 3 else None
        return service.Entry(satisfaction=score, open_issue=self.open_issue,
                             comments=self.comments)


def _messages(status: SurveyStatus) -> tuple[str, str]:
    if status is SurveyStatus.USED:
        return _("This survey has been answered"), _(
            "We already have your answer to this survey (or we spoke to you by phone), so "
            "nothing was changed. Thank you. If there is anything else, please contact us.")
    if status is SurveyStatus.EXPIRED:
        return _("This survey link has expired"), _(
            "The link to the survey works for a limited time only, and nothing was changed. "
            "If you would like to tell us how we did, please contact us: we will call you.")
    return _("This link is not valid"), _(
        "The link is incomplete or has been altered. Please open it again from the email we "
        "sent you, or copy the whole address into your browser.")


def unavailable(status: SurveyStatus) -> Response:
    """The explanation in both languages (the visitor's first), with 410 or 404."""
    config = current_app.config
    locales = both_first(current_locale())
    blocks = []
    for locale in locales:
        with force_locale(locale):
            title, message = _messages(status)
            blocks.append({"locale": locale, "title": title, "message": message, "ask": "",
                           "contact": _("Contact: %(email)s, %(phone)s",
                                        email=config["FIRM_COMPLAINTS_EMAIL"],
                                        phone=config["FIRM_PHONE"])})
    with force_locale(locales[0]):
        html = render_template("client/unavailable.html", blocks=blocks, offer_new=False)
    return make_response(html, STATUS_CODES[status])


def _render(complaint: Complaint, token: str, form: SurveyForm, status: int = 200) -> Response:
    with force_locale(page_locale(complaint)):
        html = render_template("followup/survey.html", form=form, token=token,
                               reference=complaint.reference, scores=SCORES,
                               text_max=service.callbacks.TEXT_MAX,
                               switch_next=url_for(".survey", token=token))
    return make_response(html, status)


def _problem() -> tuple[int, str] | None:
    """What stops a POST before its content is read (call within the page's locale)."""
    if body_too_large():
        return 413, _("Your text is longer than we can accept, so nothing was sent. Please "
                      "shorten it and send it again.")
    if had_nul_bytes():
        return 400, _("Your text contained a character that cannot be stored (a NUL "
                      "character), so nothing was sent. Please check your text and send it "
                      "again.")
    if csrf_failed():
        return 400, _("This form has expired or did not come from this site, so nothing was "
                      "sent. Your text is still below: please send it again.")
    return None


@bp.route("/s/<token>", methods=["GET", "POST"])
@public
@shows_csrf_failure  # a refused form still gives the client their text
@shows_oversize_body
@shows_nul_bytes
def survey(token: str):
    status, callback = service.check(token)
    if status is not SurveyStatus.VALID:
        if request.method == "POST" and csrf_failed():  # a forged form: the usual refusal
            raise g.csrf_failure
        return unavailable(status)
    complaint = db.session.get(Complaint, callback.complaint_id)
    if request.method == "GET":
        return _render(complaint, token, SurveyForm())
    locale = page_locale(complaint)
    form = SurveyForm.posted()
    with force_locale(locale):
        problem = _problem()
    if problem is not None:
        form.message = problem[1]
        return _render(complaint, token, form, problem[0])
    entry = form.entry()

    def change():
        with force_locale(locale):
            return service.answer(token, entry)

    def refused(error: Exception, status: int) -> Response:
        if isinstance(error, SurveySpent):
            return unavailable(error.status)
        with force_locale(locale):
            if isinstance(error, IntakeError) and error.errors:
                for name, messages in error.errors.items():
                    form.errors.setdefault(name, []).extend(messages)
            else:
                form.message = str(error)
        return _render(complaint, token, form, status)

    def done(saved) -> Response:
        with force_locale(locale):
            html = render_template("followup/survey_done.html", reference=complaint.reference,
                                   open_issue=bool(entry.open_issue.strip()))
        return make_response(html, 200)

    return htmx.write(change, done=done, refused=refused)
