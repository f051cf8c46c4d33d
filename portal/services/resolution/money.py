"""Money in the resolution phase: the fees recorded on a matter, and the cap on refunds.

Refunds are capped by what the client paid on the matter, counted over all of the matter's
complaints: the room left for a complaint's decision is the matter's `fees_paid` minus the
refunds in the *current* decisions (the latest of each) of the matter's other complaints. A
full refund is the whole room left, and is recorded with that amount, so that it counts at
its value on the matter's other complaints.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from flask_babel import gettext as _
from sqlalchemy import func, select

from portal.db import db
from portal.models.complaint import Complaint
from portal.models.matter import Matter
from portal.models.resolution import REFUNDS, DecidedRemedy, Decision, RemedyKind
from portal.models.user import Role, User
from portal.services import audit
from portal.services.intake.errors import ConflictError
from portal.services.resolution.common import ResolutionError, parse_money

ZERO = Decimal("0.00")
CURRENCY = re.compile(r"[A-Z]{3}")


class RefundTerms(Protocol):
    kind: str
    amount: Decimal | None
    currency: str


@dataclass(frozen=True)
class RefundRoom:
    """What may still be refunded on a complaint's matter."""

    fees_paid: Decimal
    decided_elsewhere: Decimal  # refunds in the matter's other complaints' current decisions
    currency: str

    @property
    def remaining(self) -> Decimal:
        return max(ZERO, self.fees_paid - self.decided_elsewhere)


def current_refunds(matter_id: int, *, except_complaint: int | None) -> Decimal:
    """The refunds in the current decision of each of the matter's complaints (but one)."""
    latest = (select(Decision.complaint_id, func.max(Decision.number).label("number"))
              .join(Complaint, Complaint.id == Decision.complaint_id)
              .where(Complaint.matter_id == matter_id)
              .group_by(Decision.complaint_id))
    if except_complaint is not None:
        latest = latest.where(Decision.complaint_id != except_complaint)
    latest = latest.subquery()
    total = db.session.scalar(
        select(func.sum(DecidedRemedy.amount))
        .join(Decision, Decision.id == DecidedRemedy.decision_id)
        .join(latest, (latest.c.complaint_id == Decision.complaint_id)
              & (latest.c.number == Decision.number))
        .where(DecidedRemedy.kind.in_([k.value for k in REFUNDS])))
    return Decimal(total or 0).quantize(ZERO)


def refund_room(complaint: Complaint) -> RefundRoom:
    """The refundable room on the complaint's matter; refused when the fees are not recorded."""
    matter = complaint.matter
    if matter is None:
        raise ResolutionError(_(
            "This complaint is not linked to a matter, so no refund can be decided: refunds "
            "are capped by the fees paid on the matter. Link the matter and record its fees "
            "first."), field="fees")
    if matter.fees_paid is None:
        raise ResolutionError(_(
            "The fees paid on matter %(matter)s are not recorded, so no refund can be "
            "decided: record the fees first.", matter=matter.reference), field="fees")
    elsewhere = current_refunds(matter.id, except_complaint=complaint.id)
    return RefundRoom(matter.fees_paid, elsewhere, matter.fees_currency)


def refund_total(remedies: list[RefundTerms]) -> Decimal:
    return sum((r.amount or ZERO for r in remedies if r.kind in REFUNDS), ZERO)


