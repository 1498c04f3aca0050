"""Amounts typed by a person (at the office, on the command line, on a web form): taken
exactly as typed, or refused in one sentence; never rounded to fit the currency."""

from __future__ import annotations

from decimal import Decimal

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.money import round_money, to_decimal


def typed_amount(text: str | Decimal, digits: int, field: str) -> Decimal:
    """The amount ``text`` ("1,200.50", " 300 ", a Decimal) with exactly ``digits`` decimals;
    :class:`EngineError` (``invalid-value``) if it is not an amount or has more decimals than
    the currency (10.123 is a slip of the finger, not 10.12)."""
    raw = text if isinstance(text, Decimal) else str(text).strip().replace(",", "")
    try:
        amount = to_decimal(raw)
    except (TypeError, ValueError):
        raise EngineError(INVALID_VALUE, f"{field} '{text}' is not an amount; type digits "
                          "with an optional decimal point, e.g. 3769.74.") from None
    if amount != round_money(amount, digits):
        raise EngineError(INVALID_VALUE, f"{field} {text} has more than {digits} decimals; "
                          "type the exact amount.", field=field, value=str(text))
    return round_money(amount, digits)
