"""The case file (`/complaints/<reference>`) opens to everyone the visibility rule admits:
the assigned lead and investigators, committee members from awaiting_decision on, as well as
intake staff and partners; read-only unless they may edit the intake record. Hidden: 404.

The complaint (tests/workspace_support.py) is about M-2025-0142 (partner 陈志远), against
王磊 and 吴丽娟 (investigator2); 周建国 (investigator) leads it and handles it.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from portal.db import db, writes_by_default
from portal.models import AuditEvent, Complaint, ConflictDeclaration, OutboxMessage, State
from portal.services import outbox
from tests.web.test_intake_support import HX
from tests.workspace_support import (
    assign_now,
    intake_item,
    investigating,
    one_page_pdf,
    set_state,
    unassigned_investigator,
    user,
)

PARTIALS = ("", "/timeline", "/actions")
OPENS = [200, 286, 200]  # the timeline answers 286 (stop polling): no mail is pending
HIDDEN = [404, 404, 404]
# What only someone who may change the record is shown (the draft's forms, the mail's resend).
CONTROLS = ('name="incident-narrative"', 'name="remove"', "Unlink this matter", "upload-form",
            "/register", "/discard", "/resend", "Send again")


@pytest.fixture
def case(app) -> str:
    reference = investigating(app, matter="M-2026-0090", respondents=("王磊",))
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        complaint.handler_id = user("investigator").id
        message = outbox.queue(kind="acknowledgement", recipient="li.ming@example.com",
                               recipient_name="李明", subject="投诉受理通知", body_text="…",
                               complaint=complaint)
        message.status = "sent"
        db.session.commit()
    return reference


def _open(client, reference: str) -> list[int]:
    return [client.get(f"/complaints/{reference}{path}", headers=HX if path else {}).status_code
            for path in PARTIALS]


def test_the_assigned_lead_reads_the_case_file_without_intake_controls(client, auth, app,
                                                                       case):
    item = intake_item(app, one_page_pdf(), "委托合同.pdf")
    auth.login_as("investigator")
    assert _open(client, case) == OPENS
    page = client.get(f"/complaints/{case}").text
    assert "Handled by 周建国" in page and "Severity: Serious" in page
    assert "委托合同.pdf" in page
    for control in CONTROLS:
        assert control not in page, control
    download = client.get(f"/complaints/{case}/evidence/{item}")
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    with app.app_context():
        opened = db.session.scalars(select(AuditEvent).where(
            AuditEvent.action.in_(["complaint.viewed", "evidence.downloaded"]),
            AuditEvent.actor_id == user("investigator").id)).all()
        assert {e.action for e in opened} == {"complaint.viewed", "evidence.downloaded"}
    # Writing to the record is still intake staff's: the role check answers first.
    assert client.post(f"/complaints/{case}/sections/incident",
                       data={"incident-narrative": "改写"}).status_code == 403


def test_intake_staff_still_get_the_mail_controls(client, auth, case):
    auth.login_as("receptionist")
    page = client.get(f"/complaints/{case}")
    assert page.status_code == 200 and "Send again" in page.text


def test_an_investigator_not_assigned_or_no_longer_assigned_gets_404(client, auth, app,
                                                                     case):
    intake = intake_item(app, one_page_pdf(), "委托合同.pdf")
    other = unassigned_investigator(app)
    auth.login(other)
    assert _open(client, case) == HIDDEN
    assert client.get(f"/complaints/{case}/evidence/{intake}").status_code == 404
    auth.logout()
    assign_now(app, case, other)
    auth.login(other)
    assert _open(client, case) == OPENS
    with app.app_context(), writes_by_default():
        for assignment in db.session.scalar(select(Complaint).where(
                Complaint.reference == case)).assignments:
            if assignment.user.username == other:
                assignment.ended_at = assignment.assigned_at
        db.session.commit()
    assert _open(client, case) == HIDDEN


def test_a_declared_conflict_hides_the_case_file_from_its_lead(client, auth, app, case):
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == case))
        db.session.add(ConflictDeclaration(complaint_id=complaint.id,
                                           user_id=user("investigator").id, reason="亲属"))
        db.session.commit()
    auth.login_as("investigator")
    assert _open(client, case) == HIDDEN


@pytest.mark.parametrize("state", [State.TRIAGED, State.INVESTIGATING, State.WITHDRAWN])
def test_a_committee_member_gets_404_before_the_decision_stage(client, auth, app, case,
                                                               state):
    set_state(app, case, state)
    auth.login_as("committee")
    assert _open(client, case) == HIDDEN


@pytest.mark.parametrize("state", [State.AWAITING_DECISION, State.DECIDED, State.CLOSED])
def test_a_committee_member_reads_it_from_awaiting_decision_on(client, auth, app, case, state):
    set_state(app, case, state)
    auth.login("committee2")  # 孙海燕: on no demo matter
    assert _open(client, case) == OPENS
    page = client.get(f"/complaints/{case}").text
    assert not [control for control in CONTROLS if control in page]
    auth.logout()
    auth.login("committee3")  # 马文博 supervises M-2026-0090: never
    assert _open(client, case) == HIDDEN


def test_a_draft_stays_with_intake_staff(client, auth, app, case):
    set_state(app, case, State.DRAFT)
    auth.login_as("investigator")  # assigned, but a draft is not investigated
    with app.app_context():
        assert db.session.scalar(select(OutboxMessage.id)) is not None
    page = client.get(f"/complaints/{case}")
    assert page.status_code == 200  # the assignment grants it (the rule is one rule) ...
    assert not [control for control in CONTROLS if control in page.text]  # ... not editing
    auth.logout()
    auth.login_as("receptionist")  # the control: intake staff get the draft's forms
    page = client.get(f"/complaints/{case}").text
    assert 'name="incident-narrative"' in page and "Send again" in page
