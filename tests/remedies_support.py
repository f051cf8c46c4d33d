"""Helpers for the remedies tests: a complaint whose client accepted decision 1, built directly
in the database (the ballot, decision and answer services have their own tests), and the
remedy tasks started through the service.

The complaint is about matter M-2025-0142 (its supervising partner 陈志远 is kept out); its
lead and handler is the investigator 周建国; the acting partner is partner2 (刘慧敏).
"""

from __future__ import annotations

import re
import secrets
import subprocess
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from portal import clock
from portal.db import db, write_transaction
from portal.models import (
    ClientAnswer,
    Complaint,
    DecidedRemedy,
    Decision,
    RemedyTask,
    State,
    User,
)
from portal.services.resolution import remedies
from tests.findings_factory import make_investigation

REFERENCE = "TS-2026-00077"
# Internal measures, worded so that they would give themselves away in a client document.
INTERNAL_WORDS = re.compile(r"内部批评|纪律处分|internal\s+criticism|disciplinary|"
                            r"CONFIDENTIAL-MARK", re.IGNORECASE)
REMEDIES = [
    ("written_apology", None, None, None),
    ("partial_refund", "3000", None, None),
    ("free_follow_up", None, "二审阶段的证据整理", None),
    ("internal_criticism", None, "内部批评 internal criticism CONFIDENTIAL-MARK", None),
    ("disciplinary", None, "纪律处分 disciplinary CONFIDENTIAL-MARK", "warning"),
]


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def accepted(app, *, reference: str = REFERENCE, remedies_=REMEDIES,
             client_email: str | None = "li.ming@example.com", address: str | None = None,
             due_in: int = 20) -> int:
    """A complaint in `accepted`: decision 1 with `remedies_`, the client's acceptance."""
    with app.app_context():
        complaint_id = make_investigation(reference=reference, client_email=client_email,
                                          state=State.ACCEPTED)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.findings_submitted_at = clock.now()
            complaint.complainant.address = address
            complaint.matter.fees_paid = Decimal("10000")
            complaint.client_link_key = secrets.token_hex(16)  # set when the outcome went out
            decision = Decision(
                complaint_id=complaint.id, number=1, client_summary="经核查，律师确有迟延答复。",
                decided_by_id=person("partner2").id, answer_due=clock.today())
            decision.remedies = [
                DecidedRemedy(kind=kind, amount=Decimal(amount) if amount else None,
                              currency="CNY", scope=scope, level=level,
                              due=clock.today() + timedelta(days=due_in + i))
                for i, (kind, amount, scope, level) in enumerate(remedies_)]
            db.session.add(decision)
            db.session.flush()
            db.session.add(ClientAnswer(complaint_id=complaint.id, decision_id=decision.id,
                                        kind="accepted", method="link"))
        return complaint_id


def started(app, complaint_id: int, *, by: str = "partner2",
            owners: dict[str, str] | None = None) -> dict[str, int]:
    """Start the remedies through the service with the defaults (or `owners` by kind); the
    task ids by kind."""
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}), \
            write_transaction():
        complaint = db.session.get(Complaint, complaint_id)
        actor = person(by)
        plans = {}
        for remedy in complaint.current_decision.remedies:
            owner = person(owners[remedy.kind]) if owners and remedy.kind in owners \
                else remedies.default_owner(complaint, remedy, actor)
            plans[remedy.id] = remedies.Plan(owner.id, remedies.default_due(remedy))
        created = remedies.start(actor, complaint, plans, expected_version=complaint.version)
        return {t.remedy.kind: t.id for t in created}


def set_due(app, task_id: int, due: date) -> None:
    with app.app_context(), write_transaction():
        db.session.get(RemedyTask, task_id).due = due


def pdftotext(pdf: bytes) -> str:
    return subprocess.run(["pdftotext", "-raw", "-", "-"], input=pdf, capture_output=True,
                          check=True).stdout.decode()


PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00"
       b"\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05"
       b"\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
