"""Partners' administration: user accounts and the audit-trail browser."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from flask import Blueprint, flash, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import to_utc
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import SelectChoice

from portal.db import db
from portal.i18n import current_locale
from portal.locales import language_of
from portal.models.audit import AuditEvent
from portal.models.user import Department, Role, User
from portal.security import roles
from portal.services import accounts, approvals
from portal.services import admin as queries
from portal.services import audit as audit_service
from portal.web import htmx
from portal.web.admin_forms import (
    AuditFilterForm,
    PasswordResetForm,
    UserCreateForm,
    UserEditForm,
    UserFilterForm,
)
from portal.web.audit_labels import ACTION_LABELS, OBJECT_LABELS, action_label
from portal.web.params import page_number

bp = Blueprint("admin", __name__, url_prefix="/admin")

CHAIN_REASONS = {  # services.audit.ChainBreak codes, in the reader's language
    "link": _l("its link to the previous event does not match (an event was deleted or moved)"),
    "edited": _l("its content does not match its hash (the event was edited)"),
    "scheme": _l("it is not signed with the firm's key although its place in the chain "
                 "requires it (the event was forged or its signature removed)"),
    "wrong_key": _l("the signed part of the chain was started with another key than the "
                    "configured AUDIT_HMAC_KEY"),
    "rechained": _l("it differs from the checkpoint kept outside the database (the chain was "
                    "rewritten)"),
    "truncated": _l("the newest checkpoint kept outside the database names this event, but it "
                    "is missing (events were deleted)"),
    "checkpoint_forged": _l("a line of the checkpoint file is not signed with the firm's key "
                            "(the file was altered)"),
    "no_checkpoint": _l("there is no checkpoint file for this database, so deleted events "
                        "cannot be ruled out"),
}


def _error_messages() -> dict[tuple[str, str], str]:
    return {
        ("username", "taken"): _("This username is already taken."),
        ("email", "taken"): _("Another person already has this email address."),
        ("active", "self_disable"): _(
            "You cannot disable your own account: ask another partner to do it."
        ),
        ("roles", "self_demote"): _(
            "You cannot remove your own partner role: ask another partner to do it."
        ),
        ("password", "no_login"): _("This person has no login, so there is no password to reset."),
        ("password", "length"): _("A password has %(min)d to %(max)d characters.",
                                  min=accounts.PASSWORD_MIN, max=accounts.PASSWORD_MAX),
        ("username", "format"): _("Use letters, digits, dots, hyphens and underscores only."),
        ("name", "required"): _("Please enter the person's name."),
        ("name", "length"): _("A name has at most %(max)d characters.", max=accounts.NAME_MAX),
        ("name", "single_line"): _("A name is written on one line."),
        ("email", "invalid"): _("This is not an email address the portal can send mail to."),
        ("active", "awaiting_approval"): _(
            "This new account is waiting for a second partner's approval: it becomes active "
            "once approved."
        ),
        ("roles", "awaiting_approval"): _(
            "This new account is waiting for a second partner's approval with the roles "
            "shown. To change them, reject the request and ask again."
        ),
    }


def _attach(form, error: accounts.AccountError) -> None:
    message = _error_messages().get((error.field, error.code), _("This change is not allowed."))
    field = getattr(form, error.field, None)
    if field is None:
        form.form_errors.append(message)
    else:
        field.errors = [*field.errors, message]


T = TypeVar("T")


def _commit_change(form, change: Callable[[], T]) -> T | None:
    """Run an account service through `htmx.write`; when it is refused, put the reason on
    the form and return None."""

    def refused(error: Exception, status: int) -> None:
        if not isinstance(error, accounts.AccountError):
            raise error
        _attach(form, error)

    try:
        return htmx.write(change, done=lambda result: result, refused=refused)
    except IntegrityError:  # two partners racing for the same username or address
        form.form_errors.append(_("This username or email address is already in use."))
        return None


def department_name(department: Department | None) -> str:
    if department is None:
        return ""
    return department.name_zh if language_of(current_locale()) == "zh" else department.name_en


def _department_choices(form) -> None:
    form.department.choices = [SelectChoice("", _("No department"))] + [
        SelectChoice(str(d.id), department_name(d)) for d in queries.departments()
    ]


def _department_id(form) -> int | None:
    return int(form.department.data) if form.department.data else None


def _selected_roles(form) -> set[Role]:
    return {Role(value) for value in form.roles.data or []}


@bp.app_template_global()
def audit_action_label(action: str) -> str:
    return action_label(action)


@bp.app_template_global()
def audit_object_label(object_type: str | None) -> str:
    label = OBJECT_LABELS.get(object_type or "")
    return str(label) if label else (object_type or "")


@bp.app_template_global()
def chain_break_reason(broken: audit_service.ChainBreak) -> str:
    label = CHAIN_REASONS.get(broken.code)
    return str(label) if label else broken.reason


@bp.app_template_global()
def audit_details(event: AuditEvent) -> str:
    if not event.details:
        return ""
    return json.dumps(event.details, ensure_ascii=False, sort_keys=True)


bp.add_app_template_global(department_name, "department_name")


# ---------------------------------------------------------------- settings


# The pages where partners set the portal up: (endpoint, label, what it is for).
SETTINGS = (
    ("admin.users", _l("Users"), _l("Staff accounts, their roles, and requests awaiting a "
                                     "second partner's approval.")),
    ("admin.audit", _l("Audit trail"), _l("Every change and every opening of a case file, "
                                          "with the chain's verification.")),
    ("calendar.index", _l("Working days"), _l("Holidays and make-up working days that the "
                                              "deadlines count with.")),
    ("triage.routing_page", _l("Routing table"), _l("Who leads an investigation, and its "
                                                    "deadlines, by severity.")),
    ("rules.index", _l("Rules"), _l("The rules a finding may engage.")),
    ("decision.recourse_index", _l("Recourse texts"), _l("Where a client may turn next, by "
                                                         "jurisdiction, printed on outcomes.")),
    ("matters.types_index", _l("Matter types"), _l("Each type's report interval and the "
                                                   "checklist of its standard procedure.")),
    ("improvement.causes", _l("Root causes"), _l("The causes a partner chooses from when "
                                                 "closing a complaint.")),
)


@bp.route("")
@roles(Role.PARTNER)
def settings():
    return render_template("admin/settings.html", settings=SETTINGS)


# ---------------------------------------------------------------- users


@bp.route("/users")
@roles(Role.PARTNER)
def users():
    form = UserFilterForm(formdata=request.args)
    valid = form.validate()
    people = (
        queries.search_users(form.q.data or "", form.role.data or "", form.status.data or "")
        if valid
        else []
    )
    return htmx.page_or_partial(
        "admin/users.html", "admin/_user_table.html", status=200 if valid else 422,
        form=form, users=people, pending=approvals.pending_by_user([u.id for u in people]),
        requests=approvals.pending_requests(),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles(Role.PARTNER)
def user_new():
    form = UserCreateForm()
    _department_choices(form)
    if request.method == "GET":
        return render_template("admin/user_new.html", form=form)
    if form.validate():
        password_hash = accounts.hash_password(form.password.data)  # slow: before the write
        user = _commit_change(form, lambda: accounts.create_user(
            current_user._get_current_object(),
            username=form.username.data,
            name=form.name.data,
            email=form.email.data,
            password_hash=password_hash,
            roles=_selected_roles(form),
            department_id=_department_id(form),
        ))
        if user is not None:
            if user.active:
                flash(_("The account %(username)s has been created.",
                        username=user.username), "ok")
            else:
                flash(_("The account %(username)s has been created. It can be used once "
                        "another partner approves it.", username=user.username), "ok")
            return htmx.redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form), 422


def _edit_data(user: User, waiting: list) -> dict:
    """The form shows roles waiting for approval ticked (they are labelled as waiting)."""
    requested = {role for r in waiting for role in r.role_set}
    return {
        "name": user.name,
        "email": user.email or "",
        "department": str(user.department_id or ""),
        "roles": sorted(r.value for r in user.roles | requested),
        "active": user.active,
        "aliases": user.aliases,
    }


def _edit_page(user: User, form: UserEditForm, status: int = 200):
    return render_template(
        "admin/user_edit.html", user=user, form=form,
        password_form=PasswordResetForm(formdata=None), password_done=False,
        waiting=approvals.pending_for(user),
    ), status


def _saved_message(change: accounts.UserChange) -> str:
    if change.requests:
        return _("The changes to %(name)s have been saved. What grants access waits for "
                 "another partner's approval.", name=change.user.name)
    return _("The changes to %(name)s have been saved.", name=change.user.name)


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@roles(Role.PARTNER)
def user_edit(user_id: int):
    user = db.get_or_404(User, user_id)
    form = UserEditForm(data=_edit_data(user, approvals.pending_for(user)))
    _department_choices(form)
    if request.method == "GET":
        return _edit_page(user, form)
    valid = form.validate()
    if valid:
        saved = _commit_change(form, lambda: _update_user(user, form))
        if saved:
            flash(_saved_message(saved), "ok")
            return htmx.redirect(url_for("admin.users"))
    user = db.get_or_404(User, user_id)  # reload after a rollback
    return _edit_page(user, form, status=422)


def _update_user(user: User, form: UserEditForm) -> accounts.UserChange:
    actor = current_user._get_current_object()
    change = accounts.update_user(
        actor, user,
        name=form.name.data, email=form.email.data, roles=_selected_roles(form),
        active=form.active.data, department_id=_department_id(form),
    )
    accounts.set_aliases(actor, user, form.aliases.data)
    return change


def _password_message(user: User, waiting: bool) -> str:
    if waiting:
        return _("The new password of %(name)s waits for another partner's approval; it "
                 "takes effect (and ends their open sessions) once approved.", name=user.name)
    return _("The password of %(name)s has been reset; their open sessions have ended.",
             name=user.name)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@roles(Role.PARTNER)
def user_password(user_id: int):
    user = db.get_or_404(User, user_id)
    form = PasswordResetForm()
    done: str | bool = False  # the message to show once done
    status = 200
    if request.method == "POST":
        status = 422
        if user.id == current_user.id:
            form.validate()
            form.form_errors.append(
                _("To change your own password, use “Password” at the top of the page.")
            )
        elif form.validate():
            password_hash = accounts.hash_password(form.password.data)  # slow: before the write
            reset = _commit_change(form, lambda: accounts.reset_password(
                current_user._get_current_object(), user, password_hash=password_hash))
            if reset:
                done, status = _password_message(user, waiting=bool(reset.requests)), 200
                form = PasswordResetForm(formdata=None)
                if not htmx.is_partial_request():
                    flash(done, "ok")
                    return htmx.redirect(url_for("admin.user_edit", user_id=user.id))
    return htmx.page_or_partial(
        "admin/user_password.html", "admin/_password_form.html", status=status,
        user=user, password_form=form, password_done=done,
    )


# ---------------------------------------------------------------- audit trail


def _local_midnight_utc(day) -> datetime:
    return to_utc(datetime.combine(day, time.min)).replace(tzinfo=UTC)


def _audit_filter(form: AuditFilterForm) -> queries.AuditFilter:
    return queries.AuditFilter(
        action=form.action.data or None,
        actor=form.actor.data or None,
        object_type=form.object_type.data or None,
        object_id=form.object_id.data or None,
        since=_local_midnight_utc(form.date_from.data) if form.date_from.data else None,
        until=(
            _local_midnight_utc(form.date_to.data + timedelta(days=1))
            if form.date_to.data
            else None
        ),
    )


FILTER_KEYS = ("action", "actor", "object_type", "object_id", "date_from", "date_to")


@bp.app_template_global()
def audit_page_url(page: int) -> str:
    args = {key: request.args[key] for key in FILTER_KEYS if request.args.get(key)}
    return url_for("admin.audit", page=page, **args)


@bp.route("/audit")
@roles(Role.PARTNER)
def audit():
    form = AuditFilterForm(formdata=request.args)
    # what the trail holds, plus the kinds we know of (a filter may find nothing yet)
    actions = sorted(set(queries.audit_actions()) | set(ACTION_LABELS))
    kinds = sorted(set(queries.audit_object_types()) | set(OBJECT_LABELS))
    form.action.choices = [SelectChoice("", _("Any action"))] + [
        SelectChoice(action, audit_action_label(action)) for action in actions
    ]
    form.object_type.choices = [SelectChoice("", _("Any type"))] + [
        SelectChoice(kind, audit_object_label(kind)) for kind in kinds
    ]
    valid = form.validate()
    page = page_number()
    viewer = current_user._get_current_object()
    events = queries.search_audit(_audit_filter(form), viewer, page) if valid else None
    withheld = queries.withheld_events(events.items, viewer) if events else frozenset()
    return htmx.page_or_partial(
        "admin/audit.html", "admin/_audit_table.html", status=200 if valid else 422,
        form=form, events=events, withheld=withheld,
    )


@bp.route("/audit/verify")
@roles(Role.PARTNER)
def audit_verify():
    result = audit_service.verify()  # reads only: saves go on while it walks
    return htmx.page_or_partial(
        "admin/audit_verify.html", "admin/_audit_verify.html", checked=True,
        broken=result.broken, result=result,
    )


from portal.web import admin_approvals  # noqa: E402,F401 - its routes join this blueprint
