"""Reading a client-import workbook tolerantly: our template (by its hidden key row) or a
Mifos X / Fineract client workbook (by its sheet and column headers).

Columns are found by key, or else by header (the declaration's header, with or without the
mandatory ``*``, or one of its ``aliases``; case and spaces do not matter), never by position.
Rows that only look empty (blank cells, spaces, formatting, a pre-filled row key) are
ignored. Values are returned raw; validation interprets them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from workbook_engine.bulk import paused_gc
from workbook_engine.errors import Location, Problem
from workbook_engine.errors.client_import import IMPORT_COLUMN_MISSING
from workbook_engine.validation.client_import import GridSheet, ImportFile
from workbook_engine.validation.clients import all_text, each_distinct
from workbook_engine.workbooks._types import RawSheet, RawWorkbook
from workbook_engine.workbooks.client_import_sheet import (
    ADDRESS_COLUMNS,
    ADDRESS_SHEET,
    CLIENT_IMPORT,
    CLIENTS_SHEET,
    ENTITY,
    FAMILY_COLUMNS,
    FAMILY_SHEET,
    PERSON,
    ROW_KEY,
    STATUS_KEY,
)
from workbook_engine.workbooks.declaration import ColumnSpec, column_letter

FINERACT_SHEETS = ("Clients", "ClientPerson", "ClientEntity", "Client Person",
                   "Client Entity")
_HEADER_SCAN_ROWS = 5


def _norm(text: Any) -> str:
    return " ".join(str(text).replace("*", " ").split()).casefold() if text is not None \
        else ""


def _header_map(specs: Sequence[ColumnSpec], variant: str | None) -> dict[str, str]:
    """Normalised header or alias -> column key."""
    out: dict[str, str] = {}
    for spec in specs:
        if spec.variant is not None and spec.variant != variant or spec.per is not None:
            continue
        for name in (spec.header, *spec.aliases):
            out.setdefault(_norm(name), spec.key)
    return out


def _row_values(sheet: RawSheet, row: int) -> dict[int, Any]:
    return {c: sheet.value(row, c) for c in range(1, sheet.max_column + 1)
            if sheet.value(row, c) is not None}


def fineract_layout(book: RawWorkbook) -> tuple[RawSheet, str, int] | None:
    """(sheet, legal form, header row) when the workbook is a Fineract client workbook."""
    if book.sheet(CLIENT_IMPORT.metadata_sheet) is not None:
        return None
    entity = _header_map(CLIENT_IMPORT.columns, ENTITY)
    for name in FINERACT_SHEETS:
        sheet = book.sheet(name)
        if sheet is None:
            continue
        for row in range(1, min(sheet.max_row, _HEADER_SCAN_ROWS) + 1):
            headers = {_norm(v) for v in _row_values(sheet, row).values()}
            if "office name" not in headers:
                continue
            if {"first name", "last name"} <= headers:
                return sheet, PERSON, row
            if headers & {k for k, v in entity.items() if v == "full_name"}:
                return sheet, ENTITY, row
    return None


def read_client_import(book: RawWorkbook, legal_form: str) -> ImportFile:
    """Read our own template (identified by its signed metadata) for its legal form."""
    with paused_gc():
        return _read_template(book, legal_form)


def _read_template(book: RawWorkbook, legal_form: str) -> ImportFile:
    problems: list[Problem] = []
    clients = _read_grid(book, CLIENTS_SHEET, CLIENT_IMPORT.columns, legal_form, problems,
                         header_row=CLIENT_IMPORT.header_row)
    family = _read_grid(book, FAMILY_SHEET, FAMILY_COLUMNS, legal_form, problems,
                        header_row=CLIENT_IMPORT.header_row)
    addresses = _read_grid(book, ADDRESS_SHEET, ADDRESS_COLUMNS, legal_form, problems,
                           header_row=CLIENT_IMPORT.header_row)
    return ImportFile("template", legal_form, clients or _empty(CLIENTS_SHEET), family,
                      addresses, problems)


def read_fineract(book: RawWorkbook) -> ImportFile:
    """Read a Fineract client workbook: one sheet, the address block on the client's row."""
    found = fineract_layout(book)
    assert found is not None, "call fineract_layout first"
    raw, form, header_row = found
    problems: list[Problem] = []
    clients = _grid_from(raw, CLIENT_IMPORT.columns, form, header_row, None, problems,
                         name=raw.name)
    # The address block shares the client's row; its "Active" is the client's, so the
    # address's own flag is only recognised by its longer Fineract headers.
    address_map = {name: key for name, key in _header_map(ADDRESS_COLUMNS, form).items()
                   if name != "active" and key not in (ROW_KEY, STATUS_KEY)}
    letters: dict[str, str] = {}
    headers: dict[str, str] = {}
    by_column: dict[int, str] = {}
    for col, value in _row_values(raw, header_row).items():
        key = address_map.get(_norm(value))
        if key is not None and key not in by_column.values():
            by_column[col] = key
            letters[key] = column_letter(col - 1)
            headers[key] = str(value)
    places = [r - 1 for r in clients.rows]
    columns = {key: list(map(raw.column(col).__getitem__, places))
               for col, key in by_column.items()}
    telling = [column for key, column in columns.items() if key not in ("active", "address_type")]
    keep = [i for i in range(len(places)) if any(_filled(column[i]) for column in telling)]
    addresses = GridSheet(raw.name, letters, headers, [clients.rows[i] for i in keep],
                          [clients.keys[i] for i in keep],
                          {key: [column[i] for i in keep] for key, column in columns.items()},
                          [None] * len(keep))
    return ImportFile("fineract", form, clients, None, addresses, problems)


