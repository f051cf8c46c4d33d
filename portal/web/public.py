"""The public online complaint form: no login, bilingual, works without JavaScript.

A plain HTML form POST. Whatever goes wrong (invalid input, too many submissions, an
expired form) the page comes back with everything the visitor typed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import gettext as _

from portal.db import write_transaction
from portal.i18n import client_language
from portal.request_bodies import (
    body_too_large,
    had_nul_bytes,
    shows_nul_bytes,
    shows_oversize_body,
)
from portal.security import csrf_failed, public, shows_csrf_failure
from portal.services import public_intake
from portal.web import htmx
from portal.web.public_forms import NARRATIVE_MAX, PublicComplaintForm

bp = Blueprint("public", __name__)


def _render(form: PublicComplaintForm, status: int = 200, notice: str | None = None):
    page = render_template("public/complaint.html", form=form, notice=notice, status=status)
    return page, status


def _submission(form: PublicComplaintForm) -> public_intake.PublicSubmission:
    return public_intake.PublicSubmission(
        name=form.name.data,
        narrative=form.narrative.data,
        language=form.language.data,
        phone=form.phone.data,
        email=form.email.data,
        occurred_on=form.occurred_on.data,
        place=form.place.data,
        remedies=form.remedies.data or [],
        remedy_details=form.remedy_details.data,
        lawyers=form.lawyers.data,
    )


@bp.route("/complaint", methods=["GET", "POST"])
@public
@shows_csrf_failure  # a rejected form still gives the visitor their text
@shows_oversize_body
@shows_nul_bytes
def complaint_form():
    form = PublicComplaintForm()
    if request.method == "GET":
        form.language.data = client_language()
        return _render(form)
    if body_too_large():
        return _render(form, 413, _(
            "What you sent is longer than we can accept, so nothing was sent. What we "
            "received is below, perhaps cut short: please shorten the description of what "
            "happened (at most %(max)d characters), check the other fields and send it again.",
            max=NARRATIVE_MAX))
    if had_nul_bytes():
        return _render(form, 400, _(
            "Your text contained a character that cannot be stored (a NUL character), so "
            "nothing was sent. It has been removed below: please check your text and send it "
            "again."))
    if csrf_failed():
        with write_transaction():
            public_intake.record_forged_request(request.path)
        return _render(form, 400, _(
            "This form has expired or did not come from this site, so nothing was sent. "
            "Your text is still below: please check it and send it again."))
    key = public_intake.visitor_key(g.client_ip, current_app.secret_key)
    if public_intake.over_limit(key, current_app.config["PUBLIC_FORM_PER_IP_PER_HOUR"]):
        return _render(form, 429, _(
            "We have received several complaints from your connection in the last hour, "
            "so we cannot accept another one right now and nothing was sent. Your text is "
            "still below: please copy it and send it again in an hour, or call us on "
            "%(phone)s or write to %(email)s.",
            phone=current_app.config["FIRM_PHONE"],
            email=current_app.config["FIRM_COMPLAINTS_EMAIL"]))
    if form.is_bot:
        with write_transaction():
            public_intake.discard_bot_submission(key)
        return htmx.redirect(url_for("public.complaint_thanks"))
    if not form.validate():
        return _render(form, 422)
    with write_transaction():
        public_intake.submit(_submission(form), form.payload(), key)
    return htmx.redirect(url_for("public.complaint_thanks"))


@bp.route("/complaint/thanks")
@public
def complaint_thanks() -> str:
    return render_template("public/thanks.html")
