"""Filling a client-import template the way a person would (openpyxl, by column key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from workbook_engine.workbooks.client_import_sheet import CLIENT_IMPORT


def keys_of(ws: Any) -> dict[str, int]:
    """Column key -> 1-based column, from the hidden key row."""
    return {c.value: c.column for c in ws[CLIENT_IMPORT.key_row] if c.value}


def fill(template: Path, target: Path, clients: Sequence[Mapping[str, Any]],
         family: Sequence[Mapping[str, Any]] = (),
         addresses: Sequence[Mapping[str, Any]] = ()) -> Path:
    """Write rows (by column key) below the headers of each sheet and save as ``target``."""
    book = openpyxl.load_workbook(template)
    for name, rows in (("Clients", clients), ("Family members", family),
                       ("Addresses", addresses)):
        ws = book[name]
        cols = keys_of(ws)
        for i, row in enumerate(rows):
            r = CLIENT_IMPORT.first_data_row + i
            for key, value in row.items():
                ws.cell(r, cols[key], value)
    book.save(target)
    return target


def statuses(report: Path, sheet: str = "Clients") -> dict[str, str]:
    """Row key -> the report's import status."""
    book = openpyxl.load_workbook(report, read_only=True)
    ws = book[sheet]
    rows = list(ws.iter_rows(values_only=True))
    keys = list(rows[CLIENT_IMPORT.key_row - 1])
    out = {}
    for row in rows[CLIENT_IMPORT.first_data_row - 1:]:
        status = row[keys.index("status")]
        if status:
            out[str(row[0])] = status
    book.close()
    return out
