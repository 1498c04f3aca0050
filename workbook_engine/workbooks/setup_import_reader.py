"""Reading a setup or migration workbook: our template (by its signed kind and hidden key
row) or a Mifos X / Fineract import workbook (by its sheet name and column headers).

The grids are read by :func:`workbooks.grid.read_grid` from the one declaration of each kind
(``workbooks.setup_import_sheet``); nothing here knows a column by position.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from workbook_engine.errors import Problem
from workbook_engine.errors.setup_import import SETUP_COLUMN_MISSING
from workbook_engine.workbooks._types import RawSheet, RawWorkbook
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
_FINERACT_ORDER = ("loans", "savings", "groups", "centers", "staff", "offices")


@dataclass
class SetupFile:
    """A setup workbook as read: its kind, layout and grids (in the kind's sheet order)."""

    kind: SetupKind
    layout: str  # "template" | "fineract"
    grids: list[tuple[SetupSheet, GridSheet]]
    problems: list[Problem] = field(default_factory=list)  # about the file as a whole

    @property
    def row_shift(self) -> int:
        """How far a row moves down when written back into our layout (a Fineract sheet has
        no hidden key row)."""
        return 1 if self.layout == FINERACT else 0


def read_setup_template(book: RawWorkbook, kind: SetupKind) -> SetupFile:
    """Read our own template of ``kind`` (identified by its signed metadata)."""
    problems: list[Problem] = []
    grids = []
    layout = kind.workbook
    for sheet in kind.sheets:
        raw = book.sheet(sheet.name)
        grid = empty_grid(sheet.name) if raw is None else read_grid(
            raw, columns_for(sheet, "template"), None, layout.header_row, layout.key_row,
            problems, missing=SETUP_COLUMN_MISSING)
        grids.append((sheet, grid))
    return SetupFile(kind, "template", grids, problems)


def _required(sheet: SetupSheet) -> list[set[str]]:
    """For each mandatory column of a Fineract sheet, the headers it may go by."""
    return [{norm(h) for h in (c.header, *c.aliases)} for c in columns_for(sheet, FINERACT)
            if c.mandatory and c.key != ROW_KEY and c.key not in FINERACT_DERIVED
            and c.key not in sheet.fineract_lacks]


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
    assert found is not None, "call fineract_setup_layout first"
    kind, sheet, raw, header_row = found
    problems: list[Problem] = []
    grid = read_grid(raw, columns_for(sheet, FINERACT), FINERACT, header_row, None, problems,
                     missing=SETUP_COLUMN_MISSING)
    return SetupFile(kind, FINERACT, [(sheet, grid)], problems)


__all__ = ["SetupFile", "fineract_setup_layout", "read_setup_fineract", "read_setup_template"]
