"""Reading the values people type into input cells, tolerantly but never by guessing.

Amounts
    A blank cell (empty, or only spaces) is zero. Numbers stored as numbers are taken as they
    are; binary floating-point noise below 1e-9 (``0.1 + 0.2``) is absorbed first. Text is
    accepted when it is a plain figure with the office locale's separators: ``"1,200.50"`` and
    ``" 300 "`` with a decimal point, ``"1.200,50"`` where the office's locale uses a decimal
    comma (``rules/locales.yaml``). Thousands separators must group by three. Words
    (``"three hundred"``), negatives (``-5``, ``(5)``), more decimals than the currency has
    (``0.505`` in a 2-digit currency; ``0.50`` is a real amount) and amounts over the
    plausibility limit (``1e20``) are errors.

Formulas in input cells
    A formula typed into an input cell is accepted only when its cached value is a plain
    number (``=462.82*2`` shows 925.64 and is read as 925.64). A formula with no cached value
    (a file written by a program that never calculated it), or whose value is text or an
    error, is the error ``formula-in-input``: the engine never evaluates formulas itself.

Dates
    Date cells, Excel serial numbers (1900 date system), and text in the forms
    ``2026-03-03``, ``2026/03/03``, ``03/03/2026`` (``3.3.2026`` and ``3-3-2026`` too; a
    two-digit year is 20YY), ``3 Mar 2026``, ``3 March 2026``, ``Mar 3, 2026``,
    ``03-Mar-2026``. Anything else is ``bad-date``.

    **The date order** of a text date of numbers only (``11/12/2026``) is one rule for every
    reader: the ``day_first`` of a locale in ``rules/locales.yaml``. A collection sheet is
    read with its office's locale (``offices:``), the client and setup imports with the
    institution's (``default:``, en-KE: day first, as the domain's Kenyan example writes
    dates). A date that is ambiguous (both numbers 12 or less) is read in that order, never
    guessed; one that is no date in that order (``12/31/2026`` read day first) is refused,
    naming the order, the date the other order would give, and YYYY-MM-DD as the way that
    is never ambiguous.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from workbook_engine.errors import ErrorType
from workbook_engine.errors.returned import (
    AMOUNT_TOO_LARGE,
    BAD_DATE,
    FORMULA_IN_INPUT,
    NEGATIVE_AMOUNT,
    NOT_A_NUMBER,
    TOO_MANY_DECIMALS,
)
from workbook_engine.rules import Rules

DEFAULT_MAX_AMOUNT = Decimal("1000000000000")  # 10^12: beyond any collection sheet
_FLOAT_NOISE = Decimal("1e-9")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


@dataclass(frozen=True)
class Locale:
    """How an office writes numbers and dates."""

    name: str = "en"
    decimal_comma: bool = False
    day_first: bool = True

    @property
    def decimal_separator(self) -> str:
        return "," if self.decimal_comma else "."

    @property
    def thousands_separator(self) -> str:
        return "." if self.decimal_comma else ","


DEFAULT_LOCALE = Locale()


def office_locale(rules: Rules, *, external_id: str | None, name: str | None,
                  own_locale: str | None = None) -> Locale:
    """The locale of an office: ``rules/locales.yaml`` by external id, then name.

    The file maps offices to locale names (``offices:``) and describes each locale
    (``locales:``, with ``decimal_separator`` and ``day_first``); an office's own ``locale``
    column is used when the file does not name the office.
    """
    section = rules.section("locales")
    offices = section.get("offices") or {}
    chosen = None
    for key in (external_id, name):
        if key is not None and key in offices:
            chosen = str(offices[key])
            break
    chosen = chosen or own_locale or str(section.get("default", "en"))
    spec = (section.get("locales") or {}).get(chosen) or {}
    return Locale(name=chosen, decimal_comma=str(spec.get("decimal_separator", ".")) == ",",
                  day_first=bool(spec.get("day_first", True)))


def institution_locale(rules: Rules) -> Locale:
    """The institution's own locale (``default:`` of ``rules/locales.yaml``): how the files
    filled in at the back office (client and setup imports) read text dates."""
    return office_locale(rules, external_id=None, name=None)


def date_order(locale: Locale) -> str:
    """The date order of ``locale`` in words, with where it is set, for messages."""
    order = "day first (DD/MM/YYYY)" if locale.day_first else "month first (MM/DD/YYYY)"
    return f"text dates are read {order}, as rules/locales.yaml sets for {locale.name}"


class ValueProblem(Exception):
    """A typed value that cannot be accepted: its catalogue entry and one sentence."""

    def __init__(self, error: ErrorType, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message


def parse_amount(value: Any, *, digits: int, locale: Locale = DEFAULT_LOCALE,
                 formula: str | None = None,
                 max_amount: Decimal = DEFAULT_MAX_AMOUNT) -> Decimal:
    """The amount a cell holds (blank = 0), or :class:`ValueProblem`."""
    if formula is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ValueProblem(FORMULA_IN_INPUT, f"the cell holds the formula {formula[:60]} "
                           "instead of an amount; type the figure itself")
    amount = _to_decimal(value, locale)
    if amount is None:
        return Decimal(0)
    if amount < 0:
        raise ValueProblem(NEGATIVE_AMOUNT, f"{_show(value)} is negative; amounts are typed "
                           "without a minus sign")
    if amount > max_amount:
        raise ValueProblem(AMOUNT_TOO_LARGE, f"{_show(value)} is too large for a collection "
                           "sheet; check the figure")
    if amount != amount.quantize(Decimal(1).scaleb(-digits)):
        raise ValueProblem(TOO_MANY_DECIMALS, f"{_show(value)} has more than {digits} "
                           "decimals; type the exact amount collected")
    return amount.quantize(Decimal(1).scaleb(-digits))


def _show(value: Any) -> str:
    text = str(value).strip() if isinstance(value, str) else repr(value)
    return f"'{text[:40]}'"


def _to_decimal(value: Any, locale: Locale) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueProblem(NOT_A_NUMBER, f"{_show(value)} is not an amount")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueProblem(NOT_A_NUMBER, f"{_show(value)} is not an amount")
        exact = Decimal(repr(value))
        if abs(exact) < Decimal("1e15"):
            noise_free = exact.quantize(_FLOAT_NOISE)
            if abs(noise_free - exact) < _FLOAT_NOISE:
                exact = noise_free.normalize()
        return exact
    if isinstance(value, Decimal):
        return value
    if not isinstance(value, str):
        raise ValueProblem(NOT_A_NUMBER, f"{_show(value)} is not an amount; type a figure")
    return _text_to_decimal(value, locale)


def _text_to_decimal(text: str, locale: Locale) -> Decimal | None:
    compact = _SPACES.sub("", text)
    if not compact:
        return None
    negative = False
    if compact.startswith("(") and compact.endswith(")"):
        negative, compact = True, compact[1:-1]
    if compact.startswith(("-", "\u2212")):
        negative, compact = True, compact[1:]
    elif compact.startswith("+"):
        compact = compact[1:]
    decimal_sep, group_sep = locale.decimal_separator, locale.thousands_separator
    scientific = re.fullmatch(r"\d+(?:[.,]\d+)?[eE][+-]?\d+", compact)
    if not scientific and re.search(r"\d", compact) and re.search(r"[^\d.,']", compact):
        raise ValueProblem(NOT_A_NUMBER, f"{_show(text)} is not an amount; type the figure "
                           "alone, without a currency or other letters and signs, such as "
                           f"1{group_sep}200{decimal_sep}50")
    if scientific:
        number = Decimal(compact.replace(",", "."))
    else:
        whole, _, fraction = compact.partition(decimal_sep)
        if decimal_sep in fraction or not re.fullmatch(r"\d*", fraction):
            raise ValueProblem(NOT_A_NUMBER, f"{_show(text)} is not an amount; type a figure "
                               f"such as 1{group_sep}200{decimal_sep}50")
        if group_sep in whole:
            if not re.fullmatch(r"\d{1,3}(?:" + re.escape(group_sep) + r"\d{3})+", whole):
                raise ValueProblem(NOT_A_NUMBER, f"{_show(text)} is not an amount: the "
                                   f"'{group_sep}' separates thousands here and the decimal "
                                   f"separator is '{decimal_sep}'")
            whole = whole.replace(group_sep, "")
        if not re.fullmatch(r"\d*", whole) or not (whole or fraction):
            raise ValueProblem(NOT_A_NUMBER, f"{_show(text)} is not an amount; type a figure "
                               f"such as 1{group_sep}200{decimal_sep}50")
        try:
            number = Decimal(f"{whole or '0'}.{fraction or '0'}")
        except InvalidOperation:  # pragma: no cover - the regexes above only pass digits
            raise ValueProblem(NOT_A_NUMBER, f"{_show(text)} is not an amount") from None
    if negative and number != 0:
        return -number
    return number


_TEXT_DATE_FORMATS = ("%d %b %Y", "%d %B %Y", "%b %d, %Y", "%B %d, %Y", "%b %d %Y",
                      "%B %d %Y", "%d-%b-%Y", "%d-%b-%y", "%d %b %y", "%d-%B-%Y")


def parse_date(value: Any, *, locale: Locale = DEFAULT_LOCALE) -> dt.date | None:
    """The date a cell holds (blank = None), or :class:`ValueProblem` (``bad-date``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, dt.time):
        raise ValueProblem(BAD_DATE, time_instead_of_date(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and 1 <= value < 2958466:
            return _EXCEL_EPOCH + dt.timedelta(days=int(value))
        raise ValueProblem(BAD_DATE, f"{_show(value)} is not a date")
    if not isinstance(value, str):
        raise ValueProblem(BAD_DATE, f"{_show(value)} is not a date")
    text = " ".join(value.strip().split())
    match = re.fullmatch(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?",
                         text)
    if match:
        return _make_date(int(match[1]), int(match[2]), int(match[3]), value)
    match = re.fullmatch(r"(\d{1,2})[-/.](\d{1,2})[-/.](\d{2}|\d{4})", text)
    if match:
        first, second, year = int(match[1]), int(match[2]), int(match[3])
        if year < 100:
            year += 2000
        day, month = (first, second) if locale.day_first else (second, first)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ValueProblem(BAD_DATE, _not_in_order(value, year, month, day, locale)
                               ) from None
    for fmt in _TEXT_DATE_FORMATS:
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueProblem(BAD_DATE, f"{_show(value)} is not a date; type it as YYYY-MM-DD, e.g. "
                       "2026-03-03")


def time_instead_of_date(value: dt.time) -> str:
    """What to say of a date cell that reads back as a time of day: a date before 1900 (which
    a spreadsheet keeps as a negative day number: LibreOffice does) or a time typed there."""
    return (f"{value.isoformat()} is a time of day, not a date (a date before 1900 cannot be "
            "kept in a spreadsheet cell and comes back this way: check the year); type the "
            "date as YYYY-MM-DD")


def _make_date(year: int, month: int, day: int, original: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueProblem(BAD_DATE, f"{_show(original)} is not a real date") from None


def _not_in_order(value: str, year: int, month: int, day: int, locale: Locale) -> str:
    """Why a text date of numbers is no date in the locale's order, and how to fix it."""
    try:
        other = f" ({dt.date(year, day, month).isoformat()} if that is the date meant)"
    except ValueError:
        other = ""
    return (f"{_show(value)} is not a real date: {date_order(locale)}; type it as "
            f"YYYY-MM-DD{other}")


def parse_text(value: Any) -> str | None:
    """Text of a cell, trimmed; numbers typed as receipt numbers keep their digits."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
