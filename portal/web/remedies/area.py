"""The remedies area of the case file (`templates/remedies/_area.html`, root id
`area-remedies`): from `accepted` on, for whoever may see the decision materials and for the
owners of its tasks. Partners start the remedies and reassign tasks, and alone see the internal
measures; an owner or a partner records a task done."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portal import clock
from portal.db import db
from portal.i18n import client_language
from portal.locales import html_lang
from portal.models.complaint import Complaint, Evidence, State
from portal.models.notice import Notice
from portal.models.resolution import (
    DISCIPLINARY_LEVEL_LABELS,
    REMEDY_KIND_LABELS,
    DecidedRemedy,
    RemedyTask,
)
from portal.models.user import User
from portal.services import postal
from portal.services.resolution import completion
from portal.services.resolution import remedies as service
from portal.web import case_file
from portal.web.findings.common import overrides
from portal.web.remedies.forms import FormState

AREA = "remedies"
TEMPLATE = "remedies/_area.html"
SHOWN_STATES = (State.ACCEPTED, State.REMEDIES_IN_PROGRESS, State.FOLLOW_UP, State.CLOSED)
LANGUAGE_NAMES = {"zh": "中文", "en": "English"}


@dataclass
class TaskView:
    task: RemedyTask
    internal: bool
    form: str  # service.Form
    overdue: bool
    can_complete: bool
    can_reassign: bool
    complete_state: FormState
    assign_state: FormState
    owners: list[User] = field(default_factory=list)  # the reassign form's choices
    receipt: Evidence | None = None
    letter: Notice | None = None


@dataclass
class StartRow:
    remedy: DecidedRemedy
    internal: bool
    owners: list[User]
    owner_id: int
    due: str


def _letter(task: RemedyTask) -> Notice | None:
    return db.session.get(Notice, task.letter_notice_id) if task.letter_notice_id else None


def _task_view(complaint: Complaint, user: User, task: RemedyTask, shown: dict,
               people: list[User] | None, materials: bool) -> TaskView:
    internal = service.is_internal(task)
    can_reassign = service.may_reassign(complaint, task, user)
    complete_state = shown.get("complete", {}).get(task.id) or FormState(version=task.version)
    assign_state = shown.get("assign", {}).get(task.id) or FormState(version=task.version)
    return TaskView(
        task=task, internal=internal, form=service.form_of(task.remedy.kind),
        overdue=task.is_overdue(clock.today()),
        can_complete=service.may_complete(complaint, task, user),
        can_reassign=can_reassign, complete_state=complete_state, assign_state=assign_state,
        owners=service.candidates(complaint, internal, people) if can_reassign else [],
        receipt=service.receipt_of(task) if task.receipt_evidence_id and materials else None,
        letter=_letter(task) if task.letter_notice_id else None)


def _start(complaint: Complaint, user: User, shown: dict, people: list[User]) -> dict:
    decision = complaint.current_decision
    state = shown.get("start") or FormState(version=complaint.version)
    client_owners = service.candidates(complaint, False, people)
    partner_owners = service.candidates(complaint, True, people)
    rows = []
    for remedy in decision.remedies:
        internal = remedy.is_internal
        rows.append(StartRow(remedy, internal,
                             partner_owners if internal else client_owners,
                             service.default_owner(complaint, remedy, user).id,
                             service.default_due(remedy).isoformat()))
    return {"decision": decision, "rows": rows, "state": state,
            "delivery": postal.delivery_for(complaint)}


@case_file.area(AREA, order=70, template=TEMPLATE)
def remedies_area(complaint: Complaint, user: User) -> dict[str, Any] | None:
    if complaint.state not in SHOWN_STATES:
        return None
    rows = service.tasks(complaint)
    materials = complaint.can_see_decision_materials(user)
    if not materials and not any(t.owner_id == user.id for t in rows):
        return None
    partner_view = complaint.can_see_internal_measures(user)
    visible = service.shown_to(complaint, user, rows)
    shown = overrides(AREA)
    may_start = service.may_start(complaint, user)
    people = service.staff() if may_start or partner_view else None
    views = [_task_view(complaint, user, t, shown, people, materials) for t in visible]
    client_views = [v for v in views if not v.internal]
    return {
        "partner_view": partner_view,
        "tasks": views,
        "open": sum(1 for v in client_views if not v.task.is_done),
        "done": sum(1 for v in client_views if v.task.is_done),
        "start": _start(complaint, user, shown, people) if may_start else None,
        "notice": completion.completion_notice(complaint) if not may_start else None,
        "note": shown.get("note"),
        "labels": {"kind": REMEDY_KIND_LABELS, "level": DISCIPLINARY_LEVEL_LABELS,
                   "method": service.PAYMENT_METHOD_LABELS},
        "methods": list(service.PaymentMethod),
        "today": clock.today().isoformat(),
        "delivery": postal.delivery_for(complaint),
        "client_lang_tag": html_lang(complaint.language or "zh"),
        "client_lang_name": LANGUAGE_NAMES.get(complaint.language or "zh", ""),
        "lang": client_language(),
        "materials": materials,
    }
