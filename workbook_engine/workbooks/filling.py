"""Filling a generated collection sheet as a person would (for the demo and tests).

Cells are addressed through the ``expected`` payload recorded at generation: a row by its
name, an input cell by its column family (``repayment``, ``deposit``, ``attendance`` ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET


def input_address(expected: dict[str, Any], name: str, family: str) -> str:
    """The address of a row's input cell, e.g. ("Amina Wanjiku", "repayment") -> "D12"."""
    row = next(r for r in expected["rows"] if r["name"] == name)
    key = next(k for k in row["cells"] if k.split(":")[0] == family)
    return str(row["cells"][key]["cell"])


def fill_sheet(source: Path, target: Path, expected: dict[str, Any], *,
               cells: dict[tuple[str, str], Any] | None = None,
               header: dict[str, Any] | None = None,
               addresses: dict[str, Any] | None = None) -> Path:
    """Save a copy of ``source`` with cells typed in (None clears a cell)."""
    book = load_workbook(source)
    ws = book[COLLECTION_SHEET.data_sheet]
    values = dict(addresses or {})
    for (name, family), value in (cells or {}).items():
        values[input_address(expected, name, family)] = value
    for key, value in (header or {}).items():
        values[expected["header"][key]["cell"]] = value
    for where, value in values.items():
        ws[where].value = value
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target
