"""The demo's prevention records (portal/demo_prevention.py): the small firm of `flask demo
seed` and the matters of `--complaints N` have types, checklists, expectations and reports
that agree with what services/prevention/core.py computes, with warnings to show."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta

from sqlalchemy import func, select

from portal import clock
from portal.clock import LOCAL_TZ
from portal.db import db
from portal.demo_prevention import Prevention, matter_type_for
from portal.models.complaint import Complaint
from portal.models.matter import Matter
from portal.models.prevention import (
    ChecklistTemplateItem,
    ExpectationEntry,
    MatterChecklistItem,
    MatterStatus,
    ProgressReport,
)
from portal.services.prevention import core


def _seed(runner, count: int) -> None:
    result = runner.invoke(args=["demo", "seed", "--complaints", str(count)])
    assert result.exit_code == 0, result.output
    assert f"{count} complaints added" in result.output


def _local_day(moment):
    return moment.astimezone(LOCAL_TZ).date()


def _assert_stored_values_are_what_core_computes(matters: list[Matter]) -> None:
    with db.session.no_autoflush:
        for matter in matters:
            stored = (matter.report_due_on, matter.expectation_gaps)
            core.reschedule(matter)
            core.recount_gaps(matter)
            assert (matter.report_due_on, matter.expectation_gaps) == stored, matter.reference
    db.session.rollback()  # the comparison changed nothing worth keeping


def _assert_every_matter_has_a_type_and_its_checklist(matters: list[Matter]) -> None:
    templates = dict(db.session.execute(
        select(ChecklistTemplateItem.matter_type_code, func.count())
        .where(ChecklistTemplateItem.active)
        .group_by(ChecklistTemplateItem.matter_type_code)).all())
    steps = dict(db.session.execute(select(MatterChecklistItem.matter_id, func.count())
                                    .group_by(MatterChecklistItem.matter_id)).all())
    for matter in matters:
        assert matter.matter_type_code is not None, matter.reference
        assert steps.get(matter.id) == templates[matter.matter_type_code], matter.reference


def test_the_demo_firm_shows_an_overdue_report_and_missing_expectations(app):
    with app.app_context():
        matters = list(db.session.scalars(select(Matter).order_by(Matter.reference)))
        today = clock.today()
        overdue = {m.reference for m in matters if m.report_due_on < today}
        gaps = {m.reference: m.expectation_gaps for m in matters if m.expectation_gaps}
        assert overdue == {"M-2026-0090"}  # its client complains of the silence
        assert gaps == {"M-2025-0188": 2}  # no fee estimate, no risks
        assert {m.reference: m.matter_type_code for m in matters} == {
            "M-2025-0142": "litigation", "M-2025-0188": "family", "M-2026-0031": "labour",
            "M-2026-0057": "corporate", "M-2026-0090": "ip"}
        last = db.session.scalar(select(func.max(ProgressReport.reported_on)).join(
            Matter, Matter.id == ProgressReport.matter_id).where(
            Matter.reference == "M-2026-0090"))
        assert last == today - timedelta(days=85)
        _assert_every_matter_has_a_type_and_its_checklist(matters)
        _assert_stored_values_are_what_core_computes(matters)
        ticks = db.session.execute(select(MatterChecklistItem.ticked_by_id, Matter)
                                   .join(Matter, Matter.id == MatterChecklistItem.matter_id)
                                   .where(MatterChecklistItem.ticked_at.is_not(None))).all()
        assert ticks and all(by == matter.responsible_lawyer_id for by, matter in ticks)


def test_the_same_random_seed_gives_the_same_records(app):
    with app.app_context():
        matters = list(db.session.scalars(select(Matter).order_by(Matter.id)))
        now = clock.now()
        first = Prevention(random.Random(7), now).rows(matters)
        again = Prevention(random.Random(7), now).rows(matters)
        other = Prevention(random.Random(8), now).rows(matters)
        assert first == again
        assert first.reports != other.reports


def test_matter_types_follow_the_department_or_the_title():
    assert matter_type_for("张伟劳动争议仲裁", "争议解决部 Dispute Resolution") == "labour"
    assert matter_type_for("王芳离婚财产分割", "婚姻家事部 Family and Private Clients") == "family"
    assert matter_type_for("商标侵权", "知识产权部 Intellectual Property") == "ip"
    assert matter_type_for("股权转让纠纷", "公司并购部 Corporate and M&A") == "corporate"
    assert matter_type_for("民间借贷纠纷", "争议解决部 Dispute Resolution") == "litigation"
    assert matter_type_for("民间借贷纠纷", "") == "litigation"


def test_seeded_matters_have_consistent_records_with_warnings_to_show(app, runner):
    _seed(runner, 300)
    with app.app_context():
        now, today = clock.now(), clock.today()
        matters = list(db.session.scalars(select(Matter)))
        assert len(matters) > 150
        _assert_every_matter_has_a_type_and_its_checklist(matters)
        _assert_stored_values_are_what_core_computes(matters)
        opened = {m.id: m.opened_on for m in matters}
        lawyer = {m.id: m.responsible_lawyer_id for m in matters}

        open_matters = [m for m in matters if m.status == MatterStatus.OPEN]
        overdue = [m for m in open_matters if m.report_due_on < today]
        assert 0 < len(overdue) < len(open_matters) / 2
        assert any(m.status != MatterStatus.OPEN and m.report_due_on is None for m in matters)
        with_gaps = [m for m in matters if m.expectation_gaps]
        assert 0 < len(with_gaps) < len(matters) / 2

        reports = db.session.execute(select(ProgressReport.matter_id, ProgressReport.reported_on,
                                            ProgressReport.recorded_at)).all()
        assert len(reports) > 5 * len(matters)
        for matter_id, reported_on, recorded_at in reports:
            assert opened[matter_id] <= reported_on <= today
            assert reported_on <= _local_day(recorded_at) and recorded_at <= now
        entries = db.session.execute(select(ExpectationEntry.matter_id,
                                            ExpectationEntry.recorded_at)).all()
        for matter_id, recorded_at in entries:
            assert opened[matter_id] <= _local_day(recorded_at) and recorded_at <= now
        ticks = db.session.execute(select(MatterChecklistItem.matter_id,
                                          MatterChecklistItem.ticked_at,
                                          MatterChecklistItem.ticked_by_id)
                                   .where(MatterChecklistItem.ticked_at.is_not(None))).all()
        assert ticks
        for matter_id, ticked_at, ticked_by in ticks:
            assert opened[matter_id] <= _local_day(ticked_at) and ticked_at <= now
            assert ticked_by == lawyer[matter_id]

        # What the case files show: entries recorded after the complaint arrived, and
        # complaints that came after a long silence (by when the reports were recorded).
        received: dict[int, object] = {}
        for matter_id, at in db.session.execute(select(Complaint.matter_id,
                                                       func.min(Complaint.received_at))
                                                .where(Complaint.matter_id.is_not(None))
                                                .group_by(Complaint.matter_id)):
            received[matter_id] = at
        late = {matter_id for matter_id, at in entries
                if matter_id in received and at > received[matter_id]}
        assert late
        logged = defaultdict(list)
        for matter_id, reported_on, recorded_at in reports:
            logged[matter_id].append((reported_on, recorded_at))
        silences = Counter()
        for matter_id, at in received.items():
            known = [day for day, recorded in logged[matter_id] if recorded < at]
            since = max(known, default=opened[matter_id])
            silences[(_local_day(at) - since).days >= 75] += 1
        assert 0 < silences[True] < silences[False]
