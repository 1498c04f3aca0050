"""Grid sheets of import workbooks, read tolerantly by the column declaration.

Shared by every import kind (client import, setup and migration workbooks): a grid sheet has
a header row, optionally a hidden key row naming each column's key, and one record per row
below. Columns are found by key, or else by header (the declaration's header, with or without
the mandatory ``*``, or one of its ``aliases``; case and spaces do not matter), never by
position. Rows that only look empty (blank cells, spaces, formatting, a pre-filled row key)
are ignored. Values are returned raw; validation interprets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.workbooks._types import RawSheet
from workbook_engine.workbooks.declaration import ColumnSpec, column_letter

ROW_KEY = "row_key"
STATUS_KEY = "status"


@dataclass
class GridRow:
    """One non-empty row of a grid sheet, values by column key (raw cell values)."""

    row: int
    key: str
    values: dict[str, Any]
    status: str | None = None


@dataclass
class GridSheet:
    """A grid sheet as read: where each column is, and its rows."""

    name: str
    letters: dict[str, str]  # column key -> letter
    headers: dict[str, str]  # column key -> header as written
    rows: list[GridRow]


def norm(text: Any) -> str:
    """A header compared loosely: without ``*``, spaces collapsed, case folded."""
    return " ".join(str(text).replace("*", " ").split()).casefold() if text is not None \
        else ""


def header_map(specs: Sequence[ColumnSpec], variant: str | None) -> dict[str, str]:
    """Normalised header or alias -> column key."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.variant is not None and spec.variant != variant or spec.per is not None:
            continue
        for name in (spec.header, *spec.aliases):
            out.setdefault(norm(name), spec.key)
    return out


def row_values(sheet: RawSheet, row: int) -> dict[int, Any]:
    """The non-empty cells of one row, by 1-based column."""
    return {c: sheet.value(row, c) for c in range(1, sheet.max_column + 1)
            if sheet.value(row, c) is not None}


def filled(value: Any) -> bool:
    """True for a value that is more than blanks."""
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def empty_grid(name: str) -> GridSheet:
    """A grid sheet with no rows (a sheet the workbook does not have)."""
    return GridSheet(name, {}, {}, [])


def read_grid(raw: RawSheet, specs: Sequence[ColumnSpec], variant: str | None,
              header_row: int, key_row: int | None, problems: list[Problem], *,
              missing: ErrorType, extra_keys: Sequence[str] = ()) -> GridSheet:
    """Read one grid sheet: columns by key row (or headers when it is gone), non-empty rows.

    A mandatory column that is not there is a ``missing`` problem of the sheet.
    """
    name = raw.name
    known = {s.key for s in specs if s.per is None} | set(extra_keys)
    families = {s.key for s in specs if s.per is not None}
    by_column: dict[int, str] = {}
    if key_row is not None:
        for col, value in row_values(raw, key_row).items():
            text = str(value).strip()
            if text in known or text.split(":", 1)[0] in families:
                by_column[col] = text
    header_values = row_values(raw, header_row)
    if not by_column:  # the hidden key row was deleted: fall back on the headers
        names = header_map(specs, variant)
        for col, value in header_values.items():
            key = names.get(norm(value))
            if key is not None and key not in by_column.values():
                by_column[col] = key
    first = (key_row or header_row) + 1
    letters = {key: column_letter(col - 1) for col, key in by_column.items()}
    headers = {key: str(header_values.get(col) or key) for col, key in by_column.items()}
    for spec in specs:
        if spec.mandatory and (spec.variant in (None, variant)) and spec.key not in letters \
                and spec.key != ROW_KEY:
            problems.append(Problem(missing, f"The sheet '{name}' has no column "
                                    f"'{spec.header}', which is mandatory.",
                                    Location(sheet=name, column=spec.key)))
    key_col = next((c for c, k in by_column.items() if k == ROW_KEY), None)
    input_cols = [(c, k) for c, k in by_column.items() if k not in (ROW_KEY, STATUS_KEY)]
    spread = {s.key for s in specs if s.spread}
    headed = set(header_values) | set(by_column)
    status_col = next((c for c, k in by_column.items() if k == STATUS_KEY), None)
    rows: list[GridRow] = []
    for r, dense in raw.rows():
        if r < first:
            continue
        values = {k: _spread(dense, c, headed) if k in spread else _cell(dense, c)
                  for c, k in input_cols}
        if not any(filled(v) for v in values.values()):
            continue  # only looks empty: spaces, formatting, a pre-filled row key
        key = _key(_cell(dense, key_col) if key_col else None) or f"R{r}"
        status = _cell(dense, status_col) if status_col else None
        rows.append(GridRow(r, key, values, str(status) if status is not None else None))
    return GridSheet(name, letters, headers, rows)


def _cell(dense: list[object | None], col: int) -> Any:
    value = dense[col - 1] if col - 1 < len(dense) else None
    if isinstance(value, str) and not value.strip():
        return None
    return value


def _spread(dense: list[object | None], col: int, headed: set[int]) -> str | None:
    """A list written across cells: this one and the headerless ones to its right, up to
    the first blank cell."""
    parts: list[str] = []
    for c in range(col, len(dense) + 1):
        value = _cell(dense, c)
        if value is None or (c != col and c in headed):
            break
        parts.append(" ".join(str(_key(value)).split()))
    return "; ".join(parts) or None


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
