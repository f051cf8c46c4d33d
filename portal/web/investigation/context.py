"""What the workspace's routes share: loading a complaint (and a row of it) only for someone
who may open the workspace, 404 for everyone else, and the context of the page and its
partials."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import abort, current_app, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from portal.db import db
from portal.models.complaint import (
    EVIDENCE_CATEGORY_LABELS,
    INVESTIGATION_STATES,
    STATE_LABELS,
    Complaint,
)
from portal.models.investigation import (
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    STATEMENT_METHOD_LABELS,
    Allegation,
    Assignment,
)
from portal.models.matter import Matter
from portal.models.user import User
from portal.security import AUTHENTICATED, PUBLIC, access_rule
from portal.services.intake.errors import ConflictError, IntakeError
from portal.services.investigation import chronology, previews
from portal.services.investigation import workspace as workspace_service
from portal.web.display import label_of
from portal.web.intake.context import attach
from portal.web.investigation.forms import blank_forms

CHANGED = "workspace-changed"  # the chronology refreshes itself on it
M = TypeVar("M")


def actor() -> User:
    return current_user._get_current_object()


def load(key: str) -> Complaint:
    """The complaint `key` names, if the viewer may open its workspace. Anyone else gets
    404, exactly as for a complaint that does not exist: a respondent, the matter's people,
    a declared conflict (all hidden by the visibility rule), and anyone neither assigned nor
    a partner."""
    named = Complaint.with_key(key)
    user = actor()
    complaint = None if named is None else db.session.scalar(
        select(Complaint).where(named, Complaint.visible_to(user)).options(
            # what can_open_workspace and the page's header read, in one query each
            selectinload(Complaint.respondents), selectinload(Complaint.exclusions),
            selectinload(Complaint.conflicts),
            selectinload(Complaint.matter).selectinload(Matter.team),
            selectinload(Complaint.assignments).selectinload(Assignment.user),
            selectinload(Complaint.allegations).selectinload(Allegation.respondent)))
    if complaint is None or not complaint.can_open_workspace(user):
        abort(404)
    return complaint


def row_of(model: type[M], complaint: Complaint, row_id: int) -> M:
    """A row of this complaint (evidence, statement, note) by id; 404 when it belongs to
    another complaint or does not exist, so a guessed id shows nothing."""
    row = db.session.scalar(select(model).where(model.id == row_id,  # type: ignore[attr-defined]
                                                model.complaint_id == complaint.id))  # type: ignore[attr-defined]
    if row is None:
        abort(404)
    return row


def workspace_url(complaint: Complaint, anchor: str | None = None) -> str:
    return url_for("investigation.workspace", key=complaint.label, _anchor=anchor)


@dataclass
class Section:
    """One partial's form and what it says after an action."""

    form: Any = None
    note: str | None = None
    conflict: str | None = None
    errors: list[str] = field(default_factory=list)


def refuse(section: Section, error: IntakeError, renames: dict[str, str] | None = None) -> None:
    """Put a refusal where the user will read it: a closed investigation on top of the form,
    a field's message beside that field (`renames`: the service's name → the form's)."""
    if isinstance(error, ConflictError):
        section.conflict = error.message
    elif section.form is None:
        section.errors.append(error.message)
    else:
        if renames:
            error.errors = {renames.get(name, name): messages
                            for name, messages in error.errors.items()}
        attach(section.form, error)


def may_open(endpoint: str) -> bool:
    """Whether the viewer's roles admit them to another page (the case file, say), so that
    the workspace links there only when the link works."""
    rule = access_rule(current_app.view_functions.get(endpoint))
    if rule in (PUBLIC, AUTHENTICATED):
        return True
    return isinstance(rule, frozenset) and actor().has_role(*rule)


def labels() -> dict[str, Any]:
    return {
        "may_open": may_open,
        "state_labels": STATE_LABELS,
        "severity_label": lambda code: label_of(SEVERITY_LABELS, code) if code else "",
        "category_label": lambda code: label_of(EVIDENCE_CATEGORY_LABELS, code),
        "allegation_category": lambda code: label_of(CATEGORY_LABELS, code),
        "method_label": lambda code: label_of(STATEMENT_METHOD_LABELS, code),
        "preview_kind": previews.kind_of,
        "preview_failed": previews.has_failed,
    }


def page_context(complaint: Complaint, sections: dict[str, Section] | None = None,
                 **extra: Any) -> dict[str, Any]:
    """The whole workspace: every list, every form (fresh unless `sections` holds the one
    just refused or saved) and the chronology."""
    loaded = workspace_service.load(complaint)
    forms = blank_forms(complaint)
    views = {name: Section(form=form) for name, form in forms.items()}
    views.update(sections or {})
    return {
        "complaint": complaint,
        "ws": loaded,
        "sections": views,
        "chronology": chronology.build(loaded),
        "ws_open": complaint.state in INVESTIGATION_STATES,
        "text_preview": text_preview,
        **labels(),
        **extra,
    }


def text_preview(item) -> list[str]:
    from portal.services import evidence as evidence_service

    try:
        path = evidence_service.path_of(item)
    except IntakeError:
        return []
    return previews.first_lines(path, item.content_type)


def blank(complaint: Complaint, name: str) -> FlaskForm:
    return blank_forms(complaint)[name]
