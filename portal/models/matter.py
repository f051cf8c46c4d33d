"""Clients and the matters the firm handles for them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import Department, User


class Client(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), index=True)
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    id_number: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(300))
    language: Mapped[str] = mapped_column(String(5), default="zh")  # zh | en
    organisation: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


matter_team = Table(
    "matter_team",
    db.Model.metadata,
    Column("matter_id", ForeignKey("matter.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class Matter(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    case_number: Mapped[str | None] = mapped_column(String(80), index=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"))
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    responsible_lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    opened_on: Mapped[date | None]
    # Decides the regulatory clock's length (`RegulatoryPeriod`).
    jurisdiction: Mapped[str] = mapped_column(String(20), default="PRC", server_default="PRC")
    # Phase 0 (prevention) fields; filled in by a later capability.
    engagement_scope: Mapped[str | None] = mapped_column(Text)
    fee_arrangement: Mapped[str | None] = mapped_column(Text)
    # What the client agreed to pay and has paid: refunds over all of the matter's complaints
    # may not exceed what was paid (services/resolution/money.py). Partners edit them.
    fees_agreed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    fees_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    fees_currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    client: Mapped[Client | None] = relationship()
    department: Mapped[Department | None] = relationship()
    responsible_lawyer: Mapped[User | None] = relationship(foreign_keys=[responsible_lawyer_id])
    partner: Mapped[User | None] = relationship(foreign_keys=[partner_id])
    team: Mapped[list[User]] = relationship(secondary=matter_team)

    __mapper_args__ = {"version_id_col": version}

    def people(self) -> set[int]:
        """Everyone who worked on the matter: they may not investigate a complaint about it."""
        ids = {u.id for u in self.team}
        ids.update(i for i in (self.responsible_lawyer_id, self.partner_id) if i)
        return ids
