"""The public online complaint form: no login, bilingual, works without JavaScript.

A plain HTML form POST. Whatever goes wrong (invalid input, too many submissions, an
expired form) the page comes back with everything the visitor typed.
"""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from portal.db import db
from portal.extensions import csrf
from portal.security import public
from portal.services import public_intake
from portal.web import htmx
from portal.web.public_forms import PublicComplaintForm

bp = Blueprint("public", __name__)


def _render(form: PublicComplaintForm, status: int = 200, notice: str | None = None):
    page = render_template("public/complaint.html", form=form, notice=notice, status=status)
    return page, status


def _visitor_language() -> str:
    """zh or en from the page's locale (Babel may report zh_CN as zh_Hans_CN)."""
    locale = get_locale()
    return "zh" if locale is None or locale.language == "zh" else "en"


def _csrf_ok() -> bool:
    token = request.form.get("csrf_token") or request.headers.get("X-CSRFToken")
    try:
        validate_csrf(token)
    except ValidationError:
        return False
    # Over HTTPS, also insist on a same-origin Referer, as CSRFProtect does.
    return _same_origin(request.referrer) if request.is_secure else True


def _same_origin(referrer: str | None) -> bool:
    return bool(referrer) and referrer.startswith(request.host_url)


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
    )


@bp.route("/complaint", methods=["GET", "POST"])
@public
@csrf.exempt  # checked below, so that a rejected form still gives the visitor their text
def complaint_form():
    form = PublicComplaintForm()
    if request.method == "GET":
        form.language.data = _visitor_language()
        return _render(form)
    if not _csrf_ok():
        public_intake.record_forged_request(request.path)
        db.session.commit()
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
        public_intake.discard_bot_submission(key)
        db.session.commit()
        return htmx.redirect(url_for("public.complaint_thanks"))
    if not form.validate():
        return _render(form, 422)
    public_intake.submit(_submission(form), form.payload(), key)
    db.session.commit()
    return htmx.redirect(url_for("public.complaint_thanks"))


@bp.route("/complaint/thanks")
@public
def complaint_thanks() -> str:
    return render_template("public/thanks.html")
