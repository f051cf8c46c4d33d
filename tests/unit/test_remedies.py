"""The remedy tasks' services: starting them from `accepted` (owners who may see the complaint,
internal measures owned by partners only), each kind's record refused when wrong, stale forms,
the completion notice sent exactly once when the last client-facing task is done (never
waiting for internal measures, never naming them), the overdue reminders sent once, and the
home page's sections."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portal import clock
from portal.db import begin_write, db, write_transaction
from portal.models import (
    AuditEvent,
    Complaint,
    Evidence,
    Notice,
    OutboxMessage,
    RemedyTask,
    State,
)
from portal.services import evidence, notices
from portal.services.intake.errors import ConflictError
from portal.services.resolution import completion, remedies
from portal.services.resolution.common import ResolutionError
from tests.remedies_support import (
    INTERNAL_WORDS,
    PNG,
    accepted,
    pdftotext,
    person,
    set_due,
    started,
)

REFUND = completion.Entry(paid_amount="2500", paid_on=None, method="bank_transfer")

@pytest.fixture(autouse=True)
def english_refusals(app):
    """The services run outside a request here, in the default language; their refusals are
    read in English (the Chinese ones come from the catalogue)."""
    app.config["BABEL_DEFAULT_LOCALE"] = "en"



@pytest.fixture(autouse=True)
def _english(app):
    app.config["BABEL_DEFAULT_LOCALE"] = "en"


@pytest.fixture
def complaint_id(app) -> int:
    return accepted(app)


def _refund(**changes) -> completion.Entry:
    values = {"paid_amount": "2500", "paid_on": clock.today() - timedelta(days=1),
              "method": "bank_transfer"}
    values.update(changes)
    return completion.Entry(**values)


def complete(app, complaint_id: int, task_id: int, entry: completion.Entry, *,
             by: str = "investigator", receipt: bytes | None = None,
             version: int | None = None) -> RemedyTask:
    """As the route does: read, render with no transaction open, receive, write."""
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        complaint = db.session.get(Complaint, complaint_id)
        read = completion.read(person(by), complaint, task_id, entry)
        db.session.commit()
        rendered = completion.render_documents(read, app.config)
        received = evidence.receive(io.BytesIO(receipt), "receipt.png") if receipt else None
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            task = db.session.get(RemedyTask, task_id)
            done = completion.complete(
                person(by), complaint, task_id, entry, rendered, receipt=received,
                expected_version=task.version if version is None else version)
            return done.id


def _count(app, model, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def _state(app, complaint_id: int) -> str:
    with app.app_context():
        return db.session.get(Complaint, complaint_id).state


# -- starting --------------------------------------------------------------------------------

def test_start_makes_one_task_per_remedy_with_the_default_owners_and_days(app, complaint_id):
    ids = started(app, complaint_id)
    with app.app_context():
        complaint = db.session.get(Complaint, complaint_id)
        assert complaint.state == State.REMEDIES_IN_PROGRESS
        rows = remedies.tasks(complaint)
        assert [t.remedy.kind for t in rows] == list(ids)
        owners = {t.remedy.kind: t.owner.username for t in rows}
        assert owners == {"written_apology": "investigator", "partial_refund": "investigator",
                          "free_follow_up": "investigator", "internal_criticism": "partner2",
                          "disciplinary": "partner2"}
        assert all(t.due == t.remedy.due for t in rows)
        started_event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "remedies.started"))
        # The complaint's event (on its timeline) names the client-facing tasks only; the
        # internal measures' are on the tasks themselves.
        assert {t["kind"] for t in started_event.details["tasks"]} == {
            "written_apology", "partial_refund", "free_follow_up"}
        internal = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "remedy_task.created")).all()
        assert {e.object_type for e in internal} == {"remedy_task"}


def test_a_second_start_is_refused(app, complaint_id):
    started(app, complaint_id)
    with pytest.raises(ConflictError):
        started(app, complaint_id)
    assert _count(app, RemedyTask) == 5


def test_an_internal_measure_needs_a_partner_as_its_owner(app, complaint_id):
    with pytest.raises(ResolutionError) as refused:
        started(app, complaint_id, owners={"internal_criticism": "investigator"})
    assert "partners only" in refused.value.message
    assert [k for k in refused.value.errors if k.startswith("owner-")]
    assert _count(app, RemedyTask) == 0
    assert _state(app, complaint_id) == State.ACCEPTED


def test_an_owner_must_be_able_to_see_the_complaint(app, complaint_id):
    # 陈志远 is the matter's supervising partner: kept out of the complaint.
    with pytest.raises(ResolutionError) as refused:
        started(app, complaint_id, owners={"partial_refund": "partner"})
    assert "may not see this complaint" in refused.value.message
    assert _count(app, RemedyTask) == 0


def test_reassigning_an_internal_measure_to_a_non_partner_is_refused(app, complaint_id):
    ids = started(app, complaint_id)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        task = db.session.get(RemedyTask, ids["disciplinary"])
        with pytest.raises(ResolutionError):
            remedies.reassign(person("partner2"), complaint, task.id,
                              remedies.Plan(person("investigator").id, task.due),
                              expected_version=task.version)


def test_a_decision_with_internal_measures_only_goes_straight_to_follow_up(app):
    complaint_id = accepted(app, remedies_=[("internal_criticism", None, "x", None)])
    started(app, complaint_id)
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, Notice, Notice.kind == "completion") == 0
    assert _count(app, RemedyTask, RemedyTask.done_at.is_(None)) == 1


# -- recording a task done ---------------------------------------------------------------------

def test_a_refund_above_the_amount_decided_is_refused(app, complaint_id):
    ids = started(app, complaint_id)
    with pytest.raises(ResolutionError) as refused:
        complete(app, complaint_id, ids["partial_refund"], _refund(paid_amount="3000.01"),
                 receipt=PNG)
    assert "CNY 3,000.00" in refused.value.errors["paid_amount"][0]
    assert _count(app, RemedyTask, RemedyTask.done_at.is_not(None)) == 0


def test_a_refund_paid_in_the_future_is_refused(app, complaint_id):
    ids = started(app, complaint_id)
    with pytest.raises(ResolutionError) as refused:
        complete(app, complaint_id, ids["partial_refund"],
                 _refund(paid_on=clock.today() + timedelta(days=1)), receipt=PNG)
    assert "future" in refused.value.errors["paid_on"][0]


def test_a_refund_without_its_receipt_is_refused_in_the_write(app, complaint_id):
    ids = started(app, complaint_id)
    with pytest.raises(ResolutionError) as refused:
        complete(app, complaint_id, ids["partial_refund"], _refund())
    assert "receipt" in refused.value.errors


def test_a_refund_is_recorded_with_its_receipt_as_resolution_evidence(app, complaint_id):
    ids = started(app, complaint_id)
    complete(app, complaint_id, ids["partial_refund"], _refund(), receipt=PNG)
    with app.app_context():
        task = db.session.get(RemedyTask, ids["partial_refund"])
        assert (str(task.paid_amount), task.payment_method) == ("2500.00", "bank_transfer")
        receipt = db.session.get(Evidence, task.receipt_evidence_id)
        assert (receipt.phase, receipt.category, receipt.content_type) == (
            "resolution", "fee_receipts", "image/png")
        assert evidence.path_of(receipt).is_file()


def test_a_stale_task_is_refused_with_409(app, complaint_id):
    ids = started(app, complaint_id)
    with app.app_context():
        version = db.session.get(RemedyTask, ids["free_follow_up"]).version
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        remedies.reassign(person("partner2"), complaint, ids["free_follow_up"],
                          remedies.Plan(person("committee1").id, clock.today()),
                          expected_version=version)
    with pytest.raises(remedies.TaskChanged):
        complete(app, complaint_id, ids["free_follow_up"], completion.Entry(notes="已整理"),
                 by="partner2", version=version)
    assert _count(app, RemedyTask, RemedyTask.done_at.is_not(None)) == 0


def test_an_apology_is_a_pdf_letter_emailed_to_the_client(app, complaint_id):
    ids = started(app, complaint_id)
    letter = "李明先生：就律师迟延答复一事，本所深表歉意。"
    complete(app, complaint_id, ids["written_apology"], completion.Entry(letter_text=letter))
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.kind == "apology"))
        assert notice.delivery == "email"
        assert "深表歉意" in pdftotext(notices.read_bytes(notice)).replace("\n", "")
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "apology"))
        assert message.recipient == "li.ming@example.com"
        assert message.attachments == [{"notice_kind": "apology", "notice_id": notice.id}]
        assert db.session.get(RemedyTask, ids["written_apology"]).letter_notice_id == notice.id


def test_the_completion_notice_goes_once_when_the_last_client_facing_task_is_done(
        app, complaint_id):
    ids = started(app, complaint_id)
    complete(app, complaint_id, ids["written_apology"],
             completion.Entry(letter_text="本所深表歉意。"))
    complete(app, complaint_id, ids["partial_refund"], _refund(), receipt=PNG)
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 0
    assert _state(app, complaint_id) == State.REMEDIES_IN_PROGRESS
    complete(app, complaint_id, ids["free_follow_up"],
             completion.Entry(notes="已为您整理二审证据目录并寄送。"))
    # The internal measures are still open: they never hold the complaint back.
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, RemedyTask, RemedyTask.done_at.is_(None)) == 2
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 1
    with app.app_context():
        notice = db.session.scalar(select(Notice).where(Notice.kind == "completion"))
        text = pdftotext(notices.read_bytes(notice))
        message = db.session.scalar(select(OutboxMessage).where(
            OutboxMessage.kind == "completion"))
        for words in (text, message.body_text, message.body_html, message.subject):
            assert not INTERNAL_WORDS.search(words)
        assert "CNY 2,500.00" in text and "二审证据目录" in text.replace("\n", "")
    # An internal measure recorded afterwards sends nothing to the client.
    complete(app, complaint_id, ids["internal_criticism"],
             completion.Entry(notes="内部批评 CONFIDENTIAL-MARK"), by="partner2")
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 1
    assert _count(app, Notice, Notice.kind == "completion") == 1
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(
            AuditEvent.action == "remedy_task.completed",
            AuditEvent.object_type == "remedy_task"))
        assert event.details["kind"] == "internal_criticism"
        assert "notes" not in event.details  # only its length: the record holds the words


def test_a_task_that_became_the_last_meanwhile_is_read_again(app, complaint_id):
    ids = started(app, complaint_id)
    complete(app, complaint_id, ids["written_apology"], completion.Entry(letter_text="致歉。"))
    follow_up = completion.Entry(notes="已完成证据整理。")
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        complaint = db.session.get(Complaint, complaint_id)
        read = completion.read(person("investigator"), complaint, ids["free_follow_up"],
                               follow_up)
        db.session.commit()
        assert read.completion is None  # the refund was still open
        rendered = completion.render_documents(read, app.config)
    complete(app, complaint_id, ids["partial_refund"], _refund(), receipt=PNG)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        begin_write()
        complaint = db.session.get(Complaint, complaint_id)
        task = db.session.get(RemedyTask, ids["free_follow_up"])
        with pytest.raises(completion.CompletionPending):
            completion.complete(person("investigator"), complaint, task.id, follow_up,
                                rendered, expected_version=task.version)
        db.session.rollback()  # as htmx.write does on a refusal
    assert _state(app, complaint_id) == State.REMEDIES_IN_PROGRESS
    complete(app, complaint_id, ids["free_follow_up"], follow_up)
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, OutboxMessage, OutboxMessage.kind == "completion") == 1


def test_a_client_without_email_gets_the_letters_printed_for_post(app):
    address = "上海市徐汇区漕溪北路 88 号 5 楼 502 室"
    complaint_id = accepted(app, client_email=None, address=address,
                            remedies_=[("written_apology", None, None, None)])
    ids = started(app, complaint_id)
    complete(app, complaint_id, ids["written_apology"], completion.Entry(letter_text="致歉。"))
    assert _state(app, complaint_id) == State.FOLLOW_UP
    assert _count(app, OutboxMessage, OutboxMessage.kind.in_(["apology", "completion"])) == 0
    with app.app_context():
        stored = db.session.scalars(select(Notice).where(
            Notice.kind.in_(["apology", "completion"]))).all()
        assert sorted((n.kind, n.delivery) for n in stored) == [
            ("apology", "post"), ("completion", "post")]
        assert "漕溪北路" in pdftotext(notices.read_bytes(stored[0])).replace(" ", "")


def test_only_a_partner_completes_an_internal_measure(app, complaint_id):
    ids = started(app, complaint_id)
    with pytest.raises(ConflictError):
        complete(app, complaint_id, ids["disciplinary"], completion.Entry(notes="x"),
                 by="investigator")


# -- overdue -------------------------------------------------------------------------------

def test_an_overdue_task_is_reminded_once(app, complaint_id):
    ids = started(app, complaint_id)
    yesterday = clock.today() - timedelta(days=1)
    set_due(app, ids["free_follow_up"], yesterday)
    set_due(app, ids["disciplinary"], yesterday)
    set_due(app, ids["written_apology"], clock.today())  # due today: not overdue yet
    with app.app_context():  # as the worker runs it: no request
        assert remedies.tick() == 2
        assert remedies.tick() == 0
        messages = db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.kind == "remedy_reminder").order_by(OutboxMessage.id)).all()
        assert sorted(m.recipient for m in messages) == [
            "liu.huimin@firm.example", "zhou.jianguo@firm.example"]
        # The internal measure's reminder stays off the complaint's timeline.
        by_recipient = {m.recipient: m for m in messages}
        assert by_recipient["liu.huimin@firm.example"].complaint_id is None
        assert by_recipient["zhou.jianguo@firm.example"].complaint_id == complaint_id
        assert "Overdue" in by_recipient["zhou.jianguo@firm.example"].subject


def test_a_new_due_date_earns_a_new_reminder_and_a_done_task_none(app, complaint_id):
    ids = started(app, complaint_id)
    set_due(app, ids["free_follow_up"], clock.today() - timedelta(days=1))
    set_due(app, ids["partial_refund"], clock.today() - timedelta(days=1))
    complete(app, complaint_id, ids["partial_refund"], _refund(), receipt=PNG)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert remedies.tick() == 1
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        task = db.session.get(RemedyTask, ids["free_follow_up"])
        remedies.reassign(person("partner2"), complaint, task.id,
                          remedies.Plan(task.owner_id, clock.today()),
                          expected_version=task.version)
    set_due(app, ids["free_follow_up"], clock.today() - timedelta(days=1))
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        assert remedies.tick() == 1
        assert remedies.tick() == 0


def test_the_home_sections_list_overdue_tasks_first(app, complaint_id):
    ids = started(app, complaint_id)
    set_due(app, ids["free_follow_up"], clock.today() - timedelta(days=2))
    set_due(app, ids["disciplinary"], clock.today() - timedelta(days=1))
    with app.app_context():
        mine = remedies.my_tasks(person("investigator"))
        assert [(i.kind, i.overdue) for i in mine] == [
            ("free_follow_up", True), ("written_apology", False), ("partial_refund", False)]
        firm = remedies.overdue_tasks(person("partner2"))
        assert [i.kind for i in firm] == ["free_follow_up", "disciplinary"]
        assert not remedies.overdue_tasks(person("committee1"))
        assert not remedies.overdue_tasks(person("partner"))  # kept out of this complaint
