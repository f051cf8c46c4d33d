"""Complaints under investigation for the workspace's tests, written as rows.

The assignment service belongs to another part of the issue: these tests insert the
Assignment rows themselves, inside `writes_by_default()`.

The complaint is about matter M-2025-0142 (responsible lawyer 王磊, team 张敏, partner
陈志远 "partner"), against 王磊 (no login) and 吴丽娟 ("investigator2"); 周建国
("investigator") leads it. So: partner2 (刘慧敏) may open the workspace; "partner" is the
matter's partner, investigator2 a respondent, "reception" a receptionist: 404 for each.
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select

from portal import clock
from portal.db import db, writes_by_default
from portal.models.complaint import Complaint, Evidence, State
from portal.models.investigation import Allegation, Assignment, AssignmentRole
from portal.models.matter import Client, Matter
from portal.models.user import Role, User
from tests.security.helpers import make_user

REFERENCE = "TS-2026-09001"
NARRATIVE = "王律师收费后三个月没有任何进展，也不回复我的微信和电话。秘密叙述"
ALLEGATIONS = [  # (text, category, respondent)
    ("收费后三个月没有任何进展", "delay", "王磊"),
    ("不回复客户的微信和电话", "communication", "吴丽娟"),
    ("收费标准未事先说明", "fees", None),
]


def user(name_or_username: str) -> User:
    return db.session.scalar(select(User).where(
        (User.username == name_or_username) | (User.name == name_or_username)))


def user_id(app, name_or_username: str) -> int:
    with app.app_context():
        return user(name_or_username).id


def investigating(app, *, reference: str = REFERENCE, state: str = State.INVESTIGATING,
                  lead: str | None = "investigator", investigators: tuple[str, ...] = (),
                  respondents: tuple[str, ...] = ("王磊", "吴丽娟"),
                  matter: str | None = "M-2025-0142") -> str:
    """A registered, triaged complaint with a lead (and investigators) assigned."""
    now = clock.now()
    with app.app_context(), writes_by_default():
        client = db.session.scalar(select(Client).where(Client.name == "李明"))
        complaint = Complaint(
            reference=reference, state=state, channel="phone", language="zh",
            received_at=datetime(2026, 6, 1, 2, 30, tzinfo=UTC),
            registered_at=datetime(2026, 6, 1, 3, 0, tzinfo=UTC),
            triaged_at=datetime(2026, 6, 2, 3, 0, tzinfo=UTC),
            occurred_on=date(2026, 5, 20), narrative=NARRATIVE, complainant=client,
            matter=db.session.scalar(select(Matter).where(Matter.reference == matter))
            if matter else None,
            respondents=[user(name) for name in respondents], severity="serious",
            categories=["delay"], confirmed_at=now,
        )
        db.session.add(complaint)
        db.session.flush()
        for number, (text, category, who) in enumerate(ALLEGATIONS, start=1):
            db.session.add(Allegation(complaint_id=complaint.id, number=number, text=text,
                                      category=category,
                                      respondent_id=user(who).id if who else None))
        if lead:
            assign(complaint.id, lead, AssignmentRole.LEAD)
        for name in investigators:
            assign(complaint.id, name, AssignmentRole.INVESTIGATOR)
        db.session.commit()
    return reference


def assign(complaint_id: int, username: str, role: str = AssignmentRole.INVESTIGATOR) -> None:
    """Within an app context and writes_by_default()."""
    db.session.add(Assignment(complaint_id=complaint_id, user_id=user(username).id,
                              role=str(role)))


def assign_now(app, reference: str, username: str,
               role: str = AssignmentRole.INVESTIGATOR) -> None:
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        assign(complaint.id, username, role)
        db.session.commit()


def set_state(app, reference: str, state: str) -> None:
    with app.app_context(), writes_by_default():
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        complaint.state = state
        db.session.commit()


def intake_item(app, data: bytes, name: str, *, reference: str = REFERENCE,
                content_type: str = "application/pdf", phase: str = "intake",
                statement_id: int | None = None) -> int:
    """An evidence row with its stored file, as intake (or the workspace) leaves it."""
    with app.app_context(), writes_by_default():
        folder = Path(app.config["EVIDENCE_DIR"])
        folder.mkdir(parents=True, exist_ok=True)
        stored_name = uuid.uuid4().hex
        (folder / stored_name).write_bytes(data)
        complaint = db.session.scalar(select(Complaint).where(Complaint.reference == reference))
        item = Evidence(complaint_id=complaint.id, category="engagement_contract",
                        original_name=name, stored_name=stored_name, content_type=content_type,
                        size=len(data), sha256=hashlib.sha256(data).hexdigest(), phase=phase,
                        statement_id=statement_id)
        db.session.add(item)
        db.session.commit()
        return item.id


def unassigned_investigator(app) -> str:
    make_user(app, "investigator3", {Role.INVESTIGATOR}, name="钱进")
    return "investigator3"


def one_page_pdf(text: str = "Evidence page one") -> bytes:
    """A valid one-page PDF that poppler can draw."""
    stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


def png(width: int = 2400, height: int = 1600) -> bytes:
    """A plain PNG of the given size (large enough to be downscaled)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    row = b"\x00" + b"\x80\x40\x20" * width
    raw = zlib.compress(row * height)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", raw) + \
        chunk(b"IEND", b"")
