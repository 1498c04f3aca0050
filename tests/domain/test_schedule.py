"""Tests for workbook_engine.domain.schedule (figures from /work/shared/domain.md)."""

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook_engine.domain.calendar import Frequency, MeetingRule
from workbook_engine.domain.schedule import (
    CalendarMisfit,
    InterestMethod,
    LoanTerms,
    PeriodUnit,
    PlannedInstallment,
    build_schedule,
    repayment_dates,
    total_interest,
)
from workbook_engine.money import round_money

D = date
M = Decimal
FORTNIGHTLY_TUESDAY = MeetingRule(D(2026, 1, 6), Frequency.WEEKLY, interval=2)


def biashara(
    principal: str, method: InterestMethod = InterestMethod.FLAT, **kw: object
) -> LoanTerms:
    return LoanTerms(
        principal=M(principal),
        annual_interest_rate=M("24"),
        method=method,
        repayment_every=2,
        repayment_unit=PeriodUnit.WEEKS,
        number_of_repayments=12,
        **kw,  # type: ignore[arg-type]
    )


# --------------------------------------------------------------------------- hand-computed


def test_flat_10000() -> None:
    terms = biashara("10000")
    assert terms.periods_per_year == 26
    assert total_interest(terms) == M("1107.69")
    schedule = build_schedule(terms, D(2026, 1, 6), FORTNIGHTLY_TUESDAY)
    assert [i.number for i in schedule] == list(range(1, 13))
    for inst in schedule[:11]:
        assert (inst.principal, inst.interest, inst.total) == (M("833.33"), M("92.31"), M("925.64"))
    last = schedule[11]
    assert (last.principal, last.interest, last.total) == (M("833.37"), M("92.28"), M("925.65"))
    assert sum(i.total for i in schedule) == M("11107.69")


def test_flat_5000() -> None:
    terms = biashara("5000")
    assert total_interest(terms) == M("553.85")
    schedule = build_schedule(terms, D(2026, 2, 3), FORTNIGHTLY_TUESDAY)
    for inst in schedule[:11]:
        assert (inst.principal, inst.interest, inst.total) == (M("416.67"), M("46.15"), M("462.82"))
    last = schedule[11]
    assert (last.principal, last.interest, last.total) == (M("416.63"), M("46.20"), M("462.83"))


def test_declining_balance_10000() -> None:
    terms = biashara("10000", InterestMethod.DECLINING_BALANCE)
    schedule = build_schedule(terms, D(2026, 1, 6), FORTNIGHTLY_TUESDAY)
    assert all(i.total == M("884.18") for i in schedule[:11])
    assert (schedule[0].principal, schedule[0].interest) == (M("791.87"), M("92.31"))
    assert (schedule[1].principal, schedule[1].interest) == (M("799.18"), M("85.00"))
    last = schedule[11]
    assert (last.principal, last.interest, last.total) == (M("876.05"), M("8.09"), M("884.14"))
    assert total_interest(terms) == M("610.12")
    assert sum(i.interest for i in schedule) == M("610.12")
    assert sum(i.principal for i in schedule) == M("10000")


def test_due_dates_on_fortnightly_tuesdays() -> None:
    dates = repayment_dates(D(2026, 1, 6), biashara("10000"), FORTNIGHTLY_TUESDAY)
    assert dates[0] == D(2026, 1, 20)
    assert dates[:4] == [D(2026, 1, 20), D(2026, 2, 3), D(2026, 2, 17), D(2026, 3, 3)]
    assert dates[-1] == D(2026, 6, 23)
    # Baraka's second loan, disbursed 2026-02-03: installment 2 due on 2026-03-03.
    assert repayment_dates(D(2026, 2, 3), biashara("5000"), FORTNIGHTLY_TUESDAY)[1] == D(2026, 3, 3)


def test_due_date_follows_holiday_moved_meeting() -> None:
    dates = repayment_dates(
        D(2026, 1, 6), biashara("10000"), FORTNIGHTLY_TUESDAY, holidays={D(2026, 2, 17)}
    )
    assert dates[:4] == [D(2026, 1, 20), D(2026, 2, 3), D(2026, 2, 18), D(2026, 3, 3)]


def test_disbursal_off_meeting_day_goes_to_next_meeting() -> None:
    dates = repayment_dates(D(2026, 1, 8), biashara("10000"), FORTNIGHTLY_TUESDAY)
    assert dates[:2] == [D(2026, 2, 3), D(2026, 2, 17)]


