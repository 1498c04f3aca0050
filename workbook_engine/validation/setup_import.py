"""Reading the cells of a setup or migration workbook row by its declared column types.

Pure functions, no database: each cell is turned into what its column declares (text, whole
number, amount as Decimal, date, a choice of a fixed vocabulary as its value, a yes/no as a
bool; names of records stay text and are resolved when posting). Every problem is placed on
its cell; a row with a problem here is not tried further. The business rules of each record
are the setup services' own (``services.setup_import`` runs them).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.errors.setup_import import SETUP_BAD_VALUE, SETUP_MISSING_VALUE
from workbook_engine.money import whole_as_written
from workbook_engine.validation.client_import import content_hashes
from workbook_engine.validation.values import (
    DEFAULT_LOCALE,
    Locale,
    ValueProblem,
    parse_date,
)
from workbook_engine.workbooks.declaration import CellType, ColumnSpec
from workbook_engine.workbooks.grid import GridRow, GridSheet
from workbook_engine.workbooks.setup_import_sheet import (
    CHOICE_ALIASES,
    CHOICES,
    ROW_KEY,
    STATUS_KEY,
)


@dataclass
class Cells:
    """The problems of one row, each placed on its cell."""

    sheet: GridSheet
    row: GridRow
    file_name: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def where(self) -> str:
        """"Row 5 of Staff: " - the start of every message about the row."""
        return f"Row {self.row.row} of {self.sheet.name}: "

    def header(self, key: str) -> str:
        """The column's header as written in the file."""
        return self.sheet.headers.get(key, key).replace("*", "").strip()

    def add(self, error: ErrorType, key: str, message: str, value: Any = None) -> None:
        """A problem on the row's cell of column ``key`` (the row key's when not there)."""
        letter = self.sheet.letters.get(key) or self.sheet.letters.get(ROW_KEY)
        self.problems.append(Problem(error, self.where + message, Location(
            file=self.file_name, sheet=self.sheet.name, row=self.row.row, column=key,
            cell=f"{letter}{self.row.row}" if letter else None),
            {"row_key": self.row.key, "column_header": self.header(key),
             "value": None if value is None else str(value)}))


def row_hashes(kind: str, sheet: str, grid: GridSheet,
               skip: Collection[str] = ()) -> list[str]:
    """A fingerprint of what each row of ``grid`` (sheet ``sheet`` of the kind) says, not its
    row key, status or the ``skip`` columns (figures the engine wrote into a report), to
    recognise a row imported before, whatever file or row it comes back in."""
    columns = {k: v for k, v in grid.columns.items() if k not in skip} if skip else grid.columns
    return content_hashes(f"{kind}/{sheet}", columns, len(grid))


def parse_row(cells: Cells, columns: Sequence[ColumnSpec],
              dates: Locale = DEFAULT_LOCALE) -> dict[str, Any]:
    """The row's values, typed by the declaration; problems go to ``cells``. Text dates of
    numbers are read in the date order of ``dates`` (the institution's locale)."""
    out: dict[str, Any] = {}
    for spec in columns:
        if spec.key in (ROW_KEY, STATUS_KEY) or not spec.input:
            continue
        raw = cells.row.values.get(spec.key)
        value = _parse(cells, spec, raw, dates)
        if value is None and spec.mandatory and not _has_problem(cells, spec.key):
            cells.add(SETUP_MISSING_VALUE, spec.key, f"'{cells.header(spec.key)}' is "
                      "mandatory and is empty.")
        out[spec.key] = value
    return out


def _has_problem(cells: Cells, key: str) -> bool:
    return any(p.location.column == key for p in cells.problems)


def _parse(cells: Cells, spec: ColumnSpec, raw: Any, dates: Locale) -> Any:
    if raw is None or isinstance(raw, str) and not raw.strip():
        return None
    kind = spec.type
    try:
        if kind is CellType.TEXT:
            return text_of(raw)
        if kind is CellType.INTEGER:
            return _integer(raw)
        if kind is CellType.MONEY:
            return _amount(raw)
        if kind is CellType.DATE:
            return parse_date(raw, locale=dates)
        if spec.choices in CHOICES:
            return _choice(spec.choices, raw)
        return text_of(raw)
    except ValueError as exc:
        cells.add(SETUP_BAD_VALUE, spec.key, f"'{raw}' in column '{cells.header(spec.key)}' "
                  f"is not {exc}.", raw)
        return None
    except ValueProblem as problem:  # a date: the readers' one sentence (values.py)
        cells.add(SETUP_BAD_VALUE, spec.key, f"column '{cells.header(spec.key)}': "
                  f"{problem.message}.", raw)
        return None


def text_of(value: Any) -> str | None:
    """A cell as trimmed text (a whole number typed as a number loses its ".0")."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    text = " ".join(str(value).split())
    return text or None


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    raise ValueError("a whole number")


def _amount(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise ValueError("an amount")
    try:
        # A float cell holds the shortest decimal that round-trips: use its text, not its
        # binary value, so 0.1 stays 0.1.
        amount = Decimal(repr(value) if isinstance(value, float)
                         else str(value).replace(",", "").strip())
    except InvalidOperation:
        raise ValueError("an amount") from None
    if not amount.is_finite():
        raise ValueError("an amount")
    return whole_as_written(amount)


def _choice(list_name: str, value: Any) -> str:
    text = text_of(value) or ""
    labels = {label.casefold(): v for label, v in CHOICES[list_name].items()}
    values = {v.casefold(): v for v in CHOICES[list_name].values()}
    aliases = CHOICE_ALIASES.get(list_name, {})
    key = text.casefold()
    found = labels.get(key) or values.get(key) or aliases.get(key)
    if found is None:
        raise ValueError("one of " + ", ".join(CHOICES[list_name]))
    return found


def yes(value: str | None, default: bool = False) -> bool:
    """A parsed yes/no cell as a bool (blank: ``default``)."""
    return default if value is None else value == "yes"


__all__ = ["Cells", "parse_row", "row_hashes", "text_of", "yes"]
