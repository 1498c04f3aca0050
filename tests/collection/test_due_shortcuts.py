"""The shortcuts what is due and the writer take in bulk give what the general functions give:
an amount read in bulk rounds as ``round_money`` rounds it, the meetings since a day are
counted once a sheet as the calendar counts them, the shared strings are escaped as
``text`` escapes them, and the groups listed as one parameter select what a list of bound
ids selected."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
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


def test_sheets_of_two_layouts_written_in_turn_have_each_its_own_heads(
        kilimani, tmp_path) -> None:
    """The column heads and header validations are kept per layout: a sheet written after
    one of other columns has its own (sections merged over their columns, headers, keys),
    and the first layout's next sheet is the same as its first."""
    from workbook_engine.domain import SavingsProduct
    from workbook_engine.services.collection.due import compute_due
    from workbook_engine.services.collection.rules import collection_rules
    from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET, layout
    from workbook_engine.workbooks.collection_writer import write_collection_sheet
    from workbook_engine.workbooks.metadata import sign_metadata
    from workbook_engine.workbooks.signing import load_key_ring

    ctx = kilimani.ctx
    with ctx.session_factory() as s:
        sheet = compute_due(s, center_id=kilimani.center_id, meeting_date=dt.date(2026, 3, 3),
                            today=dt.date(2026, 3, 3))
        other = s.scalar(select(SavingsProduct).order_by(SavingsProduct.id.desc()).limit(1))
    from workbook_engine.domain.due import ProductRef
    extra = ProductRef(other.id + 1000, "Another Saving", "AS")
    wider = dataclasses.replace(sheet, savings_products=(*sheet.savings_products, extra))
    ring = load_key_ring(ctx.settings.secret_file)
    signed = sign_metadata(ring, workbook_id="w", kind=COLLECTION_SHEET.name,
                           template_version=COLLECTION_SHEET.template_version,
                           center_id=sheet.center_id, group_id=None,
                           meeting_date=sheet.meeting_date,
                           generated_at=dt.datetime(2026, 3, 2))
    codes = collection_rules(ctx.rules).attendance_codes
    paths = []
    for n, due in enumerate((sheet, wider, sheet)):
        paths.append(tmp_path / f"s{n}.xlsx")
        write_collection_sheet(paths[-1], due, layout(due), signed,
                               payment_types=["Cash", "M-Pesa"], attendance_codes=codes)
    assert paths[0].read_bytes() == paths[2].read_bytes()
    for path, due in zip(paths[:2], (sheet, wider), strict=True):
        ws = load_workbook(path)[COLLECTION_SHEET.data_sheet]
        grid = layout(due)
        for column in grid.columns:
            assert ws[f"{column.letter}{COLLECTION_SHEET.header_row}"].value == column.header
            assert ws[f"{column.letter}{COLLECTION_SHEET.key_row}"].value == column.key
        merged = {str(r) for r in ws.merged_cells.ranges}
        runs: list[list] = []  # the runs of columns of one section
        for column in grid.columns:
            if runs and runs[-1][0].spec.section == column.spec.section:
                runs[-1].append(column)
            else:
                runs.append([column])
        row = COLLECTION_SHEET.section_row
        for run in runs:
            first, last = f"{run[0].letter}{row}", f"{run[-1].letter}{row}"
            assert ws[first].value == run[0].spec.section
            assert (f"{first}:{last}" in merged) == (len(run) > 1
                                                     and run[0].spec.section is not None)
        assert sum(1 for r in merged if r.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
                   == str(row)) == \
            sum(1 for run in runs if len(run) > 1 and run[0].spec.section is not None)
        prompts = {str(dv.sqref): dv.formula1 for dv in ws.data_validations.dataValidation}
        assert prompts["H2:I2"] == '"Cash,M-Pesa"'
    assert "Another Saving" in {c.value for c in load_workbook(paths[1])[
        COLLECTION_SHEET.data_sheet][COLLECTION_SHEET.header_row]}
