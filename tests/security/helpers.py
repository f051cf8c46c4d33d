"""Helpers shared by the security tests."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select, text

from portal.db import db, writes_by_default
from portal.models.audit import AuditEvent
from portal.models.user import Role, User
from portal.services.accounts import hash_password

EN = {"Accept-Language": "en"}
HTMX = {"HX-Request": "true"}


def snapshot(app: Flask, ignore_actions: tuple[str, ...] = ()) -> dict[str, list[tuple]]:
    """Every row of every table; audit events with an ignored action are left out."""
    rows: dict[str, list[tuple]] = {}
    with app.app_context():
        for table in db.metadata.sorted_tables:
            order = ", ".join(c.name for c in table.primary_key.columns) or "1"
            result = db.session.execute(text(f'SELECT * FROM "{table.name}" ORDER BY {order}'))
            data = [tuple(row) for row in result]
            if table.name == AuditEvent.__tablename__ and ignore_actions:
                action = list(result.keys()).index("action")
                # audit.rekeyed: bookkeeping the first audited event of a fresh trail writes
                ignored = (*ignore_actions, "audit.rekeyed")
                data = [row for row in data if row[action] not in ignored]
            rows[table.name] = data
        db.session.rollback()
    return rows


def changed_tables(before: dict, after: dict) -> list[str]:
    return sorted(name for name in after if before.get(name) != after[name])


def make_user(app: Flask, username: str, roles: set[Role], password: str = "redress-demo",
              **fields) -> int:
    with app.app_context(), writes_by_default():
        user = User(username=username, name=fields.pop("name", username),
                    password_hash=hash_password(password), **fields)
        user.set_roles(roles)
        db.session.add(user)
        db.session.commit()
        return user.id


def audit_actions(app: Flask) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def user_row(app: Flask, username: str) -> User:
    with app.app_context():
        user = db.session.scalar(select(User).where(User.username == username))
        db.session.expunge(user)
        return user
