"""What every prevention verb shares: a matter's report interval and next due day, its count
of missing expectations, and its checklist copied from the type's template. The verbs
(services/prevention/*.py) call these after changing a matter, in the same transaction, so
that the stored `Matter.report_due_on` and `Matter.expectation_gaps` stay true (the dashboard
and the overdue lists read only those columns)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from portal.db import db
from portal.models.matter import Matter
from portal.models.prevention import (
    DEFAULT_REPORT_INTERVAL_DAYS,
    ChecklistTemplateItem,
    Expectation,
    ExpectationEntry,
    MatterChecklistItem,
    MatterStatus,
    MatterType,
    ProgressReport,
)


def seed_defaults() -> int:
    """Add the seeded matter types (and their checklist templates) a database lacks, as the
    migration does; returns how many types were added. Types already there are left alone."""
    from portal.services.prevention.seed import MATTER_TYPE_SEED, template_for

    present = set(db.session.scalars(select(MatterType.code)))
    added = 0
    for position, (code, zh, en, days) in enumerate(MATTER_TYPE_SEED):
        if code in present:
            continue
        db.session.add(MatterType(code=code, label_zh=zh, label_en=en, position=position,
                                  report_interval_days=days, items=[
                                      ChecklistTemplateItem(stage=stage.value, label_zh=s_zh,
                                                            label_en=s_en, position=n,
                                                            needs_document=needs_document)
                                      for n, (stage, s_zh, s_en, needs_document)
                                      in enumerate(template_for(code))]))
        added += 1
    return added


def interval_days(matter: Matter) -> int:
    """The matter's own interval, else its type's, else the default (30 days)."""
    if matter.report_interval_days:
        return matter.report_interval_days
    if matter.matter_type is not None:
        return matter.matter_type.report_interval_days
    return DEFAULT_REPORT_INTERVAL_DAYS


def last_report_on(matter: Matter) -> date | None:
    if matter.id is None:
        return None
    return db.session.scalar(select(func.max(ProgressReport.reported_on))
                             .where(ProgressReport.matter_id == matter.id))


def reschedule(matter: Matter) -> None:
    """Set `report_due_on`: the last report's day (or the opening day) plus the interval; none
    for a matter that is not open or has no day to count from."""
    start = last_report_on(matter) or matter.opened_on
    if matter.status != MatterStatus.OPEN or start is None:
        matter.report_due_on = None
    else:
        matter.report_due_on = start + timedelta(days=interval_days(matter))


def recount_gaps(matter: Matter) -> None:
    """Set `expectation_gaps`: how many expectations have no entry with content."""
    recorded = set() if matter.id is None else set(db.session.scalars(
        select(ExpectationEntry.item).where(ExpectationEntry.matter_id == matter.id)
        .where((ExpectationEntry.text.is_not(None)) | (ExpectationEntry.given_on.is_not(None)))
        .distinct()))
    matter.expectation_gaps = len([e for e in Expectation if e.value not in recorded])


def start_checklist(matter: Matter) -> list[MatterChecklistItem]:
    """Copy the active template items of the matter's type onto it (once: a matter that has a
    checklist keeps it)."""
    if matter.matter_type_code is None:
        return []
    if matter.id is not None and db.session.scalar(
            select(MatterChecklistItem.id).where(MatterChecklistItem.matter_id == matter.id)
            .limit(1)) is not None:
        return []
    template = db.session.scalars(
        select(ChecklistTemplateItem)
        .where(ChecklistTemplateItem.matter_type_code == matter.matter_type_code,
               ChecklistTemplateItem.active)
        .order_by(ChecklistTemplateItem.position, ChecklistTemplateItem.id)).all()
    items = [MatterChecklistItem(matter=matter, template_item_id=t.id, stage=t.stage,
                                 label_zh=t.label_zh, label_en=t.label_en,
                                 needs_document=t.needs_document, position=position)
             for position, t in enumerate(template, start=1)]
    db.session.add_all(items)
    return items
