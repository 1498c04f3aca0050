"""Amounts typed by a person (at the office, on the command line, on a web form): taken
exactly as typed, or refused in one sentence; never rounded to fit the currency."""

from __future__ import annotations

from decimal import Decimal

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
from workbook_engine.money import MAX_AMOUNT, round_money, to_decimal, typed_decimal


def typed_amount(text: str | Decimal, digits: int, field: str) -> Decimal:
    """The amount ``text`` ("1,200.50", " 300 ", a Decimal) with exactly ``digits`` decimals;
    :class:`EngineError` (``invalid-value``) if it is not an amount or has more decimals than
    the currency (10.123 is a slip of the finger, not 10.12)."""
    try:
        amount = (to_decimal(text) if isinstance(text, Decimal)
                  else typed_decimal(str(text).replace(",", "")))
    except (TypeError, ValueError):
        amount = None
    if amount is None:
        raise EngineError(INVALID_VALUE, f"{field} '{text}' is not an amount; type digits "
                          "with an optional decimal point, e.g. 3769.74.") from None
    if abs(amount) > MAX_AMOUNT:
        raise EngineError(INVALID_VALUE, f"{field} {text} is more than the largest amount "
                          f"the engine keeps ({MAX_AMOUNT:,}); check the figure.",
                          field=field, value=str(text))
    if amount != round_money(amount, digits):
        raise EngineError(INVALID_VALUE, f"{field} {text} has more than {digits} decimals; "
                          "type the exact amount.", field=field, value=str(text))
    return round_money(amount, digits)
