"""Writing a setup or migration template, and its report, from the kind's declaration.

The generic import writer (:mod:`workbooks.grid_writer`) with a setup kind's sheets: every
dropdown reads the hidden "_lookups" sheet through a defined name; the borrower (owner) of a
loan (savings account) is chosen from the clients, groups or centers according to the row's
type (``INDIRECT(IF(type="Group","L_groups","L_clients"))``); the parent office accepts an
office on a row above (a warning, not a refusal). A report of a migration kind has a
"Reconciliation" sheet: per office, what the file brings and what the engine holds after
posting.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import xlsxwriter

from workbook_engine.workbooks.declaration import Column, header_text
from workbook_engine.workbooks.grid_writer import (
    Formats,
    GridLayout,
    ReportContent,
    SplicedRows,
    cell_kind,
    errors_sheet,
    list_name,
    locate_errors,
    report_preamble,
    validation_options,
    write_grid,
    write_lines,
    write_lookups,
)
from workbook_engine.workbooks.metadata import SignedMetadata, write_metadata_sheet
from workbook_engine.workbooks.print_setup import PrintSetup
from workbook_engine.workbooks.setup_import_sheet import (
    CHOICES,
    INSTRUCTIONS_SHEET,
    LOOKUP_SHEET,
    ROW_KEY,
    SetupKind,
)

RECONCILIATION_SHEET = "Reconciliation"
MEASURES = (("clients", "Clients"), ("loans", "Loans"),
            ("principal_outstanding", "Principal outstanding"),
            ("interest_outstanding", "Interest outstanding"), ("arrears", "Arrears"),
            ("savings_accounts", "Savings accounts"), ("savings_balance", "Savings balance"))
"""The reconciliation figures, in the order shown (``OfficeTotals`` fields)."""

_TYPED_LISTS = {"borrowers": ("borrower_type", {"Group": "groups"}, "clients"),
                "owners": ("owner_type", {"Group": "groups", "Center": "centers"}, "clients")}


@dataclass
class SetupTemplateData:
    """What a setup template shows: its title and every dropdown list (names only)."""

    kind: SetupKind
    title: str
    lists: dict[str, list[str]]  # record lists by name (offices, loan_officers, ...)
    template_rows: int = 500
    reconciliation: Sequence[Mapping[str, Any]] = field(default_factory=list)
    variant: str | None = None  # "fineract": the report of a Fineract file keeps its columns

    def grids(self) -> list[tuple[str, tuple[Column, ...]]]:
        """(sheet name, columns) of each grid sheet: the template's, and for the report of a
        Mifos X / Fineract file also the columns only Fineract has (the loan's terms)."""
        return [(sheet.name, self.kind.workbook.expand({}, self.variant, sheet.columns))
                for sheet in self.kind.sheets]

    def locate(self, errors: Sequence[Mapping[str, Any]], row_shift: int
               ) -> list[dict[str, Any]]:
        """The errors, each with where it sits in the report (a Fineract sheet's name
        becomes ours)."""
        aliases = {alias: sheet.name for sheet in self.kind.sheets
                   for alias in sheet.fineract_sheets}
        return locate_errors(errors, self.grids(), row_shift, aliases)


def write_setup_workbook(path: Path, data: SetupTemplateData, signed: SignedMetadata, *,
                         report: ReportContent | None = None) -> Path:
    """Write the template (``report`` None) or the report of a filled one to ``path``."""
    kind = data.kind.workbook
    layout = GridLayout(kind.header_row, kind.key_row, kind.first_data_row)
    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "tmpdir": str(Path(path).parent)})
    book.set_properties({"title": data.title,
                         "comments": f"workbook {signed.metadata.workbook_id}"})
    fmt = Formats(book)
    printed = PrintSetup(data.title, "", signed.metadata.generated_at.date().isoformat())
    write_lines(book.add_worksheet(INSTRUCTIONS_SHEET), fmt, _instructions(data, fmt, report),
                replace(printed, sheet=INSTRUCTIONS_SHEET))
    grids = data.grids()
    sheets = {name: book.add_worksheet(name) for name, _ in grids}
    errors_ws = book.add_worksheet("Errors") if report is not None else None
    recon_ws = (book.add_worksheet(RECONCILIATION_SHEET)
                if report is not None and data.reconciliation else None)
    lists = [(name, values) for name, values in data.lists.items()]
    lists += [(name, list(choices)) for name, choices in CHOICES.items()]
    sources = write_lookups(book, book.add_worksheet(LOOKUP_SHEET), LOOKUP_SHEET, lists)
    spliced = SplicedRows(Path(path).parent)
    for name, columns in grids:
        rows = report.rows.get(name, ()) if report else ()
        last = max((r.row for r in rows), default=layout.first_data_row - 1)
        last_row = max(last + (data.template_rows if report is None else 50),
                       layout.first_data_row + 9)
        write_grid(sheets[name], fmt, layout, columns, rows, last_row,
                   kinds={c.key: cell_kind(c.spec) for c in columns}, notes={},
                   validations=lambda ws, cols, first, last_, s=sources: _validations(
                       ws, cols, s, first, last_),
                   prefill_keys=True, freeze_columns=2, printed=replace(printed, sheet=name),
                   spliced=spliced)
    if errors_ws is not None and report is not None:
        errors_sheet(errors_ws, fmt, data.locate(report.errors, report.row_shift),
                     replace(printed, sheet="Errors"))
    if recon_ws is not None:
        _reconciliation(recon_ws, fmt, data.reconciliation)
        replace(printed, sheet=RECONCILIATION_SHEET, repeat=(1, 2)).apply_xlsxwriter(recon_ws)
    write_metadata_sheet(book, signed, kind.metadata_sheet)
    book.worksheets()[1].activate()
    book.close()
    spliced.apply(Path(path))
    return path