def test_without_meeting_rule_dates_are_periods_moved_past_holidays() -> None:
    dates = repayment_dates(D(2026, 1, 6), biashara("10000"), holidays=[D(2026, 1, 20)])
    assert dates[:2] == [D(2026, 1, 21), D(2026, 2, 3)]


def test_monthly_dates_clamp_without_drift() -> None:
    terms = LoanTerms(M("1200"), M("12"), InterestMethod.FLAT, 1, PeriodUnit.MONTHS, 4)
    assert terms.periods_per_year == 12
    assert repayment_dates(D(2026, 1, 31), terms) == [
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
        D(2026, 5, 31),
    ]


def test_coarse_meeting_calendar_is_refused() -> None:
    monthly = MeetingRule(D(2026, 1, 1), Frequency.MONTHLY, weekday=0, week_of_month=1)
    with pytest.raises(CalendarMisfit, match="every 2 weeks cannot follow meetings held "
                       "monthly on the first Monday: a loan there must be repaid every month"):
        repayment_dates(D(2026, 1, 6), biashara("10000"), monthly)


def test_interest_deducted_at_disbursement() -> None:
    terms = biashara("10000", interest_deducted_at_disbursement=True)
    schedule = build_schedule(terms, D(2026, 1, 6), FORTNIGHTLY_TUESDAY)
    assert len(schedule) == 13
    assert schedule[0] == PlannedInstallment(0, D(2026, 1, 6), M("0.00"), M("1107.69"))
    assert [i.number for i in schedule[1:]] == list(range(1, 13))
    assert all(i.interest == 0 for i in schedule[1:])
    assert [i.principal for i in schedule[1:]] == [M("833.33")] * 11 + [M("833.37")]
    assert schedule[1].due_date == D(2026, 1, 20)


def test_interest_deducted_requires_flat() -> None:
    with pytest.raises(ValueError, match="FLAT"):
        biashara("10000", InterestMethod.DECLINING_BALANCE, interest_deducted_at_disbursement=True)


def test_zero_rate_declining_balance() -> None:
    terms = LoanTerms(M("1000"), M("0"), InterestMethod.DECLINING_BALANCE, 1, PeriodUnit.MONTHS, 3)
    schedule = build_schedule(terms, D(2026, 1, 6))
    assert [i.principal for i in schedule] == [M("333.33"), M("333.33"), M("333.34")]
    assert total_interest(terms) == 0


