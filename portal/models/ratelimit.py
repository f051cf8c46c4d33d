"""Rate-limit hits kept in the database, so that a limit holds across worker processes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from portal import clock
from portal.db import UTCDateTime, db


class RateLimitHit(db.Model):
    """One counted request: `bucket` names the limit (e.g. "public_form"), `key` the caller.

    The key is a keyed hash of the caller's address, never the address itself, and rows
    older than the limit's window are deleted as new hits arrive.
    """

    __tablename__ = "rate_limit_hit"
    __table_args__ = (Index("ix_rate_limit_hit_bucket_key_at", "bucket", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    bucket: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
