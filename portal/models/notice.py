"""Notices sent to clients: immutable PDFs, each version stored with its SHA-256."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.complaint import Complaint


class Notice(db.Model):
    __table_args__ = (UniqueConstraint("complaint_id", "kind", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(ForeignKey("complaint.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(30))  # acknowledgement, outcome, ...
    version: Mapped[int] = mapped_column(default=1)
    stored_name: Mapped[str] = mapped_column(String(120), unique=True)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # "email" through the outbox, or "post" for a client without an email address: printed
    # from the PDF, and the day it was posted recorded.
    delivery: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    posted_on: Mapped[date | None]
    posted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))

    complaint: Mapped[Complaint] = relationship()

    @property
    def filename(self) -> str:
        return f"{self.complaint.reference}-{self.kind}-v{self.version}.pdf"
