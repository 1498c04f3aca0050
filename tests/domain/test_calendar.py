"""Tests for workbook_engine.domain.calendar."""

from datetime import date, timedelta
from itertools import islice

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbook_engine.domain.calendar import (
    Frequency,
    MeetingRule,
    count_meetings,
    describe,
    is_meeting_date,
    meeting_dates,
    next_meeting_on_or_after,
    nominal_dates,
    previous_meeting_on_or_before,
)

D = date
FORTNIGHTLY_TUESDAY = MeetingRule(D(2026, 1, 6), Frequency.WEEKLY, interval=2)
FIRST_MONDAY = MeetingRule(D(2026, 1, 1), Frequency.MONTHLY, weekday=0, week_of_month=1)
LAST_FRIDAY = MeetingRule(D(2026, 1, 1), Frequency.MONTHLY, weekday=4, week_of_month=-1)


# --------------------------------------------------------------------------- hand-computed


def test_fortnightly_tuesdays_from_domain_notes() -> None:
    expected = [D(2026, 1, 6), D(2026, 1, 20), D(2026, 2, 3), D(2026, 2, 17), D(2026, 3, 3)]
    assert list(islice(nominal_dates(FORTNIGHTLY_TUESDAY), 5)) == expected
    assert meeting_dates(FORTNIGHTLY_TUESDAY, D(2026, 1, 1), D(2026, 3, 3)) == expected


def test_holiday_moves_one_meeting_and_series_continues_from_nominal() -> None:
    holidays = {D(2026, 2, 17)}
    assert meeting_dates(FORTNIGHTLY_TUESDAY, D(2026, 2, 1), D(2026, 3, 10), holidays) == [
        D(2026, 2, 3),
        D(2026, 2, 18),
        D(2026, 3, 3),
    ]
    assert not is_meeting_date(FORTNIGHTLY_TUESDAY, D(2026, 2, 17), holidays)
    assert is_meeting_date(FORTNIGHTLY_TUESDAY, D(2026, 2, 18), holidays)
    assert next_meeting_on_or_after(FORTNIGHTLY_TUESDAY, D(2026, 2, 17), holidays) == D(2026, 2, 18)
    assert previous_meeting_on_or_before(FORTNIGHTLY_TUESDAY, D(2026, 2, 17), holidays) == D(
        2026, 2, 3
    )


def test_consecutive_holidays_move_to_first_working_day() -> None:
    holidays = [D(2026, 2, 17), D(2026, 2, 18), D(2026, 2, 19)]
    assert next_meeting_on_or_after(FORTNIGHTLY_TUESDAY, D(2026, 2, 4), holidays) == D(2026, 2, 20)


def test_meeting_moved_into_window_from_before_it_is_included() -> None:
    # Nominal 02-17 is a holiday and moves to 02-18, inside a window starting on 02-18.
    holidays = (D(2026, 2, 17),)
    assert meeting_dates(FORTNIGHTLY_TUESDAY, D(2026, 2, 18), D(2026, 3, 3), holidays) == [
        D(2026, 2, 18),
        D(2026, 3, 3),
    ]
    assert count_meetings(FORTNIGHTLY_TUESDAY, D(2026, 2, 18), D(2026, 3, 3), holidays) == 2


def test_long_holiday_run_merges_meetings() -> None:
    weekly = MeetingRule(D(2026, 12, 1), Frequency.WEEKLY)  # Tuesdays
    closure = {D(2026, 12, 22) + timedelta(days=i) for i in range(9)}  # 22 Dec .. 30 Dec
    assert meeting_dates(weekly, D(2026, 12, 14), D(2027, 1, 6), closure) == [
        D(2026, 12, 15),
        D(2026, 12, 31),
        D(2027, 1, 5),
    ]
    assert count_meetings(weekly, D(2026, 12, 14), D(2027, 1, 6), closure) == 3


def test_first_monday() -> None:
    assert meeting_dates(FIRST_MONDAY, D(2026, 1, 1), D(2026, 6, 30)) == [
        D(2026, 1, 5),
        D(2026, 2, 2),
        D(2026, 3, 2),
        D(2026, 4, 6),
        D(2026, 5, 4),
        D(2026, 6, 1),
    ]


def test_first_monday_start_after_it_begins_next_month() -> None:
    rule = MeetingRule(D(2026, 1, 6), Frequency.MONTHLY, weekday=0, week_of_month=1)
    assert next(nominal_dates(rule)) == D(2026, 2, 2)


def test_last_friday() -> None:
    assert meeting_dates(LAST_FRIDAY, D(2026, 1, 1), D(2026, 5, 31)) == [
        D(2026, 1, 30),
        D(2026, 2, 27),
        D(2026, 3, 27),
        D(2026, 4, 24),
        D(2026, 5, 29),
    ]


