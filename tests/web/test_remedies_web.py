"""The remedies area of the case file: a partner starts the tasks, owners record them done
(422 with what was typed for a wrong refund or a refused receipt, nothing stored; 409 for a
stale form, the input kept), internal measures are a partner's alone (hidden and 404 for
everyone else), the completion notice goes once, receipts download for those who see the
decision materials, and overdue tasks show on the owner's and the partners' home pages."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import db
from portal.models import Complaint, Evidence, OutboxMessage, RemedyTask, State
from tests.remedies_support import INTERNAL_WORDS, PNG, REFERENCE, accepted, set_due, started
from tests.web.test_intake_support import HX

CASE = f"/complaints/{REFERENCE}"


@pytest.fixture
def complaint_id(app) -> int:
    return accepted(app)


@pytest.fixture
def tasks(app, complaint_id) -> dict[str, int]:
    return started(app, complaint_id)


def _version(app, task_id: int) -> int:
    with app.app_context():
        return db.session.get(RemedyTask, task_id).version


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _state(app, complaint_id: int) -> str:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).state


def _url(task_id: int, action: str = "complete") -> str:
    return f"{CASE}/remedies/{task_id}/{action}"


def _refund(app, task_id: int, **changes) -> dict:
    data = {"version": _version(app, task_id), "paid_amount": "2500",
            "paid_on": (clock.today() - timedelta(days=1)).isoformat(),
            "method": "alipay", "receipt": (io.BytesIO(PNG), "回单.png")}
    data.update(changes)
    return data


def _stored_files(app) -> list[Path]:
    directory = Path(app.config["EVIDENCE_DIR"])
    return list(directory.iterdir()) if directory.exists() else []


# -- starting ------------------------------------------------------------------------------

def test_a_partner_starts_the_remedies_with_an_owner_and_a_day_each(app, client, auth,
                                                                     complaint_id):
    auth.login_as("partner")
    page = client.get(CASE)
    assert 'id="area-remedies"' in page.text and 'id="remedies-start"' in page.text
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        data = {"version": complaint.version}
        for remedy in complaint.current_decision.remedies:
            data[f"owner-{remedy.id}"] = str(complaint.handler_id if not remedy.is_internal
                                             else complaint.current_decision.decided_by_id)
            data[f"due-{remedy.id}"] = remedy.due.isoformat()
    response = client.post(f"{CASE}/remedies/start", data=data, headers=HX)
    assert response.status_code == 200 and response.headers["HX-Redirect"].endswith(
        "#area-remedies")
    assert _count(app, RemedyTask) == 5
    assert _state(app, complaint_id) == State.REMEDIES_IN_PROGRESS


def test_an_internal_measure_given_to_a_non_partner_is_refused_keeping_the_form(
        app, client, auth, complaint_id):
    auth.login_as("partner")
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        investigator = complaint.handler_id
        data = {"version": complaint.version}
        for remedy in complaint.current_decision.remedies:
            data[f"owner-{remedy.id}"] = str(investigator)
            data[f"due-{remedy.id}"] = remedy.due.isoformat()
    response = client.post(f"{CASE}/remedies/start", data=data, headers=HX)
    assert response.status_code == 422
    assert "Internal measures are recorded by partners only" in response.text
    assert f'<option value="{investigator}" selected>' in response.text
    assert _count(app, RemedyTask) == 0


def test_only_partners_start_the_remedies(client, auth, complaint_id):
    auth.login_as("investigator")
    assert 'id="remedies-start"' not in client.get(CASE).text
    assert client.post(f"{CASE}/remedies/start", data={"version": "1"}).status_code == 403


# -- internal measures ---------------------------------------------------------------------

@pytest.mark.parametrize("role", ["investigator", "committee"])
def test_internal_measures_are_hidden_from_everyone_but_partners(client, auth, tasks, role):
    auth.login_as(role)
    page = client.get(CASE)
    assert page.status_code == 200 and 'id="area-remedies"' in page.text
    assert not INTERNAL_WORDS.search(page.text)
    assert "partners only" not in page.text
    for kind in ("internal_criticism", "disciplinary"):
        assert f"remedy-task-{tasks[kind]}" not in page.text
        posted = client.post(_url(tasks[kind]), data={"version": "1", "notes": "x"},
                             headers=HX)
        assert posted.status_code == 404


def test_a_partner_sees_and_records_the_internal_measures(app, client, auth, tasks):
    auth.login_as("partner")
    page = client.get(CASE)
    assert "CONFIDENTIAL-MARK" in page.text and "Internal: partners only" in page.text
    response = client.post(_url(tasks["disciplinary"]), headers=HX, data={
        "version": _version(app, tasks["disciplinary"]), "notes": "书面警告已送达。"})
    assert response.status_code == 200 and "The task is recorded as done." in response.text
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 0


def test_someone_else_than_the_owner_or_a_partner_may_not_complete_a_task(client, auth,
                                                                          tasks):
    auth.login_as("committee")  # sees the case file, owns nothing
    response = client.post(_url(tasks["free_follow_up"]), data={"version": "1", "notes": "x"})
    assert response.status_code == 403


# -- refunds -------------------------------------------------------------------------------

def test_a_refund_above_the_amount_decided_is_refused_and_nothing_stored(app, client, auth,
                                                                        tasks):
    auth.login_as("investigator")
    response = client.post(_url(tasks["partial_refund"]), headers=HX,
                           data=_refund(app, tasks["partial_refund"], paid_amount="3000.50"),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "The refund decided is CNY 3,000.00" in response.text
    assert 'value="3000.50"' in response.text  # what was typed is kept
    assert _count(app, Evidence) == 0 and _stored_files(app) == []
    assert _count(app, RemedyTask, RemedyTask.done_at.is_not(None)) == 0


def test_a_refund_paid_tomorrow_is_refused(app, client, auth, tasks):
    auth.login_as("investigator")
    tomorrow = (clock.today() + timedelta(days=1)).isoformat()
    response = client.post(_url(tasks["partial_refund"]), headers=HX,
                           data=_refund(app, tasks["partial_refund"], paid_on=tomorrow),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "cannot be in the future" in response.text and f'value="{tomorrow}"' in response.text
    assert _count(app, Evidence) == 0 and _stored_files(app) == []


def test_a_receipt_of_a_refused_type_is_refused_and_nothing_stored(app, client, auth, tasks):
    auth.login_as("investigator")
    page = io.BytesIO(b"<html><body><script>alert(1)</script></body></html>")
    response = client.post(_url(tasks["partial_refund"]), headers=HX,
                           data=_refund(app, tasks["partial_refund"],
                                        receipt=(page, "receipt.pdf")),
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Web pages and SVG drawings" in response.text
    assert 'value="2500"' in response.text
    assert _count(app, Evidence) == 0 and _stored_files(app) == []
    assert _count(app, RemedyTask, RemedyTask.done_at.is_not(None)) == 0


def test_a_stale_form_answers_409_and_keeps_what_was_typed(app, client, auth, tasks):
    auth.login_as("partner")
    task = tasks["free_follow_up"]
    stale = _version(app, task)
    moved = client.post(_url(task, "assign"), headers=HX, data={
        "version": stale, "owner": "", "due": (clock.today() + timedelta(days=3)).isoformat()})
    assert moved.status_code == 422  # no owner chosen: refused beside the field
    with app.app_context():
        owner = db.session.get(RemedyTask, task).owner_id
    moved = client.post(_url(task, "assign"), headers=HX, data={
        "version": stale, "owner": str(owner),
        "due": (clock.today() + timedelta(days=3)).isoformat()})
    assert moved.status_code == 200
    response = client.post(_url(task), headers=HX,
                           data={"version": stale, "notes": "已为您整理二审证据目录。"})
    assert response.status_code == 409
    assert "Someone else changed this remedy task" in response.text
    assert "已为您整理二审证据目录。" in response.text
    assert _count(app, RemedyTask, RemedyTask.done_at.is_not(None)) == 0


# -- the whole run -------------------------------------------------------------------------

def test_the_last_client_facing_task_sends_the_completion_notice_once(app, client, auth,
                                                                      complaint_id, tasks):
    auth.login_as("investigator")
    apology = client.post(_url(tasks["written_apology"]), headers=HX, data={
        "version": _version(app, tasks["written_apology"]),
        "letter_text": "李明先生：就律师迟延答复一事，本所深表歉意。"})
    assert apology.status_code == 200, apology.text
    refund = client.post(_url(tasks["partial_refund"]), headers=HX,
                         data=_refund(app, tasks["partial_refund"]),
                         content_type="multipart/form-data")
    assert refund.status_code == 200, refund.text
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 0
    last = client.post(_url(tasks["free_follow_up"]), headers=HX, data={
        "version": _version(app, tasks["free_follow_up"]), "notes": "已整理二审证据目录。"})
    assert last.status_code == 200 and "HX-Redirect" in last.headers
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 1
    page = client.get(CASE)
    assert 'id="remedies-completion"' in page.text
    # A second submission of the same form changes nothing.
    again = client.post(_url(tasks["free_follow_up"]), headers=HX, data={
        "version": _version(app, tasks["free_follow_up"]), "notes": "again"})
    assert again.status_code == 409
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 1


@pytest.mark.parametrize(("role", "status"), [("partner", 200), ("committee", 200),
                                              ("investigator", 200), ("receptionist", 404)])
def test_the_receipt_downloads_for_those_who_see_the_decision_materials(
        app, client, auth, tasks, role, status):
    auth.login_as("investigator")
    client.post(_url(tasks["partial_refund"]), headers=HX,
                data=_refund(app, tasks["partial_refund"]), content_type="multipart/form-data")
    auth.logout()
    auth.login_as(role)
    response = client.get(_url(tasks["partial_refund"], "receipt"))
    assert response.status_code == status
    if status == 200:
        assert response.data == PNG and response.headers["Content-Type"] == "image/png"


# -- the home pages --------------------------------------------------------------------------

def test_overdue_tasks_show_on_the_owners_and_the_partners_home_pages(app, client, auth,
                                                                      tasks):
    set_due(app, tasks["free_follow_up"], clock.today() - timedelta(days=1))
    set_due(app, tasks["internal_criticism"], clock.today() - timedelta(days=2))
    auth.login_as("investigator")
    home = client.get("/").text
    mine = home.split('id="my-remedies-h"', 1)[1].split("</section>", 1)[0]
    assert REFERENCE in mine and "Overdue" in mine
    assert mine.index("Free follow-up service") < mine.index("Written apology")
    assert "Internal criticism" not in home and 'id="overdue-remedies-h"' not in home
    auth.logout()
    auth.login_as("partner")
    home = client.get("/").text
    overdue = home.split('id="overdue-remedies-h"', 1)[1].split("</section>", 1)[0]
    assert overdue.index("Internal criticism") < overdue.index("Free follow-up service")
    auth.logout()
    auth.login_as("committee")
    assert 'id="my-remedies-h"' not in client.get("/").text
