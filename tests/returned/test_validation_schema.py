"""The pandera schema of a returned grid: every cell of the wrong type found at once."""

from __future__ import annotations

import pandera.pandas as pa
import pytest

from tests.conftest import KILIMANI_MEETING
from tests.returned.sheets import FILLED_HEADER, edit, generate
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.validation.collection import build_schema, input_frame, validate_sheet
from workbook_engine.validation.values import DEFAULT_LOCALE
from workbook_engine.workbooks.collection_reader import read_collection_sheet
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.safe_read import read_workbook


def test_schema_reports_every_badly_typed_cell_lazily(kilimani, tmp_path):
    path, expected = generate(kilimani, tmp_path / "generated")
    filled = edit(path, tmp_path / "typed.xlsx", {}, header=FILLED_HEADER, expected=expected,
                  by_name={("Amina Wanjiku", "repayment"): "twelve",
                           ("Baraka Mutua", "attendance"): "maybe",
                           ("Amina Wanjiku", "deposit"): " 1,200.50 "})
    sheet = read_collection_sheet(read_workbook(filled), COLLECTION_SHEET, expected)
    codes = collection_rules(kilimani.ctx.rules).attendance_codes
    schema = build_schema(COLLECTION_SHEET, expected, digits=2, locale=DEFAULT_LOCALE,
                          codes=codes)
    assert schema is build_schema(COLLECTION_SHEET, expected, digits=2,
                                  locale=DEFAULT_LOCALE, codes=codes)  # cached
    frame = input_frame(sheet, expected)
    assert frame.shape == (len(expected["rows"]), len(schema.metadata["columns"]))
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(frame, lazy=True)
    cases = caught.value.failure_cases  # one check over the grid: each row, its failing cells
    failing = {(row, column) for row, cells in zip(cases["index"], cases["failure_case"],
                                                   strict=True) for column in cells}
    names = {r["key"]: r["name"] for r in expected["rows"]}
    assert {(names[r], c.split(":")[0]) for r, c in failing} == {
        ("Amina Wanjiku", "repayment"), ("Baraka Mutua", "attendance")}  # " 1,200.50 " reads
    # validation reads the cells with the same readers, not through the schema: the same cells
    result = validate_sheet(sheet, expected, kind=COLLECTION_SHEET,
                            rules=collection_rules(kilimani.ctx.rules), today=KILIMANI_MEETING)
    unread = {(p.details["row_key"], p.location.column) for p in result.problems
              if p.error.code in ("not-a-number", "bad-attendance")}
    assert unread == failing
    # a column taken out of the grid is a structural failure, reported with the cells
    with pytest.raises(pa.errors.SchemaErrors) as caught:
        schema.validate(frame.drop(columns=["attendance"]), lazy=True)
    assert "input columns present" in set(caught.value.failure_cases["check"])
