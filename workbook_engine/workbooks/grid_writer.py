"""Writing import workbooks and their reports with xlsxwriter (streamed), for every kind.

One writer for templates and reports: a template is a report with no rows. A report is the
workbook written back row by row in ``constant_memory`` mode (memory does not grow with the
rows), with the values as read, a status on each row, error cells red with a comment, and an
"Errors" sheet; it keeps the signed metadata, so a corrected report is itself a valid
template to send again.

Every dropdown reads a range of the hidden "_lookups" sheet through a defined name (never an
inline list, which breaks past 255 characters or on a comma). Defined names are made from ids
and list names, never from user text, so names with apostrophes, hyphens or ampersands ("O'Brien
& Sons-Ltd") are only ever cell values. User text is always written with ``write_string``: it
never becomes a formula.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from xlsxwriter.utility import xl_col_to_name

from workbook_engine.fileio import replaced_atomically
from workbook_engine.workbooks import ooxml
from workbook_engine.workbooks.declaration import CellType, Column, ColumnSpec, header_text
from workbook_engine.workbooks.print_setup import (
    CHARS_PER_WIDTH,
    PrintSetup,
    pages_wide,
    wrapped_height,
)

INPUT_FILL = "#FFF9DB"
ERROR_FILL = "#FFC7CE"
HEADER_FILL = "#DDEBF7"
EPOCH = dt.date(1900, 1, 1)
ROW_KEY = "row_key"
STATUS_KEY = "status"


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
    row_shift: int = 0  # a row of the file sent is this many rows lower in the report


@dataclass(frozen=True)
class GridLayout:
    """Where a kind's grid rows are (1-based, as in Excel)."""

    header_row: int
    key_row: int
    first_data_row: int


class Formats:
    """The cell formats of an import workbook."""

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
        self.bold_wrap = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.ok = book.add_format({"font_color": "#006100", "bg_color": "#C6EFCE",
                                   "text_wrap": True, "valign": "top"})
        self.bad = book.add_format({"font_color": "#9C0006", "text_wrap": True,
                                    "valign": "top"})
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.money_bold = book.add_format({"num_format": "#,##0.00", "bold": True})
        self.wrap_cell = book.add_format({"text_wrap": True, "valign": "top"})
        self.by_type: dict[tuple[str, bool], Any] = {}
        for kind, num in (("text", "@"), ("date", "yyyy-mm-dd"), ("integer", "0"),
                          ("money", "#,##0.00"), ("general", "General")):
            for error in (False, True):
                self.by_type[(kind, error)] = book.add_format({
                    "num_format": num, "locked": False, "valign": "top",
                    "bg_color": ERROR_FILL if error else INPUT_FILL})

    def cell(self, kind: str, error: bool = False) -> Any:
        """The format of an input cell of this kind (red when it has an error)."""
        return self.by_type[(kind, error)]


YES_NO = "yes_no"


def shown_value(spec: ColumnSpec, value: Any) -> Any:
    """A value as a report writes it back: in a Yes/No column, a boolean (or the 1 and 0 a
    LibreOffice file gives for TRUE and FALSE) as the column's own "Yes" or "No", which the
    reader takes back; LibreOffice showed a boolean in a formatted cell as 1."""
    if spec.choices == YES_NO and (isinstance(value, bool) or (
            isinstance(value, int | float) and value in (0, 1))):
        return "Yes" if value else "No"
    return value


def cell_kind(spec: ColumnSpec) -> str:
    """The cell format kind of a declared column."""
    return {CellType.DATE: "date", CellType.INTEGER: "integer", CellType.MONEY: "money",
            CellType.TEXT: "text"}.get(spec.type, "general")


def list_name(name: str) -> str:
    """The defined name of a dropdown list (built from list names and ids only)."""
    return "L_" + re.sub(r"[^A-Za-z0-9_]", "_", name.replace(":", "_"))


