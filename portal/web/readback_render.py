"""The read-back in the client's language: the key points page and the confirmation email.

The services hand over plain data (`confirmation.read_back_points`); rendering it, in the
client's language whatever the interface's, happens here.
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from markupsafe import Markup

from portal.locales import both_first, html_lang, locale_of
from portal.models.complaint import CHANNEL_LABELS, REMEDY_LABELS, Complaint
from portal.services.intake.confirmation import read_back_points
from portal.web.display import label_of


def client_locale(complaint: Complaint) -> str:
    return locale_of(complaint.language)


def remedy_label(code: str) -> str:
    return label_of(REMEDY_LABELS, code)


def channel_label(code: str | None) -> str:
    return label_of(CHANNEL_LABELS, code) if code else ""


def render_read_back(complaint: Complaint, template: str, locale: str | None = None,
                     **context) -> str:
    """Render a read-back template in the client's language, whatever the UI language."""
    with force_locale(locale or client_locale(complaint)):
        return render_template(template, points=read_back_points(complaint),
                               remedy_label=remedy_label, channel_label=channel_label,
                               **context)


def points_html(complaint: Complaint, locale: str | None = None) -> Markup:
    return Markup(render_read_back(complaint, "readback/_points.html", locale))  # noqa: S704


def link_days(max_age: timedelta) -> int:
    """How many days a confirmation link lasts, as the email and the page say it."""
    return max(1, int(max_age.total_seconds()) // 86400)


def confirmation_email(complaint: Complaint, url: str) -> tuple[str, str, str]:
    """Subject, text and HTML of the bilingual request (the client's language first)."""
    days = link_days(current_app.config["CONFIRMATION_LINK_MAX_AGE"])
    subjects, texts, htmls = [], [], []
    locales = both_first(client_locale(complaint))
    for locale in locales:
        with force_locale(locale):
            subjects.append(_("Please confirm your complaint"))
        context = {"url": url, "days": days, "config": current_app.config}
        texts.append(render_read_back(complaint, "readback/_email_part.txt", locale, **context))
        part = render_read_back(complaint, "readback/_email_part.html", locale,
                                lang=locale, **context)
        htmls.append(Markup(part))  # noqa: S704 - the output of an autoescaped template
    subject = " / ".join(subjects)
    text = render_template("emails/confirmation_request.txt", parts=texts)
    html = render_template("emails/confirmation_request.html", parts=htmls, subject=subject,
                           lang=html_lang(locales[0]))
    return subject, text, html
