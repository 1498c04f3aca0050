"""The rows of an import report written as XML (``grid_writer.SplicedRows``) are the cells
xlsxwriter writes for the same calls: the same XML but for the numbering of the styles, and
the same values, formats, fills, comments and row heights as openpyxl reads them."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from workbook_engine.domain import Office
from workbook_engine.services.imports.client_import import (
    _template_data,
    generate_client_template,
    load_reference,
)
from workbook_engine.workbooks import client_import_writer, grid_writer
from workbook_engine.workbooks.grid_writer import ReportContent, ReportRow
from workbook_engine.workbooks.metadata import SignedMetadata, read_and_verify
from workbook_engine.workbooks.signing import load_key_ring


def _rows() -> list[ReportRow]:
    """Every kind of value, text that needs escaping or keeps its spaces, empty cells with
    errors, long statuses (taller rows), and a row the writer skips (not below the last)."""
    rows = [ReportRow(
        3 + i, str(i + 1),
        {"office": "Nairobi East", "first_name": f" F&<{i}>\x01 ",
         "last_name": "_x0041_ L" if i % 7 == 0 else f"O'Brien {i}",
         "mobile_no": None if i % 5 == 0 else f"07{i:08d}", "gender": ("Female", "Male")[i % 2],
         "external_id": 12.5 if i % 3 == 0 else i,
         "date_of_birth": dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
         "submitted_on": dt.datetime(2026, 3, 1, 10, 30), "active": True if i % 4 else "Yes"},
        ("Valid " * (1 + 20 * (i % 9 == 0))).strip(), i % 3 != 0,
        {"mobile_no": "Not a mobile number.", "row_key": "Key?"} if i % 3 == 0 else {})
        for i in range(30)]
    rows.insert(5, ReportRow(7, "again", {}, "x", True))
    return rows


@pytest.fixture
def writing(kilimani, tmp_path: Path) -> Any:
    ctx = kilimani.ctx
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "t")
    ring = load_key_ring(ctx.settings.secret_file)
    metadata = read_and_verify(template.path, ring)
    signed = SignedMetadata(metadata, ring.sign(metadata.payload())[1])
    with ctx.session_factory() as s:
        ref = load_reference(ctx, s, office_id=2, legal_form="person", workbook_id=None)
        data = _template_data(ref, "person", s.get(Office, 2), None, 0)
    return data, signed


def _write_both(writing: Any, tmp_path: Path, report: ReportContent | None,
                monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    data, signed = writing
    spliced = client_import_writer.write_client_workbook(tmp_path / "spliced.xlsx", data,
                                                         signed, report=report)
    real = grid_writer.write_grid

    def cell_by_cell(*args: Any, **kwargs: Any) -> None:
        return real(*args, **{**kwargs, "spliced": None})

    monkeypatch.setattr(client_import_writer, "write_grid", cell_by_cell)
    plain = client_import_writer.write_client_workbook(tmp_path / "plain.xlsx", data, signed,
                                                       report=report)
    return spliced, plain


def _sheet_xml(path: Path, part: str) -> str:
    with zipfile.ZipFile(path) as package:
        return re.sub(r' (s|style)="\d+"', "", package.read(part).decode())


def _cells(path: Path) -> dict[tuple[Any, ...], Any]:
    seen: dict[tuple[Any, ...], Any] = {}
    for ws in openpyxl.load_workbook(path).worksheets:
        seen[(ws.title, "dimensions")] = ws.dimensions
        for r, dim in ws.row_dimensions.items():
            if dim.height or dim.hidden:
                seen[(ws.title, "row", r)] = (dim.height, dim.hidden)
        for row in ws.iter_rows():
            for c in row:
                if c.value is not None or c.has_style:
                    seen[(ws.title, c.coordinate)] = (
                        c.value, c.data_type, c.number_format, c.fill.fgColor.rgb,
                        c.font.color.rgb if c.font.color else None, c.font.b,
                        c.protection.locked, c.alignment.wrap_text,
                        c.comment.text if c.comment else None)
    return seen


@pytest.mark.parametrize("report", [True, False], ids=["report", "template"])
def test_spliced_rows_are_the_cells_xlsxwriter_writes(writing, tmp_path: Path, report: bool,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    content = ReportContent({"Clients": _rows()}, [], "done") if report else None
    spliced, plain = _write_both(writing, tmp_path, content, monkeypatch)
    for sheet in (2, 3, 4):  # Clients, Family members, Addresses
        part = f"xl/worksheets/sheet{sheet}.xml"
        assert _sheet_xml(spliced, part) == _sheet_xml(plain, part), part
        with zipfile.ZipFile(spliced) as package:  # compressed as the other parts
            assert package.getinfo(part).compress_type == zipfile.ZIP_DEFLATED
    cells = _cells(spliced)
    assert cells == _cells(plain)
    if report:  # what the rows hold came through: comments of the red cells, tall rows
        comments = [v[-1] for k, v in cells.items() if len(k) == 2 and k[0] == "Clients"]
        assert comments.count("Not a mobile number.") == 10
        assert cells[("Clients", "row", 3)][0] > 15  # a status longer than its cell wraps
