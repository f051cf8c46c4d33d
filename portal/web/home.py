"""The role-aware home page ("my work") and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template, send_from_directory
from flask_babel import get_locale
from flask_login import current_user
from sqlalchemy import text

from portal.db import db
from portal.models.resolution import REMEDY_KIND_LABELS
from portal.security import public, signed_in
from portal.services import worklist
from portal.services.followup import actions as improvement_actions
from portal.services.followup import callbacks
from portal.services.prevention import dashboard as prevention_dashboard
from portal.services.resolution import remedies
from portal.web import page_cache

bp = Blueprint("home", __name__)


@bp.route("/")
@signed_in
def index():
    def render():
        user = current_user._get_current_object()
        work = worklist.for_user(user)
        return render_template("home/index.html", work=work,
                               remedy_tasks=remedies.my_tasks(user),
                               my_callbacks=callbacks.my_callbacks(user),
                               overdue_remedies=remedies.overdue_tasks(user),
                               remedy_labels=REMEDY_KIND_LABELS,
                               my_actions=improvement_actions.my_open(user),
                               overdue_actions=improvement_actions.overdue(user),
                               prevention=prevention_dashboard.for_user(user, _language()))
    return page_cache.remember(render)


def _language() -> str:
    return "en" if str(get_locale()).startswith("en") else "zh"


@bp.route("/favicon.ico")
@public
def favicon():
    """Browsers ask for /favicon.ico whatever the page links; answer it instead of a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=86400)


@bp.route("/healthz")
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
        database = "reachable"
        status = 200
    except Exception:  # noqa: BLE001 - the health check reports, it does not raise
        database = "unreachable"
        status = 503
    # the email channel is on once a complaints mailbox is configured (`flask mail work`)
    email_channel = "on" if current_app.config.get("MAIL_INBOX_HOST") else "off"
    return jsonify(status="ok" if status == 200 else "degraded", database=database,
                   email_channel=email_channel), status
