"""Helpers for the follow-up tests: a complaint brought to follow_up through the real services
(remedies.start when nothing is owed to the client, or the completion of the last client-facing
task), its call-backs, the survey's token, a call recorded through the service.

The complaint is tests/remedies_support.py's: its handler and lead is the investigator 周建国,
the acting partner partner2 (刘慧敏), the client 李明 (li.ming@example.com, language zh).
"""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Complaint, RemedyTask
from portal.models.followup import Callback, RootCause
from portal.services.followup import callbacks, survey
from portal.services.resolution import completion
from tests.remedies_support import REFERENCE, accepted, person, started

__all__ = ["REFERENCE", "callback_ids", "complete", "in_follow_up", "latest", "person",
           "record_call", "root_cause", "survey_token"]

INTERNAL_ONLY = [("internal_criticism", None, "内部批评", None)]
EXPLANATION = [("explanation", None, None, None)]


def in_follow_up(app, *, client_email: str | None = "li.ming@example.com",
                 via_completion: bool = False, reference: str = REFERENCE) -> int:
    """A complaint in follow_up with its call-back scheduled: straight from remedies.start (only
    an internal measure decided), or after its one explanation task was recorded done."""
    if not via_completion:
        complaint_id = accepted(app, reference=reference, remedies_=INTERNAL_ONLY,
                                client_email=client_email)
        started(app, complaint_id)
        return complaint_id
    complaint_id = accepted(app, reference=reference, remedies_=EXPLANATION,
                            client_email=client_email)
    tasks = started(app, complaint_id)
    complete(app, complaint_id, tasks["explanation"])
    return complaint_id


def complete(app, complaint_id: int, task_id: int, notes: str = "已向客户解释。",
             by: str = "investigator") -> None:
    """Record a notes-kind task done as the route does: read, render, write."""
    entry = completion.Entry(notes=notes)
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        complaint = db.session.get(Complaint, complaint_id)
        read = completion.read(person(by), complaint, task_id, entry)
        db.session.commit()
        rendered = completion.render_documents(read, app.config)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            task = db.session.get(RemedyTask, task_id)
            completion.complete(person(by), complaint, task_id, entry, rendered,
                                expected_version=task.version)


def callback_ids(app, complaint_id: int) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(select(Callback.id).where(
            Callback.complaint_id == complaint_id).order_by(Callback.id)))


def latest(app, complaint_id: int) -> dict:
    """The latest call-back's columns, read fresh."""
    with app.app_context():
        row = db.session.scalar(select(Callback).where(Callback.complaint_id == complaint_id)
                                .order_by(Callback.id.desc()).limit(1))
        values = {c.name: getattr(row, c.name) for c in Callback.__table__.columns}
        values["unanswered_calls"] = row.unanswered_calls
        return values


def survey_token(app, callback_id: int) -> str:
    with app.app_context():
        return survey.token_for(db.session.get(Callback, callback_id))


def record_call(app, complaint_id: int, call: callbacks.Call, *, by: str = "investigator",
                version: int | None = None) -> Callback:
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        current = callbacks.current(complaint)
        return callbacks.record_call(person(by), complaint, current.id, call,
                                     expected_version=current.version if version is None
                                     else version)


def root_cause(app, code: str) -> int:
    with app.app_context():
        return db.session.scalar(select(RootCause.id).where(RootCause.code == code))
