"""Meeting calendars: when a center or group meets.

A :class:`MeetingRule` is a start date plus a recurrence:

* WEEKLY: every ``interval`` weeks on ``weekday`` (default: the start date's weekday). The
  first meeting is the first such weekday on or after the start date.
* MONTHLY with ``weekday`` and ``week_of_month``: every ``interval`` months on e.g. the first
  Monday (``weekday=0, week_of_month=1``) or the last Friday (``weekday=4,
  week_of_month=-1``). The first meeting is the first such day on or after the start date;
  the series then advances ``interval`` months from that meeting's month.
* MONTHLY without them: every ``interval`` months on the start date's day of month, clamped
  to the month's last day (a rule starting on the 31st meets on 30 April, 28/29 February).
  Clamping never shifts later months: the nominal day stays the start date's day.

Nominal and actual dates
    The *nominal* series is the pure recurrence. A nominal meeting falling on a holiday is
    *moved* to the next day that is not a holiday; the move affects that meeting only, the
    series continues from nominal dates (fortnightly Tuesdays from 2026-01-06 with a holiday
    on 2026-02-17 meet on 02-03, 02-18, 03-03).

    If a run of holidays is so long that a moved meeting reaches the next nominal meeting
    (which is then itself moved to the same day), the two are held as **one** meeting: actual
    meeting dates are distinct and strictly increasing, and :func:`count_meetings` counts
    them once.

All look-ups jump arithmetically to the vicinity of the requested date, so a date a
century away costs the same as tomorrow. ``holidays`` may be any collection of dates; it is
turned into a frozenset once per call.
"""

from __future__ import annotations

import calendar as _stdcal
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

__all__ = [
    "Frequency",
    "MeetingRule",
    "count_meetings",
    "describe",
    "is_meeting_date",
    "meeting_dates",
    "meetings_from",
    "next_meeting_on_or_after",
    "nominal_dates",
    "previous_meeting_on_or_before",
]

WEEKDAY_NAMES: tuple[str, ...] = tuple(_stdcal.day_name)  # Monday .. Sunday
_ORDINALS = {1: "first", 2: "second", 3: "third", 4: "fourth", -1: "last"}


class Frequency(StrEnum):
    """How often a meeting recurs (each ``interval`` weeks or months)."""

    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True)
class MeetingRule:
    """A meeting calendar: a start date and a recurrence.

    Attributes:
        start_date: no meeting is held before this date.
        frequency: WEEKLY or MONTHLY.
        interval: every N weeks / every N months (>= 1).
        weekday: 0=Monday .. 6=Sunday. WEEKLY: defaults to the start date's weekday.
            MONTHLY: used together with ``week_of_month``.
        week_of_month: MONTHLY only: 1..4, or -1 for the last such weekday of the month.
            If None for MONTHLY (and ``weekday`` is None), the rule meets on the start
            date's day of month, clamped to the month's end.
    """

    start_date: date
    frequency: Frequency
    interval: int = 1
    weekday: int | None = None
    week_of_month: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.start_date, date) or isinstance(self.start_date, datetime):
            raise ValueError(f"MeetingRule.start_date must be a date, got {self.start_date!r}")
        try:
            freq = Frequency(self.frequency)
        except ValueError:
            raise ValueError(
                f"MeetingRule.frequency must be one of {[f.value for f in Frequency]}, "
                f"got {self.frequency!r}"
            ) from None
        object.__setattr__(self, "frequency", freq)
        if isinstance(self.interval, bool) or not isinstance(self.interval, int):
            raise ValueError(f"MeetingRule.interval must be an int, got {self.interval!r}")
        if self.interval < 1:
            raise ValueError(f"MeetingRule.interval must be >= 1, got {self.interval}")
        if self.weekday is not None and (
            isinstance(self.weekday, bool)
            or not isinstance(self.weekday, int)
            or not 0 <= self.weekday <= 6
        ):
            raise ValueError(
                f"MeetingRule.weekday must be 0 (Monday) .. 6 (Sunday), got {self.weekday!r}"
            )
        if freq is Frequency.WEEKLY:
            if self.week_of_month is not None:
                raise ValueError("MeetingRule.week_of_month is only allowed for MONTHLY rules")
        else:
            if self.week_of_month is not None and self.week_of_month not in _ORDINALS:
                raise ValueError(
                    "MeetingRule.week_of_month must be 1, 2, 3, 4 or -1 (last), "
                    f"got {self.week_of_month!r}"
                )
            if (self.weekday is None) != (self.week_of_month is None):
                raise ValueError(
                    "a MONTHLY MeetingRule needs both weekday and week_of_month "
                    "(e.g. first Monday = weekday=0, week_of_month=1), or neither "
                    "(same day of month as start_date)"
                )