def _instructions(data: SetupTemplateData, fmt: Formats,
                  report: ReportContent | None) -> list[tuple[str, Any]]:
    kind = data.kind
    lines: list[tuple[str, Any]] = [(data.title, fmt.title), ("", None)]
    if report is not None:
        lines += report_preamble(report, fmt)
        if data.reconciliation:
            lines += [("The 'Reconciliation' sheet shows, per office, what this file brings "
                       "and what the engine will hold once it is posted: compare it with the "
                       "old system's portfolio report before approving.", None), ("", None)]
    needs = ", ".join(kind.needs) if kind.needs else "nothing"
    lines += [
        (f"Load order: offices, staff, centers, groups, products, clients, loans, savings. "
         f"This workbook ({kind.key}) needs {needs} to be in the engine already: a row naming "
         "one that is not there yet is refused, with the template to fill first.", None),
    ]
    for sheet in kind.sheets:
        columns = kind.workbook.expand({}, None, sheet.columns)
        mandatory = [header_text(c.spec, c.header) for c in columns if c.spec.mandatory]
        lines.append((f"Sheet '{sheet.name}': one {sheet.record} per row, below the headers. "
                      "Mandatory columns (marked *): " + ", ".join(mandatory) + ".", None))
        if sheet.defines:
            lines.append((f"A row may name a {sheet.record} defined on a row ABOVE it in "
                          "this sheet (rows are posted from top to bottom).", None))
    if kind.migration:
        lines.append(("Figures are those of the old system at the close of the 'Figures as "
                      "of' date (the migration date): see docs/migration.md for how they "
                      "become loans and savings accounts.", None))
    lines += [
        ("Choose listed values from each cell's drop-down; hover over a header to read what "
         "the column takes. Dates are real dates (YYYY-MM-DD), amounts are numbers.", None),
        ("Save as .xlsx and drop the workbook in the inbox (or run `workbook-engine process "
         "FILE`). You receive a report; a supervisor approves the valid rows, each row being "
         "posted whole or not at all.", None),
        ("Do not rename the sheets, delete the hidden row 2 or the hidden sheets: they "
         "identify the template.", None),
    ]
    return lines


def _validations(ws: Any, columns: Sequence[Column], sources: Mapping[str, str],
                 first: int, last: int) -> None:
    by_key = {c.key: c for c in columns}
    for column in columns:
        spec = column.spec
        if not spec.input or spec.key == ROW_KEY:
            continue
        source = sources.get(spec.choices) if spec.choices else None
        typed = _TYPED_LISTS.get(spec.choices or "")
        if typed is not None and typed[0] in by_key:
            cell = f"${by_key[typed[0]].letter}{first + 1}"
            formula = f'"{list_name(typed[2])}"'
            for label, other in typed[1].items():
                formula = f'IF({cell}="{label}","{list_name(other)}",{formula})'
            source = f"=INDIRECT({formula})"
        options = validation_options(column, cell_kind(spec), source)
        if spec.key == "parent":  # an office on a row above is not in the list yet
            options.update(error_type="warning",
                           error_message="Choose an office from the list, or one on a row "
                                         "above.")
        ws.data_validation(first, column.index, last, column.index, options)


def _reconciliation(ws: Any, fmt: Formats, rows: Sequence[Mapping[str, Any]]) -> None:
    """Per office: what the file brings, and what the engine holds after posting."""
    ws.set_column(0, 0, 24)
    ws.set_column(1, 2 * len(MEASURES), 14)
    ws.write_string(0, 1, "This file brings", fmt.bold)
    ws.write_string(0, 1 + len(MEASURES), "The engine holds after posting", fmt.bold)
    ws.set_row(1, 32)  # two lines of header ("Principal / outstanding")
    ws.write_string(1, 0, "Office", fmt.header)
    for part in range(2):
        for m, (_, label) in enumerate(MEASURES):
            ws.write_string(1, 1 + part * len(MEASURES) + m, label, fmt.header)
    for r, row in enumerate(rows, start=2):
        total = bool(row.get("total"))
        ws.write_string(r, 0, str(row["office"]), fmt.bold if total else None)
        for part, which in enumerate(("file", "after")):
            figures = row[which]
            for m, (key, _) in enumerate(MEASURES):
                value = figures.get(key, 0)
                money = not isinstance(value, int)
                ws.write_number(r, 1 + part * len(MEASURES) + m, float(value),
                                (fmt.money_bold if total else fmt.money) if money
                                else (fmt.bold if total else None))
    ws.freeze_panes(2, 1)