@pytest.mark.parametrize(
    ("every", "unit", "expected"),
    [(1, PeriodUnit.WEEKS, 52), (2, PeriodUnit.WEEKS, 26), (4, PeriodUnit.WEEKS, 13),
     (3, PeriodUnit.WEEKS, 17), (1, PeriodUnit.MONTHS, 12), (3, PeriodUnit.MONTHS, 4),
     (1, PeriodUnit.DAYS, 365), (7, PeriodUnit.DAYS, 52)],
)
def test_periods_per_year(every: int, unit: PeriodUnit, expected: int) -> None:
    terms = LoanTerms(M("100"), M("10"), InterestMethod.FLAT, every, unit, 1)
    assert terms.periods_per_year == expected


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"principal": M("0")}, "principal"),
        ({"principal": M("100.005")}, "decimal digits"),
        ({"principal": 100.0}, "principal"),
        ({"annual_interest_rate": M("-1")}, "annual_interest_rate"),
        ({"number_of_repayments": 0}, "number_of_repayments"),
        ({"repayment_every": 0}, "repayment_every"),
        ({"repayment_every": 13, "repayment_unit": PeriodUnit.MONTHS}, "repayment_every"),
        ({"method": "compound"}, "compound"),
    ],
)
def test_terms_validation(changes: dict[str, object], message: str) -> None:
    kwargs: dict[str, object] = {
        "principal": M("100"),
        "annual_interest_rate": M("10"),
        "method": InterestMethod.FLAT,
        "repayment_every": 1,
        "repayment_unit": PeriodUnit.WEEKS,
        "number_of_repayments": 4,
    }
    kwargs.update(changes)
    with pytest.raises(ValueError, match=message):
        LoanTerms(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties


@st.composite
def loan_terms(draw: st.DrawFn) -> LoanTerms:
    digits = draw(st.sampled_from([0, 2, 3]))
    principal = M(draw(st.integers(1, 10**9))).scaleb(-digits)
    rate = M(draw(st.integers(0, 12000))).scaleb(-2)  # 0.00 % .. 120.00 %
    method = draw(st.sampled_from(list(InterestMethod)))
    unit = draw(st.sampled_from(list(PeriodUnit)))
    every = draw(st.sampled_from({PeriodUnit.WEEKS: [1, 2, 4], PeriodUnit.MONTHS: [1, 2, 3],
                                  PeriodUnit.DAYS: [7, 14, 28]}[unit]))
    deducted = method is InterestMethod.FLAT and draw(st.booleans())
    return LoanTerms(
        principal=principal,
        annual_interest_rate=rate,
        method=method,
        repayment_every=every,
        repayment_unit=unit,
        number_of_repayments=draw(st.integers(1, 104)),
        currency_digits=digits,
        interest_deducted_at_disbursement=deducted,
    )


@settings(max_examples=200, deadline=None)
@given(
    terms=loan_terms(),
    disbursed_on=st.dates(min_value=D(2020, 1, 1), max_value=D(2040, 12, 31)),
    use_meetings=st.booleans(),
)
def test_schedule_properties(terms: LoanTerms, disbursed_on: date, use_meetings: bool) -> None:
    rule = None
    if use_meetings:
        # A calendar that meets on every repayment period's weekday/day.
        if terms.repayment_unit is PeriodUnit.WEEKS:
            rule = MeetingRule(disbursed_on, Frequency.WEEKLY, interval=terms.repayment_every)
        elif terms.repayment_unit is PeriodUnit.DAYS:  # every 7, 14 or 28 days
            rule = MeetingRule(disbursed_on, Frequency.WEEKLY,
                               interval=terms.repayment_every // 7)
        else:
            rule = MeetingRule(disbursed_on, Frequency.MONTHLY, interval=terms.repayment_every)
    schedule = build_schedule(terms, disbursed_on, rule)
    digits = terms.currency_digits

    assert sum((i.principal for i in schedule), M(0)) == terms.principal
    assert sum((i.interest for i in schedule), M(0)) == total_interest(terms)
    for inst in schedule:
        for amount in (inst.principal, inst.interest, inst.total):
            assert amount >= 0
            assert amount == round_money(amount, digits)
            assert -amount.as_tuple().exponent <= digits  # type: ignore[operator]
    dates = [i.due_date for i in schedule]
    assert all(a < b for a, b in zip(dates, dates[1:]))
    assert dates[0] >= disbursed_on
    numbers = [i.number for i in schedule]
    if terms.interest_deducted_at_disbursement:
        assert numbers == list(range(0, terms.number_of_repayments + 1))
        assert schedule[0].due_date == disbursed_on and schedule[0].principal == 0
        assert all(i.interest == 0 for i in schedule[1:])
    else:
        assert numbers == list(range(1, terms.number_of_repayments + 1))
        assert dates[0] > disbursed_on


@settings(max_examples=200, deadline=None)
@given(
    units=st.integers(1, 10**9),
    digits=st.sampled_from([0, 2, 3]),
    rate=st.integers(1, 12000),
    n=st.integers(2, 60),
)
def test_declining_interest_never_exceeds_flat(units: int, digits: int, rate: int, n: int) -> None:
    common = dict(
        principal=M(units).scaleb(-digits),
        annual_interest_rate=M(rate).scaleb(-2),
        repayment_every=2,
        repayment_unit=PeriodUnit.WEEKS,
        number_of_repayments=n,
        currency_digits=digits,
    )
    flat = total_interest(LoanTerms(method=InterestMethod.FLAT, **common))  # type: ignore[arg-type]
    declining = total_interest(
        LoanTerms(method=InterestMethod.DECLINING_BALANCE, **common)  # type: ignore[arg-type]
    )
    # Rounding can add at most half a unit per installment.
    assert declining <= flat + n * M(1).scaleb(-digits)


def test_declining_principal_never_exceeds_balance_for_tiny_loans() -> None:
    # 6 units over 12 weekly repayments at 1 %, no decimals: the rounded installment is 1,
    # so the balance is repaid after 6 installments and the rest are zero, never negative.
    terms = LoanTerms(M("6"), M("1"), InterestMethod.DECLINING_BALANCE, 1, PeriodUnit.WEEKS, 12, 0)
    schedule = build_schedule(terms, D(2026, 1, 5))
    assert [i.principal for i in schedule] == [M(1)] * 6 + [M(0)] * 6
    assert all(i.interest == 0 for i in schedule)
