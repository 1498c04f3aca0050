"""Tests for workbook_engine.money."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook_engine.money import quantum, round_money, split_evenly


def test_quantum() -> None:
    assert quantum(2) == Decimal("0.01")
    assert quantum(0) == Decimal("1")
    assert quantum(3) == Decimal("0.001")
    assert str(quantum(2)) == "0.01"


@pytest.mark.parametrize(
    ("value", "digits", "expected"),
    [
        (Decimal("1107.6923"), 2, "1107.69"),
        (Decimal("0.005"), 2, "0.01"),
        (Decimal("0.015"), 2, "0.02"),
        (Decimal("2.5"), 0, "3"),
        (Decimal("-2.5"), 0, "-3"),
        ("1.2345", 3, "1.235"),
        (5, 2, "5.00"),
        ("  7.1 ", 0, "7"),
    ],
)
def test_round_money_half_up(value: Decimal | int | str, digits: int, expected: str) -> None:
    result = round_money(value, digits)
    assert result == Decimal(expected)
    assert str(result) == expected


def test_round_money_large_amount_keeps_precision() -> None:
    big = Decimal("123456789012345678901234567890.125")
    assert round_money(big, 2) == Decimal("123456789012345678901234567890.13")


def test_round_money_beyond_the_money_precision_and_many_digits() -> None:
    # More digits than the 60 of the money context: rounded in a wider one, still exact.
    huge = Decimal("9" * 70 + ".5")
    assert round_money(huge, 0) == Decimal("1" + "0" * 70)
    assert round_money(Decimal("0.12345678905"), 10) == Decimal("0.1234567891")
    assert str(round_money(Decimal("1E+3"), 2)) == "1000.00"


@pytest.mark.parametrize("bad", [1.5, 0.1, True])
def test_round_money_refuses_float_and_bool(bad: object) -> None:
    with pytest.raises(TypeError):
        round_money(bad, 2)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "NaN", Decimal("Infinity")])
def test_round_money_refuses_non_numbers(bad: str | Decimal) -> None:
    with pytest.raises(ValueError):
        round_money(bad, 2)


def test_round_money_refuses_negative_digits() -> None:
    with pytest.raises(ValueError):
        round_money(Decimal("1"), -1)
    with pytest.raises(TypeError):
        round_money(Decimal("1"), True)  # type: ignore[arg-type]


def test_split_evenly_last_absorbs() -> None:
    assert split_evenly(Decimal("1107.69"), 12, 2) == [Decimal("92.31")] * 11 + [Decimal("92.28")]
    assert split_evenly(Decimal("10000.00"), 12, 2) == [Decimal("833.33")] * 11 + [
        Decimal("833.37")
    ]
    assert split_evenly(Decimal("10"), 1, 0) == [Decimal("10")]


def test_split_evenly_degenerate_rounds_down_instead_of_going_negative() -> None:
    # Half-up would give 1 x 7 = 7 > 5 and a last part of -2.
    assert split_evenly(Decimal("5"), 8, 0) == [Decimal("0")] * 7 + [Decimal("5")]


def test_split_evenly_negative_total_is_symmetric() -> None:
    assert split_evenly(Decimal("-10.00"), 3, 2) == [
        Decimal("-3.33"),
        Decimal("-3.33"),
        Decimal("-3.34"),
    ]


def test_split_evenly_rejects_bad_input() -> None:
    with pytest.raises(ValueError):
        split_evenly(Decimal("1.005"), 2, 2)
    with pytest.raises(ValueError):
        split_evenly(Decimal("1.00"), 0, 2)
    with pytest.raises(TypeError):
        split_evenly(1.0, 2, 2)  # type: ignore[arg-type]


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(min_value=0, max_value=10**12),
    parts=st.integers(min_value=1, max_value=400),
    digits=st.sampled_from([0, 2, 3]),
)
def test_split_evenly_properties(units: int, parts: int, digits: int) -> None:
    total = Decimal(units).scaleb(-digits)
    result = split_evenly(total, parts, digits)
    assert len(result) == parts
    assert sum(result, Decimal(0)) == total
    assert all(p >= 0 for p in result)
    assert all(p == round_money(p, digits) for p in result)
    assert len(set(result[:-1])) <= 1
