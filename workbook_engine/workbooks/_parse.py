"""The actual parsing, run inside the isolated child process.

Values come from python-calamine (fast, native, gives date/datetime/time).
Formula texts for xlsx/xlsm come from a streamed defusedxml ``iterparse`` of
the sheet XML, and only for sheet parts in which the parent's byte scan saw an
``<f>`` element, so workbooks without formulas pay nothing for it.

Each sheet goes back to the parent column by column (:func:`_columns`): the rows calamine
gives are transposed, each column normalised once per distinct value, and equal values of a
column become one shared object, so pickling 100,000 rows writes each repeated office, date or
code once and the parent unpickles plain lists, with no object per cell (measured on 100,000
client rows x 20 columns: the answer went from 28 MB of per-cell tuples, 1.1 s to pickle and
3 s to rebuild as cell objects, to 10 MB, 0.1 s and nothing to rebuild).

Measured (benchmarks/read_speed.py, 2000x20 cells): calamine ~21 ms,
openpyxl read-only ~265 ms, read_workbook ~110 ms without formulas and
~280 ms with a formula column (the iterparse pass dominates; a bare pyexpat
handler pass measured ~90 ms instead of ~170 ms and is the next step if
formula-heavy sheets matter).  openpyxl read-only was not chosen because it
parses every cell in Python even when there is no formula.
"""

from __future__ import annotations

import bisect
import csv
import functools
import io
import math
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from xml.parsers import expat

import python_calamine as pc
from openpyxl.formula.translate import Translator, TranslatorError

from ._sniff import detect_delimiter
from ._types import CellValue, RawSheet, RawWorkbook, ReadLimits, UnreadableFile
from ._zipcheck import SheetPart, col_letters, split_ref


#: What the child sends back: cheap to pickle (lists and tuples only, no dataclasses), column by
#: column, equal values of a column shared (pickle then writes each once).
#: (format, has_macros, [(name, visible, max_row, max_col, columns, [(row, col, formula), ...]), ...])
WireSheet = tuple[str, bool, int, int, list[list[CellValue]], list[tuple[int, int, str]]]
Wire = tuple[str, bool, list[WireSheet]]


def build(wire: Wire) -> RawWorkbook:
    """Turn the child's compact answer into the public dataclasses (in the parent)."""
    fmt, has_macros, wsheets = wire
    sheets = [RawSheet(name=name, visible=visible, columns=columns, max_row=max_row,
                       max_column=max_col, formulas={(r, c): f for r, c, f in formulas})
              for name, visible, max_row, max_col, columns, formulas in wsheets]
    return RawWorkbook(format=fmt, sheets=sheets, has_macros=has_macros)  # type: ignore[arg-type]


@dataclass
class ParseJob:
    """Everything the child needs (picklable, for the spawn start method)."""

    path: str
    format: str  # xlsx | xlsm | xls | ods | csv
    limits: ReadLimits
    has_macros: bool = False
    sheets: list[SheetPart] = field(default_factory=list)  # xlsx/xlsm only
    formula_parts: set[str] = field(default_factory=set)
    formula_xml: dict[str, bytes] = field(default_factory=dict)  # parts the parent inflated
    encoding: str | None = None  # csv only
    sheet_name: str = ""  # csv only


def cell_ref(sheet: str, row: int, column: int) -> str:
    """"Sheet 'Collection', cell D12"."""
    return f"Sheet '{sheet}', cell {col_letters(column)}{row}"


def _too_long(sheet: str, row: int, column: int, n: int, limits: ReadLimits) -> UnreadableFile:
    where = cell_ref(sheet, row, column)
    return UnreadableFile(
        "cell-too-long",
        message=f"{where} contains {n:,} characters but at most {limits.max_cell_chars:,} are allowed; "
        "please shorten the text in that cell and re-send the file.",
        detail=f"{where}: {n} chars",
    )


def _too_large(sheet: str, rows: int, cols: int, limits: ReadLimits) -> UnreadableFile:
    return UnreadableFile(
        "sheet-too-large",
        message=f"Sheet '{sheet}' uses {rows:,} rows and {cols:,} columns but at most {limits.max_rows:,} rows and "
        f"{limits.max_columns:,} columns are allowed; please delete unused rows and columns, save and re-send the file.",
        detail=f"found while reading: {rows} rows x {cols} columns",
    )


