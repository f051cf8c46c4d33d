"""The email asking a respondent for a written reply, in the respondent's language."""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _

from portal.clock import LOCAL_TZ
from portal.locales import DEFAULT_LOCALE, LOCALES, html_lang, language_of, locale_of
from portal.models.investigation import ReplyRequest
from portal.models.user import User
from portal.services.investigation.replies import reference_of


def respondent_locale(user: User | None) -> str:
    """The language the respondent chose for the portal; Chinese when they never did (a
    lawyer recorded without a login)."""
    if user is None or not user.locale:
        return DEFAULT_LOCALE
    return user.locale if user.locale in LOCALES else locale_of(language_of(user.locale))


def reply_email(request: ReplyRequest, url: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the request: what is asked, by when, and the link."""
    respondent = request.respondent
    reference = reference_of(request)
    locale = respondent_locale(respondent)
    with force_locale(locale):
        context = {
            "name": respondent.name, "reference": reference, "url": url,
            "due_on": request.due_on,
            "until": request.expires_at.astimezone(LOCAL_TZ).date(),
            "firm": (current_app.config["FIRM_NAME_ZH"] if language_of(locale) == "zh"
                     else current_app.config["FIRM_NAME_EN"]),
            "lang": html_lang(locale),
        }
        subject = _("Complaint %(reference)s: your written reply is requested",
                    reference=context["reference"])
        text = render_template("investigation/emails/reply_request.txt", **context)
        html = render_template("investigation/emails/reply_request.html", subject=subject,
                               **context)
    return subject, text, html
