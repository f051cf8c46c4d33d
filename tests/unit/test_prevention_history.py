"""A complaint's prevention record as it stood at receipt (services/prevention/history.py):
read by when each entry was recorded, never by the day it claims nor from today's record;
the stored analytics facts say the same and follow every change; the case file shows it; the
analytics count complaints by the step their matter lacked.

The matter below (opened 1 Jan 2026, litigation: a 30-day interval) and its complaint
(received 15 Jun 2026, 10:00 in Beijing):
- expectations all recorded on 5 Jan, except the fee estimate, recorded on 20 Jun (late);
- reports of 1 Mar and 1 Apr recorded on their day; one of 1 May recorded on 18 Jun (late:
  it does not count); one of 20 Jun (a later report, not late). So 75 days without a report;
- the engagement steps ticked on 5 Jan, except the fee explanation, ticked on 21 Jun.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import event, select

from portal.db import db, write_transaction
from portal.models import Client, Complaint, Matter, State, User
from portal.models.analytics import ComplaintFact
from portal.models.prevention import (
    ExpectationEntry,
    MatterChecklistItem,
    MatterType,
    ProgressReport,
)
from portal.services.analytics import calendar_table, figures, filters
from portal.services.analytics import prevention as prevention_figures
from portal.services.prevention import core, history

RECEIVED = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
BEFORE, AFTER = datetime(2026, 1, 5, 2, tzinfo=UTC), datetime(2026, 6, 20, 2, tzinfo=UTC)
FEES_STEP = "Fees explained and an estimate given to the client"
REFERENCE = "TS-2026-07001"


def at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 2, tzinfo=UTC)


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def case(app) -> dict[str, int]:
    """The matter and its complaint (ids), and a complaint without a matter."""
    with app.app_context(), write_transaction():
        lawyer = person("王磊")
        matter = Matter(reference="M-2026-7001", title="测试事项", client=Client(name="测试客户"),
                        department_id=lawyer.department_id, responsible_lawyer=lawyer,
                        partner=person("partner"), opened_on=date(2026, 1, 1),
                        matter_type_code="litigation")
        db.session.add(matter)
        db.session.flush()
        for item in ("scope", "risks", "outcomes", "timetable"):
            db.session.add(ExpectationEntry(matter_id=matter.id, item=item, text="约定",
                                            recorded_at=BEFORE, recorded_by_id=lawyer.id))
        db.session.add(ExpectationEntry(matter_id=matter.id, item="complaints_procedure",
                                        given_on=date(2026, 1, 2), recorded_at=BEFORE))
        db.session.add(ExpectationEntry(matter_id=matter.id, item="fees", text="按小时计费",
                                        recorded_at=AFTER, recorded_by_id=lawyer.id))
        for day, recorded in ((date(2026, 3, 1), at(3, 1)), (date(2026, 4, 1), at(4, 1)),
                              (date(2026, 5, 1), at(6, 18)), (date(2026, 6, 20), at(6, 20))):
            db.session.add(ProgressReport(matter_id=matter.id, reported_on=day, channel="phone",
                                          summary="进展", recorded_at=recorded,
                                          recorded_by_id=lawyer.id))
        for step in core.start_checklist(matter):
            if step.stage in history.ENGAGEMENT_STAGES:
                step.ticked_at = at(6, 21) if step.label_en == FEES_STEP else BEFORE
                step.ticked_by_id = lawyer.id
        core.recount_gaps(matter)
        core.reschedule(matter)
        complaint = Complaint(state=State.REGISTERED, reference=REFERENCE, channel="phone",
                              received_at=RECEIVED, registered_at=RECEIVED,
                              complainant=Client(name="李四"), matter=matter,
                              respondents=[lawyer])
        alone = Complaint(state=State.REGISTERED, reference="TS-2026-07002", channel="phone",
                          received_at=RECEIVED, registered_at=RECEIVED,
                          complainant=Client(name="李五"), respondents=[lawyer])
        db.session.add_all([complaint, alone])
        db.session.flush()
        return {"matter": matter.id, "complaint": complaint.id, "alone": alone.id}


def record(app, complaint_id: int) -> tuple[history.PreventionRecord | None, str | None]:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        found = history.for_complaint(db.session.get(Complaint, complaint_id), "en")
        summary = found.summary() if found else None
        return found, summary


def fact(app, complaint_id: int) -> dict:
    with app.app_context():
        row = db.session.get(ComplaintFact, complaint_id)
        return {name: getattr(row, name) for name in
                ("missing_scope", "missing_fees", "missing_risks", "missing_outcomes",
                 "missing_timetable", "missing_complaints_procedure", "report_overdue",
                 "checklist_incomplete")}


def test_the_record_is_read_by_when_each_entry_was_recorded(app, case):
    found, summary = record(app, case["complaint"])
    assert [e.item for e in found.missing] == ["fees"]
    cadence = found.cadence
    assert (cadence.since, cadence.since_report, cadence.until) == (
        date(2026, 4, 1), True, date(2026, 6, 15))
    assert (cadence.days, cadence.interval, cadence.overdue) == (75, 30, True)
    assert found.unticked == [FEES_STEP]
    late = [(e.kind, e.claimed) for e in found.late]
    assert late == [("report", date(2026, 5, 1)), ("expectation", None), ("checklist", None)]
    assert summary == ("No progress report for 75 days before the complaint (the interval is "
                       "30 days); fee arrangement and estimate not recorded; checklist step "
                       "not done: " + FEES_STEP)


def test_the_stored_facts_say_the_same(app, case):
    assert fact(app, case["complaint"]) == {
        "missing_scope": False, "missing_fees": True, "missing_risks": False,
        "missing_outcomes": False, "missing_timetable": False,
        "missing_complaints_procedure": False, "report_overdue": True,
        "checklist_incomplete": True}
    assert set(fact(app, case["alone"]).values()) == {None}
    assert record(app, case["alone"]) == (None, None)


def test_a_later_change_to_the_history_rewrites_the_facts(app, case):
    """Entries backdated by their recorded moment (as an import of old records would be)."""
    with app.app_context(), write_transaction():
        db.session.add(ExpectationEntry(matter_id=case["matter"], item="fees", text="固定费用",
                                        recorded_at=at(2, 1)))
        db.session.add(ProgressReport(matter_id=case["matter"], reported_on=date(2026, 6, 1),
                                      channel="email", summary="进展", recorded_at=at(6, 1)))
        step = db.session.scalar(select(MatterChecklistItem).where(
            MatterChecklistItem.matter_id == case["matter"],
            MatterChecklistItem.label_en == FEES_STEP))
        step.ticked_at = at(6, 10)
    assert not any(fact(app, case["complaint"]).values())
    found, summary = record(app, case["complaint"])
    assert not found.has_gaps and found.cadence.days == 14
    assert [e.kind for e in found.late] == ["report", "expectation"]  # the fee entry of 20 Jun


def test_the_interval_and_the_closing_day_are_the_matters(app, case):
    with app.app_context(), write_transaction():
        db.session.get(Matter, case["matter"]).report_interval_days = 90
    assert fact(app, case["complaint"])["report_overdue"] is False
    with app.app_context(), write_transaction():
        matter = db.session.get(Matter, case["matter"])
        matter.report_interval_days = None
        db.session.get(MatterType, "litigation").report_interval_days = 80
    assert fact(app, case["complaint"])["report_overdue"] is False
    with app.app_context(), write_transaction():
        db.session.get(MatterType, "litigation").report_interval_days = 30
        db.session.get(Matter, case["matter"]).closed_on = date(2026, 4, 20)
    assert fact(app, case["complaint"])["report_overdue"] is False
    found, _summary = record(app, case["complaint"])
    assert found.cadence.closed_before and found.cadence.days == 19
    with app.app_context(), write_transaction():
        db.session.get(Matter, case["matter"]).closed_on = date(2026, 5, 20)
    assert fact(app, case["complaint"])["report_overdue"] is True
    found, summary = record(app, case["complaint"])
    assert summary.startswith("No progress report for 49 days before the matter closed")


def test_one_statement_reads_the_record(app, case):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        seen.append(statement)

    with app.test_request_context():
        complaint = db.session.get(Complaint, case["complaint"])
        _ = complaint.matter.reference
        event.listen(db.engine, "before_cursor_execute", count)
        try:
            history.for_complaint(complaint, "en")
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
    assert len(seen) == 1


def test_the_case_file_shows_it(app, client, auth, case):
    auth.login("partner2")
    page = client.get(f"/complaints/{REFERENCE}").text
    assert 'id="prevention-record"' in page
    assert "No progress report for 75 days before the complaint" in page
    assert "Recorded late" in page
    assert 'id="prevention-record"' not in client.get("/complaints/TS-2026-07002").text
    client.language = "zh-CN"
    chinese = client.get(f"/complaints/{REFERENCE}").text
    assert 'id="prevention-record"' in chinese and "；" in chinese


def test_analytics_count_complaints_by_the_step_their_matter_lacked(app, client, auth, case):
    with app.app_context():
        criteria = filters.parse({"period": "2026Q2"}, date(2026, 12, 1))
        counts = prevention_figures.counts(None, criteria)
        calendar_table.ensure(criteria.start, criteria.end)
        assert figures.compute(None, criteria, date(2026, 12, 1)).prevention == counts
    assert counts["with_matter"] == 1 and counts["any_missing"] == 1
    assert counts["missing_fees"] == 1 and counts["missing_scope"] == 0
    assert counts["report_overdue"] == 1 and counts["checklist_incomplete"] == 1
    auth.login("partner2")
    page = client.get("/analytics?period=2026Q2").text
    assert 'id="chart-prevention"' in page
    assert "What the matter lacked when the complaint arrived" in page
    svg = client.get("/analytics/charts/prevention.svg?period=2026Q2")
    assert svg.status_code == 200 and b"<script" not in svg.data
