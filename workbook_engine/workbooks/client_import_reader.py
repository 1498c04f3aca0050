"""Reading a client-import workbook tolerantly: our template (by its hidden key row) or a
Mifos X / Fineract client workbook (by its sheet and column headers).

The grid sheets are read by :func:`workbooks.grid.read_grid` (columns by key or header, never
by position; rows that only look empty are ignored; values raw).
"""

from __future__ import annotations

from collections.abc import Sequence

from workbook_engine.errors import Problem
from workbook_engine.errors.client_import import IMPORT_COLUMN_MISSING
from workbook_engine.validation.client_import import ImportFile
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
from workbook_engine.workbooks.grid import (
    GridSheet,
    empty_grid,
    filled,
    header_map,
    norm,
    read_grid,
    row_values,
)

FINERACT_SHEETS = ("Clients", "ClientPerson", "ClientEntity", "Client Person",
                   "Client Entity")
_HEADER_SCAN_ROWS = 5


def fineract_layout(book: RawWorkbook) -> tuple[RawSheet, str, int] | None:
    """(sheet, legal form, header row) when the workbook is a Fineract client workbook."""
    if book.sheet(CLIENT_IMPORT.metadata_sheet) is not None:
        return None
    entity = header_map(CLIENT_IMPORT.columns, ENTITY)
    for name in FINERACT_SHEETS:
        sheet = book.sheet(name)
        if sheet is None:
            continue
        for row in range(1, min(sheet.max_row, _HEADER_SCAN_ROWS) + 1):
            headers = {norm(v) for v in row_values(sheet, row).values()}
            if "office name" not in headers:
                continue
            if {"first name", "last name"} <= headers:
                return sheet, PERSON, row
            if headers & {k for k, v in entity.items() if v == "full_name"}:
                return sheet, ENTITY, row
    return None


def read_client_import(book: RawWorkbook, legal_form: str) -> ImportFile:
    """Read our own template (identified by its signed metadata) for its legal form."""
    problems: list[Problem] = []
    clients = _read_grid(book, CLIENTS_SHEET, CLIENT_IMPORT.columns, legal_form, problems,
                         header_row=CLIENT_IMPORT.header_row)
    family = _read_grid(book, FAMILY_SHEET, FAMILY_COLUMNS, legal_form, problems,
                        header_row=CLIENT_IMPORT.header_row)
    addresses = _read_grid(book, ADDRESS_SHEET, ADDRESS_COLUMNS, legal_form, problems,
                           header_row=CLIENT_IMPORT.header_row)
    return ImportFile("template", legal_form, clients or empty_grid(CLIENTS_SHEET), family,
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
    address_map = {name: key for name, key in header_map(ADDRESS_COLUMNS, form).items()
                   if name != "active" and key not in (ROW_KEY, STATUS_KEY)}
    letters: dict[str, str] = {}
    headers: dict[str, str] = {}
    by_column: dict[int, str] = {}
    for col, value in row_values(raw, header_row).items():
        key = address_map.get(norm(value))
        if key is not None and key not in by_column.values():
            by_column[col] = key
            letters[key] = column_letter(col - 1)
            headers[key] = str(value)
    places = [r - 1 for r in clients.rows]
    columns = {key: list(map(raw.column(col).__getitem__, places))
               for col, key in by_column.items()}
    telling = [column for key, column in columns.items() if key not in ("active", "address_type")]
    keep = [i for i in range(len(places)) if any(filled(column[i]) for column in telling)]
    addresses = GridSheet(raw.name, letters, headers, [clients.rows[i] for i in keep],
                          [clients.keys[i] for i in keep],
                          {key: [column[i] for i in keep] for key, column in columns.items()},
                          [None] * len(keep))
    return ImportFile("fineract", form, clients, None, addresses, problems)


def _read_grid(book: RawWorkbook, name: str, specs: Sequence[ColumnSpec], variant: str,
               problems: list[Problem], *, header_row: int) -> GridSheet | None:
    raw = book.sheet(name)
    if raw is None:
        return None
    return _grid_from(raw, specs, variant, header_row, CLIENT_IMPORT.key_row, problems,
                      name=raw.name)


def _grid_from(raw: RawSheet, specs: Sequence[ColumnSpec], variant: str, header_row: int,
               key_row: int | None, problems: list[Problem], *, name: str) -> GridSheet:
    del name  # the raw sheet's own name
    return read_grid(raw, specs, variant, header_row, key_row, problems,
                     missing=IMPORT_COLUMN_MISSING, extra_keys=("legal_form",))