def settle_refunds(complaint: Complaint, remedies: list[RefundTerms]) -> Decimal:
    """Give each full refund its amount (the room left) and refuse refunds above the room or
    in another currency than the matter's fees. Returns the refund total. Changes nothing
    but the remedies passed in; a decision without refunds asks nothing of the matter."""
    refunds = [r for r in remedies if r.kind in REFUNDS]
    if not refunds:
        return ZERO
    room = refund_room(complaint)
    for remedy in refunds:
        if (remedy.currency or room.currency) != room.currency:
            raise ResolutionError(_(
                "A refund is in %(currency)s but the fees on the matter were paid in "
                "%(fees_currency)s.", currency=remedy.currency, fees_currency=room.currency),
                field="fees")
        remedy.currency = room.currency
        if remedy.kind == RemedyKind.FULL_REFUND:
            remedy.amount = room.remaining
    total = refund_total(remedies)
    if total > room.remaining:
        raise ResolutionError(_(
            "The refunds (%(currency)s %(total)s) are more than can be refunded on the matter: "
            "%(currency)s %(paid)s was paid and %(currency)s %(elsewhere)s is already refunded "
            "in the decisions on its other complaints, which leaves %(currency)s %(left)s.",
            currency=room.currency, total=f"{total:,.2f}", paid=f"{room.fees_paid:,.2f}",
            elsewhere=f"{room.decided_elsewhere:,.2f}", left=f"{room.remaining:,.2f}"),
            field="fees")
    return total


# -- the fees on a matter -----------------------------------------------------------------

class FeesConflict(ConflictError):
    """Someone changed the matter's fees after the form was loaded (409)."""

    def __init__(self) -> None:
        super().__init__(_(
            "Someone else changed the fees on this matter after you opened the page, so "
            "nothing was saved. What you typed is still on screen: reload the page to see the "
            "fees now recorded, then try again."))


@dataclass(frozen=True)
class FeesInput:
    fees_agreed: str
    fees_paid: str
    currency: str


def _amount(value: str | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def set_fees(actor: User, matter: Matter, data: FeesInput, *, expected_version: int) -> Matter:
    """A partner records what the client agreed to pay and has paid on the matter (audited
    with the old and new amounts). Paid may not fall below the refunds already decided."""
    if not actor.has_role(Role.PARTNER):
        raise ResolutionError(_("Only a partner may record the fees on a matter."))
    db.session.refresh(matter, with_for_update=True)
    if matter.version != expected_version:
        raise FeesConflict()
    agreed = parse_money(data.fees_agreed, field="fees_agreed", required=False)
    paid = parse_money(data.fees_paid, field="fees_paid", required=False)
    currency = (data.currency or "").strip().upper() or matter.fees_currency
    if not CURRENCY.fullmatch(currency):
        raise ResolutionError(_("A currency is three letters, for example CNY or GBP."),
                              field="currency")
    decided = current_refunds(matter.id, except_complaint=None)
    if decided > ZERO and currency != matter.fees_currency:
        raise ResolutionError(_(
            "Refunds are already decided on this matter in %(currency)s: the currency stays.",
            currency=matter.fees_currency), field="currency")
    if decided > ZERO and (paid is None or paid < decided):
        raise ResolutionError(_(
            "%(currency)s %(decided)s is already refunded in the decisions on this matter's "
            "complaints: the fees paid cannot be less.", currency=matter.fees_currency,
            decided=f"{decided:,.2f}"), field="fees_paid")
    confirmed = matter.fees_excess_confirmed_by_id is not None and (
        matter.fees_agreed, matter.fees_paid) == (agreed, paid)
    if agreed is not None and paid is not None and paid > agreed and not confirmed:
        raise ResolutionError(_(
            "The fees paid are more than the fees agreed. A partner confirms that, with the "
            "reason, on the matter's page."), field="fees_paid")
    old = {"fees_agreed": _amount(matter.fees_agreed), "fees_paid": _amount(matter.fees_paid),
           "currency": matter.fees_currency}
    if not confirmed:
        matter.fees_excess_reason = matter.fees_excess_confirmed_by_id = None
    matter.fees_agreed, matter.fees_paid, matter.fees_currency = agreed, paid, currency
    db.session.flush()
    new = {"fees_agreed": _amount(agreed), "fees_paid": _amount(paid), "currency": currency}
    audit.record("matter.fees_set", actor=actor, obj=matter, details={
        "matter_id": matter.id, "old": old, "new": new, "version": matter.version})
    return matter
