"""Partners approve or reject the access changes another partner asked for.

Routes on the admin blueprint (imported by portal.web.admin). The page and every action
answer with one partial, `admin/_access_requests.html`; without JavaScript an action
redirects back to the page.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, flash, url_for
from flask_babel import gettext as _
from flask_login import current_user

from portal.config import second_partner_approval
from portal.db import db, write_transaction
from portal.models.access_request import ACCESS_REQUEST_LABELS, AccessRequest, AccessRequestKind
from portal.models.user import Role, User
from portal.security import roles
from portal.services import approvals
from portal.web import htmx
from portal.web.admin import bp


@bp.app_template_global()
def second_partner_approval_on() -> bool:
    return second_partner_approval(current_app.config)


@bp.app_template_global()
def access_request_label(kind: str) -> str:
    label = ACCESS_REQUEST_LABELS.get(AccessRequestKind(kind)) if kind in set(
        AccessRequestKind) else None
    return str(label) if label else kind


def refusal_message(code: str) -> str:
    return {
        "own_request": _("You asked for this change: another partner must approve it."),
        "own_account": _("This change concerns your own account: another partner must "
                         "approve it."),
        "decided": _("This request has already been decided or replaced. The list now shows "
                     "what is still waiting."),
        "not_partner": _("Only an active partner may decide this request."),
    }.get(code, _("This change is not allowed."))


@bp.app_template_global()
def approval_refusal_text(access_request: AccessRequest) -> str:
    code = access_request.approval_refusal(current_user)
    return refusal_message(code) if code else ""


def _requests_answer(status: int = 200, *, message: str | None = None,
                     error: str | None = None, trigger: str | None = None):
    context = {"requests": approvals.pending_requests(), "message": message, "error": error}
    if htmx.is_partial_request():
        return htmx.partial("admin/_access_requests.html", status, trigger=trigger, **context)
    return htmx.page_or_partial("admin/access_requests.html", "admin/_access_requests.html",
                                status=status, **context)


@bp.route("/requests")
@roles(Role.PARTNER)
def access_requests():
    return _requests_answer()


def _done_message(access_request: AccessRequest, user: User, approved: bool) -> str:
    what = access_request_label(access_request.kind)
    if approved:
        return _("Approved: %(what)s for %(name)s.", what=what, name=user.name)
    return _("Rejected: %(what)s for %(name)s.", what=what, name=user.name)


def _refusal(access_request: AccessRequest, actor: User, approving: bool) -> str | None:
    if approving:
        return access_request.approval_refusal(actor)
    return None if access_request.can_reject(actor) else "decided"


def _decided_message(request_id: int, decide: Callable[[User, AccessRequest], AccessRequest],
                     actor: User, approving: bool) -> str:
    access_request = db.get_or_404(AccessRequest, request_id)  # reloaded for the write
    decide(actor, access_request)
    return _done_message(access_request, access_request.user, approving)


def _refusal_code(error: Exception) -> str:
    if not isinstance(error, approvals.ApprovalError):
        raise error
    return error.code


def _decide(request_id: int, decide: Callable[[User, AccessRequest], AccessRequest],
            approving: bool):
    actor = current_user._get_current_object()
    refusal = _refusal(db.get_or_404(AccessRequest, request_id), actor, approving)
    if refusal is None:
        message, refusal = htmx.write(
            lambda: _decided_message(request_id, decide, actor, approving),
            done=lambda message: (message, None),
            refused=lambda error, status: (None, _refusal_code(error)))
    if refusal is not None:
        if refusal != "decided":
            with write_transaction():  # an attempt to approve one's own change is recorded
                approvals.record_refusal(actor, db.session.get(AccessRequest, request_id),
                                         refusal)
        return _requests_answer(409 if refusal == "decided" else 403,
                                error=refusal_message(refusal))
    if htmx.is_partial_request():
        return _requests_answer(message=message, trigger="accessChanged")
    flash(message, "ok")
    return htmx.redirect(url_for("admin.access_requests"))


@bp.route("/requests/<int:request_id>/approve", methods=["POST"])
@roles(Role.PARTNER)
def access_request_approve(request_id: int):
    return _decide(request_id, approvals.approve, approving=True)


@bp.route("/requests/<int:request_id>/reject", methods=["POST"])
@roles(Role.PARTNER)
def access_request_reject(request_id: int):
    return _decide(request_id, approvals.reject, approving=False)
