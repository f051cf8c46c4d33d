"""The routing table at /admin/routing: per severity, the lead's level, the investigators
required and the working days allowed. Partners edit one severity at a time."""

from __future__ import annotations

from flask import Response, abort, flash, url_for
from flask_babel import gettext as _

from portal.models.investigation import (
    LEAD_LEVEL_LABELS,
    SEVERITY_DEFINITIONS,
    SEVERITY_LABELS,
    Severity,
)
from portal.models.user import Role
from portal.security import roles
from portal.services import routing
from portal.services.intake.errors import IntakeError
from portal.web import htmx
from portal.web.intake.context import actor
from portal.web.triage import bp
from portal.web.triage_forms import RoutingForm

PAGE, PARTIAL = "triage/routing.html", "triage/_routing.html"


def _forms(refused: dict[str, RoutingForm] | None = None) -> dict[str, RoutingForm]:
    forms = {}
    for rule in routing.table():
        forms[rule.severity] = (refused or {}).get(rule.severity) or RoutingForm(
            formdata=None, prefix=f"routing-{rule.severity}", data=rule.__dict__)
    return forms


def _context(refused: dict[str, RoutingForm] | None = None, note: str | None = None) -> dict:
    return {"forms": _forms(refused), "severities": list(Severity), "note": note,
            "labels": {"severity": SEVERITY_LABELS, "definitions": SEVERITY_DEFINITIONS,
                       "lead_level": LEAD_LEVEL_LABELS}}


def _answer(status: int = 200, **context) -> Response:
    if status == 200 and context.get("note") and not htmx.wants_fragment():
        flash(context["note"], "ok")
    return htmx.answer(PARTIAL, PAGE, lambda _full: _context(**context), status=status,
                       redirect_to=url_for("triage.routing_page"))


@bp.route("/admin/routing")
@roles(Role.PARTNER)
def routing_page():
    return htmx.page_or_partial(PAGE, PARTIAL, **_context())


class _Refused(IntakeError):
    """routing.RoutingError as a refusal htmx.write knows (422)."""


def _update(severity: str, form: RoutingForm) -> routing.Routing:
    try:
        return routing.update(actor(), severity, lead_level=form.lead_level.data,
                              investigators_required=form.investigators_required.data,
                              investigation_days=form.investigation_days.data,
                              final_response_days=form.final_response_days.data)
    except routing.RoutingError as error:
        raise _Refused(str(error)) from error


@bp.route("/admin/routing/<severity>", methods=["POST"])
@roles(Role.PARTNER)
def update_routing(severity: str):
    if severity not in set(Severity):
        abort(404)
    form = RoutingForm(prefix=f"routing-{severity}")
    if not form.validate_on_submit():
        return _answer(422, refused={severity: form})

    def refused(error: IntakeError, status: int) -> Response:
        form.form_errors.append(error.message)
        return _answer(status, refused={severity: form})

    label = str(SEVERITY_LABELS[Severity(severity)])
    return htmx.write(lambda: _update(severity, form),
                      done=lambda _rule: _answer(note=_("The routing of “%(severity)s” "
                                                        "complaints is saved.",
                                                        severity=label)),
                      refused=refused)
