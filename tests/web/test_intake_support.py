"""Helpers for the intake tests: drive the complaint builder as a receptionist would.

(Named test_* so that it lives with the intake tests; it holds no tests itself.)
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from portal.db import db
from portal.models import AuditEvent, Client, Complaint, Matter, User

HX = {"HX-Request": "true"}
RECEIVED = "2026-09-29T10:30"  # a Tuesday, just before the National Day holiday


def lookup(app, model, **filters):
    with app.app_context():
        row = db.session.scalar(select(model).filter_by(**filters))
        return row.id if row else None


def client_id(app, name: str) -> int:
    return lookup(app, Client, name=name)


def user_id(app, name: str) -> int:
    return lookup(app, User, name=name)


def matter_id(app, reference: str) -> int:
    return lookup(app, Matter, reference=reference)


def get(app, key: str) -> Complaint:
    """A fresh copy of the complaint (detached; relationships loaded)."""
    with app.app_context():
        complaint = _find(key)
        assert complaint is not None, key
        _ = (complaint.complainant, list(complaint.respondents), complaint.matter,
             list(complaint.evidence), list(complaint.deadlines))
        db.session.expunge_all()
        return complaint


def _find(key: str) -> Complaint | None:
    if re.fullmatch(r"D\d+", key):
        return db.session.get(Complaint, int(key[1:]))
    return db.session.scalar(select(Complaint).where(Complaint.reference == key))


def version(app, key: str) -> int:
    return get(app, key).version


def events(app, action: str, complaint_id: int | None = None) -> list[AuditEvent]:
    with app.app_context():
        query = select(AuditEvent).where(AuditEvent.action == action)
        if complaint_id is not None:
            query = query.where(AuditEvent.object_type == "complaint",
                                AuditEvent.object_id == str(complaint_id))
        rows = db.session.scalars(query.order_by(AuditEvent.id)).all()
        db.session.expunge_all()
        return rows


def new_draft(client, channel: str = "phone", received: str = RECEIVED) -> str:
    response = client.post("/complaints", data={"new-channel": channel,
                                                "new-received_at": received})
    assert response.status_code == 303, response.text
    return response.headers["Location"].rstrip("/").rsplit("/", 1)[-1]


def save(client, app, key: str, section: str, data: dict, *, stale: int | None = None,
         htmx: bool = True):
    form = {"version": stale if stale is not None else version(app, key), **data}
    return client.post(f"/complaints/{key}/sections/{section}", data=form,
                       headers=HX if htmx else {})


def person(**changes) -> dict:
    data = {"complainant-name": "陈小红", "complainant-phone": "138 0013 9999",
            "complainant-email": "chen.xiaohong@example.com",
            "complainant-id_number": "", "complainant-address": "北京市海淀区中关村大街1号",
            "complainant-language": "zh"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def incident(**changes) -> dict:
    data = {"incident-narrative": "王律师收费后三个月没有任何进展，也不回复我的微信和电话。",
            "incident-occurred_on": "2026-05-20", "incident-occurred_until": "",
            "incident-occurred_place": "律所办公室"}
    data.update(changes)
    return data


def remedy(codes=("explanation", "partial_refund"), details="退还一半律师费") -> dict:
    return {"remedy-remedies_sought": list(codes), "remedy-remedy_details": details}


def complete_draft(client, app, *, language: str = "zh", existing: str | None = None,
                   lawyer: str = "王磊", matter: str | None = "M-2025-0142",
                   channel: str = "phone", received: str = RECEIVED) -> str:
    """A draft with every required section filled in (not yet confirmed)."""
    key = new_draft(client, channel, received)
    if existing:
        response = save(client, app, key, "complainant", {"client_id": client_id(app, existing)})
    else:
        response = save(client, app, key, "complainant",
                        person(**{"complainant-language": language}))
    assert response.status_code == 200, response.text
    assert save(client, app, key, "respondents",
                {"add": user_id(app, lawyer)}).status_code == 200
    if matter:
        assert save(client, app, key, "matter",
                    {"matter_id": matter_id(app, matter)}).status_code == 200
    assert save(client, app, key, "incident", incident()).status_code == 200
    assert save(client, app, key, "remedy", remedy()).status_code == 200
    return key


def confirm_in_person(client, app, key: str):
    """Confirmed in person; the drafts here come by phone, so with the note that needs."""
    return client.post(f"/complaints/{key}/confirm",
                       data={"confirm-method": "in_person", "version": version(app, key),
                             "confirm-note": "客户次日来所当面确认"})


def today() -> date:
    from portal.services.intake.record import local_today

    return local_today()