INSTRUCTIONS_WIDTH = 80  # characters: the column fits an A4 page, portrait, at 100%,
#                         in Calibri and in the wider fonts LibreOffice may put in its place
TEMPLATE_PRINT_ROWS = 25  # blank rows an empty template prints below its headers


def write_lines(ws: Any, fmt: Formats, lines: Sequence[tuple[str, Any]],
                printed: PrintSetup) -> None:
    """An instructions sheet: one wrapped paragraph per row, each row as high as its text
    (neither Excel nor LibreOffice grows it on opening), printed portrait."""
    ws.set_column(0, 0, INSTRUCTIONS_WIDTH, fmt.wrap)
    for r, (text, cell_fmt) in enumerate(lines):
        if not text:
            continue
        title = cell_fmt is fmt.title
        ws.set_row(r, 22 if title else wrapped_height(text, INSTRUCTIONS_WIDTH))
        ws.write_string(r, 0, text, cell_fmt if title or cell_fmt is None
                        else _wrapped(fmt, cell_fmt))
    replace(printed, landscape=False, area=f"A1:A{max(1, len(lines))}").apply_xlsxwriter(ws)


def _wrapped(fmt: Formats, cell_fmt: Any) -> Any:
    """A line's own format (bold) keeps wrapping."""
    return fmt.bold_wrap if cell_fmt is fmt.bold else cell_fmt


def report_preamble(report: ReportContent, fmt: Formats) -> list[tuple[str, Any]]:
    """The first lines of a report's instructions: its outcome and how to send it again."""
    return [("Report: " + report.summary, fmt.bold),
            ("Each row's 'Import status' says what became of it. Correct the red cells "
             "(their comment says what is wrong) and send this workbook again: rows "
             "already imported are recognised and skipped, never imported twice.", None),
            ("", None)]


def write_lookups(book: Any, ws: Any, sheet_name: str,
                  columns: Sequence[tuple[str, Sequence[Any]]]) -> dict[str, str]:
    """Write every list to the hidden lookup sheet; return list name -> formula source."""
    sources: dict[str, str] = {}
    depth = max((len(values) for _, values in columns), default=0)
    for c, (name, values) in enumerate(columns):
        ws.write_string(0, c, name)
        letter = xl_col_to_name(c)
        book.define_name(list_name(name), f"='{sheet_name}'!${letter}$2:${letter}$"
                                          f"{max(2, len(values) + 1)}")
        sources[name] = f"={list_name(name)}"
    for r in range(depth):
        for c, (_, values) in enumerate(columns):
            if r < len(values):
                value = values[r]
                if isinstance(value, str):
                    ws.write_string(r + 1, c, value)
                else:
                    ws.write_number(r + 1, c, value)
    ws.hide()
    return sources


def validation_options(column: Column, kind: str, source: str | None,
                       message: str | None = None) -> dict[str, Any]:
    """The data validation of an input column: its dropdown, or a type check."""
    spec = column.spec
    options: dict[str, Any] = {"input_title": column.header[:32],
                               "input_message": (message or spec.help)[:255],
                               "ignore_blank": True}
    if source is not None:
        options.update(validate="list", source=source,
                       error_message="Choose a value from the list.")
    elif kind == "date":
        options.update(validate="date", criteria="between", minimum=EPOCH,
                       maximum=dt.date(2100, 12, 31),
                       error_message="Enter a date, e.g. 2026-03-03.")
    elif kind == "integer":
        options.update(validate="integer", criteria="between", minimum=0, maximum=100_000,
                       error_message="Enter a whole number.")
    elif kind == "money":
        options.update(validate="decimal", criteria="between", minimum=-1e15, maximum=1e15,
                       error_message="Enter an amount.")
    else:
        options.update(validate="any")
    return options


Validations = Callable[[Any, Sequence[Column], int, int], None]


