"""Every page of the workspace issues the same number of SQL statements with 5 and with 50
evidence items, statements, notes, reply requests and audit events: nothing is loaded one
row at a time."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models.complaint import Complaint, Evidence
from portal.models.investigation import InterviewNote, ReplyRequest, Statement
from portal.models.user import User
from portal.services import audit
from portal.services.investigation.replies import reply_token
from tests.security.access_matrix import become
from tests.web.test_query_counts import _counting
from tests.workspace_support import REFERENCE, investigating

BASE = f"/complaints/{REFERENCE}/investigation"
TYPES = ("application/pdf", "text/plain; charset=utf-8", "image/png",
         "application/vnd.openxmlformats-officedocument.wordprocessingml.document")


def _grow_to(app, count: int) -> None:
    with app.app_context():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == REFERENCE))
        have = len(db.session.scalars(select(Statement.id)).all())
        people = {u.username or u.name: u for u in db.session.scalars(select(User))}
        respondents = [people["王磊"], people["investigator2"]]
        with write_transaction():
            for n in range(have, count):
                statement = Statement(
                    complaint_id=complaint.id, party="respondent" if n % 2 else "complainant",
                    respondent_id=respondents[n % 2].id if n % 2 else None,
                    given_on=clock.today() - timedelta(days=n), method="phone",
                    text=f"第{n}份陈述", recorded_by_id=people["investigator"].id)
                db.session.add(statement)
                db.session.flush()
                db.session.add(Evidence(
                    complaint_id=complaint.id, category="other", original_name=f"证据{n}",
                    stored_name=uuid.uuid4().hex, content_type=TYPES[n % len(TYPES)],
                    size=100, sha256=f"{n:064x}", phase="investigation",
                    uploaded_by_id=people[("investigator", "partner2")[n % 2]].id,
                    statement_id=statement.id if n % 3 == 0 else None))
                db.session.add(InterviewNote(
                    complaint_id=complaint.id, held_on=clock.today() - timedelta(days=n),
                    participants=f"参与者{n}", text=f"笔记{n}",
                    author_id=people[("investigator", "partner2")[n % 2]].id))
                db.session.add(ReplyRequest(
                    complaint_id=complaint.id, respondent_id=respondents[n % 2].id,
                    nonce=f"nonce-{n}", due_on=clock.today() + timedelta(days=5),
                    expires_at=clock.now() + timedelta(days=10 - n % 20),
                    requested_by_id=people["investigator"].id))
                audit.record("note.recorded", actor=people["investigator"], obj=complaint,
                             details={"note_id": n})


def _urls(app) -> list[str]:
    with app.app_context():
        first_statement = db.session.scalar(select(Statement.id).order_by(Statement.id))
        first_note = db.session.scalar(select(InterviewNote.id).order_by(InterviewNote.id))
    return [BASE, f"{BASE}?x=1", f"{BASE}/evidence", f"{BASE}/chronology",
            f"{BASE}/statements/{first_statement}", f"{BASE}/notes/{first_note}",
            f"/complaints/{REFERENCE}"]


def _reply_url(app) -> str:
    with app.app_context():
        request = db.session.scalar(select(ReplyRequest).order_by(ReplyRequest.id))
        return f"/reply/{reply_token(request, app.config['SECRET_KEY'])}"


def _measure(app, client, username: str | None, urls: list[str]) -> dict[str, int]:
    become(client, username)
    counts = {}
    for url in urls:
        client.get(url)  # warm up
        with _counting(app) as statements:
            response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        counts[f"{username} {url}"] = len(statements)
    return counts


def _all_pages(app, client) -> dict[str, int]:
    urls = _urls(app)
    return {**_measure(app, client, "partner2", urls),
            **_measure(app, client, "investigator", urls[:-1]),  # the case file: staff only
            "reply page": _measure(app, client, None, [_reply_url(app)]).popitem()[1]}


def test_workspace_pages_issue_the_same_number_of_queries_at_5_and_at_50_items(app, client):
    app.extensions["redress_page_cache"] = None  # measure rendering, not the page cache
    investigating(app)
    _grow_to(app, 5)
    small = _all_pages(app, client)
    _grow_to(app, 50)
    large = _all_pages(app, client)
    assert large == small
    workspace = {url: n for url, n in large.items() if "/investigation" in url}
    assert max(workspace.values()) <= 30, large
