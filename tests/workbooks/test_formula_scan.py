"""The formulas of a sheet found cell by cell (only the cells with an ``<f>``) are those the
scan of the whole sheet finds; XML where a ``<`` may not start a tag, or a formula that is
not in a cell of its own, is left to the whole scan."""

from __future__ import annotations

import zipfile
from pathlib import Path

import openpyxl
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


# What the engine's writer puts in a sheet: plain formulas, each alone in its cell.
SIMPLE = ('<row r="1"><c r="A1"><v>2</v></c><c r="P1" s="24"><f>SUM(D1,E1,F1)</f><v /></c>'
          '<c r="Q1" s="24" t="n">\n <f>A1*10</f>\n <v>20</v>\n</c><c r="R1"><f>1+1</f></c>'
          '<c s="3"><f>NO_ADDRESS()</f></c><c r="S1"><f></f></c></row>'
          '<row r="2"><c r="A2" t="str"><f>"a"</f><v>a</v></c><c r="P2" s="24"><f>SUM(D2)</f>'
          '<v/></c></row>')


def test_plain_formulas_are_read_without_a_parser_as_the_parser_reads_them(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workbook_engine.workbooks import _parse

    xml = _sheet(SIMPLE)
    whole = _formulas_streamed(_zip(tmp_path, xml), PART)
    assert whole == {(1, 16): "=SUM(D1,E1,F1)", (1, 17): "=A1*10", (1, 18): "=1+1",
                     (2, 1): '="a"', (2, 16): "=SUM(D2)"}
    body = xml.split(b"?>", 1)[1]
    assert _parse._simple_formulas(body) == whole
    monkeypatch.setattr(_parse, "_simple_formulas", lambda body: None)
    assert _formula_cells(xml) == whole  # the cells parsed one by one say the same


@pytest.mark.parametrize("rows", [
    SIMPLE.replace("A1*10", "A1&gt;10"),  # an entity in the formula
    SIMPLE.replace('<f>1+1</f>', '<f t="shared" ref="R1:R2" si="0">1+1</f>'),  # shared
    SIMPLE.replace('<c r="R1">', '<c r="R1" r="R1">'),  # not well-formed
    SIMPLE + '<row r="3"><c r="A3"><is><t>x</t></is><f>LATE()</f></c></row>',  # not first
])
def test_other_formulas_are_left_to_the_parser(tmp_path: Path, rows: str) -> None:
    from workbook_engine.workbooks import _parse

    xml = _sheet(rows)
    assert _parse._simple_formulas(xml.split(b"?>", 1)[1]) is None
    found = _formula_cells(xml)
    assert found is None or found == _formulas_streamed(_zip(tmp_path, xml), PART)


# Cells as the engine's writer and openpyxl write them, and near misses of that layout.
WRITTEN = ('<row r="3"><c r="P3" s="24"><f>SUM(D3,E3)</f><v /></c><c r="Q3" s="2" t="str">'
           '<f>"x"</f><v>x</v></c><c r="R03"><f>R1+1</f><v/></c><c r="s3" s="1"><f>1</f></c>'
           '<c r="T3" t="n" s="1"><f>2</f><v>2</v></c><c r="U3" s="1"><f></f><v /></c>'
           '<c r="V3"  s="1"><f>3</f></c><c r="AB3" s="1"><f>\u00e9()</f><v>1</v></c></row>')


def test_the_writers_cells_read_as_the_general_pattern_reads_them(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from workbook_engine.workbooks import _parse

    body = _sheet(SIMPLE + WRITTEN).split(b"?>", 1)[1]
    found = _parse._simple_formulas(body)
    assert found is not None and found[(3, 16)] == "=SUM(D3,E3)" and found[(3, 28)] == "=\u00e9()"
    assert (3, 21) not in found  # an empty formula is no formula
    assert found == _formulas_streamed(_zip(tmp_path, _sheet(SIMPLE + WRITTEN)), PART)
    monkeypatch.setattr(_parse, "_WRITER_FORMULA_CELL", __import__("re").compile(b"(?!)"))
    assert _parse._simple_formulas(body) == found
    latin = body.replace("\u00e9".encode(), b"\xe9")
    assert _parse._simple_formulas(latin) is None


@pytest.mark.parametrize("rows", [ROWS, ROWS + "<!-- <c r=\"Z9\"><f>HIDDEN()</f></c> -->"])
def test_the_xml_the_parent_hands_over_reads_as_the_file_does(tmp_path: Path,
                                                               rows: str) -> None:
    """The child reads the formulas of the XML the parent inflated (the cell by cell scan,
    or the whole scan) without opening the file: the same formulas as from the file."""
    xml = _sheet(rows)
    from_file = _formulas(_zip(tmp_path, xml), PART)
    assert from_file and _formulas(str(tmp_path / "no-such-file.xlsx"), PART, xml) == from_file


def test_the_pre_check_hands_over_the_sheets_with_formulas(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the zip pre-check inflated and checked of a sheet with formulas goes to the
    child as it is; a sheet without formulas, or one too big, is not handed over."""
    from workbook_engine.workbooks import _zipcheck
    from workbook_engine.workbooks._types import ReadLimits

    path = tmp_path / "book.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"], book.active["B1"] = 2, "=A1*10"
    book.create_sheet("Plain")["A1"] = 1
    book.save(path)
    facts = _zipcheck.check_zip(path, ReadLimits(), "xlsx")
    parts = {s.name: s.part for s in facts.sheets}
    with zipfile.ZipFile(path) as zf:
        assert facts.formula_xml == {parts["Sheet"]: zf.read(parts["Sheet"])}
    assert facts.formula_parts == {parts["Sheet"]}
    monkeypatch.setattr(_zipcheck, "_HANDED_OVER_UP_TO", 100)
    facts = _zipcheck.check_zip(path, ReadLimits(), "xlsx")
    assert facts.formula_xml == {} and facts.formula_parts == {parts["Sheet"]}