def write_grid(ws: Any, fmt: Formats, layout: GridLayout, columns: Sequence[Column],
               rows: Sequence[ReportRow], last_row: int, *, kinds: Mapping[str, str],
               notes: Mapping[str, str], validations: Validations, prefill_keys: bool,
               freeze_columns: int, printed: PrintSetup,
               spliced: SplicedRows | None = None) -> None:
    """One grid sheet: headers (comment on each), hidden key row, validations, the rows;
    printed landscape, the headers on every page, the rows of a report (an empty template:
    a page of blank rows to fill by hand), one page wide, or, for a grid wider than any
    template (a Fineract file's report, with Fineract's columns), as many pages wide as
    keep it readable, the row key on every page (the columns printed again must be
    together, and a grid's second column is not always its name).

    With ``spliced`` the rows are not written through xlsxwriter (about 15 microseconds a
    cell) but handed to it, which writes them as XML once the book is closed."""
    first = layout.first_data_row - 1
    for column in columns:
        ws.set_column(column.index, column.index, column.spec.width,
                      fmt.cell(kinds[column.key]) if column.spec.key != STATUS_KEY else None)
    ws.set_row(layout.header_row - 1, 45)
    for column in columns:
        spec = column.spec
        ws.write_string(layout.header_row - 1, column.index, header_text(spec, column.header),
                        fmt.mandatory if spec.mandatory else fmt.header)
        note = notes.get(column.key, spec.help)
        if spec.mandatory:
            note += " Mandatory."
        ws.write_comment(layout.header_row - 1, column.index, note,
                         {"x_scale": 2, "y_scale": 1.2})
    ws.set_row(layout.key_row - 1, None, None, {"hidden": True})
    for column in columns:
        ws.write_string(layout.key_row - 1, column.index, column.key, fmt.key)
    validations(ws, columns, first, last_row - 1)
    ws.freeze_panes(first, freeze_columns)
    by_key = {c.key: c for c in columns}
    status = by_key.get(STATUS_KEY)
    # a status longer than its cell wraps (on paper, it would run off the page)
    room = int(status.spec.width * CHARS_PER_WIDTH) if status is not None else 0
    written = first - 1
    if spliced is not None:
        # the rows' XML is kept aside and put into the package once xlsxwriter closed it;
        # the comments of their cells are xlsxwriter's (a part of their own)
        xml = _GridRowsXml(ws, fmt, first, by_key, kinds, rows, room,
                           last_row if prefill_keys else None)
        spliced.add(ws, xml, max(c.index for c in columns))
        written, rows = xml.written, ()
    for report_row in rows:
        r = report_row.row - 1
        if r <= written:
            continue
        if prefill_keys:
            prefill(ws, fmt, first, written + 1, r)
        if status is not None and len(report_row.status) > room:
            ws.set_row(r, wrapped_height(report_row.status[:2000], status.spec.width))
        ws.write_string(r, 0, report_row.key, fmt.cell("text", ROW_KEY in report_row.errors))
        for key, value in report_row.values.items():
            column = by_key.get(key)
            if column is None or key in (ROW_KEY, STATUS_KEY):
                continue
            write_value(ws, r, column.index, shown_value(column.spec, value),
                        fmt.cell(kinds[key], key in report_row.errors))
        for key in report_row.errors:
            column = by_key.get(key)
            if column is not None and report_row.values.get(key) is None and key != ROW_KEY:
                ws.write_blank(r, column.index, None, fmt.cell(kinds[key], True))
        if status is not None:
            ws.write_string(r, status.index, report_row.status[:32000],
                            fmt.ok if report_row.ok else fmt.bad)
        for key, message in report_row.errors.items():
            column = by_key.get(key) or by_key[ROW_KEY]
            ws.write_comment(r, column.index, message[:2000], {"x_scale": 3, "y_scale": 2})
        written = r
    if prefill_keys and spliced is None:
        prefill(ws, fmt, first, written + 1, last_row)
    last_printed = written + 1 if written >= first else first + TEMPLATE_PRINT_ROWS
    last_column = xl_col_to_name(max(c.index for c in columns))
    widths = [c.spec.width for c in sorted(columns, key=lambda c: c.index)]
    wide = pages_wide(widths, 1)
    replace(printed, repeat=(1, layout.key_row), area=f"A1:{last_column}{last_printed}",
            pages_wide=wide, repeat_columns=(1, 1) if wide > 1 else None
            ).apply_xlsxwriter(ws)


