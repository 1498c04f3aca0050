"""Reading a returned collection sheet back into rows and cells, by key, never by position.

Input: a :class:`~workbook_engine.workbooks._types.RawWorkbook` (from ``safe_read``), the
declaration (:data:`~workbook_engine.workbooks.collection_sheet.COLLECTION_SHEET`) and the
``expected`` payload recorded when the sheet was generated.

* **Columns** are found by the hidden key row (``repayment:1``, ...), and each key is
  **verified** against the heading and the section ("Due", "Issues/Withdrawals", ...)
  written above it at generation: a key that is not under its own heading (hidden keys
  swapped or moved, the visible headings left in place) is ``tampered`` on the key's cell,
  and that column is not read at all (its money would go into the wrong accounts). A column
  whose key is gone (a program that dropped the hidden row, or a column pasted over) is
  found by its header text, left to right among the columns with that header (the same
  product name heads a repayment and a disbursal column, in the declaration's order). Hidden
  columns, and columns moved with their headings within their section, are read correctly.
* **Rows** are found by the row key in the hidden key column (``client:12``); when it is gone,
  by the (name, id) pair written on the row. Rows may be sorted or moved; anything that is not
  a generated row (totals, notes, extra rows below the grid) is ignored. A generated row that
  cannot be found is reported (``row-missing``); one found twice is ``row-duplicated``.
* **Locked cells are never trusted**: the name and id written on each row, and the branch,
  loan officer, center and meeting date at the top, are compared with ``expected``; a
  difference is ``tampered`` (so another center's sheet relabelled is caught). A value typed
  in a cell that was generated blank and locked (protection removed) is ``not-an-input``,
  or ``posted-for-meeting`` when the cell was left blank because a sheet already posted it
  for this meeting (the row's ``posted`` in ``expected``).
* A row that is not a generated row but holds an amount in an input column or an id (a
  stranger's row added) is ``row-unknown``: its money would otherwise silently go unposted.
* Input cells are returned raw (value and formula): typing rules are applied by validation.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from workbook_engine.errors import ErrorType
from workbook_engine.errors.returned import (
    COLUMN_MISSING,
    NOT_AN_INPUT,
    POSTED_FOR_MEETING,
    ROW_DUPLICATED,
    ROW_MISSING,
    ROW_UNKNOWN,
    SHEET_MISSING,
    TAMPERED,
)
from workbook_engine.workbooks._types import RawSheet, RawWorkbook
from workbook_engine.workbooks.collection_sheet import CASH_LABEL, TOTAL_LABEL
from workbook_engine.workbooks.declaration import WorkbookKind, column_letter


@dataclass(frozen=True)
class SheetProblem:
    """A problem found while reading: catalogue entry, message, and where."""

    error: ErrorType
    message: str
    row: int | None = None
    column_key: str | None = None
    cell: str | None = None
    row_key: str | None = None
    client_id: int | None = None
    account: str | None = None


class InputCell(NamedTuple):
    """An input cell as returned: where it is now (``address``: "D12"), and what it holds.

    A tuple: a 40-row sheet has about 500 of them, and a frozen dataclass took three times
    as long to make."""

    row_key: str
    column_key: str
    row: int
    column: int
    value: Any
    formula: str | None
    address: str


@dataclass
class ReturnedSheet:
    """What was read: header inputs, input cells by (row key, column key), problems."""

    sheet_name: str
    header: dict[str, InputCell | None]
    cells: dict[tuple[str, str], InputCell]
    row_numbers: dict[str, int]
    column_numbers: dict[str, int]
    problems: list[SheetProblem] = field(default_factory=list)
    grid_found: bool = True


def _text(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is int:  # most keys, ids and amounts: nothing to normalise
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


def _address_to_rc(address: str) -> tuple[int, int]:
    letters = "".join(ch for ch in address if ch.isalpha()).upper()
    digits = "".join(ch for ch in address if ch.isdigit())
    col = 0
    for ch in letters:
        col = col * 26 + (ord(ch) - 64)
    return int(digits), col


def _column_number(letter: str) -> int:
    return _address_to_rc(f"{letter}1")[1]


def _find_sheet(book: RawWorkbook, kind: WorkbookKind) -> RawSheet | None:
    sheet = book.sheet(kind.data_sheet)
    if sheet is not None:
        return sheet
    for candidate in book.sheets:  # renamed: the one whose key row holds the row-key column
        if candidate.name == kind.metadata_sheet:
            continue
        if any(_text(c.value) == "row_key" for (r, _), c in candidate.cells.items()
               if r == kind.key_row):
            return candidate
    return None


def _locate_columns(sheet: RawSheet, kind: WorkbookKind, expected: Mapping[str, Any],
                    problems: list[SheetProblem]) -> dict[str, int]:
    """Each expected column's number: by its hidden key, verified against the heading and
    section written above it at generation; by its heading when the key row is gone."""
    by_key: dict[str, int] = {}
    headers: dict[str, list[int]] = {}
    key_row = int(expected.get("key_row", kind.key_row))
    for c in range(1, sheet.max_column + 1):
        key, header = sheet.value(key_row, c), sheet.value(kind.header_row, c)
        if key is not None:
            by_key.setdefault(_text(key), c)
        if header is not None and key_row != kind.header_row:
            headers.setdefault(_text(header).casefold(), []).append(c)
    heading = {c: text for text, cols in headers.items() for c in cols}
    # The section shown above each column of the grid as generated (its merged cells stay
    # where they were when columns are moved).
    sections = {_column_number(c["letter"]): kind.column_spec(c["family"]).section
                for c in expected["columns"]}
    found: dict[str, int] = {}
    taken = set()
    moved = set()
    for column in expected["columns"]:
        col = by_key.get(column["key"])
        if col is None:
            continue
        problem = _key_moved(column, col, kind, key_row, heading, sections)
        if problem is not None:
            problems.append(problem)
            moved.add(column["key"])
            taken.add(col)
            continue
        found[column["key"]] = col
        taken.add(col)
    for column in expected["columns"]:
        if column["key"] in found or column["key"] in moved:
            continue
        candidates = [c for c in sorted(headers.get(_text(column["header"]).casefold(), []))
                      if c not in taken]
        if candidates:
            found[column["key"]] = candidates[0]
            taken.add(candidates[0])
        elif column["input"] or column["key"] in ("name", "id"):
            problems.append(SheetProblem(
                COLUMN_MISSING, f"The column '{column['header']}' ({column['key']}) is "
                "missing from the sheet; put it back as generated.",
                column_key=column["key"]))
    return found


def _key_moved(column: Mapping[str, Any], col: int, kind: WorkbookKind, key_row: int,
               heading: Mapping[int, str],
               sections: Mapping[int, str | None]) -> SheetProblem | None:
    """Tampering when the hidden key of a column is not under its own heading, or lies in
    another section of the grid as generated ("Due" vs "Issues/Withdrawals": the same
    product heads a deposit and a withdrawal column): keys swapped or moved would post money
    into the wrong accounts. A whole column moved out of the grid keeps its heading, and is
    read."""
    section = kind.column_spec(column["family"]).section
    under = sections.get(col)
    written = heading.get(col, "")
    if written == _text(column["header"]).casefold() and (col not in sections
                                                          or under == section):
        return None
    where = f"{column_letter(col - 1)}{key_row}"
    shown = f"'{written}'" + (f" under '{under}'" if under else "")
    return SheetProblem(
        TAMPERED, f"Cell {where}: the hidden key of the column '{column['header']}' "
        f"({column['key']}"
        + (f", under '{section}'" if section else "") + f") is above the heading {shown}: "
        "the hidden keys were moved or swapped, so the engine cannot tell which account "
        "this column's amounts belong to. Use the sheet as generated (or its report), with "
        "its hidden row untouched.", row=key_row, column_key=column["key"], cell=where)


def read_collection_sheet(book: RawWorkbook, kind: WorkbookKind,
                          expected: Mapping[str, Any]) -> ReturnedSheet:
    """Map a returned workbook's cells back to the generated rows and columns."""
    problems: list[SheetProblem] = []
    sheet = _find_sheet(book, kind)
    if sheet is None:
        problems.append(SheetProblem(SHEET_MISSING, f"The workbook has no sheet "
                                     f"'{kind.data_sheet}'; send the collection sheet as "
                                     "generated."))
        return ReturnedSheet(kind.data_sheet, {}, {}, {}, {}, problems, grid_found=False)
    header: dict[str, InputCell | None] = {}
    for key, spec in expected.get("header", {}).items():
        r, c = _address_to_rc(spec["cell"])
        header[key] = InputCell("", key, r, c, sheet.value(r, c), sheet.formulas.get((r, c)),
                                f"{column_letter(c - 1)}{r}")
    _check_labels(sheet, expected, problems)
    columns = _locate_columns(sheet, kind, expected, problems)
    rows = _locate_rows(sheet, kind, expected, columns, problems)
    cells: dict[tuple[str, str], InputCell] = {}
    input_columns = [(c, columns[c["key"]], column_letter(columns[c["key"]] - 1))
                     for c in expected["columns"] if c["input"] and c["key"] in columns]
    formulas = sheet.formulas
    values = [(column, col, letter, sheet.column(col)) for column, col, letter in input_columns]
    for row in expected["rows"]:
        number = rows.get(row["key"])
        if number is None:
            continue
        _check_locked(sheet, row, number, columns, problems)
        applies = row["cells"]
        for column, col, letter, typed in values:
            value, formula = typed[number - 1], formulas.get((number, col))
            if value is None and formula is None and column["key"] not in applies:
                continue  # a blank cell where nothing applies: nothing to read or report
            cell = InputCell(row["key"], column["key"], number, col, value, formula,
                             f"{letter}{number}")
            if column["key"] in applies:
                cells[(row["key"], column["key"])] = cell
            elif (_text(cell.value) not in ("", "0") or cell.formula) and \
                    column["key"] in row.get("posted", {}):
                posted = row["posted"][column["key"]]
                problems.append(SheetProblem(
                    POSTED_FOR_MEETING, f"{row['name']}: '{_text(cell.value)[:30]}' was "
                    f"typed in column '{column['header']}', but account "
                    f"{posted['account_no']} already posted its {column['family']} for this "
                    f"meeting (submission {posted['submission_id']}); clear the cell.",
                    row=number, column_key=column["key"], cell=cell.address,
                    row_key=row["key"], client_id=_client_id(row)))
            elif _text(cell.value) not in ("", "0") or cell.formula:
                problems.append(SheetProblem(
                    NOT_AN_INPUT, f"{row['name']}: '{_text(cell.value)[:30]}' was typed in "
                    f"column '{column['header']}', where nothing applies to this row; clear "
                    "the cell.", row=number, column_key=column["key"], cell=cell.address,
                    row_key=row["key"], client_id=_client_id(row)))
    return ReturnedSheet(sheet.name, header, cells, rows, columns, problems)