# --------------------------------------------------------------------------- nominal series


def _month_index(d: date) -> int:
    return d.year * 12 + (d.month - 1)


def _day_in_month(rule: MeetingRule, month_index: int) -> date:
    """The nominal meeting day of a MONTHLY rule in the given month."""
    year, month0 = divmod(month_index, 12)
    month = month0 + 1
    last_day = _stdcal.monthrange(year, month)[1]
    if rule.week_of_month is None:
        return date(year, month, min(rule.start_date.day, last_day))
    assert rule.weekday is not None
    if rule.week_of_month == -1:
        last = date(year, month, last_day)
        return last - timedelta(days=(last.weekday() - rule.weekday) % 7)
    first = date(year, month, 1)
    first_match = first + timedelta(days=(rule.weekday - first.weekday()) % 7)
    return first_match + timedelta(weeks=rule.week_of_month - 1)


def _first_weekly(rule: MeetingRule) -> date:
    weekday = rule.start_date.weekday() if rule.weekday is None else rule.weekday
    return rule.start_date + timedelta(days=(weekday - rule.start_date.weekday()) % 7)


def _anchor_month(rule: MeetingRule) -> int:
    """Month index of the first nominal MONTHLY meeting."""
    m = _month_index(rule.start_date)
    return m if _day_in_month(rule, m) >= rule.start_date else m + 1


def _nominal(rule: MeetingRule, k: int) -> date:
    """The k-th (0-based) nominal meeting date."""
    if rule.frequency is Frequency.WEEKLY:
        return _first_weekly(rule) + timedelta(weeks=rule.interval * k)
    return _day_in_month(rule, _anchor_month(rule) + rule.interval * k)


