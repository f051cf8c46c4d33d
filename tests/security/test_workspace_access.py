"""The workspace and everything under it answer 404 to anyone who may not open it: the
respondent, the matter's partner, an unassigned investigator, a receptionist, a committee
member, someone who declared a conflict, a lead whose assignment ended; also when the ids
are real, and when an id of another complaint is put under this complaint's address."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models.complaint import Complaint, Evidence
from portal.models.investigation import (
    Assignment,
    ConflictDeclaration,
    InterviewNote,
    ReplyRequest,
    Statement,
)
from portal.services.investigation.replies import reply_token
from tests.security.access_matrix import become
from tests.security.helpers import changed_tables, snapshot
from tests.workspace_support import (
    assign_now,
    intake_item,
    investigating,
    one_page_pdf,
    unassigned_investigator,
    user_id,
)

A, B = "TS-2026-09001", "TS-2026-09002"


def _rows(app, reference: str) -> dict[str, int]:
    """One evidence item, statement and note of the complaint, written as rows."""
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        statement = Statement(complaint_id=complaint.id, party="complainant",
                              given_on=complaint.occurred_on, method="phone", text="陈述")
        note = InterviewNote(complaint_id=complaint.id, held_on=complaint.occurred_on,
                             participants="周建国", text="笔记")
        db.session.add_all([statement, note])
        db.session.commit()
        ids = {"statement": statement.id, "note": note.id}
    ids["evidence"] = intake_item(app, one_page_pdf(), "秘密证据.pdf", reference=reference,
                                  phase="investigation")
    return ids


def urls(reference: str, ids: dict[str, int]) -> list[tuple[str, str]]:
    base = f"/complaints/{reference}/investigation"
    return [
        ("GET", base), ("GET", f"{base}/evidence"), ("GET", f"{base}/chronology"),
        ("GET", f"{base}/evidence/{ids['evidence']}"),
        ("GET", f"{base}/evidence/{ids['evidence']}/preview"),
        ("GET", f"{base}/statements/{ids['statement']}"),
        ("GET", f"{base}/notes/{ids['note']}"),
        ("POST", f"{base}/evidence"), ("POST", f"{base}/statements"),
        ("POST", f"{base}/replies"), ("POST", f"{base}/notes"),
    ]


def _request(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    files = {"evidence-file": (io.BytesIO(one_page_pdf()), "x.pdf"),
             "evidence-category": "other", "statement-speaker": "complainant",
             "statement-method": "phone", "statement-given_on": "2026-06-01",
             "statement-text": "伪造", "note-held_on": "2026-06-01",
             "note-participants": "某人", "note-text": "伪造", "reply-due_on": "2026-06-30"}
    return client.post(url, data=files, content_type="multipart/form-data")


@pytest.fixture
def complaint(app) -> dict[str, int]:
    investigating(app, reference=A)
    return _rows(app, A)


OUTSIDERS = {
    "investigator2": "a respondent (吴丽娟)",
    "partner": "the matter's supervising partner (陈志远)",
    "reception": "a receptionist",
    "committee1": "a committee member",
}


@pytest.mark.parametrize("username", sorted(OUTSIDERS))
def test_outsiders_get_404_everywhere_and_change_nothing(app, client, complaint, username):
    become(client, username)
    before = snapshot(app)
    for method, url in urls(A, complaint):
        assert _request(client, method, url).status_code == 404, (username, method, url)
    assert changed_tables(before, snapshot(app)) == []


def test_an_unassigned_investigator_gets_404(app, client, complaint):
    become(client, unassigned_investigator(app))
    for method, url in urls(A, complaint):
        assert _request(client, method, url).status_code == 404, (method, url)


def test_the_lead_and_a_partner_without_conflict_may_open_everything(app, client, complaint):
    for username in ("investigator", "partner2"):
        become(client, username)
        for method, url in urls(A, complaint):
            if method == "GET":
                assert client.get(url).status_code == 200, (username, url)


def test_a_respondent_assigned_by_mistake_is_still_kept_out(app, client, complaint):
    assign_now(app, A, "investigator2")  # 吴丽娟 is a respondent
    become(client, "investigator2")
    for method, url in urls(A, complaint):
        assert _request(client, method, url).status_code == 404, (method, url)


def test_a_declared_conflict_hides_it_from_a_partner(app, client, complaint):
    partner = user_id(app, "partner2")
    with app.app_context(), writes_by_default():
        complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.reference == A))
        db.session.add(ConflictDeclaration(complaint_id=complaint_id, user_id=partner,
                                           reason="亲属"))
        db.session.commit()
    become(client, "partner2")
    for method, url in urls(A, complaint):
        assert _request(client, method, url).status_code == 404, (method, url)


def test_an_ended_assignment_closes_the_workspace(app, client, complaint):
    with app.app_context(), writes_by_default():
        for row in db.session.scalars(select(Assignment)):
            row.ended_at = clock.now()
        db.session.commit()
    become(client, "investigator")
    assert client.get(f"/complaints/{A}/investigation").status_code == 404


def test_ids_of_another_complaint_are_404_under_this_one(app, client, complaint):
    investigating(app, reference=B, lead="investigator2", respondents=("王磊",))
    other = _rows(app, B)
    become(client, "investigator")  # leads A, not B
    for method, url in urls(A, other)[3:7]:
        assert _request(client, method, url).status_code == 404, (method, url)
    for method, url in urls(B, other):
        assert _request(client, method, url).status_code == 404, (method, url)
    become(client, "partner2")  # may open both: still only each one's own rows
    for method, url in urls(A, other)[3:7]:
        assert client.get(url).status_code == 404, url


def test_a_draft_or_a_registered_complaint_has_no_workspace(app, client):
    investigating(app, state="registered")
    become(client, "partner2")
    assert client.get(f"/complaints/{A}/investigation").status_code == 404


def test_anonymous_visitors_are_sent_to_sign_in(app, client, complaint):
    become(client, None)
    response = client.get(f"/complaints/{A}/investigation")
    assert response.status_code in (302, 303) and "/login" in response.headers["Location"]


def test_the_reply_page_never_reaches_the_workspace(app, client, complaint):
    """A respondent's link shows their allegations; it opens nothing else."""
    wang = user_id(app, "王磊")
    with app.app_context(), writes_by_default():
        complaint_id = db.session.scalar(select(Complaint.id).where(Complaint.reference == A))
        request = ReplyRequest(complaint_id=complaint_id, respondent_id=wang,
                               nonce="n" * 40, due_on=clock.today(),
                               expires_at=clock.now() + timedelta(days=3))
        db.session.add(request)
        db.session.commit()
    with app.app_context():
        token = reply_token(db.session.scalar(select(ReplyRequest)), app.config["SECRET_KEY"])
    become(client, None)
    page = client.get(f"/reply/{token}")
    assert page.status_code == 200
    assert "秘密证据.pdf" not in page.text and "/investigation" not in page.text
    assert client.get(f"/complaints/{A}/investigation/evidence/{complaint['evidence']}"
                      ).status_code in (302, 303)


def test_evidence_rows_exist_for_the_checks_above(app, complaint):
    with app.app_context():
        assert db.session.get(Evidence, complaint["evidence"]) is not None
