"""Originals are archived by content, atomically, and never lost."""

from __future__ import annotations

from pathlib import Path

from workbook_engine.intake.archive import (
    archive_original,
    file_sha256,
    quarantine_file,
    safe_file_name,
)


def test_archive_keeps_one_copy_per_content_and_moves_safely(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    first = inbox / "Kilimani 2026-03-03.xlsx"
    first.write_bytes(b"PK\x03\x04 same content")
    second = inbox / "copy.xlsx"
    second.write_bytes(b"PK\x03\x04 same content")
    a = archive_original(tmp_path / "archive", first, move=True)
    b = archive_original(tmp_path / "archive", second, move=True)
    assert a.path == b.path and a.path.read_bytes() == b"PK\x03\x04 same content"
    assert a.sha256 == file_sha256(a.path)
    assert a.path.suffix == ".xlsx" and a.original_name == "Kilimani 2026-03-03.xlsx"
    assert not first.exists() and not second.exists()


def test_copy_mode_leaves_the_source(tmp_path: Path) -> None:
    source = tmp_path / "sheet.xlsx"
    source.write_bytes(b"abc")
    stored = archive_original(tmp_path / "archive", source)
    assert source.exists() and stored.path.read_bytes() == b"abc"


def test_quarantine_writes_the_reason_beside_the_file(tmp_path: Path) -> None:
    source = tmp_path / "notes.xlsx"
    source.write_text("not a workbook")
    stored = quarantine_file(tmp_path / "quarantine", source, "It is a text file.")
    assert not source.exists()
    assert stored.path.read_text() == "not a workbook"
    assert "It is a text file." in stored.path.with_name(stored.path.name + ".txt").read_text()


def test_hostile_attachment_names_are_neutralised() -> None:
    assert safe_file_name("../../etc/passwd") == "passwd"
    assert safe_file_name("C:\\Users\\lo\\sheet (1).xlsx") == "sheet_1_.xlsx"
    assert safe_file_name("...") == "file"
    assert "/" not in safe_file_name("a/b\x00c.xlsx")
    assert safe_file_name("evil\u202egpj.xlsx") == "evil_gpj.xlsx"  # no right-to-left override


def test_names_in_other_scripts_keep_their_letters() -> None:
    """A report of 'Ölçü.ods' is 'Ölçü-report-7', not 'l-report-7'; an Arabic, Amharic or
    Hindi name is not reduced to the default (and a name sent decomposed, as macOS does, is
    the same name)."""
    assert safe_file_name("Ölçü") == "Ölçü"
    assert safe_file_name("Coopérative de Ségou.xlsx") == "Coopérative_de_Ségou.xlsx"
    assert safe_file_name("كشف", "sheet") == "كشف"
    assert safe_file_name("ምስራቅ ማዕከል.xlsx") == "ምስራቅ_ማዕከል.xlsx"
    assert safe_file_name("किसान") == "किसान"
    assert safe_file_name("O\u0308lc\u0327u\u0308") == "Ölçü"
