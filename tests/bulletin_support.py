"""Helpers for the bulletin tests: a finished complaint whose narrative names people in
several forms, and its findings answered."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db, write_transaction
from portal.models import Bulletin, Complaint, State, User
from tests.findings_factory import answer_all
from tests.remedies_support import accepted

REFERENCE = "TS-2026-00088"
# 李明 is the client (also 李先生, Li Ming); 王磊 the respondent (王律师); a phone number in a
# spaced format, a case number and an ordinary word the engine may take for a name (高明).
NARRATIVE = ("委托人李明称，王律师在（2025）京0105民初12345号案件中三次未按约定时间回复。"
             "李先生多次拨打159 0000 1234无人接听。Li Ming later wrote that the strategy was "
             "not 高明 at all, and that 王磊 never explained the fees.")
IDENTITIES = ("李明", "李先生", "Li Ming", "王律师", "王磊", "159 0000 1234",
              "（2025）京0105民初12345号", "13800138000", "li.ming@example.com")


def person(key: str) -> User:
    return db.session.scalar(select(User).where((User.username == key) | (User.name == key)))


def finished(app, *, reference: str = REFERENCE, state: str = State.FOLLOW_UP,
             narrative: str = NARRATIVE) -> int:
    complaint_id = accepted(app, reference=reference)
    with app.app_context():
        answer_all(complaint_id)
        with write_transaction():
            complaint = db.session.get(Complaint, complaint_id)
            complaint.state = state
            complaint.narrative = narrative
    return complaint_id


def bulletin_of(app, bulletin_id: int) -> Bulletin:
    with app.app_context():
        bulletin = db.session.get(Bulletin, bulletin_id)
        db.session.expunge(bulletin)
        return bulletin
