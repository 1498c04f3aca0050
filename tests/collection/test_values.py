"""Tolerant reading of typed amounts and dates."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from workbook_engine.rules import Rules
from workbook_engine.validation.values import (
    Locale,
    ValueProblem,
    office_locale,
    parse_amount,
    parse_date,
)

COMMA = Locale(name="fr", decimal_comma=True, day_first=True)
US = Locale(name="en-US", decimal_comma=False, day_first=False)


@pytest.mark.parametrize(("typed", "expected"), [
    (None, "0.00"), ("", "0.00"), ("   ", "0.00"), (" 300 ", "300.00"), ("1,200.50", "1200.50"),
    (925.64, "925.64"), (0.5, "0.50"), ("0.50", "0.50"), (1388, "1388.00"),
    (0.1 + 0.2, "0.30"), ("1\u00a0200.50", "1200.50"), ("+25", "25.00"),
])
def test_amounts_as_people_type_them(typed: object, expected: str) -> None:
    assert parse_amount(typed, digits=2) == Decimal(expected)


def test_decimal_comma_locale() -> None:
    assert parse_amount("1.200,50", digits=2, locale=COMMA) == Decimal("1200.50")
    assert parse_amount("925,64", digits=2, locale=COMMA) == Decimal("925.64")
    with pytest.raises(ValueProblem) as caught:
        parse_amount("1.200,50", digits=2)  # a point-locale office
    assert caught.value.error.code == "not-a-number"


@pytest.mark.parametrize(("typed", "code"), [
    ("three hundred", "not-a-number"), ("12a", "not-a-number"), ("1,2", "not-a-number"),
    (True, "not-a-number"), (float("nan"), "not-a-number"), ("-5", "negative-amount"),
    (-925.64, "negative-amount"), ("(300)", "negative-amount"), (0.505, "too-many-decimals"),
    ("10.001", "too-many-decimals"), (1e20, "amount-too-large"), ("1e20", "amount-too-large"),
    (dt.date(2026, 3, 3), "not-a-number"),
])
def test_amounts_refused(typed: object, code: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_amount(typed, digits=2)
    assert caught.value.error.code == code
    assert caught.value.message


@pytest.mark.parametrize("typed", ["KSh 2,776.92", "Ksh2,776.92", "2,776.92/=", "$1,200",
                                   "1,200.50 TZS"])
def test_an_amount_with_a_currency_is_told_to_drop_it(typed: str) -> None:
    """'KSh 2,776.92' is refused for its letters, not for its correct thousands comma."""
    with pytest.raises(ValueProblem) as caught:
        parse_amount(typed, digits=2)
    assert caught.value.error.code == "not-a-number"
    assert "separates thousands" not in caught.value.message
    assert "the figure alone" in caught.value.message, caught.value.message


def test_formula_uses_cached_number_only() -> None:
    assert parse_amount(925.64, digits=2, formula="=462.82*2") == Decimal("925.64")
    for cached in (None, "#VALUE!", "abc"):
        with pytest.raises(ValueProblem) as caught:
            parse_amount(cached, digits=2, formula="=A1")
        assert caught.value.error.code == "formula-in-input"


def test_zero_decimal_currency() -> None:
    assert parse_amount("1,500", digits=0) == Decimal(1500)
    with pytest.raises(ValueProblem):
        parse_amount("1500.5", digits=0)


@pytest.mark.parametrize("typed", [
    "2026-03-03", "2026/03/03", "03/03/2026", "3.3.2026", "3 Mar 2026", "3 March 2026",
    "Mar 3, 2026", "03-Mar-2026", 46084, dt.date(2026, 3, 3), dt.datetime(2026, 3, 3, 9, 30),
])
def test_dates(typed: object) -> None:
    assert parse_date(typed) == dt.date(2026, 3, 3)


def test_day_first_and_month_first() -> None:
    assert parse_date("04/03/2026") == dt.date(2026, 3, 4)
    assert parse_date("04/03/2026", locale=US) == dt.date(2026, 4, 3)
    assert parse_date("  ") is None


@pytest.mark.parametrize("typed", ["31/02/2026", "tomorrow", "2026-13-01", True, -3])
def test_bad_dates(typed: object) -> None:
    with pytest.raises(ValueProblem) as caught:
        parse_date(typed)
    assert caught.value.error.code == "bad-date"


def test_office_locale_from_rules(tmp_path) -> None:  # noqa: ANN001
    (tmp_path / "locales.yaml").write_text(
        "default: en-KE\nlocales:\n  en-KE: {decimal_separator: '.', day_first: true}\n"
        "  fr-SN: {decimal_separator: ',', day_first: true}\noffices:\n  BR-DKR: fr-SN\n"
        "  Thies: fr-SN\n")
    rules = Rules(tmp_path)
    assert office_locale(rules, external_id="BR-DKR", name="Dakar").decimal_comma
    assert office_locale(rules, external_id=None, name="Thies").decimal_comma
    assert not office_locale(rules, external_id="X", name="Nairobi").decimal_comma


def test_a_date_before_1900_read_back_as_a_time_says_so() -> None:
    """LibreOffice keeps 1850-01-01 as a negative serial, which reads back as 00:00:00: the
    message says to check the year, not "'00:00:00' is not a date"."""
    from workbook_engine.validation.clients import parse_date as client_date

    with pytest.raises(ValueProblem) as caught:
        parse_date(dt.time(0, 0))
    assert caught.value.error.code == "bad-date"
    assert "before 1900" in caught.value.message and "YYYY-MM-DD" in caught.value.message
    problems: list = []
    assert client_date("date_of_birth", dt.time(0, 0), problems) is None
    [problem] = problems
    assert problem.message.startswith("The date of birth 00:00:00 is a time of day, not a date")
    assert "before 1900" in problem.message

