"""Repayments follow the meetings: which loan frequencies fit which calendars, and the due
dates of those that fit, over calendars drawn by hypothesis (weekly, every N weeks, monthly
on a day or on a weekday, with holidays)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from workbook_engine.domain.calendar import (
    Frequency,
    MeetingRule,
    count_meetings,
    is_meeting_date,
    next_meeting_on_or_after,
)
from workbook_engine.domain.schedule import (
    CalendarMisfit,
    InterestMethod,
    LoanTerms,
    PeriodUnit,
    build_schedule,
    calendar_misfit,
    repayment_dates,
)

D = date


def terms(every: int, unit: PeriodUnit, n: int = 12) -> LoanTerms:
    return LoanTerms(Decimal(10000), Decimal(24), InterestMethod.FLAT, every, unit, n)


@st.composite
def calendars(draw: st.DrawFn) -> MeetingRule:
    start = draw(st.dates(min_value=D(2020, 1, 1), max_value=D(2035, 12, 31)))
    if draw(st.booleans()):
        return MeetingRule(start, Frequency.WEEKLY, interval=draw(st.integers(1, 4)),
                           weekday=draw(st.none() | st.integers(0, 6)))
    interval = draw(st.integers(1, 3))
    if draw(st.booleans()):
        return MeetingRule(start, Frequency.MONTHLY, interval=interval)
    return MeetingRule(start, Frequency.MONTHLY, interval=interval,
                       weekday=draw(st.integers(0, 6)),
                       week_of_month=draw(st.sampled_from([1, 2, 3, 4, -1])))


@st.composite
def holidays_near(draw: st.DrawFn, around: date) -> frozenset[date]:
    days: set[date] = set()
    for _ in range(draw(st.integers(0, 4))):
        first = around + timedelta(days=draw(st.integers(0, 400)))
        days.update(first + timedelta(days=i) for i in range(draw(st.integers(1, 20))))
    return frozenset(days)


@pytest.mark.parametrize(("frequency", "interval", "every", "unit", "fits"), [
    (Frequency.WEEKLY, 1, 1, PeriodUnit.WEEKS, True),    # every meeting
    (Frequency.WEEKLY, 1, 2, PeriodUnit.WEEKS, True),    # every second meeting
    (Frequency.WEEKLY, 2, 2, PeriodUnit.WEEKS, True),
    (Frequency.WEEKLY, 2, 4, PeriodUnit.WEEKS, True),
    (Frequency.WEEKLY, 2, 1, PeriodUnit.WEEKS, False),   # the demo's Kilimo at a fortnightly center
    (Frequency.WEEKLY, 2, 3, PeriodUnit.WEEKS, False),
    (Frequency.WEEKLY, 1, 1, PeriodUnit.MONTHS, False),
    (Frequency.MONTHLY, 1, 1, PeriodUnit.MONTHS, True),
    (Frequency.MONTHLY, 1, 3, PeriodUnit.MONTHS, True),
    (Frequency.MONTHLY, 2, 1, PeriodUnit.MONTHS, False),
    (Frequency.MONTHLY, 1, 4, PeriodUnit.WEEKS, False),
])
def test_which_frequencies_fit(frequency: Frequency, interval: int, every: int,
                               unit: PeriodUnit, fits: bool) -> None:
    rule = MeetingRule(D(2026, 1, 6), frequency, interval=interval)
    assert (calendar_misfit(every, unit, rule) is None) is fits


def test_the_misfit_says_what_would_fit() -> None:
    fortnightly = MeetingRule(D(2026, 1, 6), Frequency.WEEKLY, interval=2)
    assert calendar_misfit(1, PeriodUnit.WEEKS, fortnightly) == (
        "repayments every week cannot follow meetings held every 2 weeks on Tuesday: a loan "
        "there must be repaid every 2 weeks (or a multiple of 2 weeks)")
    monthly = MeetingRule(D(2026, 1, 5), Frequency.MONTHLY, weekday=0, week_of_month=1)
    assert calendar_misfit(2, "weeks", monthly) == (
        "repayments every 2 weeks cannot follow meetings held monthly on the first Monday: "
        "a loan there must be repaid every month")
    assert calendar_misfit(1, PeriodUnit.WEEKS, None) is None


def test_weekly_loan_at_fortnightly_center_is_refused_not_crashed() -> None:
    """Issue #15: installments 1 and 2 would both be due on the same meeting."""
    fortnightly = MeetingRule(D(2026, 1, 6), Frequency.WEEKLY, interval=2)
    with pytest.raises(CalendarMisfit, match="every week cannot follow"):
        build_schedule(terms(1, PeriodUnit.WEEKS, 16), D(2026, 3, 3), fortnightly)


