"""The column-by-column pieces of a client import, against their one-row meaning."""

from __future__ import annotations

import datetime as dt
import hashlib

from workbook_engine.validation.client_import import GridSheet, _canonical, content_hashes
from workbook_engine.workbooks._types import RawSheet
from workbook_engine.workbooks.client_import_reader import _grid_from
from workbook_engine.workbooks.client_import_sheet import CLIENT_COLUMNS


def reference_hash(legal_form: str, values: dict) -> str:
    """The fingerprint one row at a time, as first defined."""
    parts = [legal_form] + [f"{key}={text}" for key in sorted(values)
                            if (text := _canonical(values[key]))]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


# Digests of rows 0 and 2 below as recorded by the first (row by row) implementation: rows
# imported since are in client_import_rows with them, and must still be recognised.
RECORDED = ["90437cd36d074576ffd32408ca179a9d4ca3da43174a96d9d1b77bed1c8ada44",
            "f04682f67e563428999d0673e9485f62726195e5d72eceff36b95aa7d52d2ad7"]


def test_content_hashes_match_the_one_row_fingerprint() -> None:
    rows = [
        {"first_name": "  Amani  W. ", "last_name": "O'Brien", "mobile_no": "0711000001",
         "date_of_birth": dt.date(1990, 5, 17), "active": "Yes", "age": 5.0},
        {"first_name": "AMANI w.", "last_name": "o'brien", "mobile_no": "0711000001",
         "date_of_birth": dt.datetime(1990, 5, 17), "active": "yes", "age": 5},
        {"first_name": True, "last_name": 1, "mobile_no": None,
         "date_of_birth": dt.datetime(1990, 5, 17, 9, 30), "active": 1.0, "age": 5.5},
        {"first_name": None, "last_name": None, "mobile_no": None, "date_of_birth": None,
         "active": None, "age": None},
    ] + [{"first_name": f"Name {i}", "last_name": "Same", "mobile_no": f"07{i:08d}",
          "date_of_birth": None, "active": "Yes", "age": None} for i in range(40)]
    columns = {key: [row[key] for row in rows] for key in rows[0]}
    digests = content_hashes("person", columns, len(rows))
    assert digests == [reference_hash("person", row) for row in rows]
    assert [digests[0], digests[2]] == RECORDED
    assert digests[0] == digests[1]  # case, spaces and date vs midnight do not count


def test_grid_keeps_filled_rows_only_and_blanks_spaces() -> None:
    keys = ["row_key", "office", "first_name", "last_name", "status"]
    cells = [["Row key *", "Office *", "First name *", "Last name *", "Import status"], keys,
             ["1", "Nairobi East", "Amani", "  ", None],
             ["2", "   ", None, None, None],  # only looks filled: a row key and spaces
             [None, None, "Baraka", "Mutua", "Imported: client 7"],
             [3.0, None, " ", "Chiku", None]]
    columns = [[row[c] for row in cells] for c in range(len(keys))]
    raw = RawSheet("Clients", True, columns, len(cells), len(keys))
    grid = _grid_from(raw, CLIENT_COLUMNS, "person", 1, 2, [], name="Clients")
    assert isinstance(grid, GridSheet)
    assert grid.rows == [3, 5, 6] and grid.keys == ["1", "R5", "3"]
    assert grid.columns["last_name"] == [None, "Mutua", "Chiku"]
    assert grid.columns["first_name"] == ["Amani", "Baraka", None]
    assert grid.statuses == [None, "Imported: client 7", None]
    assert grid.values(0) == {"office": "Nairobi East", "first_name": "Amani"}