class _GridRowsXml:
    """The XML of a grid's data rows, as xlsxwriter writes the same calls of
    :func:`write_grid` (inline strings, as in its ``constant_memory`` mode), row by row."""

    def __init__(self, ws: Any, fmt: Formats, first: int, by_key: Mapping[str, Column],
                 kinds: Mapping[str, str], rows: Sequence[ReportRow], room: int,
                 prefill_to: int | None) -> None:
        self.ws, self.first, self.rows, self.room = ws, first, rows, room
        self.prefill_to = prefill_to
        self.status = by_key.get(STATUS_KEY)
        self.key_style = {False: fmt.cell("text")._get_xf_index(),
                          True: fmt.cell("text", True)._get_xf_index()}
        self.ok, self.bad = fmt.ok._get_xf_index(), fmt.bad._get_xf_index()
        # column key -> (index, letter, style index without and with an error)
        self.columns = {key: (c.index, ooxml.letter(c.index),
                              fmt.cell(kinds[key])._get_xf_index(),
                              fmt.cell(kinds[key], True)._get_xf_index())
                        for key, c in by_key.items() if key not in (ROW_KEY, STATUS_KEY)}
        self.specs = {key: c.spec for key, c in by_key.items()}
        self.status_letter = ooxml.letter(self.status.index) if self.status else ""
        self.by_key = by_key
        self.written = first - 1  # the last data row written (0-based)
        self.last = first  # the last row with a cell (1-based)

    def __iter__(self) -> Iterator[str]:
        """The rows' XML; each row's comments are given to xlsxwriter as it goes."""
        for report_row in self.rows:
            r = report_row.row - 1
            if r <= self.written:
                continue
            if self.prefill_to is not None:
                yield from self._prefill(self.written + 1, r)
            yield self._row(r, report_row)
            for key, message in report_row.errors.items():
                column = self.by_key.get(key) or self.by_key[ROW_KEY]
                self.ws.write_comment(r, column.index, message[:2000],
                                      {"x_scale": 3, "y_scale": 2})
            self.written, self.last = r, r + 1
        if self.prefill_to is not None:
            yield from self._prefill(self.written + 1, self.prefill_to)
            self.last = max(self.last, self.prefill_to)

    def _prefill(self, start: int, stop: int) -> Iterator[str]:
        style = self.key_style[False]
        for r in range(start, stop):
            yield (f'<row r="{r + 1}"><c r="A{r + 1}" s="{style}" t="inlineStr"><is><t>'
                   f"{r - self.first + 1}</t></is></c></row>")

    def _row(self, r: int, row: ReportRow) -> str:
        n = r + 1
        errors = row.errors
        cells = {0: _string_cell(f"A{n}", self.key_style[ROW_KEY in errors], row.key)}
        for key, value in row.values.items():
            column = self.columns.get(key)
            if column is None:
                continue
            index, letter, plain, red = column
            cells[index] = self._value_cell(f"{letter}{n}", red if key in errors else plain,
                                            shown_value(self.specs[key], value))
        for key in errors:
            column = self.columns.get(key)
            if column is not None and row.values.get(key) is None:
                cells[column[0]] = f'<c r="{column[1]}{n}" s="{column[3]}"/>'
        head = f'<row r="{n}">'
        if self.status is not None:
            cells[self.status.index] = _string_cell(f"{self.status_letter}{n}",
                                                    self.ok if row.ok else self.bad,
                                                    row.status[:32000])
            if len(row.status) > self.room:
                head = self._tall_row(n, wrapped_height(row.status[:2000],
                                                        self.status.spec.width))
        return head + "".join(cells[c] for c in sorted(cells)) + "</row>"

    def _tall_row(self, n: int, height: float) -> str:
        """A row's start tag with its height, as xlsxwriter's ``set_row`` writes it."""
        pixels = int(height * 4.0 / 3.0 + 0.5)
        ws = self.ws
        if pixels == ws.original_row_height == ws.default_row_height:
            return f'<row r="{n}">'
        return f'<row r="{n}" ht="{pixels * 0.75:.16g}" customHeight="1">'

    def _value_cell(self, ref: str, style: int, value: Any) -> str:
        """A value of any type, as :func:`write_value` writes it."""
        if value is None:
            return f'<c r="{ref}" s="{style}"/>'
        if isinstance(value, str):
            return _string_cell(ref, style, value)
        if isinstance(value, bool):
            return f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>'
        if isinstance(value, int | float):
            return f'<c r="{ref}" s="{style}"><v>{value:.16G}</v></c>'
        if isinstance(value, dt.date):
            moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(
                value, dt.time())
            return f'<c r="{ref}" s="{style}"><v>{self.ws._convert_date_time(moment):.16G}</v></c>'
        return _string_cell(ref, style, str(value))


