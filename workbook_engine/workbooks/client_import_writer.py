"""Writing the client-import template, and its report (the generic import writer,
:mod:`workbooks.grid_writer`, with the client import's sheets and lists).

The template is the report with no rows; the report has a status on each row ("Imported:
client 1042" or what to correct). With several offices, the staff dropdown depends on the
row's office: ``INDIRECT("L_staff_o" & INDEX(L_office_ids, MATCH(office, L_offices, 0)))``.
Additional client details get their own cell kinds and dropdowns (their code list).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import xlsxwriter

from workbook_engine.workbooks.client_import_sheet import (
    ADDRESS_COLUMNS,
    ADDRESS_SHEET,
    CLIENT_IMPORT,
    CLIENTS_SHEET,
    FAMILY_COLUMNS,
    FAMILY_SHEET,
    INSTRUCTIONS_SHEET,
    LOOKUP_SHEET,
    ROW_KEY,
    header_text,
)
from workbook_engine.workbooks.declaration import Column
from workbook_engine.workbooks.grid_writer import (
    Formats,
    GridLayout,
    ReportContent,
    ReportRow,
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

LAYOUT = GridLayout(CLIENT_IMPORT.header_row, CLIENT_IMPORT.key_row,
                    CLIENT_IMPORT.first_data_row)
__all__ = ["ReportContent", "ReportRow", "TemplateData", "write_client_workbook"]


@dataclass
class TemplateData:
    """What a template shows: its columns and every dropdown list (names only)."""

    legal_form: str
    office_name: str
    staff_name: str | None
    columns: tuple[Column, ...]
    offices: list[tuple[int, str]]
    staff_by_office: dict[int, list[str]]
    groups: list[str]
    codes: dict[str, list[str]]
    additional: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    template_rows: int = 500

    def grids(self) -> list[tuple[str, tuple[Column, ...]]]:
        """(sheet name, columns) of the three grid sheets."""
        return [(CLIENTS_SHEET, self.columns),
                (FAMILY_SHEET, CLIENT_IMPORT.expand({}, self.legal_form, FAMILY_COLUMNS)),
                (ADDRESS_SHEET, CLIENT_IMPORT.expand({}, self.legal_form, ADDRESS_COLUMNS))]

    def locate(self, errors: Sequence[Mapping[str, Any]], row_shift: int
               ) -> list[dict[str, Any]]:
        """The errors, each with where it sits in the report."""
        return locate_errors(errors, self.grids(), row_shift)


def _kind_of(column: Column, data: TemplateData) -> str:
    extra = data.additional.get(column.key)
    if extra is not None:
        return {"date": "date", "number": "general"}.get(extra[0], "text")
    return cell_kind(column.spec)


def write_client_workbook(path: Path, data: TemplateData, signed: SignedMetadata, *,
                          report: ReportContent | None = None) -> Path:
    """Write the template (``report`` None) or the report of a filled one to ``path``."""
    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "tmpdir": str(Path(path).parent)})
    title = f"Client import ({plural(data.legal_form)}): {data.office_name}"
    book.set_properties({"title": title,
                         "comments": f"workbook {signed.metadata.workbook_id}"})
    fmt = Formats(book)
    printed = PrintSetup(title, "", signed.metadata.generated_at.date().isoformat())
    _instructions(book, fmt, data, report, replace(printed, sheet=INSTRUCTIONS_SHEET))
    grids = data.grids()
    last_rows: dict[str, int] = {}
    for name, columns in grids:
        rows = report.rows.get(name, ()) if report else ()
        last = rows[-1].row if rows else CLIENT_IMPORT.first_data_row - 1
        extra = data.template_rows if report is None else 50
        last_rows[name] = max(last + extra, CLIENT_IMPORT.first_data_row + 9)
    # Sheets in the order the user sees them; each is then written row by row.
    sheets = {name: book.add_worksheet(name) for name, _ in grids}
    errors_ws = book.add_worksheet("Errors") if report is not None else None
    lists = _lookups(book, book.add_worksheet(LOOKUP_SHEET), data, last_rows[CLIENTS_SHEET])
    spliced = SplicedRows(Path(path).parent)
    for name, columns in grids:
        rows = report.rows.get(name, ()) if report else ()
        _grid(sheets[name], fmt, name, columns, data, rows, last_rows[name], lists,
              prefill_keys=name == CLIENTS_SHEET, printed=replace(printed, sheet=name),
              spliced=spliced)
    if errors_ws is not None and report is not None:
        errors_sheet(errors_ws, fmt, data.locate(report.errors, report.row_shift),
                     replace(printed, sheet="Errors"))
    write_metadata_sheet(book, signed, CLIENT_IMPORT.metadata_sheet)
    book.worksheets()[1].activate()
    book.close()
    spliced.apply(Path(path))
    return path


def plural(legal_form: str) -> str:
    """"person" -> "persons", "entity" -> "entities"."""
    return legal_form[:-1] + "ies" if legal_form.endswith("y") else legal_form + "s"


def _instructions(book: Any, fmt: Formats, data: TemplateData,
                  report: ReportContent | None, printed: PrintSetup) -> None:
    ws = book.add_worksheet(INSTRUCTIONS_SHEET)
    mandatory = [header_text(c.spec, c.header) for c in data.columns if c.spec.mandatory]
    lines = [
        (f"Client import: {plural(data.legal_form)} of {data.office_name}"
         + (f" (loan officer {data.staff_name})" if data.staff_name else ""), fmt.title),
        ("", None),
    ]
    if report is not None:
        lines += report_preamble(report, fmt)
    lines += [
        ("1. Fill in one client per row of the 'Clients' sheet, starting below the headers. "
         "Columns marked * are mandatory: " + ", ".join(mandatory) + ".", None),
        ("2. Choose office, staff, group, gender, client type and the other coded values from "
         "the drop-down of each cell; hover over a column's header to read what it takes.",
         None),
        ("3. Dates are real dates (YYYY-MM-DD). Mobile numbers are text: leading zeros are "
         "kept; digits only, 9 to 15, optionally starting with +.", None),
        ("4. Family members and addresses go on their own sheets, one per row, each naming "
         "its client by the client's row key (column A of 'Clients'). A client is imported "
         "with all its family members and addresses, or not at all.", None),
        ("5. Save as .xlsx and drop the workbook in the inbox (or run `workbook-engine "
         "process FILE`). You receive a report: this workbook with a status on each row. "
         "A supervisor approves the valid rows; invalid rows wait for your corrections.",
         None),
        ("Do not rename the sheets, delete the hidden row 2 or the hidden sheets: they "
         "identify the template.", None),
    ]
    write_lines(ws, fmt, lines, printed)


def _lookups(book: Any, ws: Any, data: TemplateData, last_client_row: int) -> dict[str, str]:
    """Write every list to the hidden lookup sheet; return list name -> formula source."""
    columns: list[tuple[str, list[Any]]] = [
        ("offices", [n for _, n in data.offices]),
        ("office_ids", [i for i, _ in data.offices]),
        ("legal_forms", ["Person", "Entity"]),
        ("yes_no", ["Yes", "No"]),
        ("groups", list(data.groups)),
    ]
    several = len(data.offices) > 1
    if several:
        columns += [(f"staff_o{office_id}", list(data.staff_by_office.get(office_id, [])))
                    for office_id, _ in data.offices]
    else:
        columns.append(("staff", [n for names in data.staff_by_office.values()
                                  for n in names]))
    columns += [(f"code:{code}", list(names)) for code, names in data.codes.items()]
    sources = write_lookups(book, ws, LOOKUP_SHEET, columns)
    book.define_name(list_name("row_keys"), f"='{CLIENTS_SHEET}'!$A$"
                                            f"{CLIENT_IMPORT.first_data_row}:"
                                            f"$A${last_client_row}")
    sources["row_keys"] = f"={list_name('row_keys')}"
    if several:
        sources["staff"] = "dependent"
    return sources


def _grid(ws: Any, fmt: Formats, name: str, columns: Sequence[Column],
          data: TemplateData, rows: Sequence[ReportRow], last_row: int,
          lists: Mapping[str, str], *, prefill_keys: bool, printed: PrintSetup,
          spliced: SplicedRows) -> None:
    notes = {key: f"{next(c.header for c in columns if c.key == key)}: an additional "
                  f"detail ({extra[0]})." for key, extra in data.additional.items()
             if any(c.key == key for c in columns)}
    write_grid(ws, fmt, LAYOUT, columns, rows, last_row,
               kinds={c.key: _kind_of(c, data) for c in columns}, notes=notes,
               validations=lambda sheet, cols, first, last: _validations(
                   sheet, cols, data, lists, first, last),
               prefill_keys=prefill_keys, freeze_columns=2 if name == CLIENTS_SHEET else 1,
               printed=printed, spliced=spliced)


def _validations(ws: Any, columns: Sequence[Column], data: TemplateData,
                 lists: Mapping[str, str], first: int, last: int) -> None:
    office = next((c for c in columns if c.key == "office"), None)
    for column in columns:
        spec = column.spec
        if not spec.input or spec.key == ROW_KEY and spec.choices is None:
            continue
        extra = data.additional.get(column.key)
        kind = _kind_of(column, data)
        choices, message = spec.choices, None
        if extra is not None:
            choices = f"code:{extra[1]}" if extra[0] == "code" and extra[1] else None
            message = f"An additional detail ({extra[0]})."
        source = lists.get(choices) if choices is not None else None
        options = validation_options(column, kind, source if source != "dependent" else None,
                                     message)
        if choices == "staff" and source == "dependent" and office is not None:
            cell = f"${office.letter}{first + 1}"
            options.update(validate="list", source=(
                f'=INDIRECT("L_staff_o"&INDEX({list_name("office_ids")},'
                f'MATCH({cell},{list_name("offices")},0)))'),
                error_type="warning",
                error_message="Choose a member of staff of the row's office.")
        elif kind == "integer" and source is None:
            options.update(maximum=150, error_message="Enter a whole number of years.")
        elif extra is not None and extra[0] == "number":
            options.update(validate="decimal", criteria="between", minimum=-1e15,
                           maximum=1e15, error_message="Enter a number.")
        ws.data_validation(first, column.index, last, column.index, options)
