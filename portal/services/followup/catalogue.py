"""The root-cause catalogue: what closing a complaint chooses from."""

from __future__ import annotations

from sqlalchemy import select

from portal.db import db
from portal.models.followup import RootCause


def seed_defaults() -> int:
    """Add the seeded causes a database lacks (made without the migration); returns how many.
    Causes already there, edited or not, are left alone."""
    from portal.services.followup.root_cause_seed import ROOT_CAUSE_SEED

    present = set(db.session.scalars(select(RootCause.code)))
    missing = [RootCause(code=code, label_zh=zh, label_en=en, needs_text=needs_text,
                         position=position)
               for position, (code, zh, en, needs_text) in enumerate(ROOT_CAUSE_SEED, start=1)
               if code not in present]
    db.session.add_all(missing)
    return len(missing)


def active() -> list[RootCause]:
    """The causes a partner may choose, in the catalogue's order (one query)."""
    return list(db.session.scalars(select(RootCause).where(RootCause.active)
                                   .order_by(RootCause.position, RootCause.id)))
