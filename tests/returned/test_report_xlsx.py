"""The .xlsx preview report: signed version, the fast package edit and its openpyxl fallback."""

from __future__ import annotations

import zipfile

import pytest
from openpyxl import load_workbook

from tests.returned.sheets import FILLED_HEADER, address, edit, generate, has_soffice, \
    libreoffice_resave
from workbook_engine.reports import collection_report
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import show_submission
from workbook_engine.workbooks.metadata import read_and_verify
from workbook_engine.workbooks.signing import load_key_ring

PARTIAL = {("Amina Wanjiku", "repayment"): 925.64, ("Dalia Njeri", "attendance"): "A"}


@pytest.fixture
def sheet(kilimani, tmp_path):
    path, expected = generate(kilimani, tmp_path / "generated")
    return kilimani, path, expected


def _bad(sheet, tmp_path, name="bad.xlsx"):
    world, path, expected = sheet
    return edit(path, tmp_path / name, {}, header=FILLED_HEADER, expected=expected,
                by_name=PARTIAL)


def _set_meta(path, target, field, value):
    book = load_workbook(path)
    for row in book["_workbook"].iter_rows(min_col=1, max_col=2):
        if row[0].value == field:
            row[1].value = value
    book.save(target)
    return target


def _check_report(report, expected, hidden=("veryHidden",)):
    book = load_workbook(report)
    ws = book["Collection sheet"]
    cell = ws[address(expected, "Amina Wanjiku", "repayment")]
    assert cell.value == pytest.approx(925.64)
    assert cell.fill.start_color.rgb.endswith("FFC7CE") and cell.font.color.rgb.endswith("C00000")
    assert cell.comment is not None and "How to fix" in cell.comment.text
    absent = ws[address(expected, "Dalia Njeri", "attendance")]
    assert absent.font.color.rgb.endswith("C00000") and absent.comment is None
    assert not str(absent.fill.start_color.rgb).endswith("FFC7CE")
    errors = list(book["Errors"].iter_rows(values_only=True))
    assert [e[5] for e in errors[1:]] == ["repayment-not-exact"]
    assert book["_workbook"].sheet_state in hidden and book["_workbook"].protection.sheet
    # the grid keeps its protection and its input cells stay unlocked
    assert ws.protection.sheet and cell.protection.locked is False
    return book


def test_report_carries_the_next_version_signed(sheet, tmp_path, fallbacks):
    world, _, expected = sheet
    first = process_file(world.ctx, _bad(sheet, tmp_path), actor_id=None)
    assert first.report_xlsx is not None and fallbacks == []
    _check_report(first.report_xlsx, expected)
    ring = load_key_ring(world.ctx.settings.secret_file)
    metadata = read_and_verify(first.report_xlsx, ring)
    assert metadata.version == 2 and metadata.kind == "collection_sheet"
    # dropping the report back unchanged is version 2; its own report says version 3
    second = process_file(world.ctx, first.report_xlsx, actor_id=None)
    assert show_submission(world.ctx, second.submission_id)["version"] == 2
    assert read_and_verify(second.report_xlsx, ring).version == 3
    assert fallbacks == []
    book = _check_report(second.report_xlsx, expected)  # the engine's old comments replaced
    comments = [c.comment for row in book["Collection sheet"].iter_rows() for c in row
                if c.comment]
    assert len(comments) == 1


@pytest.mark.parametrize("field,value", [("version", "9"), ("version", ""),
                                         ("meeting_date", "2026-03-17")])
def test_a_report_with_edited_metadata_is_refused(sheet, tmp_path, field, value):
    world, _, _ = sheet
    first = process_file(world.ctx, _bad(sheet, tmp_path), actor_id=None)
    forged = _set_meta(first.report_xlsx, tmp_path / "forged.xlsx", field, value)
    result = process_file(world.ctx, forged, actor_id=None)
    assert [e["code"] for e in result.errors] == ["workbook-signature-invalid"]
    assert result.status == "invalid" and result.report_xlsx is None
    assert show_submission(world.ctx, first.submission_id)["status"] == "invalid"


def test_openpyxl_fallback_writes_the_same_report(sheet, tmp_path, monkeypatch, fallbacks):
    world, _, expected = sheet

    def unsupported(*args, **kwargs):
        raise collection_report.Unsupported("forced by the test")

    monkeypatch.setattr(collection_report, "_patch_package", unsupported)
    first = process_file(world.ctx, _bad(sheet, tmp_path), actor_id=None)
    assert len(fallbacks) == 1
    _check_report(first.report_xlsx, expected)
    ring = load_key_ring(world.ctx.settings.secret_file)
    assert read_and_verify(first.report_xlsx, ring).version == 2


