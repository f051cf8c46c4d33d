"""`flask complaints export` writes the investigation (format redress.complaint/2): triage,
closure and withdrawal, allegations with their findings and rules, assignments with their
history, conflicts, statements, reply requests (never their link's nonce), interview notes,
the first response, deadlines and pauses; `--as` leaves out what the portal would not show
that user. Import reads format 1 and 2 and refuses any other by name.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from portal.db import db, writes_by_default
from portal.models import Complaint, Evidence, Notice, State
from portal.models.deadline import ClockPause, Deadline
from portal.models.investigation import (
    Assignment,
    AssignmentRole,
    ConflictDeclaration,
    FirstResponse,
    InterviewNote,
    ReplyRequest,
    RuleArticle,
    Statement,
)
from tests.unit.test_import_export import DOCUMENT, last_line, run_import, write
from tests.workspace_support import REFERENCE, investigating, user

NONCE = "n0nce-" + "7" * 40
AT = datetime(2026, 6, 3, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SHA = {"statement": "a" * 64, "workspace": "b" * 64, "report": "c" * 64, "progress": "d" * 64}


def _evidence(complaint: Complaint, sha256: str, phase: str, statement_id=None) -> Evidence:
    return Evidence(complaint_id=complaint.id, category="communications",
                    original_name=f"{phase}.pdf", stored_name=uuid.uuid4().hex,
                    content_type="application/pdf", size=100, sha256=sha256, phase=phase,
                    uploaded_by_id=user("investigator").id, statement_id=statement_id)


def _notice(complaint: Complaint, kind: str, sha256: str) -> Notice:
    notice = Notice(complaint_id=complaint.id, kind=kind, version=1, sha256=sha256, size=100,
                    stored_name=uuid.uuid4().hex)
    db.session.add(notice)
    db.session.flush()
    return notice


@pytest.fixture
def investigated(app) -> str:
    """TS-2026-09001 (tests/workspace_support.py) with a row of every investigation table:
    the first lead replaced by 周建国, findings submitted, a reply requested, and so on."""
    investigating(app, lead="investigator2", respondents=("王磊",))
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == REFERENCE))
        partner2 = user("partner2")
        complaint.state = State.AWAITING_DECISION
        complaint.triaged_at, complaint.triaged_by_id = AT, partner2.id
        complaint.assessment = "收费与沟通问题"
        complaint.remedies_sought = ["explanation"]  # what an import needs
        complaint.handler_id = user("investigator").id
        complaint.findings_submitted_at = AT + timedelta(days=20)
        complaint.findings_submitted_by_id = user("investigator").id
        first_lead = complaint.assignments[0]
        first_lead.ended_at, first_lead.ended_by_id = AT + timedelta(days=1), partner2.id
        complaint.assignments.append(Assignment(user=user("investigator"),
                                                role=AssignmentRole.LEAD,
                                                assigned_by_id=partner2.id))
        complaint.conflicts.append(ConflictDeclaration(user=user("committee1"),
                                                       reason="曾与投诉人有业务往来",
                                                       declared_by_id=partner2.id))
        allegation = complaint.allegations[0]
        allegation.finding, allegation.reasoning = "established", "三个月未推进，有记录为证"
        allegation.responsibility, allegation.severity_found = "individual", "serious"
        allegation.remedies_recommended = ["apology", "partial_refund"]
        allegation.found_at, allegation.found_by_id = AT, user("investigator").id
        allegation.rules = [db.session.scalars(select(RuleArticle).order_by(RuleArticle.id))
                            .first()]
        statement = Statement(complaint_id=complaint.id, party="respondent",
                              respondent_id=user("王磊").id, given_on=date(2026, 6, 5),
                              method="interview", text="我当时在出差。",
                              recorded_by_id=user("investigator").id)
        db.session.add(statement)
        db.session.flush()
        db.session.add_all([_evidence(complaint, SHA["statement"], "investigation",
                                      statement.id),
                            _evidence(complaint, SHA["workspace"], "investigation")])
        db.session.add(ReplyRequest(complaint_id=complaint.id, respondent_id=user("王磊").id,
                                    nonce=NONCE, due_on=date(2026, 6, 12), expires_at=AT,
                                    requested_by_id=user("investigator").id))
        db.session.add(InterviewNote(complaint_id=complaint.id, held_on=date(2026, 6, 6),
                                     participants="周建国、王磊", text="王律师承认未及时回复。",
                                     author_id=user("investigator").id))
        _notice(complaint, "investigation_report", SHA["report"])
        progress = _notice(complaint, "progress", SHA["progress"])
        complaint.first_response = FirstResponse(
            method="notice", responded_at=AT, summary="已告知处理进度", notice_id=progress.id,
            recorded_by_id=user("investigator").id, late=True)
        complaint.deadlines.append(Deadline(kind="investigation", due=date(2026, 7, 1)))
        complaint.pauses.append(ClockPause(reason="等待客户提供收据", paused_at=AT,
                                           resumed_at=AT + timedelta(days=3),
                                           working_days_added=2))
        db.session.commit()
    return REFERENCE


def export(runner, reference: str, *args: str) -> tuple[dict, str]:
    result = runner.invoke(args=["complaints", "export", reference, *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), result.stdout


def test_the_export_holds_the_whole_investigation(runner, investigated):
    record, text = export(runner, investigated)
    assert record["format"] == "redress.complaint/3"
    assert record["triage"]["severity"] == "serious"
    assert record["triage"]["categories"] == ["delay"]
    assert record["triage"]["assessment"] == "收费与沟通问题"
    assert record["triage"]["triaged_by"]["name"] == "刘慧敏"
    assert record["triage"]["triaged_at"].endswith("+08:00")
    assert record["closure"] is None and record["withdrawal"] is None
    assert record["handler"]["name"] == "周建国"

    first, second, third = record["allegations"]
    assert [a["number"] for a in record["allegations"]] == [1, 2, 3]
    assert first["text"] == "收费后三个月没有任何进展" and first["respondent"]["name"] == "王磊"
    assert first["findings"]["finding"] == "established"
    assert first["findings"]["responsibility"] == "individual"
    assert first["findings"]["remedies_recommended"] == ["apology", "partial_refund"]
    assert first["findings"]["found_by"]["name"] == "周建国"
    [rule] = first["findings"]["rules"]
    assert rule["article"] and rule["title_zh"] and rule["to_verify"] is True
    assert second["findings"] is None and third["respondent"] is None
    assert record["findings_submitted"]["by"]["name"] == "周建国"

    old, new = record["assignments"]  # the history, in order
    assert (old["person"]["name"], old["role"]) == ("吴丽娟", "lead")
    assert old["ended_at"] and old["ended_by"]["name"] == "刘慧敏"
    assert (new["person"]["name"], new["ended_at"]) == ("周建国", None)
    assert new["assigned_by"]["name"] == "刘慧敏"
    [conflict] = record["conflicts"]
    assert conflict["person"]["name"] == "郑志强" and conflict["reason"] == "曾与投诉人有业务往来"

    [statement] = record["statements"]
    assert statement["respondent"]["name"] == "王磊" and statement["text"] == "我当时在出差。"
    assert statement["given_on"] == "2026-06-05" and statement["method"] == "interview"
    assert statement["attachments"] == [SHA["statement"]]
    [reply] = record["reply_requests"]
    assert reply["respondent"]["name"] == "王磊" and reply["due_on"] == "2026-06-12"
    assert reply["submitted_at"] is None and set(reply) == {
        "respondent", "due_on", "expires_at", "requested_by", "requested_at", "submitted_at"}
    assert NONCE not in text and "nonce" not in text and "token" not in text
    [note] = record["interview_notes"]
    assert note["participants"] == "周建国、王磊" and note["author"]["name"] == "周建国"

    response = record["first_response"]
    assert response["method"] == "notice" and response["late"] is True
    assert response["notice"] == {"kind": "progress", "version": 1, "sha256": SHA["progress"]}
    assert {e["sha256"]: e["phase"] for e in record["evidence"]} == {
        SHA["statement"]: "investigation", SHA["workspace"]: "investigation"}
    assert SHA["report"] in {n["sha256"] for n in record["notices"]}
    assert record["deadlines"][0]["kind"] == "investigation"
    assert record["clock_pauses"][0]["working_days_added"] == 2


def test_as_a_viewer_the_export_leaves_out_what_the_portal_would_not_show(runner,
                                                                          investigated):
    # A receptionist sees the complaint, not the workspace nor the decision materials.
    record, _text = export(runner, investigated, "--as", "reception")
    assert record["triage"]["severity"] == "serious" and len(record["assignments"]) == 2
    assert record["statements"] is record["reply_requests"] is record["interview_notes"] is None
    assert [a["findings"] for a in record["allegations"]] == [None, None, None]
    assert record["findings_submitted"] is None
    assert record["evidence"] == []  # both items were added in the workspace
    assert SHA["report"] not in {n["sha256"] for n in record["notices"]}
    # The lead and a partner who may open the workspace get all of it.
    for username in ("investigator", "partner2"):
        record, _text = export(runner, investigated, "--as", username)
        assert len(record["statements"]) == 1 and record["findings_submitted"] is not None
    # Committee members see the decision materials at this stage, not the workspace.
    record, _text = export(runner, investigated, "--as", "committee2")
    assert record["allegations"][0]["findings"]["finding"] == "established"
    assert record["statements"] is None
    # Kept out: the matter's partner and the one who declared a conflict.
    for username in ("partner", "committee1"):
        result = runner.invoke(args=["complaints", "export", investigated, "--as", username])
        assert result.exit_code == 1 and "no complaint" in result.stderr


def test_closure_as_a_duplicate_and_a_withdrawal_are_exported(runner, app, investigated):
    other = investigating(app, reference="TS-2026-09002", state=State.CLOSED, lead=None)
    with app.app_context(), writes_by_default():
        closed = db.session.scalar(select(Complaint).where(Complaint.reference == other))
        closed.closure_kind, closed.closure_reason = "duplicate", "与 TS-2026-09001 重复"
        closed.duplicate_of_id = db.session.scalar(
            select(Complaint.id).where(Complaint.reference == investigated))
        closed.closed_at = closed.withdrawn_at = AT
        closed.withdrawal_reason, closed.withdrawal_method = "客户来电撤回", "phone"
        db.session.commit()
    record, _text = export(runner, other)
    assert record["closure"] == {"kind": "duplicate", "reason": "与 TS-2026-09001 重复",
                                 "duplicate_of": investigated,
                                 "closed_at": "2026-06-03T10:00:00+08:00"}
    assert record["withdrawal"] == {"withdrawn_at": "2026-06-03T10:00:00+08:00",
                                    "reason": "客户来电撤回", "method": "phone"}


def _count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Complaint))


def test_an_export_with_its_investigation_imports_as_a_new_registered_complaint(
        runner, app, tmp_path, investigated):
    record, _text = export(runner, investigated)
    record["external_id"] = "other-portal-1"
    result = run_import(runner, write(tmp_path, record))
    assert result.exit_code == 0, result.output
    with app.app_context():
        created = db.session.scalar(select(Complaint).where(
            Complaint.reference == last_line(result)))
        # The investigation is the record of another portal: this one starts afresh.
        assert created.state == State.REGISTERED and created.severity is None
        assert created.allegations == [] and created.assignments == []


def test_a_format_1_file_still_imports(runner, app, tmp_path):
    result = run_import(runner, write(tmp_path, {**DOCUMENT, "format": "redress.complaint/1",
                                                 "reference": None, "timeline": []}))
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("name", ["redress.complaint/4", "redress.complaint/0", 2])
def test_an_unknown_format_is_refused_by_name_and_writes_nothing(runner, app, tmp_path, name):
    before = _count(app)
    result = run_import(runner, write(tmp_path, {**DOCUMENT, "format": name}))
    assert result.exit_code == 1
    assert (f"format: {json.dumps(name)} is not a format this portal reads; it reads "
            "redress.complaint/1, redress.complaint/2, redress.complaint/3") in result.stderr
    assert _count(app) == before
