"""What a person sees of an import report, checked in the file: a yes/no column's
booleans written as Yes/No (LibreOffice showed a boolean in a formatted cell as 1, and
reads TRUE and FALSE of an .ods as 1 and 0), and a Fineract report wider than any
template printed on as many pages wide as keep it readable, its row key on each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from tests.setup_import.test_fineract_groups import (
    CENTER_HEADERS,
    CENTER_LIST_COL,
    _fineract_book,
    d,
)
from tests.fixtures.fineract.populators import loans_workbook_of, two_percent_a_month
from tests.setup_import.test_fineract_history import _amani
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.declaration import CellType, ColumnSpec
from workbook_engine.workbooks.grid_writer import shown_value
from workbook_engine.workbooks.print_setup import WIDEST_PAGE, pages_wide


def test_a_yes_no_columns_booleans_are_written_yes_or_no(kilimani, tmp_path: Path) -> None:
    book = _fineract_book(tmp_path / "Centers.xlsx", "Centers", CENTER_HEADERS,
                          CENTER_LIST_COL, "Group Names", [
        (["Mavuno", "Nairobi East", "Otieno Odhiambo", "F-C-1", True, d("2026-01-13"),
          d("2026-01-10"), d("2026-01-13"), True, "Weekly", 2, "Tue"], []),
        (["Dormant", "Kisumu", "Mwangi Njoroge", "F-C-3", False, None, d("2026-02-02"),
          d("2026-02-02"), False, "Weekly", 1, "Mon"], [])],
        {"Offices": ["Office Name", "Office Id"], "Staff": ["Office Name", "Staff Name"],
         "Groups": ["Office Names", "Group Names", "Group ID"]})
    result = process_file(kilimani.ctx, book, actor_id=None)
    sheet = openpyxl.load_workbook(result.report_xlsx)["Centers"]
    at = {c.value: c.column_letter for c in sheet[2] if c.value}  # the hidden key row
    assert [(sheet[f"{at['active']}{r}"].value, sheet[f"{at['repeating']}{r}"].value)
            for r in (3, 4)] == [("Yes", "Yes"), ("No", "No")]


def test_what_a_yes_no_cell_shows() -> None:
    yes_no = ColumnSpec("active", "Active", CellType.CHOICE, choices="yes_no")
    text = ColumnSpec("external_id", "External id", CellType.TEXT)
    assert [shown_value(yes_no, v) for v in (True, False, 1.0, 0.0, 1, "True", None, 2)] == \
        ["Yes", "No", "Yes", "No", "Yes", "True", None, 2]
    assert shown_value(text, True) is True and shown_value(text, 1.0) == 1.0


def test_a_fineract_loans_report_prints_two_pages_wide_with_its_row_key_on_each(
        kilimani, tmp_path: Path) -> None:
    amani = _amani(kilimani.ctx)
    loan = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2025, 10, 6),
                               amount_repaid=6000, last_repayment_on=dt.date(2026, 1, 10))
    result = process_file(kilimani.ctx, loans_workbook_of(tmp_path / "Loans.xlsx", [loan]),
                          actor_id=None)
    book = openpyxl.load_workbook(result.report_xlsx)
    loans = book["Loans"]
    assert int(loans.page_setup.fitToWidth) == 2 and loans.page_setup.orientation == \
        "landscape"
    assert loans.print_title_cols == "$A:$A" and loans.print_title_rows == "$1:$2"
    for narrow in ("Errors", "Reconciliation"):  # one page wide as before
        assert int(book[narrow].page_setup.fitToWidth or 1) == 1, narrow


def test_pages_wide() -> None:
    assert pages_wide([14] * 22) == 1  # live loans, 316
    assert pages_wide([20] * 20) == 1  # 400
    assert pages_wide([8, 26] + [14] * 34) == 2  # 519: Fineract's loans
    assert pages_wide([WIDEST_PAGE + 1], 0) == 2