def test_a_long_holiday_merges_meetings_and_repayments_move_on() -> None:
    weekly = MeetingRule(D(2026, 1, 6), Frequency.WEEKLY)
    closed = {D(2026, 1, 13) + timedelta(days=i) for i in range(8)}  # 13th to the 20th
    dates = repayment_dates(D(2026, 1, 6), terms(1, PeriodUnit.WEEKS, 3), weekly, closed)
    assert dates == [D(2026, 1, 21), D(2026, 1, 27), D(2026, 2, 3)]


def test_without_a_calendar_a_holiday_run_never_doubles_a_due_date() -> None:
    closed = {D(2026, 1, 13) + timedelta(days=i) for i in range(9)}  # 13th to the 21st
    dates = repayment_dates(D(2026, 1, 6), terms(1, PeriodUnit.WEEKS, 3), None, closed)
    assert dates == [D(2026, 1, 22), D(2026, 1, 23), D(2026, 1, 27)]


@settings(max_examples=300, deadline=None)
@given(rule=calendars(), every=st.integers(1, 8),
       unit=st.sampled_from(list(PeriodUnit)), n=st.integers(1, 30),
       offset=st.integers(-30, 400), data=st.data())
def test_repayments_follow_the_meetings(rule: MeetingRule, every: int, unit: PeriodUnit,
                                        n: int, offset: int, data: st.DataObject) -> None:
    if unit is PeriodUnit.MONTHS:
        every = min(every, 6)
    disbursed = rule.start_date + timedelta(days=offset)
    holidays = data.draw(holidays_near(disbursed))
    loan = terms(every, unit, n)
    misfit = calendar_misfit(every, unit, rule)
    if misfit is not None:
        with pytest.raises(CalendarMisfit) as refused:
            build_schedule(loan, disbursed, rule, holidays)
        assert str(refused.value) == misfit and "must be repaid every" in misfit
        return
    dates = repayment_dates(disbursed, loan, rule, holidays)
    assert len(dates) == n
    assert all(a < b for a, b in zip(dates, dates[1:]))
    assert all(is_meeting_date(rule, d, holidays) for d in dates)
    first_nominal = {PeriodUnit.WEEKS: disbursed + timedelta(weeks=every),
                     PeriodUnit.DAYS: disbursed + timedelta(days=every)}.get(unit)
    if first_nominal is not None:
        assert dates[0] == next_meeting_on_or_after(rule, first_nominal, holidays)
    assert dates[0] > disbursed
    # A period of whole weeks given in days (Fineract's "every 14 days") counts in weeks.
    step = (every // 7 if unit is PeriodUnit.DAYS else every) // rule.interval
    for a, b in zip(dates, dates[1:]):  # each repayment is `step` meetings after the last
        assert count_meetings(rule, a, b, holidays) == step + 1


@settings(max_examples=200, deadline=None)
@given(every=st.integers(1, 4), unit=st.sampled_from(list(PeriodUnit)),
       n=st.integers(1, 30), disbursed=st.dates(min_value=D(2020, 1, 1),
                                                 max_value=D(2035, 12, 31)), data=st.data())
def test_without_a_calendar_dates_are_working_days_strictly_increasing(
        every: int, unit: PeriodUnit, n: int, disbursed: date, data: st.DataObject) -> None:
    holidays = data.draw(holidays_near(disbursed))
    dates = repayment_dates(disbursed, terms(every, unit, n), None, holidays)
    assume(dates)
    assert len(dates) == n
    assert all(a < b for a, b in zip(dates, dates[1:]))
    assert not set(dates) & holidays
    assert dates[0] > disbursed
