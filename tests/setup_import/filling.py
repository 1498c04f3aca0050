"""Filling setup templates the way a person would (openpyxl, by column key), and the
submit-and-approve round of one workbook."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import openpyxl

from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import ProcessResult, process_file
from workbook_engine.services.imports.setup_import import generate_setup_template
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS

KEY_ROW, FIRST_ROW = 2, 3


def fill(template: Path, target: Path, sheets: Mapping[str, Sequence[Mapping[str, Any]]]
         ) -> Path:
    """Write rows (by column key) below the headers of each named sheet; save as target."""
    book = openpyxl.load_workbook(template)
    for name, rows in sheets.items():
        ws = book[name]
        cols = {c.value: c.column for c in ws[KEY_ROW] if c.value}
        for i, row in enumerate(rows):
            for key, value in row.items():
                ws.cell(FIRST_ROW + i, cols[key], value)
    target.parent.mkdir(parents=True, exist_ok=True)
    book.save(target)
    return target


def statuses(report: Path, sheet: str) -> dict[str, str]:
    """Row key -> the report's import status."""
    book = openpyxl.load_workbook(report, read_only=True)
    rows = list(book[sheet].iter_rows(values_only=True))
    keys = list(rows[KEY_ROW - 1])
    out = {str(r[0]): r[keys.index("status")] for r in rows[FIRST_ROW - 1:]
           if r[keys.index("status")]}
    book.close()
    return out


def submit(ctx: AppContext, kind: str, rows: Sequence[Mapping[str, Any]] | Mapping[
        str, Sequence[Mapping[str, Any]]], work: Path, *, actor_id: int | None = None,
           office_id: int | None = None) -> ProcessResult:
    """Generate the kind's template, fill it (rows of its first sheet, or rows by sheet) and
    process it."""
    template = generate_setup_template(ctx, actor_id=actor_id, kind=kind,
                                       out_dir=work / "templates", office_id=office_id)
    sheets = rows if isinstance(rows, Mapping) else {SETUP_KINDS[kind].sheets[0].name: rows}
    filled = fill(template.path, work / f"{kind}-filled.xlsx", sheets)
    return process_file(ctx, filled, actor_id=actor_id)


def load(ctx: AppContext, kind: str, rows: Any, work: Path, *, by: str,
         actor_id: int | None = None) -> ProcessResult:
    """Submit a fully valid workbook and approve it; returns the preview's result. The books
    balance after it (`check` is clean)."""
    result = submit(ctx, kind, rows, work, actor_id=actor_id)
    assert result.status == "awaiting_approval", (kind, result.message, result.errors)
    view = approve_submission(ctx, submission_id=result.submission_id, by=by)
    assert view["status"] == "posted", view
    report = run_check(ctx)
    assert report.ok, (kind, [r.as_dict() for r in report.results if r.broken])
    return result
