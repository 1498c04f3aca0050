"""The formulas of a sheet found cell by cell (only the cells with an ``<f>``) are those the
scan of the whole sheet finds; XML where a ``<`` may not start a tag, or a formula that is
not in a cell of its own, is left to the whole scan."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from workbook_engine.workbooks._parse import _formula_cells, _formulas, _formulas_streamed

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
PART = "xl/worksheets/sheet1.xml"


def _sheet(rows: str, prefix: str = "") -> bytes:
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="{MAIN}"'
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {ns}>'
            f"<{p}sheetData>{rows.replace('<', '<' + p).replace('<' + p + '/', '</' + p)}"
            f"</{p}sheetData></{p}worksheet>").encode()


def _zip(tmp_path: Path, xml: bytes) -> str:
    path = tmp_path / "book.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(PART, xml)
    return str(path)


ROWS = ('<row r="1"><c r="A1"><v>2</v></c><c r="B1"><f>A1*10</f><v>20</v></c>'
        '<c r="C1" t="str"><f>"a&amp;b"&amp;A1</f><v>a&amp;b2</v></c></row>'
        '<row r="2"><c r="A2"><v>3</v></c><c r="B2"><f t="shared" ref="B2:B4" si="0">A2*2</f>'
        '<v>6</v></c><c r="C2"><v>1</v><x><f>NOT_A_CELL_FORMULA()</f></x></c></row>'
        '<row r="3"><c r="B3"><f t="shared" si="0"/><v>0</v></c><c r="C3"/></row>'
        '<row r="4"><c r="B4"><f t="shared" si="0"></f></c>'
        '<c r="D4"><f>SUM(A1:A2)</f><f>SECOND()</f></c></row>')


@pytest.mark.parametrize("prefix", ["", "x"])
def test_cell_by_cell_finds_what_the_whole_scan_finds(tmp_path: Path, prefix: str) -> None:
    xml = _sheet(ROWS, prefix)
    path = _zip(tmp_path, xml)
    whole = _formulas_streamed(path, PART)
    assert whole == {(1, 2): "=A1*10", (1, 3): '="a&b"&A1', (2, 2): "=A2*2",
                     (3, 2): "=A3*2", (4, 2): "=A4*2", (4, 4): "=SUM(A1:A2)"}
    assert _formula_cells(xml) == whole
    assert _formulas(path, PART) == whole


@pytest.mark.parametrize("rows", [
    ROWS + "<!-- <c r=\"Z9\"><f>HIDDEN()</f></c> -->",  # a comment
    ROWS.replace("A1*10", "<![CDATA[A1*10]]>"),  # a CDATA section
    '<row r="1"><f>LOOSE()</f><c r="A1"><v>1</v></c></row>',  # a formula outside a cell
    '<row r="1"><c r="A1"><f>X()</f><c r="B1"/></row>',  # a cell never closed
])
def test_xml_the_cell_scan_cannot_judge_goes_to_the_whole_scan(rows: str) -> None:
    assert _formula_cells(_sheet(rows)) is None


def test_a_sheet_not_in_utf8_goes_to_the_whole_scan() -> None:
    latin = _sheet(ROWS).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-1"')
    assert _formula_cells(latin) is None
    utf16 = _sheet(ROWS).replace(b'encoding="UTF-8"', b'encoding="UTF-16"').decode()
    assert _formula_cells(utf16.encode("utf-16")) is None
    assert _formula_cells(_sheet(ROWS)) is not None
