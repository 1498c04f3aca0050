"""A report returned as the next version: cells corrected since are shown plain again (issue 5).

Version 1 has errors (filled red, with a comment) and the seed's red-text cells; the loan
officer corrects most of them in the report and returns it. Version 2's report must show each
cell as it is now: the corrected ones plain (their normal fill, no red text, no comment), a
cell now only red-text (a zero repayment) red without the fill, and the still-wrong one red.
Through the fast package edit and the openpyxl fallback, with the report edited in openpyxl
or re-saved by LibreOffice (which renumbers the formats and drops comment authors).
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.returned.sheets import FILLED_HEADER, edit, generate, has_soffice, \
    libreoffice_resave
from workbook_engine.reports import collection_report
from workbook_engine.services.pipeline.processing import process_file

RED_FILL, RED_FONT = "FFC7CE", "C00000"
INPUT, NA = "FFF9DB", "D9D9D9"
MARK = "F8CBAD"  # the fill of a cell the seed shows red, so an empty one shows

# (name, family): version 1 -> version 2
AMINA_REPAY = ("Amina Wanjiku", "repayment")      # partial (error) -> 0 (red text only)
AMINA_SAVE = ("Amina Wanjiku", "deposit")         # mandatory 50 of 100 (red) -> 100
DALIA = ("Dalia Njeri", "attendance")              # absent (red) -> present
CHIKU_FEE = ("Chiku Akinyi", "charges")           # 100 of 200 (error) -> 200
BARAKA = ("Baraka Mutua", "repayment")            # partial (error) in both versions
VERSION_1 = {AMINA_REPAY: 925.64, AMINA_SAVE: 50, DALIA: "A", CHIKU_FEE: 100, BARAKA: 1000}
VERSION_2 = {AMINA_REPAY: 0, AMINA_SAVE: 100, DALIA: "P", CHIKU_FEE: 200}


def _cells(expected: dict[str, Any]) -> dict[str, str]:
    def at(name: str, family: str) -> str:
        row = next(r for r in expected["rows"] if r["name"] == name)
        key = next(k for k in row["cells"] if k.split(":")[0] == family)
        return str(row["cells"][key]["cell"])

    baraka = next(r for r in expected["rows"] if r["name"] == "Baraka Mutua")["row"]
    chiku = next(r for r in expected["rows"] if r["name"] == "Chiku Akinyi")["row"]
    letter = {c["family"]: c["letter"] for c in expected["columns"]}
    return {"amina_repay": at(*AMINA_REPAY), "amina_save": at(*AMINA_SAVE),
            "dalia": at(*DALIA), "chiku_fee": at(*CHIKU_FEE), "baraka": at(*BARAKA),
            "baraka_name": f"{letter['name']}{baraka}",            # tampered in version 1
            "chiku_na": f"{letter['repayment']}{chiku}",           # typed where n/a
            "receipt_date": expected["header"]["receipt_date"]["cell"]}  # in the future


def _look(ws: Any, address: str) -> tuple[str | None, str | None, bool]:
    """(solid fill colour, font colour, has a comment) of a cell, colours as RRGGBB."""
    cell = ws[address]
    fill = (str(cell.fill.fgColor.rgb)[-6:].upper()
            if cell.fill.fill_type == "solid" and cell.fill.fgColor.type == "rgb" else None)
    color = cell.font.color
    font = str(color.rgb)[-6:].upper() if color is not None and color.type == "rgb" else None
    return fill, font, cell.comment is not None


def _version_1(world: Any, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    path, expected = generate(world, tmp_path / "generated")
    cells = _cells(expected)
    header = {**FILLED_HEADER, "receipt_date": "2026-03-10"}
    bad = edit(path, tmp_path / "v1.xlsx", {cells["baraka_name"]: "Baraka M.",
                                            cells["chiku_na"]: 5},
               header=header, expected=expected, by_name=VERSION_1)
    return bad, cells


@pytest.fixture(params=["package", "openpyxl"])
def writer(request, monkeypatch, fallbacks):
    """Which way the report is written: the package edit, or the openpyxl fallback."""
    if request.param == "openpyxl":
        def unsupported(*args, **kwargs):
            raise collection_report.Unsupported("forced by the test")
        monkeypatch.setattr(collection_report, "_patch_package", unsupported)
    return request.param, fallbacks


def _run(world: Any, tmp_path: Path, writer: tuple[str, list[str]], resave: bool) -> None:
    way, fallbacks = writer
    bad, cells = _version_1(world, tmp_path)
    first = process_file(world.ctx, bad, actor_id=None)
    codes = sorted(e["code"] for e in first.errors)
    assert codes == sorted(["repayment-not-exact", "repayment-not-exact", "fee-not-exact",
                            "tampered", "not-an-input", "receipt-date-invalid"]), codes
    ws = load_workbook(first.report_xlsx)["Collection sheet"]
    for key in ("amina_repay", "chiku_fee", "baraka", "baraka_name", "chiku_na",
                "receipt_date"):
        assert _look(ws, cells[key]) == (RED_FILL, RED_FONT, True), key
    for key in ("amina_save", "dalia"):
        assert _look(ws, cells[key]) == (MARK, RED_FONT, False), key

    # the loan officer corrects the report (in openpyxl, or LibreOffice saves it last)
    corrected = edit(first.report_xlsx, tmp_path / "v2.xlsx",
                     {cells["baraka_name"]: "Baraka Mutua", cells["chiku_na"]: None,
                      cells["receipt_date"]: "2026-03-03"},
                     expected=load_expected(world), by_name=VERSION_2)
    if resave:
        corrected = libreoffice_resave(corrected, tmp_path / "lo")
    second = process_file(world.ctx, corrected, actor_id=None)
    assert [e["code"] for e in second.errors] == ["repayment-not-exact"]
    assert second.errors[0]["cell"] == cells["baraka"]
    ws = load_workbook(second.report_xlsx)["Collection sheet"]
    assert _look(ws, cells["baraka"]) == (RED_FILL, RED_FONT, True)  # still wrong
    assert "How to fix" in ws[cells["baraka"]].comment.text
    assert _look(ws, cells["amina_repay"]) == (MARK, RED_FONT, False)  # now 0: red
    for key in ("amina_save", "dalia", "chiku_fee", "receipt_date"):
        fill, font, comment = _look(ws, cells[key])
        assert (fill, font != RED_FONT, comment) == (INPUT, True, False), key
    fill, font, comment = _look(ws, cells["chiku_na"])
    assert (fill, font != RED_FONT, comment) == (NA, True, False)
    fill, font, comment = _look(ws, cells["baraka_name"])
    assert (fill, font != RED_FONT, comment) == (None, True, False)
    assert [c.coordinate for row in ws.iter_rows() for c in row if c.comment] \
        == [cells["baraka"]]
    # the formats of the plain cells are the workbook's own (input cells stay unlocked)
    assert ws[cells["chiku_fee"]].protection.locked is False
    assert ws[cells["chiku_fee"]].number_format == ws[cells["baraka"]].number_format

    # returned once more unchanged: the same picture, and no format piles up
    third = process_file(world.ctx, second.report_xlsx, actor_id=None)
    ws = load_workbook(third.report_xlsx)["Collection sheet"]
    assert _look(ws, cells["baraka"]) == (RED_FILL, RED_FONT, True)
    assert _look(ws, cells["amina_repay"]) == (MARK, RED_FONT, False)
    assert _look(ws, cells["dalia"])[0] == INPUT and _look(ws, cells["dalia"])[1] != RED_FONT
    if way == "package":
        assert fallbacks == []
        assert _xf_count(third.report_xlsx) == _xf_count(second.report_xlsx)
    else:
        assert len(fallbacks) == 3


def load_expected(world: Any) -> dict[str, Any]:
    from sqlalchemy import select

    from workbook_engine.domain import GeneratedWorkbook

    with world.ctx.session_factory() as s:
        return s.scalars(select(GeneratedWorkbook.expected)).one()


def _xf_count(path: Path) -> int:
    with zipfile.ZipFile(path) as zf:
        styles = zf.read("xl/styles.xml").decode()
    block = re.search(r"<cellXfs\b.*?</cellXfs>", styles, re.S)
    assert block is not None
    return len(re.findall(r"<xf\b", block.group(0)))


def test_corrected_cells_are_plain_in_the_next_version(kilimani, tmp_path, writer):
    _run(kilimani, tmp_path, writer, resave=False)


@pytest.mark.libreoffice
@pytest.mark.skipif(not has_soffice(), reason="LibreOffice is not installed")
def test_corrected_cells_are_plain_after_libreoffice(kilimani, tmp_path, writer):
    _run(kilimani, tmp_path, writer, resave=True)
