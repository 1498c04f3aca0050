"""The shortcuts what is due and the writer take in bulk give what the general functions give:
an amount read in bulk rounds as ``round_money`` rounds it, the meetings since a day are
counted once a sheet as the calendar counts them, the shared strings are escaped as
``text`` escapes them, and the groups listed as one parameter select what a list of bound
ids selected."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from workbook_engine.domain import Client, GroupMembership
from workbook_engine.domain.calendar import Frequency, MeetingRule, meeting_dates
from workbook_engine.money import round_money
from workbook_engine.services.collection.due import (
    _active_members,
    _listed,
    _rounded,
    _Shares,
)
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup import demo
from workbook_engine.workbooks.ooxml import SharedStrings, text

AMOUNTS = st.decimals(min_value=Decimal("-99999999999999.9999"),
                      max_value=Decimal("99999999999999.9999"), places=4,
                      allow_nan=False, allow_infinity=False)


@given(AMOUNTS, st.integers(min_value=0, max_value=12))
def test_an_amount_read_in_bulk_rounds_as_round_money(amount: Decimal, digits: int) -> None:
    rounded = _rounded(amount, digits)
    expected = round_money(amount, digits)
    assert rounded == expected and str(rounded) == str(expected)


def test_the_halves_and_zeros_round_as_round_money() -> None:
    for amount in ("0.005", "-0.005", "2.5", "-2.5", "0", "-0", "0.0000", "-0.0000",
                   "12.3450", "99999999999999.9950"):
        for digits in (0, 2, 3):
            assert str(_rounded(Decimal(amount), digits)) == \
                str(round_money(Decimal(amount), digits))


RULES = st.builds(
    MeetingRule, start_date=st.dates(dt.date(2025, 1, 1), dt.date(2026, 6, 30)),
    frequency=st.sampled_from([Frequency.WEEKLY, Frequency.MONTHLY]),
    interval=st.integers(1, 3))


@given(RULES, st.lists(st.dates(dt.date(2024, 6, 1), dt.date(2027, 6, 30)), max_size=6),
       st.dates(dt.date(2025, 1, 1), dt.date(2027, 6, 30)),
       st.frozensets(st.dates(dt.date(2025, 1, 1), dt.date(2027, 6, 30)), max_size=5))
def test_the_meetings_since_a_day_are_the_calendars(
        rule: MeetingRule, days: list[dt.date], meeting: dt.date,
        holidays: frozenset[dt.date]) -> None:
    shares = _Shares(None, {}, meeting, rule, holidays)  # type: ignore[arg-type]
    for day in days + days:  # each day twice: the second answer is the one kept
        assert shares.meetings(day) == len(meeting_dates(rule, day, meeting, holidays))


@given(st.lists(st.text(max_size=12), max_size=8))
def test_shared_strings_are_escaped_as_text_escapes_them(values: list[str]) -> None:
    strings = SharedStrings()
    for value in values:
        strings(value)
    items = []
    for value in dict.fromkeys(values):
        escaped, preserve = text(value)
        items.append(f'<si><t xml:space="preserve">{escaped}</t></si>' if preserve
                     else f"<si><t>{escaped}</t></si>")
    assert strings.xml().endswith(f'uniqueCount="{len(items)}">{"".join(items)}</sst>')


def test_groups_listed_as_one_parameter_select_their_active_members(
        any_ctx: AppContext) -> None:
    demo.load_demo(any_ctx, scale=1)
    with any_ctx.session_factory() as s:
        groups = sorted(set(s.scalars(select(GroupMembership.group_id))))[:3]
        listed = _listed("groups", groups)
        # The parameter twice in one statement, as the batch's filters use it.
        picked = set(s.scalars(select(Client.id).where(
            Client.id.in_(_active_members(listed, GroupMembership.client_id))
            | Client.id.in_(_active_members(listed, GroupMembership.client_id)))))
        by_list = set(s.scalars(select(Client.id).where(Client.id.in_(
            _active_members(groups, GroupMembership.client_id)))))  # type: ignore[arg-type]
    assert groups and picked and picked == by_list
