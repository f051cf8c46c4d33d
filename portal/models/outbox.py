"""Transactional outbox: mail rows written with the change that causes them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.complaint import Complaint


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


class OutboxMessage(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    recipient: Mapped[str] = mapped_column(String(254))
    recipient_name: Mapped[str | None] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    # [{"notice_id": 1}] or [{"path": "...", "filename": "...", "content_type": "..."}]
    attachments: Mapped[list] = mapped_column(JSON, default=list)
    # Further headers for this message, e.g. {"In-Reply-To": "<…>", "Auto-Submitted":
    # "auto-replied"} (services/outbox.py checks them when queueing).
    headers: Mapped[dict | None] = mapped_column(JSON)
    complaint_id: Mapped[int | None] = mapped_column(ForeignKey("complaint.id"), index=True)
    status: Mapped[str] = mapped_column(String(10), default=OutboxStatus.PENDING, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    complaint: Mapped[Complaint | None] = relationship()
