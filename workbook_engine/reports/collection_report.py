"""The preview report of a returned collection sheet: .xlsx and HTML, in ``outbox/``.

The .xlsx report is a copy of the submitted workbook itself (so it keeps the grid, the hidden
keys and the signed metadata sheet) with:

* the seed's **red text** where attendance is not Present, a repayment is zero or partial,
  a mandatory deposit or the charges differ from what was due;
* **error cells filled red** with a comment saying what is wrong and how to fix it;
* an **"Errors"** sheet (sheet, row, column, client, what is wrong, how to fix) and a
  **"Summary"** sheet (cash collected, paid out, to hand over);
* a ``version`` row on the metadata sheet (the next version number; not signed, it only
  orders versions).

Because it keeps the metadata and the grid, the report is itself a valid returned sheet: the
loan officer corrects the red cells and drops it back, and it is processed as a new version of
the same sheet. The HTML page comes from ``templates/report.html.j2`` (autoescaped).

A file that could not be read gets a short HTML report only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl  # noqa: F401 - loaded once, before the report writer is forked
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
RED = "FFC7CE"
RED_TEXT = "C00000"
VERSION_FIELD = "version"


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows (plain data, so both formats show the same)."""

    title: str
    file_name: str
    submission_id: int | None
    status: str
    version: int
    meeting_date: dt.date | None
    center: str | None
    loan_officer: str | None
    submitted_by: str | None
    received_at: dt.datetime
    errors: Sequence[Mapping[str, Any]]
    rows: Sequence[Mapping[str, Any]]  # name, cells: [{header, typed, due, red, error}]
    columns: Sequence[str]
    collected: Decimal
    paid_out: Decimal
    message: str
    duplicate_of: int | None = None

    @property
    def cash_to_hand_over(self) -> Decimal:
        return self.collected - self.paid_out


def _environment() -> Environment:
    return Environment(loader=FileSystemLoader(TEMPLATES),
                       autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                       lstrip_blocks=True)


def write_html_report(data: ReportData, target: Path) -> Path:
    """Render the HTML report."""
    html = _environment().get_template("report.html.j2").render(report=data)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target


def _append_as_text(ws: Any, values: Sequence[Any]) -> None:
    """Append a row; text stays text even when it starts with "=" (openpyxl would otherwise
    store a client called "=HYPERLINK(...)" as a formula)."""
    ws.append(list(values))
    for cell in ws[ws.max_row]:
        if isinstance(cell.value, str):
            cell.data_type = "s"


def write_xlsx_report(source: Path, target: Path, data: ReportData, *, sheet_name: str,
                      metadata_sheet: str, cells: Mapping[str, Mapping[str, Any]]) -> Path:
    """A copy of the submitted workbook, highlighted, with Errors and Summary sheets.

    ``cells`` maps a cell address of the data sheet to ``{"red": bool, "error": text}``.
    """
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill

    with source.open("rb") as stream:  # a stream: openpyxl would judge a path by its name
        book = load_workbook(stream)
    ws = book[sheet_name]
    fill = PatternFill("solid", start_color=RED, end_color=RED)
    for address, mark in cells.items():
        cell = ws[address]
        if mark.get("red") or mark.get("error"):
            cell.font = Font(name=cell.font.name, size=cell.font.sz, bold=cell.font.b,
                             color=RED_TEXT)
        if mark.get("error"):
            cell.fill = fill
            comment = Comment(str(mark["error"])[:1000], "workbook-engine")
            comment.width, comment.height = 300, 120
            cell.comment = comment
    for name in ("Errors", "Summary"):
        if name in book.sheetnames:
            del book[name]
    errors = book.create_sheet("Errors")
    errors.append(["Sheet", "Row", "Column", "Cell", "Client", "Code", "What is wrong",
                   "How to fix"])
    for e in data.errors:
        _append_as_text(errors, [e.get("sheet"), e.get("row"),
                                 e.get("column_header") or e.get("column"), e.get("cell"),
                                 e.get("client"), e.get("code"), e.get("message"),
                                 e.get("how_to_fix")])
    for letter, width in zip("ABCDEFGH", (16, 6, 18, 7, 22, 22, 70, 60), strict=True):
        errors.column_dimensions[letter].width = width
    summary = book.create_sheet("Summary")
    for label, value in (("Submission", data.submission_id), ("Status", data.status),
                         ("Version", data.version), ("Errors", len(data.errors)),
                         ("Cash collected", float(data.collected)),
                         ("Paid out", float(data.paid_out)),
                         ("Cash to hand over", float(data.cash_to_hand_over))):
        summary.append([label, value])
    summary.column_dimensions["A"].width = 20
    if metadata_sheet in book.sheetnames:
        meta = book[metadata_sheet]
        for row in meta.iter_rows(min_col=1, max_col=2):
            if row[0].value == VERSION_FIELD:
                row[1].value = str(data.version + 1)
                break
        else:
            meta.append([VERSION_FIELD, str(data.version + 1)])
    book.active = book.sheetnames.index(sheet_name)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp.xlsx")
    book.save(tmp)
    tmp.replace(target)
    return target
