"""Setup workbooks read through the shared column-wise grid: the row view the setup services
work with, and the fingerprints of rows recorded before the grid was held by column."""

from __future__ import annotations

import datetime as dt
import hashlib

from tests.client_import.test_columns import reference_hash
from workbook_engine.errors.setup_import import SETUP_COLUMN_MISSING
from workbook_engine.validation.setup_import import row_hashes
from workbook_engine.workbooks._types import RawSheet
from workbook_engine.workbooks.grid import GridRow, read_grid
from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS, columns_for

OFFICES = SETUP_KINDS["offices"]


def _offices_sheet(cells: list[list[object]]) -> RawSheet:
    width = max(map(len, cells))
    columns = [[row[c] if c < len(row) else None for row in cells] for c in range(width)]
    return RawSheet("Offices", True, columns, len(cells), width)


def test_setup_rows_come_as_row_views_of_the_column_wise_grid() -> None:
    sheet = OFFICES.sheets[0]
    keys = ["row_key", "name", "parent", "opening_date", "external_id", "status"]
    raw = _offices_sheet([
        ["Row key *", "Name *", "Parent office", "Opening date *", "External id", "Status"],
        keys,
        ["1", "Head Office", None, dt.date(2020, 1, 1), None, None],
        ["2", "  ", None, None, "   ", None],  # only looks filled
        [None, "Nairobi East", "Head Office", dt.date(2021, 3, 1), 7.0,
         "Imported: office 4"],
    ])
    grid = read_grid(raw, columns_for(sheet, "template"), None, OFFICES.workbook.header_row,
                     OFFICES.workbook.key_row, [], missing=SETUP_COLUMN_MISSING)
    assert grid.rows == [3, 5]
    assert list(grid.each_row()) == [
        GridRow(3, "1", {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)}),
        GridRow(5, "R5", {"name": "Nairobi East", "parent": "Head Office",
                          "opening_date": dt.date(2021, 3, 1), "external_id": 7.0},
                "Imported: office 4")]
    assert grid.row(1) == list(grid.each_row())[1]


def test_setup_row_hashes_equal_the_one_row_fingerprint_recorded_before() -> None:
    """Rows posted before were recorded in ``setup_import_rows`` with the SHA-256 of
    "kind/sheet" and each filled value, one row at a time; the column-wise hashes match."""
    sheet = OFFICES.sheets[0]
    raw = _offices_sheet([
        ["Row key *", "Name *", "Parent office", "Opening date *"],
        ["row_key", "name", "parent", "opening_date"],
        ["1", "  Head   Office ", None, dt.datetime(2020, 1, 1)],
        ["2", "head office", None, dt.date(2020, 1, 1)],
        ["3", "Nairobi East", "Head Office", dt.date(2021, 3, 1)],
    ])
    grid = read_grid(raw, columns_for(sheet, "template"), None, OFFICES.workbook.header_row,
                     OFFICES.workbook.key_row, [], missing=SETUP_COLUMN_MISSING)
    digests = row_hashes(OFFICES.name, sheet.name, grid)
    assert digests == [reference_hash(f"{OFFICES.name}/{sheet.name}", row.values)
                       for row in grid.each_row()]
    assert digests[0] == digests[1] != digests[2]  # spaces, case, midnight do not count
    one_row = "\x1f".join(["setup_offices/Offices", "name=nairobi east",
                           "opening_date=2021-03-01", "parent=head office"])
    assert digests[2] == hashlib.sha256(one_row.encode()).hexdigest()
