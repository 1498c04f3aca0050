"""A sheet returned as .ods (or .xls), made into the .xlsx the engine wrote, with what the
loan officer typed: the source of its highlighted, corrected-ready report.

The report of an .xlsx is the officer's own file, highlighted. An .ods cannot be edited that
way, so the sheet is written again as it was generated (what was due is computed again as
of the day it was computed, so the same rows and cells come out) and every input cell, and
the header's, is set to what the officer typed. When the layout would differ from the one
the sheet was generated with (a client joined the center since, rows were moved in the
file), no copy is made: the report says so and lists the errors.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.reports.xlsx_patch import Package, Unsupported, Workbook, set_values
from workbook_engine.services.collection.due import compute_due
from workbook_engine.workbooks.collection_reader import ReturnedSheet
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET, expected_payload, layout
from workbook_engine.workbooks.collection_writer import write_collection_sheet
from workbook_engine.workbooks.declaration import column_letter
from workbook_engine.workbooks.metadata import SignedMetadata


def _places(expected: dict[str, Any]) -> tuple[Any, ...]:
    """Where every row, column and input cell of a sheet is."""
    return (tuple((c["key"], c["letter"]) for c in expected["columns"]),
            tuple((r["key"], r["row"], tuple(sorted((k, c["cell"])
                                                    for k, c in r["cells"].items())))
                  for r in expected["rows"]),
            tuple(sorted((k, h["cell"]) for k, h in expected["header"].items())))


def _read_in_place(sheet: ReturnedSheet, expected: dict[str, Any]) -> bool:
    """Whether the returned file has its rows and columns where they were generated."""
    letters = {c["key"]: c["letter"] for c in expected["columns"]}
    return (all(sheet.row_numbers.get(r["key"]) == r["row"] for r in expected["rows"])
            and all(letters.get(key) == column_letter(number - 1)
                    for key, number in sheet.column_numbers.items() if key in letters))


def rebuild_as_xlsx(session: Session, workbook: GeneratedWorkbook, sheet: ReturnedSheet,
                    signed: SignedMetadata, attendance_codes: dict[str, str],
                    target: Path) -> Path | None:
    """Write the generated sheet with the typed values to ``target``; None when its layout
    is no longer the one generated."""
    expected = workbook.expected
    if workbook.meeting_date is None or not _read_in_place(sheet, expected):
        return None
    due = compute_due(session, center_id=workbook.center_id,
                      group_id=None if workbook.center_id else workbook.group_id,
                      meeting_date=workbook.meeting_date,
                      today=dt.date.fromisoformat(expected["computed_on"]))
    grid = layout(due)
    choices = dict(expected["header"]["payment_type"].get("choices") or {})
    again = expected_payload(due, grid, workbook_id=workbook.id, payment_types=choices)
    if _places(again) != _places(expected):
        return None
    write_collection_sheet(target, due, grid, signed, payment_types=list(choices),
                           attendance_codes=attendance_codes)
    cells = {(r["key"], key): c["cell"] for r in expected["rows"]
             for key, c in r["cells"].items()}
    values: dict[str, Any] = {cells[where]: cell.value for where, cell in sheet.cells.items()
                              if where in cells}
    for key, cell in sheet.header.items():
        if key in expected["header"]:
            values[expected["header"][key]["cell"]] = cell.value if cell else None
    package = Package(target)
    part = Workbook(package).sheet_part(COLLECTION_SHEET.data_sheet)
    if part is None:
        return None
    try:
        package.set_text(part, set_values(package.text(part), values))
    except Unsupported:
        return None
    package.save(target)
    return target
