"""The collection sheet through LibreOffice headless (forced to recalculate on load)."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook

from tests.support.libreoffice import convert
from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET

pytestmark = pytest.mark.libreoffice


def _with_wrong_cached_cash(path: Path, cell: str, target: Path) -> None:
    """Copy the workbook with the cash cell's cached value replaced by 999."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(target, "w",
                                                        zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode("utf-8")
                text, n = re.subn(rf'(<c r="{cell}"[^>]*>\s*<f>[^<]*</f>\s*<v>)[^<]*(</v>)',
                                  r"\g<1>999\g<2>", text)
                assert n == 1, "the cash cell was not found"
                data = text.encode("utf-8")
            dst.writestr(item, data)


def test_libreoffice_recalculates_and_keeps_inputs_dropdowns_protection(kilimani, tmp_path):
    sheet = generate_collection_sheets(kilimani.ctx, actor_id=None, out_dir=tmp_path / "gen",
                                       center_id=kilimani.center_id)[0]
    with kilimani.ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, sheet.workbook_id).expected
    cash_cell = expected["totals"]["cash_cell"]
    tampered = tmp_path / "wrong-cache.xlsx"
    _with_wrong_cached_cash(sheet.path, cash_cell, tampered)
    assert load_workbook(tampered, data_only=True)[COLLECTION_SHEET.data_sheet][
        cash_cell].value == 999

    result = convert(tampered, "xlsx", tmp_path)
    # Control: a profile that never recalculates keeps the wrong cached value.
    cached = convert(tampered, "xlsx", tmp_path, recalc=False)
    assert load_workbook(cached, data_only=True)[COLLECTION_SHEET.data_sheet][
        cash_cell].value == 999

    values = load_workbook(result, data_only=True)[COLLECTION_SHEET.data_sheet]
    # The wrong cached 999 was recomputed: LibreOffice evaluated the formulas.
    assert values[cash_cell].value == pytest.approx(-4230.26)
    columns = {c["key"]: c["letter"] for c in expected["columns"]}
    totals = expected["totals"]["row"]
    assert values[f"{columns['collected']}{totals}"].value == pytest.approx(3769.74)
    assert values[f"{columns['paid_out']}{totals}"].value == pytest.approx(8000)
    # Input cells still hold the pre-filled amounts, and are still the only unlocked ones.
    book = load_workbook(result)
    ws = book[COLLECTION_SHEET.data_sheet]
    for row in expected["rows"]:
        for key, cell in row["cells"].items():
            if key.startswith(("repayment", "deposit", "disbursal", "charges")):
                assert values[cell["cell"]].value == pytest.approx(float(cell["due"])), cell
                assert not ws[cell["cell"]].protection.locked
    amina = next(r for r in expected["rows"] if r["name"] == "Amina Wanjiku")
    assert ws[f"{columns['disbursal:1']}{amina['row']}"].protection.locked
    assert ws[f"B{amina['row']}"].protection.locked
    assert ws.protection.sheet
    # Dropdowns survive: attendance and payment type lists, amount validations.
    kinds = {(dv.type, dv.formula1) for dv in ws.data_validations.dataValidation}
    assert ("list", '"P,L,A,AA"') in kinds
    assert ("list", '"Cash,M-Pesa,Bank transfer"') in kinds
    assert ("decimal", "0") in kinds
