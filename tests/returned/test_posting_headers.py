"""The preview report's Posting sheet: the "Before" and "After" headers are aligned right,
over their figures, by both writers (they were left-aligned over right-aligned figures)."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from tests.returned.sheets import FILLED_HEADER, edit, generate
from workbook_engine.reports import collection_report
from workbook_engine.services.pipeline.processing import process_file


@pytest.mark.parametrize("writer", ["package edit", "openpyxl fallback"])
def test_the_posting_sheets_before_and_after_headers_align_with_their_figures(
        kilimani, tmp_path: Path, monkeypatch, fallbacks, writer: str) -> None:
    if writer == "openpyxl fallback":
        def unsupported(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise collection_report.Unsupported("forced by the test")

        monkeypatch.setattr(collection_report, "_patch_package", unsupported)
    path, expected = generate(kilimani, tmp_path / "generated")
    result = process_file(kilimani.ctx, edit(path, tmp_path / "back.xlsx", {},
                                             header=FILLED_HEADER, expected=expected),
                          actor_id=None)
    assert len(fallbacks) == (writer == "openpyxl fallback")
    posting = openpyxl.load_workbook(result.report_xlsx)["Posting"]
    headers = {c.value: c for c in posting[1]}
    for name in ("Before", "After"):
        assert headers[name].alignment.horizontal == "right" and headers[name].font.b, name
        column = headers[name].column_letter
        assert isinstance(posting[f"{column}2"].value, int | float)  # a figure below it
    for name in ("Client / group", "Account", "Status"):
        assert headers[name].alignment.horizontal in (None, "general") \
            and headers[name].font.b, name
