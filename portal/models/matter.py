"""Clients and the matters the firm handles for them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import (
    Column,
    ColumnElement,
    ForeignKey,
    Numeric,
    String,
    Table,
    Text,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal import clock
from portal.db import UTCDateTime, db
from portal.models.user import Department, Role, User

if TYPE_CHECKING:
    from portal.models.prevention import MatterType


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
    client_id: Mapped[int | None] = mapped_column(ForeignKey("client.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"), index=True)
    responsible_lawyer_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    partner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    opened_on: Mapped[date | None]
    # Decides the regulatory clock's length (`RegulatoryPeriod`).
    jurisdiction: Mapped[str] = mapped_column(String(20), default="PRC", server_default="PRC")
    # Prevention (models/prevention.py): the type gives the checklist and the default
    # report interval; `report_interval_days` overrides it for this matter.
    matter_type_code: Mapped[str | None] = mapped_column(ForeignKey("matter_type.code"))
    status: Mapped[str] = mapped_column(String(20), default="open", server_default="open")
    closed_on: Mapped[date | None]
    report_interval_days: Mapped[int | None]
    # Kept by services/prevention/reports.py: the last report's day (or the opening day) plus
    # the interval, and the due day a reminder was last sent for (one per overdue period).
    report_due_on: Mapped[date | None] = mapped_column(index=True)
    report_reminded_for: Mapped[date | None]
    # How many engagement expectations have no entry yet (services/prevention/expectations.py).
    expectation_gaps: Mapped[int] = mapped_column(default=6, server_default="6")
    # What the client agreed to pay and has paid: refunds over all of the matter's complaints
    # may not exceed what was paid (services/resolution/money.py). Partners edit them; paid
    # above agreed needs a partner's confirmation with a reason.
    fees_agreed: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    fees_paid: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    fees_currency: Mapped[str] = mapped_column(String(3), default="CNY", server_default="CNY")
    fees_excess_reason: Mapped[str | None] = mapped_column(Text)
    fees_excess_confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    client: Mapped[Client | None] = relationship()
    department: Mapped[Department | None] = relationship()
    responsible_lawyer: Mapped[User | None] = relationship(foreign_keys=[responsible_lawyer_id])
    partner: Mapped[User | None] = relationship(foreign_keys=[partner_id])
    team: Mapped[list[User]] = relationship(secondary=matter_team)
    matter_type: Mapped[MatterType | None] = relationship()

    __mapper_args__ = {"version_id_col": version}

    @classmethod
    def visible_to(cls, user: User) -> ColumnElement[bool]:
        """Who may see a matter, as SQL (every list, count, search and export of matters uses
        it): partners see all; anyone else the matters they are responsible for, supervise, or
        are on the team of."""
        if user.has_role(Role.PARTNER):
            return true()
        return or_(cls.responsible_lawyer_id == user.id, cls.partner_id == user.id,
                   cls.id.in_(select(matter_team.c.matter_id)
                              .where(matter_team.c.user_id == user.id)))

    def can_view(self, user: User) -> bool:
        """The same rule for a loaded matter."""
        return (user.has_role(Role.PARTNER) or user.id in (self.responsible_lawyer_id,
                                                          self.partner_id)
                or any(member.id == user.id for member in self.team))

    def people(self) -> set[int]:
        """Everyone who worked on the matter: they may not investigate a complaint about it."""
        ids = {u.id for u in self.team}
        ids.update(i for i in (self.responsible_lawyer_id, self.partner_id) if i)
        return ids
