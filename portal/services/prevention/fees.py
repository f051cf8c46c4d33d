"""The fees on a matter as a partner types them on the matter's form: amounts of zero or more
with at most two decimals, a three-letter currency, paid above agreed only with a partner's
confirmation and a reason, and paid never below the refunds already decided on the matter's
complaints (services/resolution/money.py)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from flask_babel import gettext as _

from portal.models.matter import Matter
from portal.models.user import User
from portal.services.intake.errors import FieldErrors
from portal.services.resolution.money import current_refunds  # the refunds decided so far

if TYPE_CHECKING:
    from portal.services.prevention.matters import MatterInput

CURRENCY = re.compile(r"[A-Z]{3}")
REASON_MAX = 2000
MONEY_MAX = Decimal("999999999999.99")


def money(value: str, name: str, errors: FieldErrors) -> Decimal | None:
    text = (value or "").strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        errors.add(name, _("Enter the amount as a number, for example 1200 or 1200.50."))
        return None
    if not amount.is_finite() or amount < 0 or amount > MONEY_MAX:
        errors.add(name, _("Enter an amount of zero or more."))
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.add(name, _("Use at most two decimal places."))
    else:
        return amount.quantize(Decimal("0.01"))
    return None


def fees(actor: User, data: MatterInput, errors: FieldErrors, matter: Matter | None) -> dict:
    """The fees agreed and paid. Paid above agreed needs a partner's confirmation with a
    reason (kept until the amounts or the reason change); paid may not fall below the refunds
    already decided on the matter's complaints, whose currency then stays."""
    agreed = money(data.fees_agreed, "fees_agreed", errors)
    paid = money(data.fees_paid, "fees_paid", errors)
    currency = (data.currency or "").strip().upper() or "CNY"
    if not CURRENCY.fullmatch(currency):
        errors.add("currency", _("A currency is three letters, for example CNY or GBP."))
    reason = (data.excess_reason or "").strip()
    excess = agreed is not None and paid is not None and paid > agreed
    confirmed_by = None
    if excess:
        kept = matter is not None and matter.fees_excess_confirmed_by_id is not None and (
            matter.fees_agreed, matter.fees_paid, matter.fees_excess_reason or "") == (
            agreed, paid, reason)
        if len(reason) > REASON_MAX:
            errors.add("excess_reason", _("At most %(max)d characters.", max=REASON_MAX))
        elif kept:
            confirmed_by = matter.fees_excess_confirmed_by_id
        elif not (reason and data.excess_confirmed):
            errors.add("excess_reason", _(
                "The fees paid (%(paid)s) are more than the fees agreed (%(agreed)s). Correct "
                "the amounts, or give the reason and tick the confirmation.",
                paid=f"{paid:,.2f}", agreed=f"{agreed:,.2f}"))
        else:
            confirmed_by = actor.id
    decided = current_refunds(matter.id, except_complaint=None) if matter else Decimal(0)
    if decided > 0 and currency != matter.fees_currency:
        errors.add("currency", _("Refunds are already decided on this matter in %(currency)s: "
                                 "the currency stays.", currency=matter.fees_currency))
    if decided > 0 and (paid is None or paid < decided):
        errors.add("fees_paid", _("%(currency)s %(decided)s is already refunded in the "
                                  "decisions on this matter's complaints: the fees paid cannot "
                                  "be less.", currency=matter.fees_currency,
                                  decided=f"{decided:,.2f}"))
    return {"fees_agreed": agreed, "fees_paid": paid, "fees_currency": currency,
            "fees_excess_reason": reason if excess else None,
            "fees_excess_confirmed_by_id": confirmed_by}
