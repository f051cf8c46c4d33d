"""`flask matters import FILE.csv|FILE.xlsx` (docs/matters-import.md)."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from openpyxl import Workbook
from sqlalchemy import func, select

from portal.db import db, write_transaction
from portal.models import AuditEvent, Client, Matter, User
from portal.models.prevention import MatterChecklistItem
from portal.services.prevention import importer
from portal.services.prevention.import_file import COLUMNS

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "matters.csv"
HEADER = ["reference", "title", "client", "client_email", "matter_type", "department",
          "responsible_lawyer", "partner", "team", "opened_on", "status", "closed_on",
          "fees_agreed", "fees_paid", "fees_excess_reason", "fees_excess_confirmed_by"]
ROW = {"reference": "M-2026-0500", "title": "王芳房屋租赁纠纷", "client": "王芳",
       "client_email": "wang.fang@example.com", "matter_type": "litigation",
       "department": "争议解决部", "responsible_lawyer": "王磊", "partner": "陈志远",
       "team": "张敏; li.na@firm.example", "opened_on": "2026-01-05", "status": "open",
       "closed_on": "", "fees_agreed": "30000", "fees_paid": "10000",
       "fees_excess_reason": "", "fees_excess_confirmed_by": ""}


def row(**changes) -> dict:
    return {**ROW, **changes}


def write_csv(tmp_path, rows: list[dict], header=HEADER, name="matters.csv") -> str:
    path = tmp_path / name
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=header, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return str(path)


def run_import(runner, path: str):
    return runner.invoke(args=["matters", "import", "--language", "en", path])


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


def counts(app) -> dict:
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Matter, MatterChecklistItem, AuditEvent, Client, User)}


def matter(reference: str) -> Matter:
    return db.session.scalar(select(Matter).where(Matter.reference == reference))


def events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                   .order_by(AuditEvent.id)))


# --- the happy path ----------------------------------------------------------------------------


def test_new_matters_are_created_with_checklist_schedule_team_and_audit(runner, app, tmp_path):
    second = row(reference="M-2026-0501", title="恒远贸易年度顾问", client="上海恒远贸易有限公司",
                 client_email="", matter_type="Corporate and commercial advisory",
                 department="Corporate and M&A", responsible_lawyer="赵鹏 <ZHAO.PENG@firm.example>",
                 partner="刘慧敏", team="", fees_agreed="100000", fees_paid="120000",
                 fees_excess_reason="补充协议增加的培训", fees_excess_confirmed_by="陈志远")
    before = counts(app)
    result = run_import(runner, write_csv(tmp_path, [row(), second]))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "2 created, 0 updated, 0 unchanged"
    assert counts(app)["User"] == before["User"] and counts(app)["Client"] == before["Client"]
    with app.app_context():
        first = matter("M-2026-0500")
        assert first.title == "王芳房屋租赁纠纷" and first.client.name == "王芳"
        assert first.matter_type_code == "litigation" and first.status == "open"
        assert first.department.name_zh == "争议解决部"
        assert (first.responsible_lawyer.name, first.partner.name) == ("王磊", "陈志远")
        assert sorted(u.name for u in first.team) == ["张敏", "李娜"]
        assert (first.fees_agreed, first.fees_paid) == (Decimal("30000.00"), Decimal("10000.00"))
        # start_checklist, reschedule and recount_gaps ran for it.
        assert first.report_due_on == date(2026, 2, 4)  # litigation: every 30 days
        assert first.expectation_gaps == 6
        items = db.session.scalars(select(MatterChecklistItem).where(
            MatterChecklistItem.matter_id == first.id)).all()
        assert len(items) > 5 and {i.position for i in items} == set(range(1, len(items) + 1))
        other = matter("M-2026-0501")
        assert other.matter_type_code == "corporate"
        assert other.report_due_on == date(2026, 2, 19)  # corporate: every 45 days
        assert other.fees_excess_reason == "补充协议增加的培训"
        assert other.fees_excess_confirmed_by_id == db.session.scalar(
            select(User.id).where(User.username == "partner"))
        created = events("matter.created")
        assert {e.object_id for e in created} == {str(first.id), str(other.id)}
        assert all(e.actor_label == "import" and e.details["source"] == "import"
                   for e in created)
        assert created[0].details["team_ids"] == sorted(u.id for u in first.team)
        assert created[1].details["type"] == "corporate"


def test_the_documented_example_imports_and_again_changes_nothing(runner, app):
    first = run_import(runner, str(EXAMPLE))
    assert first.exit_code == 0, first.output
    assert last_line(first).startswith("3 created, ")
    before = counts(app)
    again = run_import(runner, str(EXAMPLE))
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "0 created, 0 updated, 4 unchanged"
    assert counts(app) == before


def test_reimporting_the_same_file_changes_nothing(runner, app, tmp_path):
    path = write_csv(tmp_path, [row(), row(reference="M-2026-0502", status="closed",
                                           closed_on="2026-02-01", team="")])
    assert run_import(runner, path).exit_code == 0
    with app.app_context():
        versions = {m.reference: m.version for m in db.session.scalars(select(Matter))}
    before = counts(app)
    again = run_import(runner, path)
    assert again.exit_code == 0, again.output
    assert again.stdout.strip() == "0 created, 0 updated, 2 unchanged"
    assert counts(app) == before  # no audit event either
    with app.app_context():
        assert {m.reference: m.version for m in db.session.scalars(select(Matter))} == versions
    # References are compared as the portal writes them: capitals, no spaces.
    spelt = run_import(runner, write_csv(tmp_path, [row(reference=" m-2026-0500 ")]))
    assert spelt.stdout.strip() == "0 created, 0 updated, 1 unchanged"


def test_a_changed_row_updates_the_matter_audited_and_reported(runner, app, tmp_path):
    assert run_import(runner, write_csv(tmp_path, [row(), row(reference="M-2026-0503")])
                      ).exit_code == 0
    with app.app_context():
        version = matter("M-2026-0500").version
    changed = row(title="王芳房屋租赁纠纷（二审）", responsible_lawyer="zhang.min@firm.example",
                  team="李娜", department="Family and Private Clients", status="closed",
                  closed_on="2026-03-01")
    result = run_import(runner, write_csv(tmp_path, [changed, row(reference="M-2026-0503")]))
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[-1] == "0 created, 1 updated, 1 unchanged"
    report = lines[0]
    assert report.startswith("M-2026-0500: ")
    for change in ("title: 王芳房屋租赁纠纷 → 王芳房屋租赁纠纷（二审）",
                   "responsible_lawyer: 王磊 → 张敏", "team: 张敏; 李娜 → 李娜",
                   "department: Dispute Resolution → Family and Private Clients",
                   "status: open → closed", "closed_on: – → 2026-03-01"):
        assert change in report
    with app.app_context():
        updated = matter("M-2026-0500")
        assert updated.title == "王芳房屋租赁纠纷（二审）"
        assert updated.responsible_lawyer.name == "张敏"
        assert [u.name for u in updated.team] == ["李娜"]
        assert updated.status == "closed" and updated.closed_on == date(2026, 3, 1)
        assert updated.report_due_on is None  # rescheduled: a closed matter has none
        assert updated.version > version
        [event] = events("matter.updated")
        assert event.object_id == str(updated.id) and event.actor_label == "import"
        details = event.details
        assert details["changed"] == sorted(["title", "responsible_lawyer_id", "team",
                                             "department_id", "status", "closed_on"])
        assert details["matter_id"] == updated.id and details["version"] == updated.version
        zhang = db.session.scalar(select(User.id).where(User.name == "张敏"))
        assert details["responsible_lawyer_id"][1] == zhang
        assert details["team_removed"] == [zhang]
        assert details["status"] == ["open", "closed"]
        text = json.dumps(details, ensure_ascii=False)
        for personal in ("王芳", "张敏", "王磊", "纠纷", "2026-03-01"):
            assert personal not in text


def test_a_team_change_alone_moves_the_version(runner, app, tmp_path):
    assert run_import(runner, write_csv(tmp_path, [row()])).exit_code == 0
    with app.app_context():
        version = matter("M-2026-0500").version
    result = run_import(runner, write_csv(tmp_path, [row(team="张敏")]))
    assert result.exit_code == 0, result.output
    assert "team: 张敏; 李娜 → 张敏" in result.stdout
    with app.app_context():
        assert matter("M-2026-0500").version > version


def test_a_demo_matter_moved_to_another_department_keeps_the_analytics_in_step(runner, app,
                                                                               tmp_path):
    with app.app_context():
        existing = matter("M-2026-0090")
        values = row(reference=existing.reference, title=existing.title,
                     client=existing.client.name, client_email=existing.client.email,
                     matter_type=existing.matter_type_code or "ip", department="争议解决部",
                     responsible_lawyer=existing.responsible_lawyer.name,
                     partner=existing.partner.name, team="", opened_on=str(existing.opened_on))
    header = [c for c in HEADER if not c.startswith(("fees", "status", "closed"))]
    result = run_import(runner, write_csv(tmp_path, [values], header=header))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "0 created, 1 updated, 0 unchanged"
    assert "department: Intellectual Property → Dispute Resolution" in result.stdout
    # conftest checks that complaint_fact followed the matter's new department.


def test_an_xlsx_file_imports_with_date_and_number_cells(runner, app, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    values = row(opened_on=datetime(2025, 11, 3), fees_agreed=45000, fees_paid=12000.5)
    sheet.append([values[column] for column in HEADER])
    sheet.append([])  # a blank line is skipped
    sheet.append([row(reference=4711, opened_on=date(2025, 12, 1))[c] for c in HEADER])
    path = tmp_path / "matters.xlsx"
    workbook.save(path)
    result = run_import(runner, str(path))
    assert result.exit_code == 0, result.output
    assert last_line(result) == "2 created, 0 updated, 0 unchanged"
    with app.app_context():
        imported = matter("M-2026-0500")
        assert imported.opened_on == date(2025, 11, 3)
        assert (imported.fees_agreed, imported.fees_paid) == (Decimal("45000.00"),
                                                              Decimal("12000.50"))
        assert matter("4711").opened_on == date(2025, 12, 1)
    again = run_import(runner, str(path))
    assert again.stdout.strip() == "0 created, 0 updated, 2 unchanged"


def test_an_xlsx_row_is_reported_by_its_sheet_row_number(runner, app, tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    sheet.append([])
    sheet.append([row(partner="nobody")[column] for column in HEADER])
    path = tmp_path / "matters.xlsx"
    workbook.save(path)
    result = run_import(runner, str(path))
    assert result.exit_code == 1
    assert "line 3: partner: no staff member named nobody" in result.stderr


# --- bad files: nothing is written --------------------------------------------------------------


def test_five_bad_rows_are_all_reported_and_nothing_is_written(runner, app, tmp_path):
    rows = [
        row(),                                                      # line 2: good
        row(reference="M-2026-0601", title=""),                     # line 3: missing title
        row(reference="M-2026-0602", opened_on="2026/01/05"),       # line 4: bad date
        row(reference="M-2026-0603", responsible_lawyer="钱多多"),  # line 5: unknown lawyer
        row(reference="M-2026-0604", client="赵六", client_email=""),  # line 6: unknown client
        row(title="重复的案号"),                                     # line 7: reference twice
    ]
    before = counts(app)
    result = run_import(runner, write_csv(tmp_path, rows))
    assert result.exit_code == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert errors == [
        "line 3: title: is required",
        "line 4: opened_on: must be a date written YYYY-MM-DD",
        "line 5: responsible_lawyer: no staff member named 钱多多",
        "line 6: client: no client named 赵六 on file",
        "line 7: reference: M-2026-0500 is also on line 2",
    ]
    assert "Nothing was imported." in result.stderr
    assert result.stdout == ""
    assert counts(app) == before  # no matter, no checklist, no audit event, no staff, no client


@pytest.mark.parametrize(("changes", "message"), [
    ({"reference": "M/2026/1"}, "reference: A matter number is 1 to 40 letters"),
    ({"title": "a" * 201}, "title: longer than 200 characters"),
    ({"opened_on": "1899-12-31"}, "opened_on: is before 1900-01-01"),
    ({"opened_on": "2026-02-30"}, "opened_on: '2026-02-30' is not a real date"),
    ({"opened_on": "2099-01-01"}, "opened_on: is in the future"),
    ({"status": "closed"}, "closed_on: is required for a closed or archived matter"),
    ({"status": "pending"}, "status: \"pending\" is not one of open, closed, archived"),
    ({"closed_on": "2026-01-31"}, "closed_on: is only given for a closed or archived matter"),
    ({"department": "Tax"}, "department: no department named Tax"),
    ({"matter_type": "tax"}, "matter_type: no matter type tax"),
    ({"partner": "nobody@firm.example"}, "partner: no staff member with the email "
                                         "nobody@firm.example"),
    ({"team": "张敏; zhang.min@firm.example"}, "team: 张敏 is named twice"),
    ({"client_email": "someone@example.com"}, "client: no client on file with this ID number"),
    ({"fees_paid": "40000"}, "fees_excess_reason: is required when fees_paid is above"),
    ({"fees_paid": "abc"}, "fees_paid: Enter the amount as a number"),
    ({"fees_paid": "40000", "fees_excess_reason": "客户同意", "fees_excess_confirmed_by": "王磊"},
     "fees_excess_confirmed_by: 王磊 is not an active partner"),
    ({"fees_excess_reason": "没有超额"}, "fees_excess_reason: is only given when fees_paid"),
])
def test_bad_values_are_refused_with_their_line(runner, app, tmp_path, changes, message):
    before = counts(app)
    result = run_import(runner, write_csv(tmp_path, [row(reference="M-2026-0499"), row(**changes)]))
    assert result.exit_code == 1, result.output
    assert f"line 3: {message}" in result.stderr
    assert counts(app) == before


def test_fees_above_agreed_without_the_reason_columns_are_refused(runner, app, tmp_path):
    header = [c for c in HEADER if not c.startswith("fees_excess")]
    result = run_import(runner, write_csv(tmp_path, [row(fees_paid="30000.01")], header=header))
    assert result.exit_code == 1
    assert "line 2: fees_excess_reason: is required when fees_paid is above" in result.stderr
    assert "line 2: fees_excess_confirmed_by: is required when fees_paid" in result.stderr


def test_a_missing_column_stops_the_import(runner, app, tmp_path):
    header = [c for c in HEADER if c not in ("opened_on", "partner")] + ["colour"]
    before = counts(app)
    result = run_import(runner, write_csv(tmp_path, [row()], header=header))
    assert result.exit_code == 1
    assert "line 1: partner: required column missing" in result.stderr
    assert "line 1: opened_on: required column missing" in result.stderr
    assert "line 1: colour: unknown column" in result.stderr
    assert "Nothing was imported." in result.stderr
    assert counts(app) == before


@pytest.mark.parametrize(("content", "message"), [
    (b"", "the file is empty"),
    ("reference,title\n".encode("gb18030") + "案件,标题\n".encode("gb18030"), "not UTF-8 text"),
])
def test_unreadable_files_are_refused(runner, app, tmp_path, content, message):
    path = tmp_path / "matters.csv"
    path.write_bytes(content)
    result = run_import(runner, str(path))
    assert result.exit_code == 1 and message in result.stderr


def test_every_documented_column_is_accepted(runner, app, tmp_path):
    path = write_csv(tmp_path, [row(client_id_number="", case_number="(2026)沪0104民初1号",
                                    report_interval_days="14", fees_currency="cny")],
                     header=list(COLUMNS))
    result = run_import(runner, path)
    assert result.exit_code == 0, result.output
    with app.app_context():
        imported = matter("M-2026-0500")
        assert imported.report_interval_days == 14 and imported.fees_currency == "CNY"
        assert imported.report_due_on == date(2026, 1, 19)


# --- the write step refuses what changed since the check ---------------------------------------


def test_a_matter_changed_after_the_check_is_not_overwritten(runner, app, tmp_path):
    assert run_import(runner, write_csv(tmp_path, [row()])).exit_code == 0
    table = importer.read_table(write_csv(tmp_path, [row(title="新的标题")]))
    with app.app_context(), force_locale("en"):
        plan = importer.check(table)
        db.session.rollback()
        with write_transaction():
            matter("M-2026-0500").case_number = "(2026)改动"  # someone in the portal
        with pytest.raises(importer.ImportRejected) as refused, write_transaction():
            importer.write(next(plan.chunks()))
        assert "was changed in the portal" in str(refused.value.errors[0])
        assert matter("M-2026-0500").title == "王芳房屋租赁纠纷"