def _normalise(v: object) -> CellValue:
    """Calamine value -> RawSheet value (integral floats become int)."""
    if isinstance(v, bool) or v is None or isinstance(v, (str, int, datetime, date, time)):
        return v  # type: ignore[return-value]
    if isinstance(v, float):
        if math.isfinite(v) and v.is_integer() and abs(v) < 2**53:
            return int(v)
        return v
    if isinstance(v, timedelta):
        # durations ([h]:mm): a time of day when under a day, else Excel's serial (days) as a float
        if timedelta(0) <= v < timedelta(days=1):
            return (datetime.min + v).time()
        return v.total_seconds() / 86400
    return str(v)


#: Types whose values pass through unchanged (so a column of them needs no per-cell work).
_AS_IS = frozenset({str, int, bool, date, datetime, time})
_NUMBERS = frozenset({bool, int, float})


def _column(raw: tuple[object, ...], name: str, column: int, limits: ReadLimits) -> list[CellValue]:
    """One column of raw values ('' for empty) -> normalised values, None for empty.

    Each distinct value is looked at once and equal values end up as one shared object,
    so a column of 100,000 cells costs a few C-level passes, not 100,000 Python calls.
    """
    types = set(map(type, raw))
    if len(types & _NUMBERS) > 1:  # True == 1 == 1.0 would share one dict key: cell by cell
        for r0, v in enumerate(raw):
            if isinstance(v, str) and len(v) > limits.max_cell_chars:
                raise _too_long(name, r0 + 1, column, len(v), limits)
        return [None if v == "" or v is None else _normalise(v) for v in raw]
    distinct = dict.fromkeys(raw)
    strings = distinct if types == {str} else [v for v in distinct if isinstance(v, str)]
    if strings and max(map(len, strings)) > limits.max_cell_chars:
        for r0, v in enumerate(raw):
            if isinstance(v, str) and len(v) > limits.max_cell_chars:
                raise _too_long(name, r0 + 1, column, len(v), limits)
    if types <= _AS_IS:
        canonical: dict[object, CellValue] = dict(zip(distinct, distinct))  # type: ignore[arg-type]
    else:
        canonical = {v: _normalise(v) for v in distinct}
    if "" in canonical:
        canonical[""] = None
    if None in canonical:
        canonical[None] = None
    return list(map(canonical.__getitem__, raw))


def _columns(rows: list[list[object]], name: str, limits: ReadLimits) -> tuple[list[list[CellValue]], int, int]:
    """Rows anchored at A1 ('' or None for empty cells) -> (columns, max_row, max_column),
    trimmed to the last non-empty row and column; raises on the row/column/cell limits."""
    if not rows:
        return [], 0, 0
    width = max(map(len, rows))
    if len(rows) > limits.max_rows or width > limits.max_columns:
        raise _too_large(name, len(rows), width, limits)
    if any(len(row) != width for row in rows):
        rows = [row if len(row) == width else [*row, *[""] * (width - len(row))] for row in rows]
    columns = [_column(raw, name, c0 + 1, limits) for c0, raw in enumerate(zip(*rows))]
    max_row = max_col = 0
    for c0, values in enumerate(columns):
        last = len(values)
        while last and values[last - 1] is None:
            last -= 1
        if last:
            max_row, max_col = max(max_row, last), c0 + 1
    del columns[max_col:]
    for values in columns:
        del values[max_row:]
    return columns, max_row, max_col


def _add_formulas(columns: list[list[CellValue]], max_row: int, max_col: int,
                  formulas: list[tuple[int, int, str]]) -> tuple[int, int]:
    """Widen the grid to the formula cells (a formula without a cached value is a cell too)."""
    rows = max([max_row, *(r for r, _, _ in formulas)])
    cols = max([max_col, *(c for _, c, _ in formulas)])
    for values in columns:
        values.extend([None] * (rows - len(values)))
    columns.extend([None] * rows for _ in range(cols - len(columns)))
    return rows, cols


def parse(job: ParseJob) -> Wire:
    """Parse the file described by ``job`` (in the child); raise :class:`UnreadableFile` on limits."""
    if job.format == "csv":
        return _parse_csv(job)
    return _parse_calamine(job)


