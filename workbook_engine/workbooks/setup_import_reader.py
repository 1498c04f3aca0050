"""Reading a setup or migration workbook: our template (by its signed kind and hidden key
row) or a Mifos X / Fineract import workbook (by its sheet name and column headers).

The grids are read by :func:`workbooks.grid.read_grid` from the one declaration of each kind
(``workbooks.setup_import_sheet``); nothing here knows a column by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openpyxl.utils import column_index_from_string, get_column_letter

from workbook_engine.errors import Problem
from workbook_engine.errors.setup_import import SETUP_COLUMN_MISSING
from workbook_engine.workbooks._types import RawSheet, RawWorkbook
from workbook_engine.workbooks.declaration import CellType
from workbook_engine.workbooks.grid import GridSheet, empty_grid, norm, read_grid
from workbook_engine.workbooks.setup_import_sheet import (
    FINERACT,
    FINERACT_DERIVED,
    ROW_KEY,
    SETUP_KINDS,
    SetupKind,
    SetupSheet,
    columns_for,
)

# The most specific first: several Fineract workbooks carry an "Offices" lookup sheet.
_FINERACT_ORDER = ("repayments", "savings_history", "loans", "savings", "groups", "centers",
                   "staff", "offices")


@dataclass
class SetupFile:
    """A setup workbook as read: its kind, layout and grids (in the kind's sheet order)."""

    kind: SetupKind
    layout: str  # "template" | "fineract"
    grids: list[tuple[SetupSheet, GridSheet]]
    problems: list[Problem] = field(default_factory=list)  # about the file as a whole
    row_shift: int = 0  # how far a row moves down in our layout (a Fineract sheet has no key row)


def read_setup_template(book: RawWorkbook, kind: SetupKind,
                        variant: str | None = None) -> SetupFile:
    """Read our own template of ``kind`` (identified by its signed metadata); ``variant``
    "fineract" for the report of a Mifos X / Fineract file, read as that file was."""
    problems: list[Problem] = []
    grids = []
    layout = kind.workbook
    read_as = FINERACT if variant == FINERACT else "template"
    for sheet in kind.sheets:
        raw = book.sheet(sheet.name)
        grid = empty_grid(sheet.name) if raw is None else read_grid(
            raw, columns_for(sheet, read_as), None, layout.header_row, layout.key_row,
            problems, missing=SETUP_COLUMN_MISSING)
        grids.append((sheet, carry_down(grid, sheet.carried)))
    return SetupFile(kind, read_as, grids, problems)


def _required(sheet: SetupSheet) -> list[set[str]]:
    """For each mandatory column of a Fineract sheet, the headers it may go by."""
    return [{norm(h) for h in (c.header, *c.aliases)} for c in columns_for(sheet, FINERACT)
            if c.mandatory and c.key != ROW_KEY and c.key not in FINERACT_DERIVED]


def fineract_setup_layout(book: RawWorkbook,
                          ) -> tuple[SetupKind, SetupSheet, RawSheet, int] | None:
    """(kind, sheet, raw sheet, header row) when the workbook is a Fineract workbook of a
    setup kind (unsigned; recognised by its sheet and the headers of its mandatory columns)."""
    for key in _FINERACT_ORDER:
        kind = SETUP_KINDS[key]
        for sheet in kind.sheets:
            for name in sheet.fineract_sheets:
                raw = book.sheet(name)
                if raw is None:
                    continue
                for row in range(1, min(raw.max_row, 5) + 1):
                    headers = {norm(v) for v in (raw.value(row, c)
                                                 for c in range(1, raw.max_column + 1)) if v}
                    if all(options & headers for options in _required(sheet)):
                        return kind, sheet, raw, row
    return None


def read_setup_fineract(book: RawWorkbook) -> SetupFile:
    """Read a Fineract workbook of a setup kind (call :func:`fineract_setup_layout` first)."""
    found = fineract_setup_layout(book)
    if found is None:
        raise ValueError("not a Mifos X / Fineract workbook of a setup kind")
    kind, sheet, raw, header_row = found
    problems: list[Problem] = []
    grid = read_grid(raw, columns_for(sheet, FINERACT), FINERACT, header_row, None, problems,
                     missing=SETUP_COLUMN_MISSING)
    _add_unnamed(raw, sheet, grid, header_row)
    names = {c.key for c in columns_for(sheet, FINERACT)
             if c.type is CellType.TEXT or c.choices is not None}
    grid = carry_down(without_formula_rows(raw, grid, names), sheet.carried)
    return SetupFile(kind, FINERACT, [(sheet, grid)], problems, row_shift=1)


def carry_down(grid: GridSheet, carried: tuple[str, ...]) -> GridSheet:
    """A row whose first ``carried`` cell is blank takes the ``carried`` cells it leaves
    blank from the row above (as Fineract's history handlers do: a repayment or savings
    transaction without an account number belongs to the account of the row above)."""
    if not carried or carried[0] not in grid.columns:
        return grid
    trigger = grid.columns[carried[0]]
    for i in range(1, len(grid.rows)):
        if trigger[i] is not None:
            continue
        for key in carried:
            column = grid.columns.get(key)
            if column is not None and column[i] is None:
                column[i] = column[i - 1]
    return grid


def _add_unnamed(raw: RawSheet, sheet: SetupSheet, grid: GridSheet, header_row: int) -> None:
    """Fineract's headerless columns (the unit right of "Repaid Every", the period right of
    "Nominal Interest %"), found next to their neighbour when their own header is blank."""
    for key, left in sheet.fineract_unnamed:
        letter = grid.letters.get(left)
        if letter is None or key in grid.letters:
            continue
        col = column_index_from_string(letter) + 1
        if raw.value(header_row, col) not in (None, ""):
            continue
        cells = raw.column(col) if col <= raw.max_column else []
        grid.letters[key] = get_column_letter(col)
        grid.headers[key] = f"{grid.headers.get(left, left)} (unit)"
        grid.columns[key] = [cells[r - 1] if r - 1 < len(cells) and cells[r - 1] != ""
                             else None for r in grid.rows]


def _noise(value: Any) -> bool:
    """What a formula Fineract writes into every row shows before anyone fills the row: the
    zero Apache POI caches (it never calculates), or the empty text Excel calculates."""
    return value is None or value == 0 and not isinstance(value, bool) or value == ""


def without_formula_rows(raw: RawSheet, grid: GridSheet,
                         names: set[str] = frozenset()) -> GridSheet:  # type: ignore[assignment]
    """The grid without the rows that only hold what Fineract's own formulas put there.

    Fineract's populators write formulas into the first 1,000 (loans, savings) or 3,000
    (repayments, transactions, offices) rows of a sheet, each showing a cached zero until
    the row is filled; a row whose every cell is such a formula cell, or a zero or blank,
    is empty in effect. A row with anything typed in it (a name, a date, an amount that is
    not zero) is kept, and its empty mandatory cells are reported on the row. In an .xls the
    formulas are not known, only their cached values: a zero in a column of ``names`` (a
    client's external id looked up by a formula) is taken as empty too.
    """
    columns_at = {key: column_index_from_string(letter) for key, letter in grid.letters.items()}
    keep = []
    for i, row in enumerate(grid.rows):
        typed = False
        for key, column in grid.columns.items():
            value = column[i]
            if _noise(value) and ((row, columns_at.get(key, 0)) in raw.formulas
                                  or key in names):
                column[i] = None  # a formula's cached zero is not a value typed in
            elif not _noise(value):
                typed = True
        if typed:
            keep.append(i)
    if len(keep) == len(grid.rows):
        return grid
    return GridSheet(grid.name, grid.letters, grid.headers, [grid.rows[i] for i in keep],
                     [grid.keys[i] for i in keep],
                     {k: [c[i] for i in keep] for k, c in grid.columns.items()},
                     [grid.statuses[i] for i in keep])


__all__ = ["SetupFile", "carry_down", "fineract_setup_layout", "read_setup_fineract", "read_setup_template",
           "without_formula_rows"]
