"""`flask complaints import FILE.json` and `flask complaints export REF`."""

from __future__ import annotations

import copy
import json
import re
from datetime import datetime

import pytest
from sqlalchemy import func, select

from portal.db import db
from portal.models import (
    AuditEvent,
    Client,
    Complaint,
    ConfirmationMethod,
    Matter,
    State,
    User,
)

REFERENCE = re.compile(r"^TS-\d{4}-\d{5}$")

DOCUMENT = {
    "external_id": "sheet-2026-0017",
    "channel": "phone",
    "received_at": "2026-09-30T16:45:00+08:00",
    "language": "zh",
    "complainant": {
        "name": "李明",
        "phone": "13800138000",
        "email": "Li.Ming@Example.com",
        "id_number": "110101198001011234",
        "address": "北京市朝阳区建国路88号",
    },
    "respondents": [
        {"name": "王磊", "email": "WANG.LEI@firm.example"},
        {"name": "钱多多", "email": "qian.duoduo@firm.example"},
    ],
    "matter": {
        "reference": "M-2025-0142",
        "title": "李明诉某房地产公司商品房买卖合同纠纷",
        "case_number": "(2025)京0105民初12345号",
    },
    "occurred_on": "2026-09-01",
    "narrative": "律师在开庭前一天才通知我需要补交证据，导致证据未能及时提交。",
    "remedies_sought": ["explanation", "partial_refund"],
    "remedy_details": "退还一半代理费",
    "read_back_confirmed": True,
}


def doc(**changes) -> dict:
    data = copy.deepcopy(DOCUMENT)
    data.update(changes)
    return data


def write(tmp_path, data, name="complaint.json") -> str:
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False),
                    encoding="utf-8")
    return str(path)


def run_import(runner, path):
    return runner.invoke(args=["complaints", "import", path])


def snapshot(app) -> dict:
    with app.app_context():
        return {model.__name__: db.session.scalar(select(func.count()).select_from(model))
                for model in (Complaint, Client, User, Matter, AuditEvent)}


def last_line(result) -> str:
    return result.stdout.strip().splitlines()[-1]


# --- import: the happy path ------------------------------------------------------------------


def test_valid_file_registers_and_prints_the_reference_last(runner, app, tmp_path):
    result = run_import(runner, write(tmp_path, DOCUMENT))
    assert result.exit_code == 0, result.output
    reference = last_line(result)
    assert REFERENCE.match(reference)
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        assert complaint.external_id == "sheet-2026-0017"
        assert complaint.state == State.REGISTERED
        assert complaint.channel == "phone" and complaint.language == "zh"
        assert complaint.received_at == datetime.fromisoformat(DOCUMENT["received_at"])
        assert complaint.created_by_id is None
        assert complaint.confirmation_method == ConfirmationMethod.IMPORTED
        assert complaint.confirmed_at is not None
        assert complaint.first_response_due is not None
        assert complaint.remedies_sought == ["explanation", "partial_refund"]
        assert complaint.matter.reference == "M-2025-0142"
        # The demo client with this ID number and name is reused, not duplicated.
        assert complaint.complainant.id_number == "110101198001011234"
        assert db.session.scalar(select(func.count()).select_from(Client)
                                 .where(Client.name == "李明")) == 1
        names = sorted(u.name for u in complaint.respondents)
        assert names == ["王磊", "钱多多"]
        existing = next(u for u in complaint.respondents if u.name == "王磊")
        assert existing.email == "wang.lei@firm.example"  # found case-insensitively
        created = next(u for u in complaint.respondents if u.name == "钱多多")
        assert created.username is None and created.password_hash is None
        assert not created.can_log_in
        imported = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "complaint.imported"))
        assert imported.actor_label == "import" and imported.actor_id is None
        assert imported.object_id == str(complaint.id)


def test_reimporting_the_same_external_id_changes_nothing(runner, app, tmp_path):
    path = write(tmp_path, DOCUMENT)
    first = run_import(runner, path)
    assert first.exit_code == 0, first.output
    before = snapshot(app)
    second = run_import(runner, path)
    assert second.exit_code == 0, second.output
    assert last_line(second) == last_line(first)
    assert snapshot(app) == before


def test_new_matter_is_created_with_its_title(runner, app, tmp_path):
    data = doc(matter={"reference": "M-2019-0001", "title": "旧案：房屋租赁纠纷",
                       "case_number": None})
    result = run_import(runner, write(tmp_path, data))
    assert result.exit_code == 0, result.output
    with app.app_context():
        matter = db.session.scalar(select(Matter).where(Matter.reference == "M-2019-0001"))
        assert matter.title == "旧案：房屋租赁纠纷"


