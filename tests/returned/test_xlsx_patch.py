"""The package edits behind the .xlsx report, on hand-written parts (what other producers write)."""

from __future__ import annotations

import re

import pytest

from workbook_engine.reports.xlsx_patch import MAIN, Unsupported, _with_color, restyle_cells

SHEET = (f'<?xml version="1.0"?><x:worksheet xmlns:x="{MAIN}"><x:sheetData>'
         '<x:row r="2" spans="1:3"><x:c r="A2" s="1" t="s"><x:v>0</x:v></x:c>'
         '<x:c r="C2"/></x:row>'
         '<x:row r="5"><x:c r="B5" s="2"><x:v>7</x:v></x:c></x:row>'
         "</x:sheetData></x:worksheet>")


def test_cells_are_restyled_added_in_order_and_rows_created():
    seen = []

    def red(xf):
        seen.append(xf)
        return 10 + xf

    out = restyle_cells(SHEET, {"A2": red, "B2": red, "B5": red, "D4": red})
    assert sorted(seen) == [0, 0, 1, 2]
    assert '<x:c r="A2" s="11" t="s"><x:v>0</x:v></x:c>' in out  # value kept
    row2 = re.search(r"<x:row r=\"2\"[^>]*>(.*?)</x:row>", out).group(0)
    assert "spans" not in row2  # a cell was added: the hint is dropped
    assert re.findall(r"<x:c r=\"(\w+)\"", row2) == ["A2", "B2", "C2"]
    assert out.index('<x:row r="4">') < out.index('<x:row r="5">')
    assert '<x:c r="B5" s="12"><x:v>7</x:v></x:c>' in out


def test_cells_without_their_address_are_left_to_openpyxl():
    sheet = SHEET.replace('<x:c r="C2"/>', "<x:c/>")
    with pytest.raises(Unsupported):
        restyle_cells(sheet, {"C2": lambda xf: xf})


@pytest.mark.parametrize("font,expected", [
    ('<font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/></font>',
     '<font><b/><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font>'),
    ('<font><name val="Arial"/><family val="2"/></font>',
     '<font><color rgb="FFC00000"/><name val="Arial"/><family val="2"/></font>'),
    ("<font/>", '<font><color rgb="FFC00000"/></font>'),
])
def test_red_font_keeps_the_schema_order(font, expected):
    assert _with_color(font, "", "C00000") == expected
