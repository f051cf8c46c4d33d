"""Matter types and their checklist templates, which partners keep at /admin/matter-types.

A type has its labels in both languages, its default progress-report interval and its steps
(stage, labels, whether the step keeps a document, order, active). A new type starts with the
standard procedure. Editing a template changes only the matters created afterwards: a matter's
checklist is its own copy (core.start_checklist). A new default interval moves the next report
day of the type's open matters that have no interval of their own. A type is never deleted,
only deactivated (no longer offered for a new matter). Every change is audited and checks the
type's version (409 when stale): a change to a step moves the type's version too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from portal.db import db
from portal.models.matter import Matter
from portal.models.prevention import (
    ChecklistTemplateItem,
    MatterStatus,
    MatterType,
    ProgressReport,
    Stage,
)
from portal.models.user import User
from portal.services import audit
from portal.services.intake.errors import ConflictError, FieldErrors
from portal.services.prevention.matters import (
    INTERVAL_MAX,
    PreventionError,
    line,
    may_manage,
    refuse_if_any,
)
from portal.services.prevention.seed import template_for

CODE = re.compile(r"[a-z][a-z0-9_]{1,39}")
TYPE_LABEL_MAX, STEP_LABEL_MAX = 100, 200


class TypeChanged(ConflictError):
    def __init__(self) -> None:
        super().__init__(_("Someone else changed this matter type after you opened the page, "
                           "so nothing was saved. What you typed is still on screen: reload "
                           "the page to see the type as it is now, then try again."))


@dataclass(frozen=True)
class TypeInput:
    label_zh: str
    label_en: str
    interval: str  # days, as typed
    active: bool = True


@dataclass(frozen=True)
class StepInput:
    stage: str
    label_zh: str
    label_en: str
    needs_document: bool = False
    active: bool = True


def catalogue() -> list[MatterType]:
    """Every type with its steps, in order (two queries)."""
    return list(db.session.scalars(select(MatterType).options(selectinload(MatterType.items))
                                   .order_by(MatterType.position, MatterType.code)))


def find(code: str) -> MatterType | None:
    return db.session.get(MatterType, code) if code and len(code) <= 40 else None


# -- checking ------------------------------------------------------------------------------------

def _require_partner(actor: User) -> None:
    if not may_manage(actor):
        raise PreventionError(_("Only partners edit the matter types."))


def _labels(zh: str, en: str, most: int, errors: FieldErrors) -> tuple[str, str]:
    labels = line(zh), line(en)
    for name, value in zip(("label_zh", "label_en"), labels, strict=True):
        if not value:
            errors.add(name, _("Enter the label in both languages."))
        elif len(value) > most:
            errors.add(name, _("A label has at most %(max)d characters.", max=most))
    return labels


def _type_fields(data: TypeInput, errors: FieldErrors) -> dict:
    zh, en = _labels(data.label_zh, data.label_en, TYPE_LABEL_MAX, errors)
    raw = (data.interval or "").strip()
    days = int(raw) if raw.isdigit() and len(raw) < 5 else 0
    if not 1 <= days <= INTERVAL_MAX:
        errors.add("interval", _("Enter a number of days from 1 to %(max)d.", max=INTERVAL_MAX))
    return {"label_zh": zh, "label_en": en, "report_interval_days": days,
            "active": bool(data.active)}


def _step_fields(data: StepInput, errors: FieldErrors) -> dict:
    zh, en = _labels(data.label_zh, data.label_en, STEP_LABEL_MAX, errors)
    if data.stage not in {s.value for s in Stage}:
        errors.add("stage", _("Choose the stage of the procedure."))
    return {"stage": data.stage, "label_zh": zh, "label_en": en,
            "needs_document": bool(data.needs_document), "active": bool(data.active)}


def _locked(code: str, expected_version: int | None) -> MatterType:
    kind = db.session.get(MatterType, code, with_for_update=True, populate_existing=True) \
        if code and len(code) <= 40 else None
    if kind is None:
        raise PreventionError(_("This matter type does not exist."))
    if expected_version is None or kind.version != expected_version:
        raise TypeChanged()
    return kind


def _touched(kind: MatterType) -> None:
    """Move the type's version: its template changed."""
    flag_modified(kind, "label_zh")
    db.session.flush()


def _record(action: str, actor: User, kind: MatterType, **details) -> None:
    audit.record(action, actor=actor, object_type="matter_type", object_id=kind.code,
                 details={"matter_type": kind.code, "version": kind.version, **details})


def _reschedule_type(kind: MatterType) -> int:
    """The next report day of the type's open matters without an interval of their own, by
    core.reschedule's rule (the last report's day, or the opening day, plus the interval):
    two statements whatever the number of matters. Returns how many were moved."""
    last = (select(ProgressReport.matter_id, func.max(ProgressReport.reported_on).label("day"))
            .group_by(ProgressReport.matter_id).subquery())
    rows = db.session.execute(
        select(Matter.id, func.coalesce(last.c.day, Matter.opened_on), Matter.report_due_on)
        .outerjoin(last, last.c.matter_id == Matter.id)
        .where(Matter.matter_type_code == kind.code, Matter.status == MatterStatus.OPEN.value,
               Matter.report_interval_days.is_(None), Matter.opened_on.is_not(None))).all()
    step = timedelta(days=kind.report_interval_days)
    moved = [{"mid": mid, "due": start + step} for mid, start, due in rows
             if start is not None and start + step != due]
    if moved:
        table = Matter.__table__
        db.session.execute(update(table).where(table.c.id == bindparam("mid"))
                           .values(report_due_on=bindparam("due")), moved)
    return len(moved)