# --- import: bad files ---------------------------------------------------------------------


def _without(key):
    data = doc()
    del data[key]
    return data


def _complainant(**changes):
    data = doc()
    data["complainant"].update(changes)
    return data


BAD = [
    (_complainant(email="not-an-email"), "complainant.email: not a valid email address"),
    (_complainant(name=""), "complainant.name: is required"),
    (_complainant(phone="call me"), "complainant.phone:"),
    (_complainant(passport="E123"), "complainant.passport: unknown field"),
    (doc(received_at="2026-09-30T16:45:00"), "received_at: has no UTC offset"),
    (doc(received_at="30/09/2026 16:45"), "received_at: must be an ISO 8601"),
    (doc(received_at="2999-01-01T00:00:00+08:00"), "received_at: is in the future"),
    (doc(channel="fax"), "channel:"),
    (doc(language="fr"), "language:"),
    (doc(remedies_sought=["explanation", "a-yacht"]), "remedies_sought[1]:"),
    (doc(remedies_sought="apology"), "remedies_sought: must be a list"),
    (doc(occurred_on="01/09/2026"), "occurred_on: must be a date written YYYY-MM-DD"),
    (doc(occurred_on="2026-02-30"), "occurred_on:"),
    (doc(occurred_on="2026-10-05"), "occurred_on: is after the complaint was received"),
    (doc(read_back_confirmed=False), "read_back_confirmed: is false"),
    (doc(read_back_confirmed="yes"), "read_back_confirmed: must be true or false"),
    (_without("read_back_confirmed"), "read_back_confirmed: is required"),
    (_without("narrative"), "narrative: is required"),
    (_without("external_id"), "external_id: is required"),
    (_without("complainant"), "complainant: is required"),
    (doc(narrative=12), "narrative: must be a string"),
    (doc(respondents=[{"name": "王磊", "email": "wang.lei@"}]), "respondents[0].email"),
    (doc(respondents="王磊"), "respondents: must be a list"),
    (doc(matter={"reference": "M-1999-0001"}), "matter.title: is required to create"),
    (doc(matter={"title": "no reference"}), "matter.reference: is required"),
    (doc(narative="typo"), "narative: unknown field"),
    (doc(format="something-else/9"), "format:"),
    # What registration needs, named by field:
    (doc(respondents=[]), "respondents: name at least one lawyer"),
    (_without("occurred_on"), "occurred_on: is required"),
    (doc(remedies_sought=[]), "remedies_sought: choose at least one"),
    (doc(remedy_details=None), "remedy_details: is required with partial_refund"),
    (_complainant(phone=None, email=None), "complainant: needs a phone or an email"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_field_exits_1_names_it_and_writes_nothing(runner, app, tmp_path, data, message):
    before = snapshot(app)
    result = run_import(runner, write(tmp_path, data))
    assert result.exit_code == 1
    assert message in result.stderr
    assert not REFERENCE.search(result.stdout)
    assert snapshot(app) == before


def test_every_problem_is_reported_at_once(runner, tmp_path):
    data = doc(channel="fax", language="fr")
    data["complainant"]["email"] = "nope"
    result = run_import(runner, write(tmp_path, data))
    assert result.exit_code == 1
    for field in ("channel:", "language:", "complainant.email:"):
        assert field in result.stderr


@pytest.mark.parametrize(("content", "message"), [
    ("{not json", "(file): not valid JSON"),
    ('{"a": 1, "a": 2}', "(file): not valid JSON: duplicate key"),
    ("[1, 2]", "(root): must be a JSON object"),
    ('{"narrative": NaN}', "(file): not valid JSON"),
])
def test_unreadable_files_exit_1(runner, app, tmp_path, content, message):
    before = snapshot(app)
    result = run_import(runner, write(tmp_path, content))
    assert result.exit_code == 1
    assert message in result.stderr
    assert snapshot(app) == before


def test_missing_file_exits_1(runner, tmp_path):
    result = run_import(runner, str(tmp_path / "nowhere.json"))
    assert result.exit_code == 1
    assert "(file): cannot read" in result.stderr


def test_client_with_same_id_number_but_another_name_is_refused(runner, app, tmp_path):
    before = snapshot(app)
    result = run_import(runner, write(tmp_path, _complainant(name="李小明")))
    assert result.exit_code == 1
    assert "complainant.id_number: belongs to existing client" in result.stderr
    assert snapshot(app) == before


# --- export --------------------------------------------------------------------------------


def export(runner, reference) -> dict:
    result = runner.invoke(args=["complaints", "export", reference])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_export_prints_the_complete_record(runner, app, tmp_path):
    reference = last_line(run_import(runner, write(tmp_path, DOCUMENT)))
    record = export(runner, reference)
    assert record["reference"] == reference
    assert record["state"] == State.REGISTERED
    assert record["registered_at"] and record["first_response_due"]
    assert record["confirmation"]["method"] == "imported"
    assert record["confirmation"]["confirmed_at"]
    assert record["evidence"] == [] and isinstance(record["notices"], list)
    for notice in record["notices"]:
        assert set(notice) == {"kind", "version", "sha256"}
    actions = [event["action"] for event in record["timeline"]]
    assert actions[0] == "complaint.imported"
    assert "complaint.confirmed" in actions
    assert all(set(event) == {"at", "action"} for event in record["timeline"])
    assert record["received_at"].endswith("+08:00")  # the firm's time zone, with its offset


def test_export_round_trip(runner, app, tmp_path):
    """Exported JSON imports again: same external_id → same complaint; new id → same data."""
    reference = last_line(run_import(runner, write(tmp_path, DOCUMENT)))
    record = export(runner, reference)
    for key in ("channel", "language", "occurred_on", "narrative", "remedies_sought",
                "remedy_details", "read_back_confirmed", "external_id"):
        assert record[key] == DOCUMENT[key], key
    assert datetime.fromisoformat(record["received_at"]) \
        == datetime.fromisoformat(DOCUMENT["received_at"])
    assert record["complainant"]["email"] == "li.ming@example.com"
    assert record["matter"] == DOCUMENT["matter"]
    assert sorted(r["email"] for r in record["respondents"]) \
        == ["qian.duoduo@firm.example", "wang.lei@firm.example"]

    again = run_import(runner, write(tmp_path, record, "export.json"))
    assert again.exit_code == 0, again.output
    assert last_line(again) == reference

    copy_ = dict(record, external_id="other-system-1")
    other = run_import(runner, write(tmp_path, copy_, "copy.json"))
    assert other.exit_code == 0, other.output
    assert last_line(other) != reference
    second = export(runner, last_line(other))
    import_fields = ("channel", "received_at", "language", "complainant", "respondents",
                     "matter", "occurred_on", "occurred_until", "occurred_place", "narrative",
                     "remedies_sought", "remedy_details", "read_back_confirmed")
    for key in import_fields:
        assert second[key] == record[key], key


def test_export_of_an_online_draft(runner, app, client):
    response = client.post("/complaint", data={
        "name": "Jane Doe", "email": "jane@example.com", "language": "en",
        "narrative": "Nobody answered my calls for weeks.", "consent": "y",
    })
    assert response.status_code == 303
    with app.app_context():
        complaint = db.session.scalars(select(Complaint)).one()
        label = complaint.label
    record = export(runner, label)
    assert record["reference"] is None and record["state"] == State.DRAFT
    assert record["channel"] == "web" and record["needs_verification"] is True
    assert record["submitted_payload"]["name"] == "Jane Doe"
    assert record["external_id"] == f"redress:{label}"
    assert record["read_back_confirmed"] is False


def test_export_unknown_reference_exits_1(runner):
    result = runner.invoke(args=["complaints", "export", "TS-2026-99999"])
    assert result.exit_code == 1
    assert "no complaint" in result.stderr


def test_export_is_audited(runner, app, tmp_path):
    reference = last_line(run_import(runner, write(tmp_path, DOCUMENT)))
    export(runner, reference)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "complaint.exported")) == 1


def test_registration_refused_by_intake_writes_nothing(runner, app, tmp_path, monkeypatch):
    from flask_babel import gettext as _

    from portal.services.intake import registration
    from portal.services.intake.errors import IntakeError

    def refuse(actor, complaint, **_options):
        raise IntakeError(_("No reference numbers are left for %(year)d.", year=2026))

    monkeypatch.setattr(registration, "register", refuse)
    before = snapshot(app)
    result = run_import(runner, write(tmp_path, DOCUMENT))
    assert result.exit_code == 1
    assert "(registration): No reference numbers are left for 2026." in result.stderr
    assert snapshot(app) == before