def test_every_two_months_third_wednesday() -> None:
    rule = MeetingRule(D(2026, 1, 1), Frequency.MONTHLY, interval=2, weekday=2, week_of_month=3)
    assert list(islice(nominal_dates(rule), 3)) == [D(2026, 1, 21), D(2026, 3, 18), D(2026, 5, 20)]


def test_monthly_same_day_clamped_to_month_end() -> None:
    rule = MeetingRule(D(2026, 1, 31), Frequency.MONTHLY)
    assert list(islice(nominal_dates(rule), 4)) == [
        D(2026, 1, 31),
        D(2026, 2, 28),
        D(2026, 3, 31),
        D(2026, 4, 30),
    ]
    assert next_meeting_on_or_after(rule, D(2028, 2, 1)) == D(2028, 2, 29)


def test_weekly_weekday_other_than_start() -> None:
    rule = MeetingRule(D(2026, 1, 1), Frequency.WEEKLY, weekday=0)  # Thursday start, Mondays
    assert list(islice(nominal_dates(rule), 2)) == [D(2026, 1, 5), D(2026, 1, 12)]


def test_count_meetings_mandatory_savings() -> None:
    # Lazima opened 2026-01-06; meetings up to and including 2026-03-03: 5 (domain notes).
    assert count_meetings(FORTNIGHTLY_TUESDAY, D(2026, 1, 6), D(2026, 3, 3)) == 5
    # Group Fund opened 2026-02-17: 2 meetings up to 2026-03-03.
    assert count_meetings(FORTNIGHTLY_TUESDAY, D(2026, 2, 17), D(2026, 3, 3)) == 2
    assert count_meetings(FORTNIGHTLY_TUESDAY, D(2026, 3, 4), D(2026, 3, 16)) == 0
    assert count_meetings(FORTNIGHTLY_TUESDAY, D(2026, 3, 3), D(2026, 1, 1)) == 0


def test_previous_and_next() -> None:
    rule = FORTNIGHTLY_TUESDAY
    assert next_meeting_on_or_after(rule, D(2026, 1, 6)) == D(2026, 1, 6)
    assert next_meeting_on_or_after(rule, D(2026, 1, 7)) == D(2026, 1, 20)
    assert next_meeting_on_or_after(rule, D(2025, 6, 1)) == D(2026, 1, 6)
    assert previous_meeting_on_or_before(rule, D(2026, 1, 19)) == D(2026, 1, 6)
    assert previous_meeting_on_or_before(rule, D(2026, 1, 20)) == D(2026, 1, 20)
    assert previous_meeting_on_or_before(rule, D(2026, 1, 5)) is None
    assert not is_meeting_date(rule, D(2026, 1, 13))
    assert not is_meeting_date(rule, D(2025, 12, 23))  # would fit the rhythm, before start


def test_far_future_date() -> None:
    rule = FORTNIGHTLY_TUESDAY
    # 2126-01-05 is 36,889 days (5,269 weeks + 6 days) after 2026-01-06.
    far = D(2126, 1, 5)
    nxt = next_meeting_on_or_after(rule, far)
    prev = previous_meeting_on_or_before(rule, far)
    assert prev is not None
    assert (nxt - prev).days == 14
    assert prev <= far <= nxt
    assert nxt.weekday() == 1 and (nxt - rule.start_date).days % 14 == 0
    assert count_meetings(rule, rule.start_date, prev) == (prev - rule.start_date).days // 14 + 1
    assert next_meeting_on_or_after(FIRST_MONDAY, D(2999, 12, 2)) == D(2999, 12, 2)
    assert next_meeting_on_or_after(FIRST_MONDAY, D(2999, 12, 3)) == D(3000, 1, 6)
    assert previous_meeting_on_or_before(LAST_FRIDAY, D(2999, 12, 31)) == D(2999, 12, 27)


