"""Writing a collection sheet with xlsxwriter, as declared in ``collection_sheet``.

Each amount that applies to a row is one unlocked cell pre-filled with what is due, with a
"number >= 0" validation whose input message states the due; cells that do not apply are
blank, shaded and locked. Totals (per row, per column, cash to hand over) are formulas in
locked cells, written with their computed value for readers that do not recalculate. The
sheet is protected, its panes frozen, and it prints landscape, one page wide, with the
header rows repeated. Text coming from users (names) is always written with
``write_string``: it can never become a formula.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_range, xl_rowcol_to_cell

from workbook_engine.domain.due import DueSheet
from workbook_engine.workbooks.collection_sheet import (
    CASH_LABEL,
    COLLECTION_SHEET,
    TOTAL_LABEL,
    SheetLayout,
    cell_due,
)
from workbook_engine.workbooks.declaration import CellType, Column, Flow, WorkbookKind
from workbook_engine.workbooks.metadata import SignedMetadata, write_metadata_sheet

INPUT_FILL = "#FFF9DB"
NA_FILL = "#D9D9D9"
HEADER_FILL = "#DDEBF7"
TOTAL_FILL = "#F2F2F2"
_LIST_LIMIT = 250  # an inline dropdown list is limited to 255 characters


def _money_format(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


class _Formats:
    """The cell formats of one workbook (xlsxwriter formats belong to a workbook)."""

    def __init__(self, book: Any, digits: int) -> None:
        money = _money_format(digits)
        border = {"border": 1, "border_color": "#A6A6A6", "valign": "vcenter"}
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.label = book.add_format({"bold": True, "align": "right", "valign": "vcenter"})
        self.value = book.add_format({**border, "bg_color": "#FFFFFF"})
        self.value_date = book.add_format({**border, "num_format": "yyyy-mm-dd",
                                           "align": "left"})
        self.input_text = book.add_format({**border, "locked": False, "bg_color": INPUT_FILL})
        self.input_date = book.add_format({**border, "locked": False, "bg_color": INPUT_FILL,
                                           "num_format": "yyyy-mm-dd", "align": "left"})
        self.section = book.add_format({**border, "bold": True, "align": "center",
                                        "bg_color": "#BDD7EE"})
        self.header = book.add_format({**border, "bold": True, "align": "center",
                                       "text_wrap": True, "bg_color": HEADER_FILL})
        self.key = book.add_format({"font_color": "#808080", "font_size": 8})
        self.name = book.add_format({**border})
        self.group_name = book.add_format({**border, "bold": True})
        self.id = book.add_format({**border, "num_format": "0", "align": "center"})
        self.amount = book.add_format({**border, "locked": False, "bg_color": INPUT_FILL,
                                       "num_format": money})
        self.choice = book.add_format({**border, "locked": False, "bg_color": INPUT_FILL,
                                       "align": "center"})
        self.na = book.add_format({**border, "bg_color": NA_FILL, "pattern": 1})
        self.row_total = book.add_format({**border, "num_format": money,
                                          "bg_color": TOTAL_FILL})
        self.total_label = book.add_format({**border, "bold": True, "bg_color": TOTAL_FILL})
        self.total = book.add_format({**border, "bold": True, "num_format": money,
                                      "bg_color": TOTAL_FILL, "top": 2})
        self.cash = book.add_format({**border, "bold": True, "num_format": money,
                                     "bg_color": "#FCE4D6", "top": 2, "bottom": 2})


def _number(value: Decimal) -> float:
    # xlsxwriter writes numbers as floats; the exact Decimal is kept in the expected payload.
    return float(value)


def write_collection_sheet(path: Path, sheet: DueSheet, grid: SheetLayout,
                           signed: SignedMetadata, *, payment_types: Sequence[str],
                           attendance_codes: Mapping[str, str],
                           kind: WorkbookKind = COLLECTION_SHEET) -> None:
    """Write one collection sheet (and its signed metadata sheet) to ``path``."""
    book = xlsxwriter.Workbook(str(path), {"in_memory": True, "strings_to_formulas": False,
                                           "strings_to_numbers": False,
                                           "strings_to_urls": False})
    book.set_properties({"title": f"{kind.title}: {sheet.title} {sheet.meeting_date}",
                         "comments": f"workbook {signed.metadata.workbook_id}"})
    fmt = _Formats(book, sheet.currency_digits)
    ws = book.add_worksheet(kind.data_sheet)
    _header_block(book, ws, fmt, kind, sheet, payment_types)
    _grid(ws, fmt, kind, sheet, grid, attendance_codes)
    _page_setup(ws, kind, sheet, grid)
    ws.protect("", {"select_locked_cells": True, "select_unlocked_cells": True})
    ws.activate()
    write_metadata_sheet(book, signed, kind.metadata_sheet)
    book.close()


def _header_block(book: Any, ws: Any, fmt: _Formats, kind: WorkbookKind, sheet: DueSheet,
                  payment_types: Sequence[str]) -> None:
    ws.write_string(0, 1, f"{kind.title}: {sheet.title}", fmt.title)
    values: dict[str, Any] = {
        "branch": sheet.office_name, "loan_officer": sheet.staff_name or "",
        "center": sheet.title, "meeting_date": sheet.meeting_date,
        "payment_type": payment_types[0] if payment_types else "",
        "receipt_number": "", "receipt_date": None,
    }
    for field in kind.header_fields:
        label = field.label
        if field.key == "center" and sheet.center_id is None:
            label = "Group"
        _write_range(ws, field.label_cell, label, fmt.label)
        value = values[field.key]
        if field.type is CellType.DATE:
            cell_fmt = fmt.input_date if field.input else fmt.value_date
        else:
            cell_fmt = fmt.input_text if field.input else fmt.value
        _write_range(ws, field.value_cell, value, cell_fmt)
        if field.input:
            options: dict[str, Any] = {"input_title": field.label[:32],
                                       "input_message": field.help[:255]}
            if field.type is CellType.CHOICE:
                options.update(validate="list", source=_list_source(book, payment_types),
                               error_message="Choose a payment type from the list.")
            elif field.type is CellType.DATE:
                options.update(validate="date", criteria=">=",
                               value=sheet.meeting_date.replace(year=2000, month=1, day=1),
                               error_message="Enter a date, written YYYY-MM-DD.")
            else:
                options.update(validate="length", criteria="<=", value=50,
                               error_message="At most 50 characters.")
            ws.data_validation(field.value_cell, options)


def _write_range(ws: Any, cells: str, value: Any, cell_fmt: Any) -> None:
    """Write a value (text as text, never a formula) into a cell or a merged range."""
    if ":" in cells:
        ws.merge_range(cells, "", cell_fmt)
    anchor = cells.split(":")[0]
    if value is None or value == "":
        ws.write_blank(anchor, None, cell_fmt)
    elif isinstance(value, str):
        ws.write_string(anchor, value, cell_fmt)
    elif hasattr(value, "isoformat"):
        from datetime import datetime, time

        ws.write_datetime(anchor, datetime.combine(value, time()), cell_fmt)
    else:
        ws.write_number(anchor, value, cell_fmt)


def _list_source(book: Any, choices: Sequence[str]) -> Any:
    """An inline list, or a range of a very hidden sheet when the list is too long."""
    if sum(len(c) + 1 for c in choices) <= _LIST_LIMIT and not any("," in c for c in choices):
        return list(choices) or [""]
    lists = book.add_worksheet("_lists")
    for i, choice in enumerate(choices):
        lists.write_string(i, 0, choice)
    lists.very_hidden()
    return f"='_lists'!$A$1:$A${max(1, len(choices))}"


def _grid(ws: Any, fmt: _Formats, kind: WorkbookKind, sheet: DueSheet, grid: SheetLayout,
          attendance_codes: Mapping[str, str]) -> None:
    columns = grid.columns
    section_r, header_r, key_r = kind.section_row - 1, kind.header_row - 1, kind.key_row - 1
    # Section row: one merged cell per run of columns of the same section.
    start = 0
    while start < len(columns):
        section = columns[start].spec.section
        end = start
        while end + 1 < len(columns) and columns[end + 1].spec.section == section:
            end += 1
        if section is None:
            for c in range(start, end + 1):
                ws.write_blank(section_r, c, None, fmt.section)
        elif end > start:
            ws.merge_range(section_r, start, section_r, end, "", fmt.section)
            ws.write_string(section_r, start, section, fmt.section)
        else:
            ws.write_string(section_r, start, section, fmt.section)
        start = end + 1
    for column in columns:
        ws.write_string(header_r, column.index, column.header, fmt.header)
        ws.write_string(key_r, column.index, column.key, fmt.key)
        ws.set_column(column.index, column.index, column.spec.width, None,
                      {"hidden": True} if column.spec.hidden else {})
    ws.set_row(header_r, 30)
    ws.set_row(key_r, None, None, {"hidden": True})

    digits = sheet.currency_digits
    collected_cols = [c for c in columns if c.spec.flow is Flow.COLLECTED]
    paid_cols = [c for c in columns if c.spec.flow is Flow.PAID_OUT]
    column_totals: dict[int, Decimal] = {c.index: Decimal(0) for c in columns
                                         if c.spec.type is CellType.MONEY}
    attendance_rows: list[int] = []
    for number, row in grid.rows:
        r = number - 1
        is_client = row.kind.value == "client"
        ws.write_string(r, 0, row.key, fmt.key)
        ws.write_string(r, 1, row.name if is_client else f"{row.name} ({row.kind.value})",
                        fmt.name if is_client else fmt.group_name)
        ws.write_number(r, 2, row.entity_id, fmt.id)
        for column in columns:
            spec = column.spec
            if spec.total_of is not None:
                continue
            if not spec.input:
                continue
            due = cell_due(row, column, digits)
            if due is None:
                ws.write_blank(r, column.index, None, fmt.na)
                continue
            if spec.type is CellType.CHOICE:
                if isinstance(due.prefill, str):
                    ws.write_string(r, column.index, due.prefill, fmt.choice)
                else:
                    ws.write_blank(r, column.index, None, fmt.choice)
                attendance_rows.append(r)
                continue
            if isinstance(due.prefill, Decimal):
                ws.write_number(r, column.index, _number(due.prefill), fmt.amount)
                column_totals[column.index] += due.prefill
            else:
                ws.write_blank(r, column.index, None, fmt.amount)
            ws.data_validation(r, column.index, r, column.index, {
                "validate": "decimal", "criteria": ">=", "value": 0,
                "input_title": column.header[:32], "input_message": due.message[:255],
                "error_title": "Amount", "error_message": "Enter an amount of 0 or more."})
        for total_col, flow_cols, amount in (
                (grid.column("collected"), collected_cols, row.collected),
                (grid.column("paid_out"), paid_cols, row.paid_out)):
            cells = ",".join(xl_rowcol_to_cell(r, c.index) for c in flow_cols)
            ws.write_formula(r, total_col.index, f"=SUM({cells})" if cells else "=0",
                             fmt.row_total, _number(amount))
            column_totals[total_col.index] += amount
    if attendance_rows:
        col = grid.column("attendance").index
        codes = list(attendance_codes)
        legend = ", ".join(f"{k} {v}" for k, v in attendance_codes.items())
        for first, last in _runs(attendance_rows):
            ws.data_validation(first, col, last, col, {
                "validate": "list", "source": codes, "input_title": "Attendance",
                "input_message": legend[:255], "error_title": "Attendance",
                "error_message": f"Choose one of {', '.join(codes)}."})
    # Totals row and cash to hand over.
    first_r, totals_r = kind.first_data_row - 1, grid.totals_row - 1
    last_r = totals_r - 1
    ws.write_blank(totals_r, 0, None, fmt.total_label)
    ws.write_string(totals_r, 1, TOTAL_LABEL, fmt.total_label)
    for column in columns[2:]:
        if column.index in column_totals:
            ws.write_formula(totals_r, column.index,
                             f"=SUM({xl_range(first_r, column.index, last_r, column.index)})",
                             fmt.total, _number(column_totals[column.index]))
        else:
            ws.write_blank(totals_r, column.index, None, fmt.total_label)
    cash_r = grid.cash_row - 1
    collected, paid = grid.column("collected").index, grid.column("paid_out").index
    ws.merge_range(cash_r, 1, cash_r, collected - 1, "", fmt.total_label)
    ws.write_string(cash_r, 1, CASH_LABEL, fmt.total_label)
    ws.write_formula(cash_r, collected, f"={xl_rowcol_to_cell(totals_r, collected)}"
                     f"-{xl_rowcol_to_cell(totals_r, paid)}", fmt.cash,
                     _number(sheet.cash_to_hand_over))


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of row numbers, as (first, last)."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


def _page_setup(ws: Any, kind: WorkbookKind, sheet: DueSheet, grid: SheetLayout) -> None:
    last_col = grid.last_column.index
    ws.freeze_panes(kind.first_data_row - 1, 3)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
    ws.repeat_rows(kind.section_row - 1, kind.key_row - 1)
    ws.print_area(0, 1, grid.cash_row - 1, max(last_col, 8))
    ws.set_header(f"&L{_escape_header(sheet.title)}&C{kind.title}"
                  f"&R{sheet.meeting_date.isoformat()}")
    ws.set_footer("&LSignature of loan officer: ____________________&RPage &P of &N")
    ws.set_column(1, 1, max(24, min(40, max((len(r.name) for r in sheet.rows), default=0) + 4)))


def _escape_header(text: str) -> str:
    # '&' starts a control code in Excel headers.
    return text.replace("&", "&&")[:60]


__all__ = ["write_collection_sheet", "Column"]
