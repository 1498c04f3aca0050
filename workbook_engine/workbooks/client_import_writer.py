"""Writing the client-import template, and its report, with xlsxwriter (streamed).

One writer for both: the template is the report with no rows. The report is the workbook
written back, row by row in ``constant_memory`` mode (memory does not grow with the rows), with
the values as read, a status on each row ("Imported: client 1042" or what to correct), error
cells red with a comment, and an "Errors" sheet; it keeps the signed metadata, so a corrected
report is itself a valid template to send again.

Every dropdown reads a range of the hidden "_lookups" sheet through a defined name (never an
inline list, which breaks past 255 characters or on a comma). Defined names are made from ids
and code names, never from user text, so names with apostrophes, hyphens or ampersands ("O'Brien
& Sons-Ltd") are only ever cell values. With several offices, the staff dropdown depends on the
row's office: ``INDIRECT("L_staff_o" & INDEX(L_office_ids, MATCH(office, L_offices, 0)))``.
User text is always written with ``write_string``: it never becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

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
    STATUS_KEY,
    header_text,
)
from workbook_engine.workbooks.declaration import CellType, Column
from workbook_engine.workbooks.metadata import SignedMetadata, write_metadata_sheet

INPUT_FILL = "#FFF9DB"
ERROR_FILL = "#FFC7CE"
HEADER_FILL = "#DDEBF7"
_EPOCH = dt.date(1900, 1, 1)


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


@dataclass
class ReportRow:
    """One row of the report: where it was, its values, its status and its bad cells."""

    row: int
    key: str
    values: Mapping[str, Any]
    status: str
    ok: bool
    errors: Mapping[str, str] = field(default_factory=dict)  # column key -> comment


@dataclass
class ReportContent:
    """The rows of each sheet (in row order; a sequence that may make each row when it is
    read, so that the writer streams them) and the list for the Errors sheet."""

    rows: dict[str, Sequence[ReportRow]]
    errors: Sequence[Mapping[str, Any]]
    summary: str


class _Formats:
    def __init__(self, book: Any) -> None:
        border = {"border": 1, "border_color": "#BFBFBF"}
        self.header = book.add_format({**border, "bold": True, "text_wrap": True,
                                       "valign": "top", "bg_color": HEADER_FILL})
        self.mandatory = book.add_format({**border, "bold": True, "text_wrap": True,
                                          "valign": "top", "bg_color": HEADER_FILL,
                                          "font_color": "#C00000"})
        self.key = book.add_format({"font_color": "#808080", "font_size": 8})
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.ok = book.add_format({"font_color": "#006100", "bg_color": "#C6EFCE"})
        self.bad = book.add_format({"font_color": "#9C0006", "text_wrap": False})
        self.by_type: dict[tuple[str, bool], Any] = {}
        for kind, num in (("text", "@"), ("date", "yyyy-mm-dd"), ("integer", "0"),
                          ("general", "General")):
            for error in (False, True):
                self.by_type[(kind, error)] = book.add_format({
                    "num_format": num, "locked": False,
                    "bg_color": ERROR_FILL if error else INPUT_FILL})

    def cell(self, kind: str, error: bool = False) -> Any:
        return self.by_type[(kind, error)]


def _kind_of(column: Column, data: TemplateData) -> str:
    extra = data.additional.get(column.key)
    if extra is not None:
        return {"date": "date", "number": "general"}.get(extra[0], "text")
    return {CellType.DATE: "date", CellType.INTEGER: "integer",
            CellType.TEXT: "text"}.get(column.spec.type, "general")


def _name(list_name: str) -> str:
    return "L_" + re.sub(r"[^A-Za-z0-9_]", "_", list_name.replace(":", "_"))


def write_client_workbook(path: Path, data: TemplateData, signed: SignedMetadata, *,
                          report: ReportContent | None = None) -> Path:
    """Write the template (``report`` None) or the report of a filled one to ``path``."""
    book = xlsxwriter.Workbook(str(path), {
        "constant_memory": True, "strings_to_formulas": False, "strings_to_numbers": False,
        "strings_to_urls": False, "tmpdir": str(Path(path).parent)})
    book.set_properties({"title": f"Client import ({data.legal_form}s): {data.office_name}",
                         "comments": f"workbook {signed.metadata.workbook_id}"})
    fmt = _Formats(book)
    _instructions(book, fmt, data, report)
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
    for name, columns in grids:
        rows = report.rows.get(name, ()) if report else ()
        _grid(sheets[name], fmt, name, columns, data, rows, last_rows[name], lists,
              prefill_keys=name == CLIENTS_SHEET)
    if errors_ws is not None and report is not None:
        _errors_sheet(errors_ws, fmt, report.errors)
    write_metadata_sheet(book, signed, CLIENT_IMPORT.metadata_sheet)
    book.worksheets()[1].activate()
    book.close()
    return path


def _instructions(book: Any, fmt: _Formats, data: TemplateData,
                  report: ReportContent | None) -> None:
    ws = book.add_worksheet(INSTRUCTIONS_SHEET)
    ws.set_column(0, 0, 110, fmt.wrap)
    mandatory = [header_text(c.spec, c.header) for c in data.columns if c.spec.mandatory]
    lines = [
        (f"Client import: {data.legal_form}s of {data.office_name}"
         + (f" (loan officer {data.staff_name})" if data.staff_name else ""), fmt.title),
        ("", None),
    ]
    if report is not None:
        lines += [("Report: " + report.summary, fmt.bold),
                  ("Each row's 'Import status' says what became of it. Correct the red cells "
                   "(their comment says what is wrong) and send this workbook again: rows "
                   "already imported are recognised and skipped, never imported twice.", None),
                  ("", None)]
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
    for r, (text, cell_fmt) in enumerate(lines):
        if text:
            ws.write_string(r, 0, text, cell_fmt)


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
    sources: dict[str, str] = {}
    depth = max((len(values) for _, values in columns), default=0)
    for c, (name, values) in enumerate(columns):
        ws.write_string(0, c, name)
        letter = xl_col_to_name(c)
        book.define_name(_name(name), f"='{LOOKUP_SHEET}'!${letter}$2:${letter}$"
                                      f"{max(2, len(values) + 1)}")
        sources[name] = f"={_name(name)}"
    for r in range(depth):
        for c, (_, values) in enumerate(columns):
            if r < len(values):
                value = values[r]
                if isinstance(value, str):
                    ws.write_string(r + 1, c, value)
                else:
                    ws.write_number(r + 1, c, value)
    book.define_name(_name("row_keys"), f"='{CLIENTS_SHEET}'!$A$"
                                        f"{CLIENT_IMPORT.first_data_row}:$A${last_client_row}")
    sources["row_keys"] = f"={_name('row_keys')}"
    if several:
        sources["staff"] = "dependent"
    ws.hide()
    return sources


def _grid(ws: Any, fmt: _Formats, name: str, columns: Sequence[Column],
          data: TemplateData, rows: Sequence[ReportRow], last_row: int,
          lists: Mapping[str, str], *, prefill_keys: bool) -> None:
    first = CLIENT_IMPORT.first_data_row - 1
    kinds = {c.key: _kind_of(c, data) for c in columns}
    for column in columns:
        ws.set_column(column.index, column.index, column.spec.width,
                      fmt.cell(kinds[column.key]) if column.spec.key != STATUS_KEY else None)
    ws.set_row(CLIENT_IMPORT.header_row - 1, 45)
    for column in columns:
        spec = column.spec
        ws.write_string(0, column.index, header_text(spec, column.header),
                        fmt.mandatory if spec.mandatory else fmt.header)
        note = spec.help
        extra = data.additional.get(column.key)
        if extra is not None:
            note = f"{column.header}: an additional detail ({extra[0]})."
        if spec.mandatory:
            note += " Mandatory."
        ws.write_comment(0, column.index, note, {"x_scale": 2, "y_scale": 1.2})
    ws.set_row(CLIENT_IMPORT.key_row - 1, None, None, {"hidden": True})
    for column in columns:
        ws.write_string(CLIENT_IMPORT.key_row - 1, column.index, column.key, fmt.key)
    _validations(ws, columns, data, lists, first, last_row - 1)
    ws.freeze_panes(first, 2 if name == CLIENTS_SHEET else 1)
    by_key = {c.key: c for c in columns}
    written = first - 1
    for report_row in rows:
        r = report_row.row - 1
        if r <= written:
            continue
        if prefill_keys:
            _prefill(ws, fmt, first, written + 1, r)
        ws.write_string(r, 0, report_row.key, fmt.cell("text", ROW_KEY in report_row.errors))
        for key, value in report_row.values.items():
            column = by_key.get(key)
            if column is None or key in (ROW_KEY, STATUS_KEY):
                continue
            _write_value(ws, r, column.index, value,
                         fmt.cell(kinds[key], key in report_row.errors))
        for key in report_row.errors:
            column = by_key.get(key)
            if column is not None and report_row.values.get(key) is None and key != ROW_KEY:
                ws.write_blank(r, column.index, None, fmt.cell(kinds[key], True))
        status = by_key.get(STATUS_KEY)
        if status is not None:
            ws.write_string(r, status.index, report_row.status[:32000],
                            fmt.ok if report_row.ok else fmt.bad)
        for key, message in report_row.errors.items():
            column = by_key.get(key) or by_key[ROW_KEY]
            ws.write_comment(r, column.index, message[:2000], {"x_scale": 3, "y_scale": 2})
        written = r
    if prefill_keys:
        _prefill(ws, fmt, first, written + 1, last_row)


def _prefill(ws: Any, fmt: _Formats, first: int, start: int, stop: int) -> None:
    """Pre-fill the row keys of blank rows start..stop-1 (0-based): the row's position."""
    for r in range(start, stop):
        ws.write_string(r, 0, str(r - first + 1), fmt.cell("text"))


