"""A sheet returned as .ods gets a corrected-ready report too: the sheet as the engine wrote
it, as .xlsx, with what the officer typed, highlighted; and the HTML tells the truth about
which file to correct."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.print.conftest import HEADER
from tests.returned.sheets import generate
from tests.support.libreoffice import convert
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.filling import fill_sheet, input_address

pytestmark = pytest.mark.libreoffice


def test_an_ods_sheet_gets_an_xlsx_report_to_correct_and_send_back(kilimani, tmp_path: Path):
    ctx = kilimani.ctx
    path, expected = generate(kilimani, tmp_path / "gen")
    amina = input_address(expected, "Amina Wanjiku", "repayment")
    dalia = input_address(expected, "Dalia Njeri", "attendance")
    typed = fill_sheet(path, tmp_path / "kilimani.xlsx", expected, header=HEADER,
                       addresses={amina: 1000, dalia: "A"})
    ods = convert(typed, "ods", tmp_path / "lo")
    assert ods.suffix == ".ods"

    result = process_file(ctx, ods, actor_id=None)
    assert [e["cell"] for e in result.errors] == [amina]  # a partial repayment
    assert result.report_xlsx is not None and result.report_xlsx.suffix == ".xlsx"
    book = openpyxl.load_workbook(result.report_xlsx)
    ws = book[COLLECTION_SHEET.data_sheet]
    assert ws[amina].value == 1000 and ws[dalia].value == "A"  # what the officer typed
    assert ws[amina].fill.fgColor.rgb.endswith("FFC7CE") and ws[amina].comment is not None
    assert ws[dalia].font.color.rgb.endswith("C00000")
    assert ws[expected["header"]["receipt_number"]["cell"]].value == "R-0303"
    html = Path(result.report_html).read_text(encoding="utf-8")
    assert f"correct them in {result.report_xlsx.name}" in html
    assert "Your sheet came back as kilimani.ods" in html
    assert "correct them in the .xlsx report" not in html

    # corrected in the .xlsx report and sent back: the next version of the same sheet
    due = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    fixed = fill_sheet(result.report_xlsx, tmp_path / "fixed.xlsx", expected,
                       addresses={amina: float(next(c["due"] for k, c in due["cells"].items()
                                                    if k.startswith("repayment")))})
    again = process_file(ctx, fixed, actor_id=None)
    assert again.errors == () and again.status == "awaiting_approval"


def test_without_a_copy_the_html_says_to_correct_the_file_sent(kilimani, tmp_path: Path):
    """The layout changed since (a row moved in the file): no copy, and no talk of one."""
    ctx = kilimani.ctx
    path, expected = generate(kilimani, tmp_path / "gen")
    amina = input_address(expected, "Amina Wanjiku", "repayment")
    typed = fill_sheet(path, tmp_path / "kilimani.xlsx", expected, header=HEADER,
                       addresses={amina: 1000})
    book = openpyxl.load_workbook(typed)
    ws = book[COLLECTION_SHEET.data_sheet]
    ws.protection.sheet = False
    ws.insert_rows(expected["first_data_row"] + 1)  # every row below moves down one
    book.save(typed)
    ods = convert(typed, "ods", tmp_path / "lo")
    result = process_file(ctx, ods, actor_id=None)
    assert result.errors
    html = Path(result.report_html).read_text(encoding="utf-8")
    assert result.report_xlsx is None
    assert "correct them in the file you sent (kilimani.ods)" in html
    assert ".xlsx report" not in html
    assert "could not be made" in result.message