def _client_id(row: Mapping[str, Any]) -> int | None:
    return row["entity_id"] if row["kind"] == "client" else None


def _locate_rows(sheet: RawSheet, kind: WorkbookKind, expected: Mapping[str, Any],
                 columns: Mapping[str, int], problems: list[SheetProblem]) -> dict[str, int]:
    wanted = {r["key"]: r for r in expected["rows"]}
    first = int(expected.get("first_data_row", kind.first_data_row))
    key_col = columns.get("row_key")
    name_col, id_col = columns.get("name"), columns.get("id")
    by_name_id = {(_text(r["name"]).casefold(), _text(r["id"])): r["key"]
                  for r in expected["rows"]}
    found: dict[str, int] = {}
    duplicated: set[str] = set()
    for r in range(first, sheet.max_row + 1):
        key = None
        if key_col is not None:
            key = _text(sheet.value(r, key_col))
        if key not in wanted and name_col is not None and id_col is not None:
            key = by_name_id.get((_text(sheet.value(r, name_col)).casefold(),
                                  _text(sheet.value(r, id_col))))
        if key not in wanted:  # totals, notes, rows added below the grid ...
            stranger = _unknown_row(sheet, r, expected, columns)
            if stranger is not None:  # ... but not one that carries money or an id
                problems.append(stranger)
            continue
        if key in found:
            duplicated.add(key)
            continue
        found[key] = r
    for key in sorted(duplicated):
        row = wanted[key]
        problems.append(SheetProblem(
            ROW_DUPLICATED, f"The row of {row['name']} ({key}) appears more than once "
            f"(first at row {found[key]}); keep one copy.", row=found[key], row_key=key,
            client_id=_client_id(row)))
    for key, row in wanted.items():
        if key not in found:
            problems.append(SheetProblem(
                ROW_MISSING, f"The row of {row['name']} (id {row['id']}, generated at row "
                f"{row['row']}) is missing; put it back and enter what was collected "
                "(a missing row is never read as zero).", row=row["row"], row_key=key,
                client_id=_client_id(row)))
    return found


