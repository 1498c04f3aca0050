"""Grid sheets of import workbooks, read tolerantly by the column declaration.

Shared by every import kind (client import, setup and migration workbooks): a grid sheet has
a header row, optionally a hidden key row naming each column's key, and one record per row
below. Columns are found by key, or else by header (the declaration's header, with or without
the mandatory ``*``, or one of its ``aliases``; case and spaces do not matter), never by
position. Rows that only look empty (blank cells, spaces, formatting, a pre-filled row key)
are ignored. Values are returned raw; validation interprets them.

A sheet is read and held column by column (:class:`GridSheet`): the safe reader hands each
sheet over as columns, so a 100,000-row import never makes an object per cell or per row;
imports that work a row at a time (setup and migration workbooks) take a row view
(:meth:`GridSheet.each_row`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import takewhile
from typing import Any

from workbook_engine.bulk import all_text, each_distinct, paused_gc
from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.workbooks._types import RawSheet
from workbook_engine.workbooks.declaration import ColumnSpec, column_letter

ROW_KEY = "row_key"
STATUS_KEY = "status"


@dataclass
class GridRow:
    """A view of one row of a grid sheet (for the imports that work row by row): its filled
    cells by column key (raw values)."""

    row: int
    key: str
    values: dict[str, Any]
    status: str | None = None


@dataclass
class GridSheet:
    """A grid sheet as read, column by column: its non-empty rows only.

    Row ``i`` (0-based among the rows kept) is sheet row ``rows[i]`` with row key
    ``keys[i]``; ``columns[key][i]`` is its raw value in that column (``None`` when empty).
    Held by column so that 100,000 rows cost one list per column, not a dict per row;
    :meth:`row` and :meth:`each_row` give a row at a time for the imports that need one.
    """

    name: str
    letters: dict[str, str]  # column key -> letter
    headers: dict[str, str]  # column key -> header as written
    rows: list[int] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    columns: dict[str, list[Any]] = field(default_factory=dict)
    statuses: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.rows)

    def values(self, i: int) -> dict[str, Any]:
        """The filled cells of row ``i`` by column key."""
        return {key: column[i] for key, column in self.columns.items()
                if column[i] is not None}

    def row(self, i: int) -> GridRow:
        """Row ``i`` as one object."""
        return GridRow(self.rows[i], self.keys[i], self.values(i), self.statuses[i])

    def each_row(self) -> Iterator[GridRow]:
        """Every row as one object, made as it is read."""
        return map(self.row, range(len(self.rows)))


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
    return GridSheet(name, {}, {})


def read_grid(raw: RawSheet, specs: Sequence[ColumnSpec], variant: str | None,
              header_row: int, key_row: int | None, problems: list[Problem], *,
              missing: ErrorType, extra_keys: Sequence[str] = ()) -> GridSheet:
    """Read one grid sheet: columns by key row (or headers when it is gone), non-empty rows.

    Column by column: each column of the raw sheet is sliced, blanks cleared and rows that
    only look empty dropped with a few C-level passes, with no object per cell. A mandatory
    column that is not there is a ``missing`` problem of the sheet.
    """
    with paused_gc():
        return _read(raw, specs, variant, header_row, key_row, problems, missing, extra_keys)


def _read(raw: RawSheet, specs: Sequence[ColumnSpec], variant: str | None, header_row: int,
          key_row: int | None, problems: list[Problem], missing: ErrorType,
          extra_keys: Sequence[str]) -> GridSheet:
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
    status_col = next((c for c, k in by_column.items() if k == STATUS_KEY), None)
    spread = {s.key for s in specs if s.spread}
    columns = {k: _blank_as_none(raw.column(c)[first - 1:]) for c, k in by_column.items()
               if k not in (ROW_KEY, STATUS_KEY)}
    # A row that only looks empty (spaces, formatting, a pre-filled row key) is skipped.
    count = max(raw.max_row - first + 1, 0)
    kept = [i for i, any_value in enumerate(map(_any_value, zip(*columns.values())))
            if any_value]
    if len(kept) < count:
        columns = {k: list(map(column.__getitem__, kept)) for k, column in columns.items()}
    rows = [first + i for i in kept]
    places = [r - 1 for r in rows]
    keys: list[str | None] = [None] * len(kept)
    if key_col is not None:
        keys = _keys(list(map(raw.column(key_col).__getitem__, places)))
    statuses: list[str | None] = [None] * len(kept)
    if status_col is not None:
        statuses = each_distinct(
            _blank_as_none(list(map(raw.column(status_col).__getitem__, places))),
            lambda v: None if v is None else str(v))
    headed = set(header_values) | set(by_column)
    for col, key in by_column.items():
        if key in columns and key in spread:
            columns[key] = _spread(raw, col, headed, places)
    return GridSheet(name, letters, headers, rows,
                     [key or f"R{r}" for key, r in zip(keys, rows)], columns, statuses)


def _any_value(values: tuple[object, ...]) -> bool:
    return values.count(None) != len(values)


def _blank_as_none(values: list[Any]) -> list[Any]:
    """Cells holding only spaces become empty (None); other values stay as they are."""
    distinct = dict.fromkeys(values)
    if all_text(distinct):
        blank = dict.fromkeys(filter(str.isspace, filter(None, distinct)))
        if "" in distinct:
            blank[""] = None
    else:
        blank = dict.fromkeys(v for v in distinct if isinstance(v, str) and not v.strip())
    if not blank:
        return values
    return list(map(blank.get, values, values))


def _keys(values: list[Any]) -> list[str | None]:
    """:func:`_key` of each value (C-level passes for a column of text)."""
    if not all_text(values):
        return each_distinct(values, _key)
    keys = list(map(str.strip, map({None: ""}.get, values, values)))
    return list(map({"": None}.get, keys, keys))


def _spread(raw: RawSheet, col: int, headed: set[int], places: list[int]) -> list[str | None]:
    """A list written across cells, for each kept row: this cell and the headerless ones to
    its right, up to the first blank cell, joined with "; "."""
    following = [col, *takewhile(lambda c: c not in headed,
                                 range(col + 1, raw.max_column + 1))]
    cells = [_blank_as_none(list(map(raw.column(c).__getitem__, places))) for c in following]
    return ["; ".join(" ".join(str(_key(v)).split())
                      for v in takewhile(lambda v: v is not None, values)) or None
            for values in zip(*cells)]


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