def _parse_calamine(job: ParseJob) -> Wire:
    limits = job.limits
    try:
        wb = pc.CalamineWorkbook.from_path(job.path)
    except pc.PasswordError as e:
        raise UnreadableFile("encrypted", detail=f"calamine: {e}") from e
    metas = wb.sheets_metadata
    if len(metas) > limits.max_sheets:
        raise UnreadableFile(
            "too-many-sheets",
            message=f"The workbook has {len(metas)} sheets but at most {limits.max_sheets} are allowed; "
            "please delete the sheets that are not needed and re-send it.",
        )
    parts = {s.name: s for s in job.sheets}
    sheets: list[WireSheet] = []
    for meta in metas:
        if meta.typ != pc.SheetTypeEnum.WorkSheet:
            continue  # chart sheets, dialog and macro sheets carry no cell data we use
        name = meta.name
        sheet = wb.get_sheet_by_name(name)
        end = sheet.end
        if end is not None and (end[0] + 1 > limits.max_rows or end[1] + 1 > limits.max_columns):
            raise _too_large(name, end[0] + 1, end[1] + 1, limits)
        columns: list[list[CellValue]] = []
        max_row = max_col = 0
        if end is not None:
            # to_python(skip_empty_area=False) is anchored at A1 for every format.
            rows = sheet.to_python(skip_empty_area=False)
            del sheet
            columns, max_row, max_col = _columns(rows, name, limits)
            del rows
        formulas: list[tuple[int, int, str]] = []
        part = parts.get(name)
        if part is not None and part.part in job.formula_parts:
            for (r, c), text in _formulas(job.path, part.part,
                                          job.formula_xml.get(part.part)).items():
                if r > limits.max_rows or c > limits.max_columns:
                    raise _too_large(name, r, c, limits)
                if len(text) > limits.max_cell_chars:
                    raise _too_long(name, r, c, len(text), limits)
                formulas.append((r, c, text))
            max_row, max_col = _add_formulas(columns, max_row, max_col, formulas)
        visible = meta.visible == pc.SheetVisibleEnum.Visible
        sheets.append((name, visible, max_row, max_col, columns, formulas))
    return (job.format, job.has_macros, sheets)


class _FormulaScan:
    """pyexpat handlers collecting ``(row, col) -> formula`` from one sheet XML, in document
    order: the element tree that ``iterparse`` builds for every cell cost ~4x the scan."""

    def __init__(self) -> None:
        self.out: dict[tuple[int, int], str] = {}
        self.shared: dict[str, tuple[str, str]] = {}  # si -> (formula, origin ref)
        self.cells: list[list[object]] = []  # open <c>: [ref, f attributes or None, text]
        self.depth = 0
        self.in_f = False
        self.f_depth = 0
        self.text: list[str] = []

    def start(self, tag: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        local = tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
        if local == "c":
            self.cells.append([attrs.get("r"), None, "", self.depth])
        elif (local == "f" and self.cells and self.cells[-1][1] is None
              and self.cells[-1][3] == self.depth - 1):
            self.cells[-1][1] = attrs
            self.in_f, self.f_depth, self.text = True, self.depth, []
        elif self.in_f:
            self.in_f = False  # a child of <f>: its text was all before it (ElementTree's .text)
            self.cells[-1][2] = "".join(self.text)

    def chars(self, data: str) -> None:
        if self.in_f:
            self.text.append(data)

    def end(self, tag: str) -> None:
        if self.in_f and self.depth == self.f_depth:
            self.in_f = False
            self.cells[-1][2] = "".join(self.text)
        self.depth -= 1
        if (self.cells and tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1] == "c"
                and self.cells[-1][3] == self.depth + 1):
            ref, attrs, text, _ = self.cells.pop()
            if attrs is not None and ref:
                self._cell(str(ref), attrs, str(text))  # type: ignore[arg-type]

    def _cell(self, ref: str, attrs: dict[str, str], text: str) -> None:
        si = attrs.get("si")
        if attrs.get("t") == "shared" and si is not None:
            if text:
                self.shared[si] = (text, ref)
            elif si in self.shared:
                base, origin = self.shared[si]
                try:
                    text = Translator("=" + base, origin=origin).translate_formula(ref)[1:]
                except (TranslatorError, ValueError):
                    text = base
        if text:
            try:
                self.out[split_ref(ref)] = "=" + text
            except ValueError:
                pass