def _empty(name: str) -> GridSheet:
    return GridSheet(name, {}, {})


def _filled(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    return True


def _read_grid(book: RawWorkbook, name: str, specs: Sequence[ColumnSpec], variant: str,
               problems: list[Problem], *, header_row: int) -> GridSheet | None:
    raw = book.sheet(name)
    if raw is None:
        return None
    return _grid_from(raw, specs, variant, header_row, CLIENT_IMPORT.key_row, problems,
                      name=raw.name)


def _grid_from(raw: RawSheet, specs: Sequence[ColumnSpec], variant: str, header_row: int,
               key_row: int | None, problems: list[Problem], *, name: str) -> GridSheet:
    known = {s.key for s in specs if s.per is None} | {"legal_form"}
    families = {s.key for s in specs if s.per is not None}
    by_column: dict[int, str] = {}
    if key_row is not None:
        for col, value in _row_values(raw, key_row).items():
            text = str(value).strip()
            if text in known or text.split(":", 1)[0] in families:
                by_column[col] = text
    header_values = _row_values(raw, header_row)
    if not by_column:  # the hidden key row was deleted: fall back on the headers
        names = _header_map(specs, variant)
        for col, value in header_values.items():
            key = names.get(_norm(value))
            if key is not None and key not in by_column.values():
                by_column[col] = key
    first = (key_row or header_row) + 1
    letters = {key: column_letter(col - 1) for col, key in by_column.items()}
    headers = {key: str(header_values.get(col) or key) for col, key in by_column.items()}
    for spec in specs:
        if spec.mandatory and (spec.variant in (None, variant)) and spec.key not in letters \
                and spec.key != ROW_KEY:
            problems.append(Problem(IMPORT_COLUMN_MISSING, f"The sheet '{name}' has no "
                                    f"column '{spec.header}', which is mandatory.",
                                    Location(sheet=name, column=spec.key)))
    key_col = next((c for c, k in by_column.items() if k == ROW_KEY), None)
    status_col = next((c for c, k in by_column.items() if k == STATUS_KEY), None)
    columns = {k: _blank_as_none(raw.column(c)[first - 1:]) for c, k in by_column.items()
               if k not in (ROW_KEY, STATUS_KEY)}
    # A row that only looks empty (spaces, formatting, a pre-filled row key) is skipped.
    count = max(raw.max_row - first + 1, 0)
    filled = list(map(_any_value, zip(*columns.values()))) if columns else [False] * count
    kept = [i for i, any_value in enumerate(filled) if any_value]
    if len(kept) < count:
        columns = {k: list(map(column.__getitem__, kept)) for k, column in columns.items()}
    rows = [first + i for i in kept]
    keys: list[str | None] = [None] * len(kept)
    if key_col is not None:
        keys = _keys(list(map(raw.column(key_col).__getitem__, [r - 1 for r in rows])))
    statuses: list[str | None] = [None] * len(kept)
    if status_col is not None:
        statuses = each_distinct(_blank_as_none(list(map(raw.column(status_col).__getitem__,
                                                          [r - 1 for r in rows]))),
                                 lambda v: None if v is None else str(v))
    return GridSheet(name, letters, headers, rows,
                     [key or f"R{r}" for key, r in zip(keys, rows)], columns, statuses)


def _any_value(values: tuple[object, ...]) -> bool:
    return values.count(None) != len(values)


def _blank_as_none(values: list[Any]) -> list[Any]:
    """Cells holding only spaces become empty (None); other values stay as they are."""
    distinct = dict.fromkeys(values)
    if set(map(type, distinct)) <= {str, type(None)}:
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


def _key(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None
