"""Writing a collection sheet, as declared in ``collection_sheet``.

Each amount that applies to a row is one unlocked cell pre-filled with what is due, with a
"number >= 0" validation whose input message states the due; cells that do not apply are
blank, shaded and locked. Totals (per row, per column, cash to hand over) are formulas in
locked cells, written with their computed value for readers that do not recalculate. The
sheet is protected, its panes frozen, and it prints landscape, one page wide, with the
header rows repeated. Text coming from users (names) is always written as a shared string:
it can never become a formula.

A branch's sheets are written by the hundred, so the sheets are written as XML directly
(:mod:`workbook_engine.workbooks.ooxml`); the formats below are rendered once per currency
precision by xlsxwriter, with the other parts that every sheet shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from workbook_engine.domain.due import DueSheet, RowKind
from workbook_engine.workbooks.collection_sheet import (
    CASH_LABEL,
    COLLECTION_SHEET,
    TOTAL_LABEL,
    SheetLayout,
)
from workbook_engine.workbooks.declaration import CellType, Column, Flow, WorkbookKind
from workbook_engine.workbooks.metadata import METADATA_COLUMN_WIDTHS, SignedMetadata
from workbook_engine.workbooks.print_setup import PrintSetup
from workbook_engine.workbooks.ooxml import (
    ATTR_SPECIAL,
    SHEET_PROTECTION,
    WORKSHEET_OPEN,
    SharedStrings,
    SheetEntry,
    StaticParts,
    attr,
    col_width,
    core_xml,
    date_serial,
    element_text,
    letter,
    list_sheet_xml,
    metadata_sheet_xml,
    quote_sheet,
    static_parts,
    workbook_xml,
    write_package,
)

INPUT_FILL = "#FFF9DB"
NA_FILL = "#D9D9D9"
HEADER_FILL = "#DDEBF7"
TOTAL_FILL = "#F2F2F2"
LISTS_SHEET = "_lists"
_LIST_LIMIT = 250  # an inline dropdown list is limited to 255 characters
_DATE_FLOOR = 36526  # 2000-01-01: the lowest receipt date accepted


def _money_format(digits: int) -> str:
    return "#,##0" + ("." + "0" * digits if digits else "")


class _Formats:
    """The cell formats of the sheet (xlsxwriter formats, rendered into styles.xml once)."""

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


@lru_cache(maxsize=32)
def _static(kind: WorkbookKind, digits: int, lists: bool) -> StaticParts:
    """Styles and the other parts shared by every sheet of a kind and a precision."""

    def build(book: Any) -> dict[str, Any]:
        formats = vars(_Formats(book, digits))
        ws = book.add_worksheet(kind.data_sheet)
        for col, fmt in enumerate(formats.values()):
            ws.write_string(0, col, "x", fmt)
        ws.print_area(0, 0, 1, 1)  # the defined names every sheet has (listed in app.xml)
        ws.repeat_rows(0)
        if lists:
            book.add_worksheet(LISTS_SHEET).very_hidden()
        book.add_worksheet(kind.metadata_sheet).very_hidden()
        return formats

    return static_parts(build)


def write_collection_sheet(path: Path, sheet: DueSheet, grid: SheetLayout,
                           signed: SignedMetadata, *, payment_types: Sequence[str],
                           attendance_codes: Mapping[str, str],
                           kind: WorkbookKind = COLLECTION_SHEET) -> None:
    """Write one collection sheet (and its signed metadata sheet) to ``path``."""
    inline = (sum(len(c) + 1 for c in payment_types) <= _LIST_LIMIT
              and not any("," in c or '"' in c for c in payment_types))
    static = _static(kind, sheet.currency_digits, not inline)
    strings = SharedStrings()
    if inline:
        source, lists = '"' + ",".join(payment_types) + '"', None
    else:
        source = f"{quote_sheet(LISTS_SHEET)}!$A$1:$A${max(1, len(payment_types))}"
        lists = list_sheet_xml(payment_types, strings)
    data = _DataSheet(kind, sheet, grid, static.styles, strings).xml(
        payment_types, source, attendance_codes)
    metadata = metadata_sheet_xml(signed.rows(), strings, METADATA_COLUMN_WIDTHS,
                                  protect=True)
    sheets = [SheetEntry(kind.data_sheet), SheetEntry(LISTS_SHEET, True),
              SheetEntry(kind.metadata_sheet, True)]
    if lists is None:
        del sheets[1]
    data_name = quote_sheet(kind.data_sheet)
    print_area = (f"{data_name}!$B$1:${letter(max(grid.last_column.index, 8))}"
                  f"${grid.cash_row}")
    titles = f"{data_name}!${kind.section_row}:${kind.key_row}"
    parts = [("xl/worksheets/sheet1.xml", data)]
    parts += [(f"xl/worksheets/sheet{n}.xml", xml)
              for n, xml in enumerate([x for x in (lists, metadata) if x is not None], 2)]
    parts += [
        ("xl/workbook.xml", workbook_xml(sheets, [("_xlnm.Print_Area", 0, print_area),
                                                  ("_xlnm.Print_Titles", 0, titles)])),
        ("xl/sharedStrings.xml", strings.xml()),
        ("docProps/core.xml", core_xml(f"{kind.title}: {sheet.title} {sheet.meeting_date}",
                                       f"workbook {signed.metadata.workbook_id}",
                                       signed.metadata.generated_at)),
    ]
    write_package(path, static, parts)


class _DataSheet:
    """The XML of the data sheet of one collection sheet."""

    def __init__(self, kind: WorkbookKind, sheet: DueSheet, grid: SheetLayout,
                 styles: Mapping[str, int], strings: SharedStrings) -> None:
        self.kind, self.sheet, self.grid, self.s, self.sst = kind, sheet, grid, styles, strings
        self.merges: list[str] = []
        self.validations: list[str] = []

    def xml(self, payment_types: Sequence[str], list_source: str,
            attendance_codes: Mapping[str, str]) -> str:
        kind, grid = self.kind, self.grid
        body: list[str] = []  # the rows first: the columns are as wide as their totals
        self._header_block(body, payment_types, list_source)
        self._column_heads(body)
        column_totals = self._rows(body, attendance_codes)
        out = [WORKSHEET_OPEN, PrintSetup.SHEET_PR,
               f'<dimension ref="A1:{letter(grid.last_column.index)}{grid.cash_row}"/>',
               self._view(), '<sheetFormatPr defaultRowHeight="15"/>',
               self._cols(column_totals), "<sheetData>", *body, "</sheetData>"]
        out.append(SHEET_PROTECTION)
        if self.merges:
            out.append(f'<mergeCells count="{len(self.merges)}">'
                       + "".join(f'<mergeCell ref="{m}"/>' for m in self.merges)
                       + "</mergeCells>")
        if self.validations:
            out.append(f'<dataValidations count="{len(self.validations)}">'
                       + "".join(self.validations) + "</dataValidations>")
        out.append(self._page_setup())
        out.append("</worksheet>")
        return "".join(out)

    # -- cells

    def _string(self, ref: str, value: str, style: str) -> str:
        return f'<c r="{ref}" s="{self.s[style]}" t="s"><v>{self.sst(value)}</v></c>'

    def _blank(self, ref: str, style: str) -> str:
        return f'<c r="{ref}" s="{self.s[style]}"/>'

    def _range(self, cells: str, value: Any, style: str) -> dict[int, str]:
        """The cells of a (merged) range: the value in the first, the style in all."""
        first, last, a, refs = _span(cells)
        s = self.s[style]
        out = {c: f'<c r="{ref}" s="{s}"/>' for c, ref in refs}
        if last:
            self.merges.append(cells)
        if isinstance(value, str):
            if value:
                out[a] = self._string(first, value, style)
        elif value is not None:
            number = date_serial(value) if hasattr(value, "isoformat") else value
            out[a] = f'<c r="{first}" s="{s}"><v>{number}</v></c>'
        return out

    # -- parts

    def _view(self) -> str:
        top = self.kind.first_data_row
        return ('<sheetViews><sheetView tabSelected="1" workbookViewId="0">'
                f'<pane xSplit="3" ySplit="{top - 1}" topLeftCell="D{top}" '
                'activePane="bottomRight" state="frozen"/>'
                '<selection pane="topRight" activeCell="D1" sqref="D1"/>'
                f'<selection pane="bottomLeft" activeCell="A{top}" sqref="A{top}"/>'
                '<selection pane="bottomRight"/></sheetView></sheetViews>')

    def _cols(self, column_totals: Mapping[int, Decimal]) -> str:
        name_width = max(24, min(40, max((len(r.name) for r in self.sheet.rows), default=0)
                                 + 4))
        cols = []
        for column in self.grid.columns:
            n = column.index + 1
            width = name_width if column.index == 1 else column.spec.width
            if column.index in column_totals:  # the total, in bold, the widest figure
                width = max(width, len(f"{column_totals[column.index]:,.2f}") * 9 / 8 + 1)
            hidden = ' hidden="1"' if column.spec.hidden and column.index != 1 else ""
            cols.append(f'<col min="{n}" max="{n}" width="{col_width(width)}"{hidden} '
                        'customWidth="1"/>')
        return f"<cols>{''.join(cols)}</cols>"

    def _header_block(self, out: list[str], payment_types: Sequence[str],
                      list_source: str) -> None:
        kind, sheet = self.kind, self.sheet
        title_row = 1
        out.append(f'<row r="{title_row}">'
                   + self._string(f"B{title_row}", f"{kind.title}: {sheet.title}", "title")
                   + "</row>")
        values: dict[str, Any] = {
            "branch": sheet.office_name, "loan_officer": sheet.staff_name or "",
            "center": sheet.title, "meeting_date": sheet.meeting_date,
            "payment_type": payment_types[0] if payment_types else "",
            "receipt_number": "", "receipt_date": None,
        }
        rows: dict[int, dict[int, str]] = {}
        for field in kind.header_fields:
            label = "Group" if field.key == "center" and sheet.center_id is None \
                else field.label
            row = int(field.label_cell.split(":")[0].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
            cells = rows.setdefault(row, {})
            cells.update(self._range(field.label_cell, label, "label"))
            if field.type is CellType.DATE:
                style = "input_date" if field.input else "value_date"
            else:
                style = "input_text" if field.input else "value"
            cells.update(self._range(field.value_cell, values[field.key], style))
            if not field.input:
                continue
            common = (f'allowBlank="1" showInputMessage="1" showErrorMessage="1"'
                      f' error="{{error}}" promptTitle="{attr(field.label[:32])}"'
                      f' prompt="{attr(field.help[:255])}" sqref="{field.value_cell}">')
            if field.type is CellType.CHOICE:
                head, error = '<dataValidation type="list" ', \
                    "Choose a payment type from the list."
                formula = element_text(list_source)
            elif field.type is CellType.DATE:
                head, error = ('<dataValidation type="date" operator="greaterThanOrEqual" ',
                               "Enter a date, written YYYY-MM-DD.")
                formula = str(_DATE_FLOOR)
            else:
                head, error = ('<dataValidation type="textLength" operator="lessThanOrEqual" ',
                               "At most 50 characters.")
                formula = "50"
            self.validations.append(f"{head}{common.format(error=error)}"
                                    f"<formula1>{formula}</formula1></dataValidation>")
        for row in sorted(rows):
            out.append(f'<row r="{row}">' + "".join(rows[row][c] for c in sorted(rows[row]))
                       + "</row>")

    def _column_heads(self, out: list[str]) -> None:
        kind, columns = self.kind, self.grid.columns
        section_r = kind.section_row
        cells: list[str] = []
        start = 0
        while start < len(columns):
            section = columns[start].spec.section
            end = start
            while end + 1 < len(columns) and columns[end + 1].spec.section == section:
                end += 1
            refs = [f"{letter(c)}{section_r}" for c in range(start, end + 1)]
            if section is None:
                cells.extend(self._blank(ref, "section") for ref in refs)
            else:
                if end > start:  # one merged cell over the run of columns of the section
                    self.merges.append(f"{refs[0]}:{refs[-1]}")
                cells.append(self._string(refs[0], section, "section"))
                cells.extend(self._blank(ref, "section") for ref in refs[1:])
            start = end + 1
        out.append(f'<row r="{section_r}">{"".join(cells)}</row>')
        h, k = kind.header_row, kind.key_row
        out.append(f'<row r="{h}" ht="30" customHeight="1">' + "".join(
            self._string(f"{c.letter}{h}", c.header, "header") for c in columns) + "</row>")
        out.append(f'<row r="{k}" hidden="1">' + "".join(
            self._string(f"{c.letter}{k}", c.key, "key") for c in columns) + "</row>")

    def _rows(self, out: list[str], attendance_codes: Mapping[str, str]
              ) -> dict[int, Decimal]:
        """The rows, the totals row and the cash row; the totals by column index."""
        kind, sheet, grid, s, sst = self.kind, self.sheet, self.grid, self.s, self.sst
        columns = grid.columns
        collected_col, paid_col = grid.column("collected"), grid.column("paid_out")
        collected_refs = [c.letter for c in columns if c.spec.flow is Flow.COLLECTED]
        paid_refs = [c.letter for c in columns if c.spec.flow is Flow.PAID_OUT]
        s_key, s_name, s_group, s_id = s["key"], s["name"], s["group_name"], s["id"]
        s_na, s_amount, s_choice, s_total = s["na"], s["amount"], s["choice"], s["row_total"]
        amount_check = ('<dataValidation type="decimal" operator="greaterThanOrEqual" '
                        'allowBlank="1" showInputMessage="1" showErrorMessage="1" '
                        'errorTitle="Amount" error="Enter an amount of 0 or more." ')
        # What each input column needs, in the order of a row's cells (the same in every
        # row): its letter, whether it is a choice, and the start of its validation.
        inputs = [(column.letter, column.spec.type is CellType.CHOICE,
                   f'{amount_check}promptTitle="{attr(column.header[:32])}" prompt="',
                   column.index) for column, _ in (grid.cells[0] if grid.cells else ())]
        totals = [Decimal(0)] * len(inputs)
        validations = self.validations
        special = ATTR_SPECIAL.search  # an input message mostly needs no escaping (attr)
        attendance_rows: list[int] = []
        collected_formula = "SUM(" + ",".join(x + "{r}" for x in collected_refs) + ")" \
            if collected_refs else "0"
        paid_formula = "SUM(" + ",".join(x + "{r}" for x in paid_refs) + ")" \
            if paid_refs else "0"
        collected_x, paid_x = collected_col.letter, paid_col.letter
        collected_sum = paid_sum = Decimal(0)
        for (number, row), row_cells in zip(grid.rows, grid.cells, strict=True):
            r = str(number)
            is_client = row.kind is RowKind.CLIENT
            name = row.name if is_client else f"{row.name} ({row.kind.value})"
            cells = [f'<row r="{r}"><c r="A{r}" s="{s_key}" t="s"><v>{sst(row.key)}</v></c>'
                     f'<c r="B{r}" s="{s_name if is_client else s_group}" t="s">'
                     f'<v>{sst(name)}</v></c><c r="C{r}" s="{s_id}"><v>{row.entity_id}</v></c>']
            for i, (x, is_choice, check, _), (_, due) in zip(
                    range(len(inputs)), inputs, row_cells):
                if due is None:
                    cells.append(f'<c r="{x}{r}" s="{s_na}"/>')
                    continue
                prefill = due.prefill
                if is_choice:
                    cells.append(f'<c r="{x}{r}" s="{s_choice}" t="s"><v>{sst(prefill)}</v></c>'
                                 if isinstance(prefill, str) else
                                 f'<c r="{x}{r}" s="{s_choice}"/>')
                    attendance_rows.append(number)
                    continue
                if prefill is None:
                    cells.append(f'<c r="{x}{r}" s="{s_amount}"/>')
                else:
                    cells.append(f'<c r="{x}{r}" s="{s_amount}"><v>{prefill}</v></c>')
                    totals[i] += prefill
                message = due.message[:255]
                if special(message) is not None:
                    message = attr(message)
                validations.append(f'{check}{message}" sqref="{x}{r}">'
                                   "<formula1>0</formula1></dataValidation>")
            collected, paid_out = row.collected, row.paid_out
            collected_sum += collected
            paid_sum += paid_out
            cells.append(f'<c r="{collected_x}{r}" s="{s_total}"><f>'
                         f'{collected_formula.replace("{r}", r)}</f><v>{collected}</v></c>'
                         f'<c r="{paid_x}{r}" s="{s_total}"><f>'
                         f'{paid_formula.replace("{r}", r)}</f><v>{paid_out}</v></c></row>')
            out.append("".join(cells))
        column_totals: dict[int, Decimal] = {c.index: Decimal(0) for c in columns
                                             if c.spec.type is CellType.MONEY}
        for (_, is_choice, _, index), total in zip(inputs, totals, strict=True):
            if not is_choice:
                column_totals[index] = total
        column_totals[collected_col.index] = collected_sum
        column_totals[paid_col.index] = paid_sum
        if attendance_rows:
            att = grid.column("attendance").letter
            codes = list(attendance_codes)
            legend = attr(", ".join(f"{k} {v}" for k, v in attendance_codes.items())[:255])
            error = attr(f"Choose one of {', '.join(codes)}.")
            source = element_text('"' + ",".join(codes) + '"')
            for first, last in _runs(attendance_rows):
                sqref = f"{att}{first}" if first == last else f"{att}{first}:{att}{last}"
                validations.append(
                    '<dataValidation type="list" allowBlank="1" showInputMessage="1" '
                    f'showErrorMessage="1" errorTitle="Attendance" error="{error}" '
                    f'promptTitle="Attendance" prompt="{legend}" sqref="{sqref}">'
                    f"<formula1>{source}</formula1></dataValidation>")
        self._totals(out, column_totals)
        return column_totals

    def _totals(self, out: list[str], column_totals: dict[int, Decimal]) -> None:
        kind, grid, sheet = self.kind, self.grid, self.sheet
        first, t = kind.first_data_row, grid.totals_row
        cells = [self._blank(f"A{t}", "total_label"),
                 self._string(f"B{t}", TOTAL_LABEL, "total_label")]
        for column in grid.columns[2:]:
            x = column.letter
            if column.index in column_totals:
                cells.append(f'<c r="{x}{t}" s="{self.s["total"]}"><f>SUM({x}{first}:{x}{t - 1})'
                             f"</f><v>{column_totals[column.index]}</v></c>")
            else:
                cells.append(self._blank(f"{x}{t}", "total_label"))
        out.append(f'<row r="{t}">{"".join(cells)}</row>')
        cash = grid.cash_row
        collected, paid = grid.column("collected"), grid.column("paid_out")
        self.merges.append(f"B{cash}:{letter(collected.index - 1)}{cash}")
        cells = [self._string(f"B{cash}", CASH_LABEL, "total_label")]
        cells += [self._blank(f"{letter(c)}{cash}", "total_label")
                  for c in range(2, collected.index)]
        cells.append(f'<c r="{collected.letter}{cash}" s="{self.s["cash"]}">'
                     f"<f>{collected.letter}{t}-{paid.letter}{t}</f>"
                     f"<v>{sheet.cash_to_hand_over}</v></c>")
        out.append(f'<row r="{cash}">{"".join(cells)}</row>')

    def _page_setup(self) -> str:
        kind, sheet = self.kind, self.sheet
        return PrintSetup(title=sheet.title, sheet=kind.title,
                          date=sheet.meeting_date.isoformat(),
                          footer="Signature of loan officer: ____________________",
                          ).xml(element_text)


@lru_cache(maxsize=64)
def _span(cells: str) -> tuple[str, str, int, tuple[tuple[int, str], ...]]:
    """A header range (``"C2:E2"`` or ``"C5"``) of the layout: its first and last cell
    (empty for one cell), the first column's index, and each (column index, cell)."""
    first, _, last = cells.partition(":")
    a, b = _col_index(first), _col_index(last or first)
    row = first.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return first, last, a, tuple((c, f"{letter(c)}{row}") for c in range(a, b + 1))


def _col_index(ref: str) -> int:
    """The 0-based column index of a cell reference ("H2" -> 7)."""
    index = 0
    for ch in ref:
        if not ch.isalpha():
            break
        index = index * 26 + ord(ch.upper()) - 64
    return index - 1


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """Consecutive runs of row numbers, as (first, last)."""
    runs: list[tuple[int, int]] = []
    for r in rows:
        if runs and runs[-1][1] == r - 1:
            runs[-1] = (runs[-1][0], r)
        else:
            runs.append((r, r))
    return runs


__all__ = ["write_collection_sheet", "Column"]
