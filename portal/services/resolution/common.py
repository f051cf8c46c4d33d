"""What the resolution verbs share: their error, the version check, money and free text."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask_babel import gettext as _

from portal.services.intake.errors import IntakeError
from portal.services.triage.common import StaleVersion, check_version, required_text, text_of

__all__ = ["MONEY_MAX", "ResolutionError", "StaleVersion", "check_version", "parse_money",
           "required_text", "text_of"]

MONEY_MAX = Decimal("999999999999.99")


class ResolutionError(IntakeError):
    """A rule of the resolution phase said no (422); the message is translated and `errors`
    maps form fields to messages."""


def parse_money(value: str | None, *, field: str, required: bool = True) -> Decimal | None:
    """An amount as typed ("1,234.5", "¥800"): positive, at most two decimals."""
    text = (value or "").strip().replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if not text:
        if required:
            raise ResolutionError(_("Enter an amount."), field=field)
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ResolutionError(_("Enter the amount as a number, for example 1200 or 1200.50."),
                              field=field) from None
    if not amount.is_finite() or amount <= 0 or amount > MONEY_MAX:
        raise ResolutionError(_("Enter an amount greater than zero."), field=field)
    if amount.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ResolutionError(_("Use at most two decimal places."), field=field)
    return amount.quantize(Decimal("0.01"))