_STRING_MAX = 32767  # UTF-16 units, Excel's limit


def _string_cell(ref: str, style: int, value: str) -> str:
    """An inline string cell (a text longer than Excel's limit cut to it, as xlsxwriter)."""
    if len(value) > _STRING_MAX // 2 and len(value.encode("utf-16-le")) // 2 > _STRING_MAX:
        value = value.encode("utf-16-le")[:2 * _STRING_MAX].decode("utf-16-le", "ignore")
    escaped, preserve = ooxml.text(value)
    space = ' xml:space="preserve"' if preserve else ""
    return f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{escaped}</t></is></c>'


class SplicedRows:
    """The data rows of a workbook's grid sheets, written as XML into the package that
    xlsxwriter wrote: :func:`write_grid` adds each sheet's rows, :meth:`apply` writes them
    once the book is closed (the sheets' other rows, comments, validations and print setup
    are xlsxwriter's)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder  # where the rows wait, as xlsxwriter's own temporary files
        self.sheets: dict[str, tuple[IO[bytes], str]] = {}

    def add(self, ws: Any, rows: _GridRowsXml, last_col: int) -> None:
        """Write the rows of worksheet ``ws`` aside (whose cells reach the column
        ``last_col``, 0-based)."""
        held = tempfile.TemporaryFile(dir=self.folder)
        chunk: list[str] = []
        for row in rows:
            chunk.append(row)
            if len(chunk) == 1000:
                held.write("".join(chunk).encode("utf-8"))
                chunk.clear()
        held.write("".join(chunk).encode("utf-8"))
        held.seek(0)
        self.sheets[f"xl/worksheets/sheet{ws.index + 1}.xml"] = (
            held, f"A1:{ooxml.letter(last_col)}{rows.last}")

    def apply(self, path: Path) -> None:
        """Rewrite the package at ``path`` with the rows in their sheets."""
        if not self.sheets:
            return
        with zipfile.ZipFile(path) as source, replaced_atomically(path, ".xlsx") as tmp, \
                zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED,
                                compresslevel=ooxml.COMPRESS_LEVEL) as target:
            for info in source.infolist():
                data = source.read(info.filename)
                spliced = self.sheets.get(info.filename)
                if spliced is None:
                    target.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED,
                                    compresslevel=ooxml.COMPRESS_LEVEL)
                    continue
                held, dimension = spliced
                xml = data.decode("utf-8")
                xml = re.sub(r'<dimension ref="[^"]*"/>', f'<dimension ref="{dimension}"/>',
                             xml, count=1)
                head, tail = (xml.split("</sheetData>", 1) if "</sheetData>" in xml
                              else xml.split("<sheetData/>", 1))
                if "</sheetData>" not in xml:
                    head += "<sheetData>"
                # by name: deflated as the package's other parts
                with target.open(info.filename, "w", force_zip64=True) as out:
                    out.write(head.encode("utf-8"))
                    shutil.copyfileobj(held, out, 1 << 20)
                    out.write(("</sheetData>" + tail).encode("utf-8"))
                held.close()


def prefill(ws: Any, fmt: Formats, first: int, start: int, stop: int) -> None:
    """Pre-fill the row keys of blank rows start..stop-1 (0-based): the row's position."""
    for r in range(start, stop):
        ws.write_string(r, 0, str(r - first + 1), fmt.cell("text"))