def _write_value(ws: Any, r: int, c: int, value: Any, cell_fmt: Any) -> None:
    if value is None:
        ws.write_blank(r, c, None, cell_fmt)
    elif isinstance(value, str):
        ws.write_string(r, c, value, cell_fmt)
    elif isinstance(value, bool):
        ws.write_boolean(r, c, value, cell_fmt)
    elif isinstance(value, int | float):
        ws.write_number(r, c, value, cell_fmt)
    elif isinstance(value, dt.datetime):
        ws.write_datetime(r, c, value, cell_fmt)
    elif isinstance(value, dt.date):
        ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), cell_fmt)
    else:
        ws.write_string(r, c, str(value), cell_fmt)


def _validations(ws: Any, columns: Sequence[Column], data: TemplateData,
                 lists: Mapping[str, str], first: int, last: int) -> None:
    office = next((c for c in columns if c.key == "office"), None)
    for column in columns:
        spec = column.spec
        if not spec.input or spec.key == ROW_KEY and spec.choices is None:
            continue
        extra = data.additional.get(column.key)
        kind = _kind_of(column, data)
        title = column.header[:32]
        options: dict[str, Any] = {"input_title": title, "input_message": spec.help[:255],
                                   "ignore_blank": True}
        choices = spec.choices
        if extra is not None:
            choices = f"code:{extra[1]}" if extra[0] == "code" and extra[1] else None
            options["input_message"] = f"An additional detail ({extra[0]})."
        if choices == "staff" and lists.get("staff") == "dependent" and office is not None:
            cell = f"${office.letter}{first + 1}"
            options.update(validate="list", source=(
                f'=INDIRECT("L_staff_o"&INDEX({_name("office_ids")},'
                f'MATCH({cell},{_name("offices")},0)))'),
                error_type="warning",
                error_message="Choose a member of staff of the row's office.")
        elif choices is not None and choices in lists:
            options.update(validate="list", source=lists[choices],
                           error_message="Choose a value from the list.")
        elif kind == "date":
            options.update(validate="date", criteria="between", minimum=_EPOCH,
                           maximum=dt.date(2100, 12, 31),
                           error_message="Enter a date, e.g. 2026-03-03.")
        elif kind == "integer":
            options.update(validate="integer", criteria="between", minimum=0, maximum=150,
                           error_message="Enter a whole number of years.")
        elif extra is not None and extra[0] == "number":
            options.update(validate="decimal", criteria="between", minimum=-1e15,
                           maximum=1e15, error_message="Enter a number.")
        else:
            options.update(validate="any")
        ws.data_validation(first, column.index, last, column.index, options)


def _errors_sheet(ws: Any, fmt: _Formats, errors: Sequence[Mapping[str, Any]]) -> None:
    headers = ["Sheet", "Row", "Cell", "Column", "Row key", "What is wrong", "How to fix",
               "Code"]
    widths = [14, 7, 7, 18, 9, 80, 60, 24]
    for c, (text, width) in enumerate(zip(headers, widths, strict=True)):
        ws.set_column(c, c, width)
        ws.write_string(0, c, text, fmt.header)
    ws.freeze_panes(1, 0)
    for r, error in enumerate(errors, start=1):
        values = [error.get("sheet"), error.get("row"), error.get("cell"),
                  error.get("column_header") or error.get("column"), error.get("row_key"),
                  error.get("message"), error.get("how_to_fix"), error.get("code")]
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, int):
                ws.write_number(r, c, value)
            else:
                ws.write_string(r, c, str(value))