def _index_on_or_after(rule: MeetingRule, d: date) -> int:
    """Smallest k with ``_nominal(rule, k) >= d``."""
    if rule.frequency is Frequency.WEEKLY:
        first = _first_weekly(rule)
        if d <= first:
            return 0
        step = 7 * rule.interval
        return -(-(d - first).days // step)  # ceiling division
    k = max(0, (_month_index(d) - _anchor_month(rule)) // rule.interval)
    # The month arithmetic lands within one step of the answer; settle it exactly.
    while _nominal(rule, k) < d:
        k += 1
    while k > 0 and _nominal(rule, k - 1) >= d:
        k -= 1
    return k


def nominal_dates(rule: MeetingRule) -> Iterator[date]:
    """Yield the nominal meeting dates (holidays ignored) from the first one on/after
    ``rule.start_date``, forever (until the end of the ``date`` range)."""
    k = 0
    while True:
        try:
            yield _nominal(rule, k)
        except (OverflowError, ValueError):
            return
        k += 1


# --------------------------------------------------------------------------- actual series


def _move(d: date, holidays: frozenset[date]) -> date:
    """Move ``d`` forward past holidays."""
    while d in holidays:
        d += timedelta(days=1)
    return d


def _actual(rule: MeetingRule, k: int, holidays: frozenset[date]) -> date:
    return _move(_nominal(rule, k), holidays)


def _first_index_actual_on_or_after(rule: MeetingRule, d: date, hol: frozenset[date]) -> int:
    """Smallest k whose actual (holiday-moved) date is >= d.

    Actual dates are non-decreasing in k and never earlier than nominal ones, so start at the
    nominal answer and step back over meetings moved forward into [d, ...).
    """
    k = _index_on_or_after(rule, d)
    while k > 0 and _actual(rule, k - 1, hol) >= d:
        k -= 1
    return k


def _last_index_actual_on_or_before(rule: MeetingRule, d: date, hol: frozenset[date]) -> int:
    """Largest k whose actual date is <= d, or -1 if there is none."""
    if d < rule.start_date:
        return -1
    k = _index_on_or_after(rule, d + timedelta(days=1)) - 1  # last nominal <= d
    while k >= 0 and _actual(rule, k, hol) > d:
        k -= 1
    return k


def meeting_dates(
    rule: MeetingRule, start: date, end: date, holidays: Collection[date] = ()
) -> list[date]:
    """Actual (holiday-moved) meeting dates within ``[start, end]`` inclusive, ascending and
    distinct."""
    hol = frozenset(holidays)
    if end < start:
        return []
    result: list[date] = []
    k = _first_index_actual_on_or_after(rule, start, hol)
    while True:
        nominal = _nominal(rule, k)
        if nominal > end:
            break
        actual = _move(nominal, hol)
        if actual > end:
            break
        if not result or result[-1] != actual:
            result.append(actual)
        k += 1
    return result


def meetings_from(rule: MeetingRule, d: date, holidays: Collection[date] = ()) -> Iterator[date]:
    """Yield the actual meeting dates on or after ``d``, ascending and distinct (meetings
    merged by a long holiday run once), until the end of the ``date`` range."""
    hol = frozenset(holidays)
    k = _first_index_actual_on_or_after(rule, d, hol)
    last: date | None = None
    while True:
        try:
            actual = _actual(rule, k, hol)
        except (OverflowError, ValueError):
            return
        if actual != last:
            yield actual
            last = actual
        k += 1


def next_meeting_on_or_after(
    rule: MeetingRule, d: date, holidays: Collection[date] = ()
) -> date:
    """The first actual meeting date on or after ``d``."""
    hol = frozenset(holidays)
    return _actual(rule, _first_index_actual_on_or_after(rule, d, hol), hol)


def previous_meeting_on_or_before(
    rule: MeetingRule, d: date, holidays: Collection[date] = ()
) -> date | None:
    """The last actual meeting date on or before ``d``, or None if there is none yet."""
    hol = frozenset(holidays)
    k = _last_index_actual_on_or_before(rule, d, hol)
    return None if k < 0 else _actual(rule, k, hol)


def is_meeting_date(rule: MeetingRule, d: date, holidays: Collection[date] = ()) -> bool:
    """True if a meeting is actually held on ``d`` (after holiday moves)."""
    if d < rule.start_date:
        return False
    return next_meeting_on_or_after(rule, d, holidays) == d


def count_meetings(
    rule: MeetingRule, start: date, end: date, holidays: Collection[date] = ()
) -> int:
    """Number of actual meetings held within ``[start, end]`` inclusive.

    Used e.g. for mandatory savings: meetings from the account's activation up to and
    including this meeting. Computed arithmetically; meetings merged by a long holiday run
    count once (see the module docstring).
    """
    if end < start:
        return 0
    hol = frozenset(holidays)
    lo = _first_index_actual_on_or_after(rule, start, hol)
    hi = _last_index_actual_on_or_before(rule, end, hol)
    if hi < lo:
        return 0
    count = hi - lo + 1
    # Merges: meeting k (lo <= k < hi) falls on a holiday and is moved onto the day meeting
    # k + 1 is held (moved itself or not). Only holidays from the first counted nominal date
    # to ``end`` matter.
    first_nominal = _nominal(rule, lo)
    for h in hol:
        if not first_nominal <= h <= end:
            continue
        k = _index_on_or_after(rule, h)
        if lo <= k < hi and _nominal(rule, k) == h:
            if _actual(rule, k, hol) == _actual(rule, k + 1, hol):
                count -= 1
    return count


def describe(rule: MeetingRule) -> str:
    """A human sentence, e.g. "every 2 weeks on Tuesday from 2026-01-06" or
    "monthly on the first Monday from 2026-01-05"."""
    start = rule.start_date.isoformat()
    if rule.frequency is Frequency.WEEKLY:
        weekday = rule.start_date.weekday() if rule.weekday is None else rule.weekday
        every = "weekly" if rule.interval == 1 else f"every {rule.interval} weeks"
        return f"{every} on {WEEKDAY_NAMES[weekday]} from {start}"
    every = "monthly" if rule.interval == 1 else f"every {rule.interval} months"
    if rule.week_of_month is None:
        day = rule.start_date.day
        tail = " (or the month's last day)" if day > 28 else ""
        return f"{every} on day {day}{tail} from {start}"
    assert rule.weekday is not None
    ordinal = _ORDINALS[rule.week_of_month]
    return f"{every} on the {ordinal} {WEEKDAY_NAMES[rule.weekday]} from {start}"
