"""The signed metadata sheet: written very hidden, read back, verified, tamper detected."""

from __future__ import annotations

import datetime as dt

import pytest
import xlsxwriter
from openpyxl import load_workbook

from workbook_engine.errors import EngineError
from workbook_engine.workbooks.metadata import (
    METADATA_SHEET,
    read_and_verify,
    read_metadata,
    sign_metadata,
    verify_metadata,
    write_metadata_sheet,
)
from workbook_engine.workbooks.signing import load_key_ring, rotate_key


def _write(path, ring):
    signed = sign_metadata(ring, workbook_id="0b6c2c9e-1111-4222-8333-444455556666",
                           kind="collection_sheet", template_version=1, center_id=1,
                           group_id=None, meeting_date=dt.date(2026, 3, 3),
                           generated_at=dt.datetime(2026, 3, 2, 9, 30, 15, 123))
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Data")
    write_metadata_sheet(book, signed)
    book.close()
    return signed


def test_metadata_round_trip_and_verification(ctx, tmp_path):
    ring = load_key_ring(ctx.settings.secret_file)
    path = tmp_path / "sheet.xlsx"
    signed = _write(path, ring)
    meta = read_and_verify(path, ring)
    assert meta == signed.metadata
    assert meta.meeting_date == dt.date(2026, 3, 3) and meta.center_id == 1
    book = load_workbook(path)
    assert book[METADATA_SHEET].sheet_state == "veryHidden"
    assert book[METADATA_SHEET].protection.sheet
    secret = ring.keys[ring.current].hex()
    assert secret not in path.read_bytes().decode("latin-1")


def test_an_altered_field_or_unknown_key_fails(ctx, tmp_path):
    ring = load_key_ring(ctx.settings.secret_file)
    path = tmp_path / "sheet.xlsx"
    _write(path, ring)
    book = load_workbook(path)
    sheet = book[METADATA_SHEET]
    for row in sheet.iter_rows():
        if row[0].value == "meeting_date":
            row[1].value = "2026-03-17"
    book.save(path)
    with pytest.raises(EngineError) as exc:
        read_and_verify(path, ring)
    assert exc.value.code == "workbook-signature-invalid"
    # Rotation: an old workbook still verifies; a ring without its key refuses it.
    other = tmp_path / "fresh.xlsx"
    signed = _write(other, ring)
    rotate_key(ctx.settings.secret_file)
    rotated = load_key_ring(ctx.settings.secret_file)
    assert verify_metadata(read_metadata(other), rotated) == signed.metadata
    stranger = type(ring)(current="x", keys={"x": b"0" * 32})
    with pytest.raises(EngineError, match="does not have") as unknown:
        verify_metadata(read_metadata(other), stranger)
    # and what to do: it said only which key it was
    assert "another installation of the engine" in unknown.value.message
    assert "generate it again here" in unknown.value.message


def test_a_workbook_without_metadata_is_not_recognised(tmp_path):
    path = tmp_path / "plain.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("Data")
    book.close()
    with pytest.raises(EngineError) as exc:
        read_metadata(path)
    assert exc.value.code == "workbook-not-recognised"
    (tmp_path / "junk.xlsx").write_bytes(b"not a zip")
    with pytest.raises(EngineError) as exc:
        read_metadata(tmp_path / "junk.xlsx")
    assert exc.value.code == "workbook-not-recognised"
