"""The staff an email names, to keep them out of its draft until a receptionist verifies it."""

from __future__ import annotations

import re

from sqlalchemy import select

from portal.db import db
from portal.models.user import User, UserAlias

MIN_LATIN = 4  # shorter Latin names ("Li") would match inside ordinary words
LATIN = re.compile(r"[A-Za-z]")


def _names() -> list[tuple[int, str]]:
    users = db.session.execute(select(User.id, User.name, User.email)).all()
    aliases = db.session.execute(select(UserAlias.user_id, UserAlias.alias)).all()
    pairs = [(uid, name) for uid, name, _email in users if name]
    pairs += [(uid, email) for uid, _name, email in users if email]
    pairs += [(uid, alias) for uid, alias in aliases if alias]
    return pairs


def _named(text: str, lowered: str, name: str) -> bool:
    name = " ".join(name.split())
    if not LATIN.search(name):
        return len(name) >= 2 and name in text  # a Chinese name: as written
    if len(name) < MIN_LATIN:
        return False
    pattern = r"(?<![A-Za-z0-9])" + re.escape(name.lower()) + r"(?![A-Za-z0-9])"
    return re.search(pattern, lowered) is not None


def staff_named_in(text: str) -> list[int]:
    """Ids of the staff whose name, email or a recorded alias appears in `text`."""
    text = " ".join((text or "").split())
    lowered = text.lower()
    return sorted({uid for uid, name in _names() if _named(text, lowered, name)})
