"""Messages read from the complaints mailbox (services/mailin): one row per message stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.complaint import Complaint, Evidence


class MailOutcome(StrEnum):
    DRAFT = "draft"  # a new complaint waiting to be verified
    CORRESPONDENCE = "correspondence"  # a reply, on its complaint's timeline


class InboundMail(db.Model):
    """A message as it arrived. Where it sat in the mailbox (folder, UIDVALIDITY, UID) and its
    Message-ID are unique, so that a message fetched again is never stored twice."""

    __tablename__ = "inbound_mail"
    __table_args__ = (UniqueConstraint("mailbox", "folder", "uidvalidity", "uid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    mailbox: Mapped[str] = mapped_column(String(254))  # user@host
    folder: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The server's INTERNALDATE, not the sender's Date: header.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sender: Mapped[str | None] = mapped_column(String(254), index=True)
    sender_name: Mapped[str | None] = mapped_column(String(200))
    subject: Mapped[str] = mapped_column(String(300), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # {"spf": "pass", "dkim": "none", "dmarc": "fail"} from the server's Authentication-Results
    auth: Mapped[dict] = mapped_column(JSON, default=dict)
    trust_failed: Mapped[bool] = mapped_column(default=False)
    automatic: Mapped[str | None] = mapped_column(String(30))  # why it is an auto-reply or bulk
    # What was wrong, as codes with their values: [{"code": "attachment_refused", "name":
    # "x.pdf", "reason": "markup"}, {"code": "charset_guessed"}, ...]
    problems: Mapped[list] = mapped_column(JSON, default=list)
    candidate_client_ids: Mapped[list] = mapped_column(JSON, default=list)
    outcome: Mapped[str] = mapped_column(String(20))
    complaint_id: Mapped[int] = mapped_column(
        ForeignKey("complaint.id", ondelete="CASCADE"), index=True)
    original_id: Mapped[int | None] = mapped_column(
        ForeignKey("evidence.id", ondelete="SET NULL"))  # the .eml as it arrived
    receipt_sent: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    complaint: Mapped[Complaint] = relationship()
    original: Mapped[Evidence | None] = relationship()

    @property
    def is_draft(self) -> bool:
        return self.outcome == MailOutcome.DRAFT

    def problem_codes(self) -> set[str]:
        return {problem.get("code") for problem in self.problems or []}
