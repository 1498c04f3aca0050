"""Every mark the seed asks for shows in the preview report, on screen and on paper, in
.xlsx and HTML, also on a cell the loan officer emptied (a red font alone shows nothing
there)."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from tests.print.conftest import Sheet40, seed_red_cases
from tests.support.render import is_reddish, render
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET

UNTOUCHED = ("Client6 Bench", "repayment")


def _fill_rgb(cell) -> str | None:
    fill = cell.fill
    if fill is None or fill.fill_type != "solid" or not isinstance(fill.fgColor.rgb, str):
        return None
    return fill.fgColor.rgb[-6:].upper()


def _process(sheet40: Sheet40, tmp_path: Path):
    filled = sheet40.fill(tmp_path / "kilimani-returned.xlsx", seed_red_cases(sheet40))
    return process_file(sheet40.ctx, filled, actor_id=None)


def test_every_seed_mark_has_a_fill_in_the_xlsx_report(sheet40: Sheet40, tmp_path: Path):
    result = _process(sheet40, tmp_path)
    ws = openpyxl.load_workbook(result.report_xlsx)[COLLECTION_SHEET.data_sheet]
    for name, family in seed_red_cases(sheet40):
        cell = ws[sheet40.address(name, family)]
        fill = _fill_rgb(cell)
        assert fill is not None and is_reddish(tuple(int(fill[i:i + 2], 16)
                                                     for i in (0, 2, 4))), (name, family, fill)
        assert cell.font.color is not None and cell.font.color.rgb[-6:] == "C00000"
    untouched = ws[sheet40.address(*UNTOUCHED)]
    assert _fill_rgb(untouched) == "FFF9DB"  # the input fill, not marked


def test_every_seed_mark_shows_in_the_html_report(sheet40: Sheet40, tmp_path: Path):
    result = _process(sheet40, tmp_path)
    html = Path(result.report_html).read_text(encoding="utf-8")
    rows: dict[str, str] = {}
    for m in re.finditer(r'<tr><td>(?:<span[^>]*>)?([^<]+?)(?:</span>)?</td>(.*?)</tr>',
                         html, re.S):
        rows.setdefault(m.group(1), m.group(2))  # the sheet's row (the posting table follows)
    for name, _ in seed_red_cases(sheet40):
        assert re.search(r'class="num red', rows[name]), name
    # an emptied amount reads as 0.00 in red, never as an empty red cell
    assert re.search(r'class="num red" >\s*0\.00 <small>', rows["Client3 Bench"])
    assert "red" not in rows["Client6 Bench"]
    assert "print-color-adjust: exact" in html  # the marks' backgrounds print too


@pytest.mark.libreoffice
def test_emptied_cells_are_marked_on_paper(sheet40: Sheet40, tmp_path: Path):
    result = _process(sheet40, tmp_path)
    printed = render(Path(result.report_xlsx), tmp_path / "print")
    printed.keep("collection-report")

    def colour(name: str, header: str) -> tuple[int, int, int]:
        row = min(printed.find(name), key=lambda w: w.page)  # the sheet's (page 1) row
        column = min((w for w in printed.find(header) if w.page == row.page),
                     key=lambda w: w.x0)  # the "Due" section's, not the Issues one
        return printed.pixel(row.page, (column.x0 + column.x1) / 2, (row.y0 + row.y1) / 2)

    assert is_reddish(colour("Client3 Bench", "Biashara"))  # a blank repayment
    assert is_reddish(colour("Client4 Bench", "Lazima"))  # a blank mandatory deposit
    assert not is_reddish(colour("Client6 Bench", "Biashara"))
    assert not is_reddish(colour("Client7 Bench", "Lazima"))


@pytest.mark.browser
def test_the_html_reports_marks_print_too(sheet40: Sheet40, tmp_path: Path):
    from tests.support.render import render_html

    result = _process(sheet40, tmp_path)
    printed = render_html(Path(result.report_html), tmp_path / "html")
    printed.keep("collection-report-html")
    # the emptied repayment of Client3 prints as a red 0.00 on its salmon background
    row = printed.find("Client3 Bench")[0]  # the sheet's row (the posting table follows)
    zero = min((w for w in printed.find("0.00") if w.page == row.page
                and abs(w.y0 - row.y0) < 4), key=lambda w: w.x0)
    assert any(is_reddish(c) for c in printed.colours_near(zero))
    plain = printed.find("Client6 Bench")[0]
    first = min((w for w in printed.words() if w.page == plain.page
                 and abs(w.y0 - plain.y0) < 4 and w.x0 > plain.x1), key=lambda w: w.x0)
    assert not any(is_reddish(c) for c in printed.colours_near(first))
