"""The head of a sheet part that the zip pre-check inflates before the counted inflation
(``_zipcheck._peek``, for the sheet's ``<dimension>``): up to the start of its cells, not
the whole first 64 KB, and the same dimension verdict as the first 64 KB gives."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest

from workbook_engine.workbooks import _zipcheck
from workbook_engine.workbooks._types import ReadLimits, UnreadableFile

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def _sheet(prefix: str, cols: int, dimension: str | None, rows: int) -> bytes:
    p = f"{prefix}:" if prefix else ""
    xmlns = f'xmlns:{prefix}="{MAIN_NS}"' if prefix else f'xmlns="{MAIN_NS}"'
    dim = f'<{p}dimension ref="{dimension}"/>' if dimension else ""
    columns = "".join(f'<{p}col min="{i}" max="{i}" width="12.5" customWidth="1"/>'
                      for i in range(1, cols + 1))
    cells = "".join(f'<{p}row r="{r}"><{p}c r="A{r}"><{p}v>{r}</{p}v></{p}c></{p}row>'
                    for r in range(1, rows + 1))
    return (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{p}worksheet {xmlns}>'
            f"{dim}<{p}cols>{columns}</{p}cols><{p}sheetData>{cells}</{p}sheetData>"
            f"</{p}worksheet>").encode()


def _peeked(tmp_path: Path, xml: bytes, method: int) -> bytes:
    path = tmp_path / f"book-{method}.zip"
    with zipfile.ZipFile(path, "w", method) as zf:
        zf.writestr("xl/worksheets/sheet1.xml", xml)
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    with path.open("rb") as f:
        return _zipcheck._peek(f, info, path.stat().st_size)


def _verdict(head: bytes) -> str:
    sheet = _zipcheck.SheetPart("Data", "visible", "xl/worksheets/sheet1.xml", True)
    try:
        _zipcheck._check_dimension(sheet, head, ReadLimits(max_rows=5000, max_columns=50))
    except UnreadableFile as e:
        return e.detail or e.code
    return "ok"


@pytest.mark.parametrize("seed", range(12))
def test_the_head_ends_after_the_cells_start_with_the_same_verdict(tmp_path: Path,
                                                                   seed: int) -> None:
    rng = random.Random(seed)
    prefix = rng.choice(["", "x", "spreadsheetml_main_namespace_prefix"])
    dimension = rng.choice([None, "A1:C40", "A1:C9000", "A1:ZZ3"])
    xml = _sheet(prefix, rng.choice([0, 3, 60, 400, 900, 3000]), dimension, 3000)
    first_64k = xml[:_zipcheck._HEAD_KEEP]
    cells = xml.index(b"sheetData>")
    head = _peeked(tmp_path, xml, zipfile.ZIP_DEFLATED)
    assert xml.startswith(head)
    if cells < _zipcheck._HEAD_KEEP - 16:  # the cells start in the first 64 KB: it stops there
        assert cells < len(head) <= cells + 2 * _zipcheck._PEEK_STEP
    else:  # else the first 64 KB, as always
        assert head == first_64k
    assert _verdict(head) == _verdict(first_64k)
    assert _peeked(tmp_path, xml, zipfile.ZIP_STORED) == first_64k  # stored: read as it is


def test_a_cut_at_the_cells_tag_is_not_taken_for_it(tmp_path: Path) -> None:
    """Where a step ends inside "<sheetData", the head goes on to the tag's end: a name
    that only starts like it (<sheetDataX) is not the cells."""
    for pad in range(_zipcheck._PEEK_STEP - 40, _zipcheck._PEEK_STEP + 5):
        lead = b'<?xml version="1.0"?><worksheet xmlns="' + MAIN_NS.encode() + b'">'
        xml = (lead + b"<!--" + b"p" * (pad - len(lead) - 7) + b"-->" + b"<sheetDataX/>"
               + b'<dimension ref="A1:A9000"/><sheetData/></worksheet>')
        head = _peeked(tmp_path, xml, zipfile.ZIP_DEFLATED)
        assert head.endswith(b"</worksheet>") or b"<sheetData/" in head, pad
        assert _verdict(head) == _verdict(xml) != "ok"