_NUMBER = re.compile(r"[\s\u00a0]*[-+(]?[\d][\d\s\u00a0.,']*\)?[\s\u00a0]*")
_TOTALS_LABELS = (TOTAL_LABEL.casefold(), CASH_LABEL.casefold())


def _unknown_row(sheet: RawSheet, r: int, expected: Mapping[str, Any],
                 columns: Mapping[str, int]) -> SheetProblem | None:
    """A row that is not a generated one but carries an amount typed in (not a formula) in a
    money column, or an id: somebody added a client (or pasted a row) to the sheet."""
    name_col, id_col = columns.get("name"), columns.get("id")
    name = _text(sheet.value(r, name_col) if name_col else None)
    if name.casefold() in _TOTALS_LABELS:
        return None  # the totals rows, even pasted as values
    ident = sheet.value(r, id_col) if id_col else None
    amounts = []
    for column in expected["columns"]:
        col = columns.get(column["key"])
        if (not col or (r, col) in sheet.formulas or column["family"] == "attendance"
                or not column["input"]):
            continue
        value = sheet.value(r, col)
        numeric = isinstance(value, int | float) and not isinstance(value, bool)
        if (numeric and value) or (isinstance(value, str) and _NUMBER.fullmatch(value)
                                   and value.strip("0 .,")):
            amounts.append((column, col, value))
    has_id = id_col is not None and (r, id_col) not in sheet.formulas and _text(ident) != ""
    if not amounts and not has_id:
        return None
    who = f"'{name[:40]}'" if name else "a row without a name"
    if has_id:
        who += f" (id {_text(ident)[:20]})"
    what = (f"the {_text(amounts[0][2])[:20]} typed in column "
            f"'{amounts[0][0]['header']}'" if amounts else "anything typed on it")
    cell = (f"{column_letter(amounts[0][1] - 1)}{r}" if amounts else
            f"{column_letter((id_col or 1) - 1)}{r}")
    return SheetProblem(
        ROW_UNKNOWN, f"Row {r}: {who} is not on the sheet as generated, so {what} would not "
        "be posted; delete the row (clients cannot be added on a collection sheet).",
        row=r, cell=cell)


