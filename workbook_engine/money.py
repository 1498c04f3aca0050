"""Money arithmetic: exact decimal rounding and splitting.

All amounts are :class:`decimal.Decimal`. Floats are refused everywhere, because a float
such as ``0.1`` is not the amount a person typed and silently rounding it would hide bugs.

Rounding is always ROUND_HALF_UP (ties away from zero) to a currency's number of decimal
digits (``digits``: 2 for most currencies, 0 for e.g. UGX, 3 for e.g. KWD). Arithmetic is
done in a local context with generous precision, so large amounts never raise
``InvalidOperation`` when quantized.
"""

from __future__ import annotations

import re
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    InvalidOperation,
    localcontext,
)

__all__ = ["MAX_AMOUNT", "MONEY_PRECISION", "money_text", "quantum", "round_money",
           "split_evenly", "to_decimal", "typed_decimal", "whole_as_written"]

#: Significant digits used for intermediate money arithmetic.
MONEY_PRECISION = 60

#: The largest amount a money column keeps (NUMERIC(18, 4): 14 digits before the point). A
#: larger one typed is refused: SQLite would store it and then fail to read it back.
MAX_AMOUNT = Decimal("99999999999999.99")

_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


# Rounding is done by the hot loops of sheet generation: the quanta and a context with the
# money precision are made once.
_QUANTA = tuple(Decimal(1).scaleb(-d) for d in range(10))
_MONEY_CONTEXT = Context(prec=MONEY_PRECISION)


def _check_digits(digits: int) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int):
        raise TypeError(f"digits must be an int, got {type(digits).__name__}")
    if digits < 0:
        raise ValueError(f"digits must be >= 0, got {digits}")


def quantum(digits: int) -> Decimal:
    """Return the smallest currency unit for ``digits`` decimals.

    >>> quantum(2)
    Decimal('0.01')
    >>> quantum(0)
    Decimal('1')
    """
    _check_digits(digits)
    return Decimal(1).scaleb(-digits)


def to_decimal(value: Decimal | int | str) -> Decimal:
    """Convert ``value`` to a finite Decimal, refusing floats and booleans.

    Raises:
        TypeError: for a float, a bool or any other non-supported type.
        ValueError: for a string that is not a number, or for NaN / infinity.
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(
            f"money amounts must be Decimal, int or str, not {type(value).__name__} ({value!r})"
        )
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise ValueError(f"not a decimal number: {value!r}") from None
    else:
        raise TypeError(f"money amounts must be Decimal, int or str, not {type(value).__name__}")
    if not result.is_finite():
        raise ValueError(f"money amounts must be finite, got {value!r}")
    return result


def round_money(value: Decimal | int | str, digits: int) -> Decimal:
    """Round ``value`` half-up to ``digits`` decimals.

    The result always has exactly ``digits`` decimal places (``round_money(5, 2)`` is
    ``Decimal('5.00')``).

    Raises:
        TypeError: if ``value`` is a float (or bool), or ``digits`` is not an int.
        ValueError: if ``value`` is not a finite number or ``digits`` is negative.
    """
    q = _QUANTA[digits] if type(digits) is int and 0 <= digits < len(_QUANTA) \
        else quantum(digits)
    amount = value if type(value) is Decimal and value.is_finite() else to_decimal(value)
    if amount.adjusted() + digits + 2 <= MONEY_PRECISION:
        return amount.quantize(q, rounding=ROUND_HALF_UP, context=_MONEY_CONTEXT)
    with localcontext() as ctx:
        ctx.prec = amount.adjusted() + digits + 2
        return amount.quantize(q, rounding=ROUND_HALF_UP)


def split_evenly(total: Decimal, parts: int, digits: int) -> list[Decimal]:
    """Split ``total`` into ``parts`` amounts whose sum is exactly ``total``.

    Every part but the last is ``round_money(total / parts, digits)``; the last part absorbs
    the rounding difference.

    Degenerate case: when ``total / parts`` is so small compared with the currency unit that
    half-up rounding would make the last part negative (e.g. 5 split into 8 parts with 0
    digits: 1 x 7 = 7 > 5), the parts are rounded *down* instead, so every part keeps the
    sign of ``total`` and the last part is the largest. For realistic loan amounts this
    never happens; it is written down so that schedules never contain negative amounts.

    Raises:
        ValueError: if ``parts`` < 1 or ``total`` has more than ``digits`` decimals.
    """
    if isinstance(parts, bool) or not isinstance(parts, int):
        raise TypeError(f"parts must be an int, got {type(parts).__name__}")
    if parts < 1:
        raise ValueError(f"parts must be >= 1, got {parts}")
    amount = to_decimal(total)
    rounded = round_money(amount, digits)
    if rounded != amount:
        raise ValueError(f"total {amount} has more than {digits} decimal digits")
    if amount < 0:
        return [-p for p in split_evenly(-rounded, parts, digits)]
    q = quantum(digits)
    with localcontext() as ctx:
        ctx.prec = MONEY_PRECISION
        part = (rounded / parts).quantize(q, rounding=ROUND_HALF_UP)
        if part * (parts - 1) > rounded:
            part = (rounded / parts).quantize(q, rounding=ROUND_DOWN)
        last = rounded - part * (parts - 1)
    return [part] * (parts - 1) + [last]


def money_text(value: Decimal | int | str | None, digits: int | None = 2, *,
               decimal_comma: bool = False) -> str:
    """An amount as a person reads it: rounded to the currency's digits, thousands grouped
    (``Decimal("7045.9")`` -> "7,045.90"; with a decimal comma, as an office whose locale in
    ``rules/locales.yaml`` has ``decimal_separator: ","`` writes it, "7.045,90"); None -> "".
    ``digits=None``: an amount already rounded to its currency's digits keeps them
    (``Decimal("16707.18")`` -> "16,707.18", ``Decimal("1500")`` -> "1,500"). The one way
    the command line, the web pages and the reports write an amount for a person.
    A float is refused, as everywhere."""
    if value is None or value == "":
        return ""
    amount = to_decimal(value)
    text = (f"{amount:,f}" if digits is None
            else f"{round_money(amount, digits):,.{digits}f}")
    if decimal_comma:
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def whole_as_written(number: Decimal) -> Decimal:
    """A whole number without decimals or an exponent, as a person writes it:
    ``Decimal("20000.0")`` and ``Decimal("2E+4")`` -> 20000 (where ``normalize()`` gives
    "2E+4"); a number with a fraction (``Decimal("2.50")``) is returned as it is."""
    if not number.is_finite() or number != number.to_integral_value():
        return number
    try:
        return number.quantize(_QUANTA[0], context=_MONEY_CONTEXT)
    except InvalidOperation:  # more digits than any amount has: left as it is
        return number


def typed_decimal(text: str) -> Decimal | None:
    """The number a person typed as plain digits ("1500", "-5", "1500.50", thousands commas
    already taken out), or None for anything else: an exponent ("1e3" is a slip, not 1000),
    NaN, infinity, words."""
    text = text.strip()
    return Decimal(text) if _PLAIN_NUMBER.fullmatch(text) else None
