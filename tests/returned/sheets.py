"""Real returned files: Kilimani's generated sheet, edited with openpyxl as a person would."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from tests.support.libreoffice import convert
from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.workbooks.filling import fill_sheet, input_address

def generate(world: Any, out_dir: Path) -> tuple[Path, dict[str, Any]]:
    """Generate Kilimani's sheet; returns its path and the expected payload."""
    sheets = generate_collection_sheets(world.ctx, actor_id=None, out_dir=out_dir,
                                        center_id=world.center_id)
    with world.ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, sheets[0].workbook_id).expected
    return sheets[0].path, expected


def address(expected: dict[str, Any], name: str, family: str) -> str:
    """The generated address of a row's input cell."""
    return input_address(expected, name, family)


def blank_address(expected: dict[str, Any], name: str, family: str) -> str:
    """The address of an input column that does NOT apply to a row (locked blank cell)."""
    row = next(r for r in expected["rows"] if r["name"] == name)
    column = next(c for c in expected["columns"] if c["family"] == family)
    return f"{column['letter']}{row['row']}"


def edit(source: Path, target: Path, values: dict[str, Any],
         header: dict[str, Any] | None = None, expected: dict[str, Any] | None = None,
         by_name: dict[tuple[str, str], Any] | None = None) -> Path:
    """A copy of ``source`` with cells set (None clears), as an LO would type them."""
    return fill_sheet(source, target, expected or {}, cells=by_name, header=header,
                      addresses=values)


FILLED_HEADER = {"payment_type": "Cash", "receipt_number": "R-0303", "receipt_date":
                 "2026-03-03"}


def libreoffice_resave(source: Path, out_dir: Path) -> Path:
    """Re-save a file with LibreOffice headless, as a person's LibreOffice would (cached
    values kept); returns the new file."""
    return convert(source, "xlsx", out_dir, recalc=False)


def has_soffice() -> bool:
    return shutil.which("soffice") is not None