def test_describe() -> None:
    assert describe(FORTNIGHTLY_TUESDAY) == "every 2 weeks on Tuesday from 2026-01-06"
    assert describe(MeetingRule(D(2026, 1, 6), Frequency.WEEKLY)) == (
        "weekly on Tuesday from 2026-01-06"
    )
    assert describe(FIRST_MONDAY) == "monthly on the first Monday from 2026-01-01"
    assert describe(
        MeetingRule(D(2026, 1, 1), Frequency.MONTHLY, interval=3, weekday=4, week_of_month=-1)
    ) == ("every 3 months on the last Friday from 2026-01-01")
    assert describe(MeetingRule(D(2026, 1, 15), Frequency.MONTHLY)) == (
        "monthly on day 15 from 2026-01-15"
    )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"frequency": Frequency.WEEKLY, "interval": 0}, "interval"),
        ({"frequency": Frequency.WEEKLY, "weekday": 7}, "weekday"),
        ({"frequency": Frequency.WEEKLY, "week_of_month": 1}, "week_of_month"),
        ({"frequency": Frequency.MONTHLY, "weekday": 0, "week_of_month": 5}, "week_of_month"),
        ({"frequency": Frequency.MONTHLY, "weekday": 0}, "both"),
        ({"frequency": Frequency.MONTHLY, "week_of_month": 1}, "both"),
        ({"frequency": "yearly"}, "frequency"),
    ],
)
def test_rule_validation(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        MeetingRule(start_date=D(2026, 1, 6), **kwargs)  # type: ignore[arg-type]


def test_frequency_string_is_accepted() -> None:
    rule = MeetingRule(D(2026, 1, 6), "weekly")  # type: ignore[arg-type]
    assert rule.frequency is Frequency.WEEKLY


# --------------------------------------------------------------------------- properties


@st.composite
def rules(draw: st.DrawFn) -> MeetingRule:
    start = draw(st.dates(min_value=D(2000, 1, 1), max_value=D(2040, 12, 31)))
    if draw(st.booleans()):
        return MeetingRule(
            start,
            Frequency.WEEKLY,
            interval=draw(st.integers(1, 4)),
            weekday=draw(st.none() | st.integers(0, 6)),
        )
    if draw(st.booleans()):
        return MeetingRule(start, Frequency.MONTHLY, interval=draw(st.integers(1, 3)))
    return MeetingRule(
        start,
        Frequency.MONTHLY,
        interval=draw(st.integers(1, 3)),
        weekday=draw(st.integers(0, 6)),
        week_of_month=draw(st.sampled_from([1, 2, 3, 4, -1])),
    )


def _brute_force(rule: MeetingRule, until: date, holidays: set[date]) -> list[date]:
    result: list[date] = []
    for nominal in nominal_dates(rule):
        if nominal > until:
            break
        actual = nominal
        while actual in holidays:
            actual += timedelta(days=1)
        if not result or result[-1] != actual:
            result.append(actual)
    return result


@settings(max_examples=200, deadline=None)
@given(
    rule=rules(),
    offset=st.integers(-40, 400),
    length=st.integers(0, 200),
    holiday_offsets=st.lists(st.integers(-10, 700), max_size=40),
)
def test_arithmetic_lookups_match_brute_force(
    rule: MeetingRule, offset: int, length: int, holiday_offsets: list[int]
) -> None:
    holidays = {rule.start_date + timedelta(days=h) for h in holiday_offsets}
    start = rule.start_date + timedelta(days=offset)
    end = start + timedelta(days=length)
    every = _brute_force(rule, end + timedelta(days=800), holidays)
    expected = [d for d in every if start <= d <= end]

    assert meeting_dates(rule, start, end, holidays) == expected
    assert count_meetings(rule, start, end, holidays) == len(expected)
    assert next_meeting_on_or_after(rule, start, holidays) == min(d for d in every if d >= start)
    before = [d for d in every if d <= end]
    assert previous_meeting_on_or_before(rule, end, holidays) == (before[-1] if before else None)
    assert is_meeting_date(rule, start, holidays) == (start in every)
    assert all(a < b for a, b in zip(expected, expected[1:]))
    assert all(d not in holidays for d in expected)


def test_a_meeting_moved_onto_the_next_one_is_counted_once() -> None:
    """Weekly from Wednesday 2020-01-01, the office closed for its first week: the first
    meeting moves to 01-08, the day of the second (which is not a holiday): one meeting."""
    weekly = MeetingRule(D(2020, 1, 1), Frequency.WEEKLY)
    closed = {D(2020, 1, 1) + timedelta(days=i) for i in range(7)}
    assert meeting_dates(weekly, D(2020, 1, 1), D(2020, 1, 15), closed) == [
        D(2020, 1, 8), D(2020, 1, 15)]
    assert count_meetings(weekly, D(2020, 1, 1), D(2020, 1, 15), closed) == 2
    assert count_meetings(weekly, D(2020, 1, 8), D(2020, 1, 15), closed) == 2


@settings(max_examples=200, deadline=None)
@given(
    rule=rules(),
    offset=st.integers(-40, 400),
    length=st.integers(0, 200),
    runs=st.lists(st.tuples(st.integers(-10, 600), st.integers(1, 45)), max_size=5),
)
def test_counts_match_brute_force_with_long_closures(
    rule: MeetingRule, offset: int, length: int, runs: list[tuple[int, int]]
) -> None:
    holidays = {rule.start_date + timedelta(days=first + i)
                for first, days in runs for i in range(days)}
    start = rule.start_date + timedelta(days=offset)
    end = start + timedelta(days=length)
    every = _brute_force(rule, end + timedelta(days=800), holidays)
    expected = [d for d in every if start <= d <= end]
    assert meeting_dates(rule, start, end, holidays) == expected
    assert count_meetings(rule, start, end, holidays) == len(expected)
