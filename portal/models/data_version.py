"""One counter that every committed change to what pages show moves forward.

`portal/web/page_cache.py` keys rendered pages by it; `portal/db.py` increments it in the
transaction that makes the change, so a reader sees the new number exactly when it sees the
new data."""

from __future__ import annotations

from sqlalchemy.orm import Mapped, mapped_column

from portal.db import db


class DataVersion(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    n: Mapped[int] = mapped_column(default=0)