def test_report_keeps_untouched_parts_byte_for_byte(sheet, tmp_path):
    world, _, _ = sheet
    bad = _bad(sheet, tmp_path)
    report = process_file(world.ctx, bad, actor_id=None).report_xlsx
    with zipfile.ZipFile(bad) as before, zipfile.ZipFile(report) as after:
        edited = {"xl/styles.xml", "[Content_Types].xml", "xl/workbook.xml",
                  "xl/_rels/workbook.xml.rels"}
        same = [n for n in before.namelist() if n not in edited
                and before.read(n) == after.read(n)]
        assert "xl/theme/theme1.xml" in same and "docProps/core.xml" in same
        assert set(before.namelist()) <= set(after.namelist())


@pytest.mark.skipif(not has_soffice(), reason="LibreOffice is not installed")
def test_report_of_a_libreoffice_file_and_report_opened_by_libreoffice(sheet, tmp_path,
                                                                        fallbacks):
    world, _, expected = sheet
    resaved = libreoffice_resave(_bad(sheet, tmp_path), tmp_path / "lo")
    result = process_file(world.ctx, resaved, actor_id=None)
    assert fallbacks == [] and result.report_xlsx is not None
    # LibreOffice saves a very hidden sheet as hidden: the report keeps what it was given
    _check_report(result.report_xlsx, expected, hidden=("hidden",))
    # LibreOffice reads the report back (comments, fills and the signed metadata survive)
    again = libreoffice_resave(result.report_xlsx, tmp_path / "lo2")
    _check_report(again, expected, hidden=("hidden",))
    second = process_file(world.ctx, again, actor_id=None)
    assert [e["code"] for e in second.errors] == ["repayment-not-exact"]


def test_report_package_is_well_formed(sheet, tmp_path):
    """Every part parses, every part has a content type, ids are unique (what Excel checks
    before it offers to "repair" a file)."""
    import re
    from xml.etree import ElementTree

    world, _, _ = sheet
    first = process_file(world.ctx, _bad(sheet, tmp_path), actor_id=None)
    second = process_file(world.ctx, first.report_xlsx, actor_id=None)  # a report of a report
    for report in (first.report_xlsx, second.report_xlsx):
        with zipfile.ZipFile(report) as zf:
            names = zf.namelist()
            assert len(names) == len(set(names))
            types = zf.read("[Content_Types].xml").decode()
            defaults = set(re.findall(r'Extension="([^"]+)"', types))
            overrides = set(re.findall(r'PartName="/([^"]+)"', types))
            for name in names:
                if name.endswith((".xml", ".rels", ".vml")):
                    ElementTree.fromstring(zf.read(name))
                assert name in overrides or name.rsplit(".", 1)[-1] in defaults, name
            workbook = zf.read("xl/workbook.xml").decode()
            sheet_ids = re.findall(r'<sheet [^>]*sheetId="(\d+)"', workbook)
            assert len(sheet_ids) == len(set(sheet_ids)) == 5  # data, metadata, Errors, Summary, Posting
            for rels in (n for n in names if n.endswith(".rels")):
                ids = re.findall(r'Id="([^"]+)"', zf.read(rels).decode())
                assert len(ids) == len(set(ids)), rels


def _writer_noting_its_rows(source, target, data, **kwargs):
    """The real writer, noting beside its copy how many grid rows it was sent (module level:
    the report worker receives it pickled by name)."""
    target.with_suffix(".rows").write_text(str(len(data.rows) + len(data.columns)))
    return collection_report.write_xlsx_report(source, target, data, **kwargs)


def test_the_report_worker_is_sent_no_grid_rows(sheet, tmp_path, monkeypatch):
    """The highlighted copy marks the sender's own cells and lists the errors, summary and
    posting: the grid's rows and columns (the HTML report's) are not pickled to its worker,
    and the copy is as complete without them."""
    from workbook_engine.services.pipeline import processing

    monkeypatch.setattr(processing, "write_xlsx_report", _writer_noting_its_rows)
    world, _, expected = sheet
    result = process_file(world.ctx, _bad(sheet, tmp_path), actor_id=None)
    assert result.report_xlsx is not None
    assert result.report_xlsx.with_suffix(".rows").read_text() == "0"
    _check_report(result.report_xlsx, expected)
    assert "Amina Wanjiku" in result.report_html.read_text(encoding="utf-8")
