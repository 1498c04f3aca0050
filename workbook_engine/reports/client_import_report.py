"""The report of an import (client import, setup workbooks): the workbook written back
(streamed) and an HTML page.

:func:`report_content` turns a validation into the rows the writer streams back (values as
read, a status per row, error cells with their comment) and the Errors sheet;
:func:`write_import_html` renders ``templates/client_import_report.html.j2`` (autoescaped).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from workbook_engine.money import money_text
from workbook_engine.validation.client_import import INVALID, ImportFile, ImportValidation
from workbook_engine.workbooks.client_import_sheet import CLIENTS_SHEET
from workbook_engine.workbooks.client_import_writer import ReportContent, ReportRow
from workbook_engine.workbooks.grid import GridSheet

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
HTML_ERROR_LIMIT = 2000


@dataclass(frozen=True)
class ImportSummary:
    """What the HTML page shows."""

    title: str
    file_name: str
    submission_id: int | None
    status: str
    message: str
    received_at: dt.datetime
    office: str | None
    legal_form: str
    layout: str
    counts: Mapping[str, int]
    errors: Sequence[Mapping[str, Any]]
    rows: Sequence[Mapping[str, Any]]  # row, key, name, status, ok, client_id
    layout_label: str | None = None  # None: a client import ("client import template")
    record_label: str = "Client"
    reconciliation: Sequence[Mapping[str, Any]] = ()  # office, file, after (setup imports)
    measures: Sequence[tuple[str, str]] = ()
    approve_hint: str = "the valid rows are imported, the others wait for corrections."


NAME_KEYS = (("full_name",), ("first_name", "middle_name", "last_name"), ("name",),
             ("borrower",), ("owner",))


def record_name(values: Mapping[str, Any]) -> str | None:
    """Who or what a row of an import is about, as its cells name it: a client's or staff
    member's name, an office's, a loan's borrower..."""
    for keys in NAME_KEYS:
        parts = [str(values[k]).strip() for k in keys if values.get(k) not in (None, "")]
        if parts:
            return " ".join(parts)
    return None


def error_json(problem: Any, name: str | None = None) -> dict[str, Any]:
    """A problem as stored in the submission and shown in the reports; ``name`` is the
    client (or record) of its row, shown in the error tables' "Client" column."""
    data = problem.as_dict()
    data.setdefault("column_header", data.get("column"))
    if name and not data.get("client"):
        data["client"] = name
    return data


def import_errors(validation: ImportValidation) -> list[dict[str, Any]]:
    """Every problem of a client import, each naming its row's client."""
    out = [error_json(p) for p in validation.file_problems]
    for i in sorted(validation.row_problems):
        name = record_name(validation.clients.values(i))
        out.extend(error_json(p, name) for p in validation.row_problems[i])
    for problems in validation.related.values():
        out.extend(error_json(p) for p in problems)
    return out


def report_content(book: ImportFile, validation: ImportValidation, *, row_shift: int = 0,
                   summary: str, errors: Sequence[Mapping[str, Any]] | None = None,
                   ) -> ReportContent:
    """The rows of each sheet to write back; ``row_shift`` moves a Fineract file's rows
    below our header and key rows. Rows are made one at a time as the writer streams them,
    so a report of 100,000 rows never holds them all."""
    rows: dict[str, Sequence[ReportRow]] = {CLIENTS_SHEET: _ClientRows(validation, row_shift)}
    for sheet in (book.family, book.addresses):
        if sheet is None or book.layout == "fineract":
            continue
        rows[sheet.name] = _RelatedRows(sheet, validation, row_shift)
    if errors is None:
        errors = import_errors(validation)
    return ReportContent(rows, errors, summary, row_shift)


class _ClientRows(Sequence[ReportRow]):
    """The client rows of the report, made on demand."""

    def __init__(self, validation: ImportValidation, shift: int) -> None:
        self.validation, self.shift = validation, shift

    def __len__(self) -> int:
        return len(self.validation.states)

    def __getitem__(self, i: int) -> ReportRow:  # type: ignore[override]
        v = self.validation
        sheet, i = v.clients, range(len(v.states))[i]
        return ReportRow(sheet.rows[i] + self.shift, sheet.keys[i], sheet.values(i),
                         v.status_text(i), v.states[i] != INVALID,
                         marks(v.row_problems.get(i, ())))


class _RelatedRows(Sequence[ReportRow]):
    """The rows of the Family members or Addresses sheet, made on demand."""

    def __init__(self, sheet: GridSheet, validation: ImportValidation, shift: int) -> None:
        self.sheet, self.validation, self.shift = sheet, validation, shift

    def __len__(self) -> int:
        return len(self.sheet)

    def __getitem__(self, i: int) -> ReportRow:  # type: ignore[override]
        sheet, i = self.sheet, range(len(self.sheet))[i]
        where = (sheet.name, sheet.rows[i])
        problems = self.validation.related.get(where, [])
        return ReportRow(sheet.rows[i] + self.shift, sheet.keys[i], sheet.values(i),
                         self.validation.related_status.get(where, ""), not problems,
                         marks(problems))


def marks(problems: Sequence[Any]) -> dict[str, str]:
    """Column key -> the comment of its cell in the report (every problem, how to fix)."""
    marks: dict[str, str] = {}
    for problem in problems:
        key = problem.location.column or "row_key"
        text = f"{problem.message} How to fix: {problem.error.how_to_fix}"
        marks[key] = f"{marks[key]}\n{text}" if key in marks else text
    return marks


def row_views(validation: ImportValidation, limit: int = 500) -> list[dict[str, Any]]:
    """The first rows for the HTML page: row, key, name, status, and the client's id once
    it has one (already imported, or imported on approval)."""
    out = []
    sheet = validation.clients
    for i in range(min(limit, len(validation.states))):
        out.append({"row": sheet.rows[i], "key": sheet.keys[i],
                    "name": record_name(sheet.values(i)) or "",
                    "status": validation.status_text(i),
                    "ok": validation.states[i] != INVALID,
                    "client_id": validation.client_ids[i]})
    return out


def write_import_html(summary: ImportSummary, target: Path) -> Path:
    """Render the HTML page of an import."""
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                      lstrip_blocks=True)
    env.filters["money"] = money_text
    html = env.get_template("client_import_report.html.j2").render(
        report=summary, errors=list(summary.errors)[:HTML_ERROR_LIMIT])
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(target)
    return target