# -- the verbs -----------------------------------------------------------------------------------

def add_type(actor: User, code: str, data: TypeInput) -> MatterType:
    """A new active type at the end, with the standard procedure as its checklist."""
    _require_partner(actor)
    errors = FieldErrors()
    fields = _type_fields(TypeInput(data.label_zh, data.label_en, data.interval), errors)
    code = (code or "").strip().lower()
    if not CODE.fullmatch(code):
        errors.add("code", _("A code is 2 to 40 lower-case letters, digits or underscores, "
                             "starting with a letter (for example tax_advice)."))
    elif db.session.get(MatterType, code) is not None:
        errors.add("code", _("The code %(code)s is taken by another type.", code=code))
    refuse_if_any(errors)
    position = (db.session.scalar(select(func.max(MatterType.position))) or 0) + 1
    kind = MatterType(code=code, position=position, **fields, items=[
        ChecklistTemplateItem(stage=stage.value, label_zh=zh, label_en=en, position=number,
                              needs_document=needs_document)
        for number, (stage, zh, en, needs_document) in enumerate(template_for(code), start=1)])
    db.session.add(kind)
    db.session.flush()
    _record("matter_type.added", actor, kind, interval=kind.report_interval_days,
            steps=len(kind.items))
    return kind


def update_type(actor: User, code: str, data: TypeInput, *,
                expected_version: int | None) -> MatterType:
    """New labels, default interval, or active or not."""
    _require_partner(actor)
    kind = _locked(code, expected_version)
    errors = FieldErrors()
    fields = _type_fields(data, errors)
    refuse_if_any(errors)
    changed = sorted(name for name, value in fields.items() if getattr(kind, name) != value)
    if not changed:
        return kind
    others_active = select(func.count()).select_from(MatterType).where(
        MatterType.active, MatterType.code != kind.code)
    if "active" in changed and not fields["active"] and db.session.scalar(others_active) == 0:
        raise PreventionError(_("At least one type stays active: a new matter needs one."),
                              field="active")
    for name in changed:
        setattr(kind, name, fields[name])
    db.session.flush()
    moved = _reschedule_type(kind) if "report_interval_days" in changed else 0
    _record("matter_type.updated", actor, kind, changed=changed, active=kind.active,
            interval=kind.report_interval_days, matters_rescheduled=moved)
    return kind


def add_step(actor: User, code: str, data: StepInput, *,
             expected_version: int | None) -> ChecklistTemplateItem:
    """A new step at the end of the type's template (new matters get it)."""
    _require_partner(actor)
    kind = _locked(code, expected_version)
    errors = FieldErrors()
    fields = _step_fields(StepInput(data.stage, data.label_zh, data.label_en,
                                    data.needs_document), errors)
    refuse_if_any(errors)
    position = max((item.position for item in kind.items), default=0) + 1
    step = ChecklistTemplateItem(position=position, **fields)
    kind.items.append(step)
    _touched(kind)
    _record("matter_type.step_added", actor, kind, step_id=step.id, stage=step.stage,
            needs_document=step.needs_document, position=position)
    return step


def _step(kind: MatterType, step_id: int) -> ChecklistTemplateItem:
    step = next((item for item in kind.items if item.id == step_id), None)
    if step is None:
        raise PreventionError(_("This step is not in the type's checklist."))
    return step


def update_step(actor: User, code: str, step_id: int, data: StepInput, *,
                expected_version: int | None) -> ChecklistTemplateItem:
    """New stage, labels, document or active flag for a step (existing matters keep theirs)."""
    _require_partner(actor)
    kind = _locked(code, expected_version)
    step = _step(kind, step_id)
    errors = FieldErrors()
    fields = _step_fields(data, errors)
    refuse_if_any(errors)
    changed = sorted(name for name, value in fields.items() if getattr(step, name) != value)
    if not changed:
        return step
    for name in changed:
        setattr(step, name, fields[name])
    _touched(kind)
    _record("matter_type.step_updated", actor, kind, step_id=step.id, changed=changed,
            stage=step.stage, needs_document=step.needs_document, active=step.active)
    return step


def move_step(actor: User, code: str, step_id: int, direction: int, *,
              expected_version: int | None) -> ChecklistTemplateItem:
    """One place up (-1) or down (+1); the steps are renumbered 1..n."""
    _require_partner(actor)
    if direction not in (-1, 1):
        raise PreventionError(_("A step moves one place up or down."))
    kind = _locked(code, expected_version)
    steps = sorted(kind.items, key=lambda item: (item.position, item.id))
    index = next((i for i, item in enumerate(steps) if item.id == step_id), None)
    if index is None:
        raise PreventionError(_("This step is not in the type's checklist."))
    target = index + direction
    if not 0 <= target < len(steps):
        raise PreventionError(_("This step is already the first.") if direction < 0 else
                              _("This step is already the last."))
    steps[index], steps[target] = steps[target], steps[index]
    for number, item in enumerate(steps, start=1):
        if item.position != number:
            item.position = number
    _touched(kind)
    step = steps[target]
    _record("matter_type.step_moved", actor, kind, step_id=step.id, position=step.position)
    return step