def _refuse_dtd(*_: object) -> None:
    raise UnreadableFile("xml-unsafe", detail="a DTD or entity declaration in a sheet")


# A cell's start and end tag, a formula's start tag (any namespace prefix).
_CELL_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?c[\s/>]")
_CELL_END = re.compile(rb"</(?:[A-Za-z_][\w.\-]*:)?c\s*>")
_FORMULA_START = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?f[\s/>]")
_MARKUP_DECLARATION = re.compile(rb"<[!?]")
_ENCODING = re.compile(rb"""encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_FRAGMENTS_UP_TO = 16 << 20  # bytes of sheet XML held whole for the cell-by-cell scan


def _formulas(path: str, part: str, xml: bytes | None = None) -> dict[tuple[int, int], str]:
    """(row, col) -> formula text with leading '=' from one sheet XML, through pyexpat (no
    DTD, no entity: refused, as the parent's scan already did). ``xml``: the part's bytes
    as the parent inflated and checked them, if it handed them over (else read here).

    Only the cells that hold a formula go through the handlers when the XML has no
    comment, CDATA section or processing instruction (where a ``<`` may not start a tag):
    each cell from its start tag to the first end tag after its ``<f``, parsed alone, in
    document order. Anything else, or a cell that is not a well-formed element on its
    own, is scanned whole, as before."""
    if xml is not None and len(xml) <= _FRAGMENTS_UP_TO:
        found = _formula_cells(xml)
        if found is not None:
            return found
        return _formulas_streamed(path, part, xml)
    with zipfile.ZipFile(path) as zf:
        if zf.getinfo(part).file_size <= _FRAGMENTS_UP_TO:
            found = _formula_cells(zf.read(part))
            if found is not None:
                return found
    return _formulas_streamed(path, part)


def _formula_cells(xml: bytes) -> dict[tuple[int, int], str] | None:
    """The formulas of the cells that have one, or None (scan the whole sheet)."""
    body = xml
    if xml.startswith(b"<?xml") and b"?>" in xml:
        end = xml.index(b"?>")
        encoding = _ENCODING.search(xml, 0, end)
        if encoding is not None and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
            return None  # the cells alone would be read as UTF-8
        body = xml[end + 2:]
    if _MARKUP_DECLARATION.search(body) or b"\x00" in body:
        return None  # also UTF-16 (a byte-order mark, or no declaration)
    simple = _simple_formulas(body)
    if simple is not None:
        return simple
    starts = [m.start() for m in _CELL_START.finditer(body)]
    scan = _FormulaScan()
    done = 0  # where the last cell scanned ends
    for formula in _FORMULA_START.finditer(body):
        at = bisect.bisect_right(starts, formula.start()) - 1
        if at < 0:
            return None  # a formula outside any cell: let the full scan judge it
        start = starts[at]
        if start < done:
            continue  # a second formula in a cell already scanned
        end = _CELL_END.search(body, formula.end())
        if end is None:
            return None
        parser = expat.ParserCreate()
        parser.StartElementHandler = scan.start
        parser.EndElementHandler = scan.end
        parser.CharacterDataHandler = scan.chars
        parser.buffer_text = True
        try:
            parser.Parse(body[start:end.end()], True)
        except expat.ExpatError:
            return None
        done = end.end()
    return scan.out


# A cell whose first child is a formula without attributes (not shared, not an array), and
# that holds nothing but it and its cached value: what the engine's writer, and most
# producers for a plain formula, write. No prefix, no entity, no carriage return (nothing for
# an XML parser to replace in the formula's text).
_W = rb"[ \t\r\n]"
_SIMPLE_FORMULA_CELL = re.compile(
    rb'<c((?:' + _W + rb'+[A-Za-z_][\w.\-:]*="[^"<&]*")*)' + _W + rb'*>' + _W + rb'*'
    rb'(<f>)([^<&\r]*)</f' + _W + rb'*>' + _W + rb'*'
    rb'(?:<v' + _W + rb'*/>|<v>[^<&]*</v' + _W + rb'*>)?' + _W + rb'*</c' + _W + rb'*>')
_ATTRIBUTE = re.compile(rb'([A-Za-z_][\w.\-:]*)="([^"]*)"')


# The cell as the engine's writer and openpyxl write it: the cell's address, perhaps its
# style and type, the formula and an empty or plain cached value. Every cell it matches,
# _SIMPLE_FORMULA_CELL matches the same way (the same address and text), with no call per
# attribute: a sheet of 40 rows has about a hundred of them.
_WRITER_FORMULA_CELL = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"(?: s="[0-9]{1,10}")?(?: t="[a-z]{1,12}")?>'
    rb'(<f>)([^<&\r]*)</f>(?:<v ?/>|<v>[^<&]*</v>)?</c>')
# Searching bytes for a short literal, a compiled pattern takes half the time of ``in``.
_COLON_F = re.compile(rb":f")
_FORMULA_TAG = re.compile(rb"<f[ \t\r\n\x0b\x0c/>]")  # a formula's start tag, no prefix


def _simple_formulas(body: bytes) -> dict[tuple[int, int], str] | None:
    """The formulas of a sheet XML (markup without comments, CDATA or processing
    instructions) when every formula is in a simple cell (``_SIMPLE_FORMULA_CELL``): each
    ``<f`` matched from its cell's start tag, the ``<`` before it, with no parser; else None.
    What pyexpat reads from those cells: the text of the ``<f>``, under the cell's ``r``."""
    if _COLON_F.search(body):  # perhaps a formula with a namespace prefix
        return None
    out: dict[tuple[int, int], str] = {}
    for tag in _FORMULA_TAG.finditer(body):
        at = tag.start()
        start = body.rfind(b"<", 0, at)
        cell = _WRITER_FORMULA_CELL.match(body, start)
        if cell is not None and cell.start(3) == at:
            text = cell.group(4)
            if text:
                try:
                    out[int(cell.group(2)), _column_number(cell.group(1))] = \
                        "=" + text.decode("utf-8")
                except UnicodeDecodeError:
                    return None
            continue
        cell = _SIMPLE_FORMULA_CELL.match(body, start)
        if cell is None or cell.start(2) != at:
            return None
        attributes = _ATTRIBUTE.findall(cell.group(1))
        names = {name for name, _ in attributes}
        if len(names) != len(attributes):
            return None  # a repeated attribute: not well-formed
        ref, text = dict(attributes).get(b"r"), cell.group(3)
        if ref and text:
            try:
                out[split_ref(ref.decode("utf-8"))] = "=" + text.decode("utf-8")
            except UnicodeDecodeError:
                return None
            except ValueError:
                pass  # not a cell reference: pyexpat's reading skips it too
    return out


@functools.lru_cache(maxsize=4096)
def _column_number(letters: bytes) -> int:
    """b"AB" -> 28 (upper-case letters)."""
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _formulas_streamed(path: str, part: str, xml: bytes | None = None
                       ) -> dict[tuple[int, int], str]:
    """The formulas of one sheet XML (``xml``, else read from the file), every element of
    it through the handlers."""
    scan = _FormulaScan()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.StartElementHandler = scan.start
    parser.EndElementHandler = scan.end
    parser.CharacterDataHandler = scan.chars
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_dtd
    parser.ExternalEntityRefHandler = _refuse_dtd  # type: ignore[assignment]
    parser.buffer_text = True
    if xml is not None:
        parser.Parse(xml, True)
        return scan.out
    with zipfile.ZipFile(path) as zf, zf.open(part) as stream:
        while chunk := stream.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    return scan.out


def _parse_csv(job: ParseJob) -> Wire:
    limits = job.limits
    raw = Path(job.path).read_bytes()
    enc = job.encoding or "utf-8-sig"
    try:
        text = raw.decode(enc)
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    csv.field_size_limit(max(limits.max_file_bytes, 131072))  # we report over-long cells ourselves
    name = job.sheet_name
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text[:65536]))
        rows: list[list[object]] = []
        for r, row in enumerate(reader, start=1):
            if r > limits.max_rows or len(row) > limits.max_columns:
                raise _too_large(name, r, len(row), limits)
            rows.append(row)  # type: ignore[arg-type]
    except csv.Error as e:
        raise UnreadableFile("not-a-spreadsheet", detail=f"csv: {e}") from e
    columns, max_row, max_col = _columns(rows, name, limits)
    return ("csv", False, [(name, True, max_row, max_col, columns, [])])