def _check_labels(sheet: RawSheet, expected: Mapping[str, Any],
                  problems: list[SheetProblem]) -> None:
    """The locked values at the top (branch, loan officer, center, meeting date)."""
    labels = expected.get("labels", {})
    center = labels.get("center", {}).get("text", "")
    meeting = labels.get("meeting_date", {}).get("text", "")
    for key, spec in labels.items():
        r, c = _address_to_rc(spec["cell"])
        value = sheet.value(r, c)
        if key == "meeting_date":
            same = _as_date(value) == dt.date.fromisoformat(spec["text"])
            written = _as_date(value).isoformat() if _as_date(value) else _text(value)
        else:
            written = _text(value)
            same = written.casefold() == _text(spec["text"]).casefold()
        if not same:
            problems.append(SheetProblem(
                TAMPERED, f"Cell {spec['cell']}: the {spec['label'].lower()} was changed from "
                f"'{spec['text']}' to '{written[:40]}'; this workbook is the sheet generated "
                f"for {center} on {meeting} and its amounts are read as theirs. Put back "
                f"'{spec['text']}' (money of another center or group goes on its own sheet).",
                row=r, column_key=key, cell=spec["cell"]))


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 <= value < 2958466:
        return dt.date(1899, 12, 30) + dt.timedelta(days=int(value))
    try:
        return dt.date.fromisoformat(_text(value)[:10])
    except ValueError:
        return None


def _check_locked(sheet: RawSheet, row: Mapping[str, Any], number: int,
                  columns: Mapping[str, int], problems: list[SheetProblem]) -> None:
    for key in ("name", "id"):
        col = columns.get(key)
        if col is None:
            continue
        written, generated = _text(sheet.value(number, col)), _text(row[key])
        if written == generated:
            continue  # as generated (most rows)
        # The writer labels center and group rows "Kilimani (center)".
        allowed = {generated.casefold(), f"{generated} ({row['kind']})".casefold()}
        if written.casefold() not in allowed:
            problems.append(SheetProblem(
                TAMPERED, f"Row {number}: the {key} was changed from '{row[key]}' to "
                f"'{written[:40]}'; put back '{row[key]}' (locked cells are not edited).",
                row=number, column_key=key, cell=f"{column_letter(col - 1)}{number}",
                row_key=row["key"], client_id=_client_id(row)))