def write_value(ws: Any, r: int, c: int, value: Any, cell_fmt: Any) -> None:
    """A value of any type into a cell, text always as text."""
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


ERROR_COLUMNS = (("Sheet", 14), ("Row", 6), ("Cell", 7), ("Column", 18), ("Row key", 9),
                 ("Client", 20), ("What is wrong", 48), ("How to fix", 42), ("Code", 20))
_WRAPPED = (6, 7)


def locate_errors(errors: Sequence[Mapping[str, Any]],
                  grids: Sequence[tuple[str, Sequence[Column]]], row_shift: int,
                  aliases: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """The errors, each with the sheet, row and cell where its value sits in the report
    (``report_sheet``, ``report_row``, ``report_cell``): a report's sheets and columns are
    its kind's (a Fineract "Employee" sheet's "Office Name" in column A, row 2, is the
    report's sheet "Staff", cell B3). ``aliases`` maps the sheets of the file sent to the
    report's. ``sheet``/``row``/``cell`` stay those of the file that was sent."""
    letters = {name: {c.key: c.letter for c in columns} for name, columns in grids}
    located = []
    for error in errors:
        error = dict(error)
        row, sheet = error.get("row"), error.get("sheet")
        sheet = (aliases or {}).get(sheet, sheet)
        if isinstance(row, int) and sheet in letters:
            error["report_sheet"] = sheet
            error["report_row"] = row + row_shift
            letter = letters[sheet].get(error.get("column") or "")
            if letter is None and not error.get("column"):
                letter = letters[sheet].get(ROW_KEY)
            if letter:  # else a column the report does not have: its row still says where
                error["report_cell"] = f"{letter}{row + row_shift}"
        located.append(error)
    return located


def errors_sheet(ws: Any, fmt: Formats, errors: Sequence[Mapping[str, Any]],
                 printed: PrintSetup) -> None:
    """The report's Errors sheet: a list, one problem per row, with where it is in this
    workbook (row and cell, from :func:`locate_errors`), the client or record, what is wrong
    and how to fix it; wrapped, and printed one page wide with its header on every page."""
    for c, (text, width) in enumerate(ERROR_COLUMNS):
        ws.set_column(c, c, width, fmt.wrap_cell)
        ws.write_string(0, c, text, fmt.header)
    ws.freeze_panes(1, 0)
    for r, error in enumerate(errors, start=1):
        values = [error.get("report_sheet", error.get("sheet")),
                  error.get("report_row", error.get("row")),
                  # a located error names the report's cell, or none: never the cell
                  # of the file sent, which is another place in the report
                  error.get("report_cell") if "report_row" in error else error.get("cell"),
                  error.get("column_header") or error.get("column"), error.get("row_key"),
                  error.get("client"), error.get("message"), error.get("how_to_fix"),
                  error.get("code")]
        ws.set_row(r, max(wrapped_height(str(values[c] or ""), ERROR_COLUMNS[c][1])
                          for c in _WRAPPED))
        for c, value in enumerate(values):
            if value is None:
                continue
            if isinstance(value, int):
                ws.write_number(r, c, value, fmt.wrap_cell)
            else:
                ws.write_string(r, c, str(value), fmt.wrap_cell)
    replace(printed, repeat=(1, 1)).apply_xlsxwriter(ws)
