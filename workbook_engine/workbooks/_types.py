"""Data types and the error of the safe reader (see :mod:`workbook_engine.workbooks.safe_read`).

Kept in a private module so the helper modules (pre-checks, child process)
can import them without importing the orchestration code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property
from typing import Literal

CellValue = str | int | float | bool | date | datetime | time | None
WorkbookFormat = Literal["xlsx", "xlsm", "xls", "ods", "csv"]


@dataclass(frozen=True)
class ReadLimits:
    """Resource limits applied to one spreadsheet file.

    All byte sizes are in bytes.  ``memory_bytes`` is the ``RLIMIT_AS``
    (virtual address space) of the child process that parses the file; with
    the "fork" start method the child starts as a copy of the parent, so the
    parent's own address space (about 200 MB for an interpreter with pandas
    imported) counts against it.
    """

    max_file_bytes: int = 20 * 2**20
    #: Sum of the uncompressed sizes of all zip members, checked on the declared
    #: sizes (central directory) and again on the bytes actually inflated.
    max_uncompressed_bytes: int = 200 * 2**20
    #: Per member: uncompressed / compressed size.  Only applied to members
    #: larger than 1 MiB uncompressed (tiny XML parts legitimately compress well).
    max_compression_ratio: int = 200
    max_zip_members: int = 2000
    max_sheets: int = 50
    max_rows: int = 200_000
    #: 256: every column of an .xls sheet (A..IV). Mifos X / Fineract import workbooks
    #: keep their lookup tables in IR..IV, to the right of the data.
    max_columns: int = 256
    max_cell_chars: int = 32_767  # Excel's own limit
    timeout_seconds: float = 60.0
    memory_bytes: int = 1024 * 2**20  # RLIMIT_AS of the child process

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"ReadLimits.{f.name} must be a number, got {value!r}")
            if value <= 0:
                raise ValueError(f"ReadLimits.{f.name} must be positive, got {value!r}")
            if f.name != "timeout_seconds" and not isinstance(value, int):
                raise ValueError(f"ReadLimits.{f.name} must be an integer, got {value!r}")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> ReadLimits:
        """Build limits from a mapping (e.g. loaded from a ``rules/`` YAML file).

        Missing keys keep their defaults.  Unknown keys, non-numeric or
        non-positive values raise :class:`ValueError`.
        """
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(str(k) for k in data if k not in known)
        if unknown:
            raise ValueError(f"unknown read limit(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**{str(k): v for k, v in data.items()})  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class RawCell:
    """One non-empty cell.

    ``formula`` is the formula text WITH its leading ``'='`` (as Excel shows it
    in the formula bar and as openpyxl returns it), or ``None``.  A formula cell
    whose file carries no cached result has ``value=None``.
    """

    row: int  # 1-based, as Excel shows it
    column: int  # 1-based
    value: CellValue
    formula: str | None = None


@dataclass(frozen=True)
class RawSheet:
    """One worksheet, held column by column (no object per cell).

    ``columns[c - 1][r - 1]`` is the value at 1-based (row ``r``, column ``c``), ``None``
    when the cell is empty; every column has ``max_row`` entries. Equal values of a
    column are one shared object (the reader deduplicates them), which keeps a sheet of
    100,000 rows small. ``formulas`` maps (row, column) to the formula text of the cells
    that have one.
    """

    name: str
    visible: bool  # False for hidden and very hidden sheets
    columns: list[list[CellValue]]
    max_row: int  # of the non-empty cells actually found (0 for an empty sheet)
    max_column: int
    formulas: dict[tuple[int, int], str] = field(default_factory=dict)

    def value(self, row: int, column: int) -> object | None:
        """Value at 1-based (row, column), or ``None`` when the cell is empty."""
        if 0 < column <= self.max_column and 0 < row <= self.max_row:
            return self.columns[column - 1][row - 1]
        return None

    def column(self, column: int) -> list[CellValue]:
        """The values of a 1-based column, rows 1..max_row (``None`` for empty cells)."""
        if 0 < column <= self.max_column:
            return self.columns[column - 1]
        return [None] * self.max_row

    @cached_property
    def cells(self) -> dict[tuple[int, int], RawCell]:
        """Every non-empty cell (or cell with a formula) by 1-based (row, column).

        Built on first use: one object per cell, meant for small sheets.
        """
        out: dict[tuple[int, int], RawCell] = {}
        for c, values in enumerate(self.columns, start=1):
            for r, v in enumerate(values, start=1):
                if v is not None:
                    out[(r, c)] = RawCell(r, c, v, self.formulas.get((r, c)))
        for (r, c), text in self.formulas.items():
            if (r, c) not in out:
                out[(r, c)] = RawCell(r, c, None, text)
        return out

    def rows(self) -> Iterator[tuple[int, list[object | None]]]:
        """Yield ``(row_number, values)`` for each row that has a cell.

        ``values`` is dense, columns 1..max_column, ``None`` for empty cells.
        """
        with_formula = {r for r, _ in self.formulas}
        for r, values in enumerate(zip(*self.columns, strict=True), start=1):
            if r in with_formula or any(v is not None for v in values):
                yield r, list(values)


@dataclass(frozen=True)
class RawWorkbook:
    """The values (and formula texts) of a spreadsheet file, nothing else."""

    format: WorkbookFormat
    sheets: list[RawSheet]  # in workbook order
    has_macros: bool = False
    _by_name: dict[str, RawSheet] = field(default_factory=dict, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        for s in self.sheets:
            self._by_name.setdefault(s.name.casefold(), s)

    def sheet(self, name: str) -> RawSheet | None:
        """The sheet called ``name`` (case-insensitive), or ``None``."""
        return self._by_name.get(name.casefold())

    def release(self) -> None:
        """Drop every sheet: a reader that has taken what it needs frees the cells before
        the (longer) validation, whoever else still holds this object."""
        self.sheets.clear()
        self._by_name.clear()


#: Stable error codes -> default message (one plain sentence: what is wrong and what to do).
MESSAGES: dict[str, str] = {
    "file-empty": "The file is empty (0 bytes); please save the workbook again in Excel and re-send it.",
    "file-too-large": "The file is too large to be processed; please remove unused sheets or rows, or split it into smaller workbooks, and re-send it.",
    "not-a-spreadsheet": "The file is not a spreadsheet (or is damaged); please open it in Excel, save it as an Excel Workbook (.xlsx) and re-send it.",
    "zip-corrupt": "The file is damaged or incomplete, perhaps cut off while being sent; please save the workbook again in Excel and re-send it.",
    "zip-bomb": "The file is packed in an abnormal way that could overload the system; please open it in Excel, save it again as a new .xlsx file and re-send it.",
    "xml-unsafe": "The file contains unsafe hidden content that is not allowed; please copy the data into a new workbook created in Excel and re-send it.",
    "encrypted": "The file is protected with a password; please remove the password (File > Info > Protect Workbook) and re-send it.",
    "format-not-accepted": "This kind of file is not accepted here; please save the workbook as an Excel Workbook (.xlsx) and re-send it.",
    "too-many-sheets": "The workbook has too many sheets; please delete the sheets that are not needed and re-send it.",
    "sheet-too-large": "A sheet is too large (too many rows or columns in use); please delete unused rows and columns, save and re-send the file.",
    "cell-too-long": "A cell contains too much text; please shorten the text in that cell and re-send the file.",
    "reader-crashed": "The file made the spreadsheet reader fail, so it may be damaged; please open it in Excel, save it as a new .xlsx file and re-send it.",
    "reader-timeout": "The file took too long to read; please remove unused sheets, rows and formulas, or split the workbook, and re-send it.",
    "reader-out-of-memory": "The file needs too much memory to read; please remove unused sheets, rows and columns, or split the workbook, and re-send it.",
}


class UnreadableFile(Exception):
    """A user-supplied file that cannot be read safely.

    ``code`` is one of :data:`MESSAGES` (stable, for programs), ``message`` is
    one plain sentence for the loan officer, ``detail`` is technical detail
    for logs (never shown to the user; may be ``None``).
    """

    code: str
    message: str
    detail: str | None

    def __init__(self, code: str, message: str | None = None, detail: str | None = None) -> None:
        if code not in MESSAGES:
            raise ValueError(f"unknown UnreadableFile code {code!r}")
        self.code = code
        self.message = message if message is not None else MESSAGES[code]
        self.detail = detail
        super().__init__(f"[{code}] {self.message}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[object, ...]:
        return (UnreadableFile, (self.code, self.message, self.detail))
