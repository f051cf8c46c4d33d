"""Anonymized bulletins: a typical case, told so that no client or lawyer can be recognised.

A draft belongs to partners only. It keeps what the review needs: the complaint it came from,
the text as drafted from the record, and the replacements the engine made (each label with
the words it replaced). Publishing or withdrawing clears all three: a published bulletin is
text, the month, the categories and the rules engaged, with no way back to anyone (PIPL
art. 73). See services/bulletins/.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import Role, User


class BulletinStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    WITHDRAWN = "withdrawn"


BULLETIN_STATUS_LABELS = {
    BulletinStatus.DRAFT: _l("Draft"),
    BulletinStatus.PUBLISHED: _l("Published"),
    BulletinStatus.WITHDRAWN: _l("Withdrawn"),
}


class Bulletin(db.Model):
    __tablename__ = "bulletin"

    id: Mapped[int] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default=BulletinStatus.DRAFT, index=True)
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    language: Mapped[str] = mapped_column(String(5), default="zh")  # zh | en: the labels'
    month: Mapped[date]  # the first day of the month the complaint was received
    categories: Mapped[list[str]] = mapped_column(JSON, default=list)
    rules: Mapped[list[str]] = mapped_column(JSON, default=list)  # citations, as printed
    version: Mapped[int] = mapped_column(default=1)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Draft only: cleared when the bulletin is published or withdrawn.
    complaint_id: Mapped[int | None] = mapped_column(
        ForeignKey("complaint.id", ondelete="SET NULL"), index=True)
    source_text: Mapped[str | None] = mapped_column(Text)
    replacements: Mapped[list[dict] | None] = mapped_column(JSON)  # {label, kind, original}
    kept: Mapped[list[dict] | None] = mapped_column(JSON)  # {text, reason}: not identities

    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    published_by: Mapped[User | None] = relationship(foreign_keys=[published_by_id])

    __mapper_args__ = {"version_id_col": version}

    @property
    def is_draft(self) -> bool:
        return self.status == BulletinStatus.DRAFT

    @property
    def is_published(self) -> bool:
        return self.status == BulletinStatus.PUBLISHED

    def can_review(self, user: User) -> bool:
        """Drafts are the partners' alone."""
        return self.is_draft and user.has_role(Role.PARTNER)

    def can_read(self, user: User) -> bool:
        """A published bulletin is for every staff member, respondents included."""
        return self.is_published or (self.is_draft and user.has_role(Role.PARTNER))
