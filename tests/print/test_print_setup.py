"""Print setup on every sheet the engine writes, checked in the file (every kind, fast) and
on paper (LibreOffice): a filled 40-row collection sheet and its report each print one page
wide, the empty client template prints its header one page wide, the Errors sheet is a
readable list and the Instructions sheet lines neither overlap nor run off the page."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from tests.print.conftest import Sheet40, seed_red_cases
from tests.setup_import.filling import fill as fill_setup
from tests.support.render import Rendered, render
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.imports.setup_import import generate_setup_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS

# Two errors on the sheet: the partial repayment of the seed's cases and an unknown code.
TWO_ERRORS = {("Client8 Bench", "attendance"): "X"}


def _visible_sheets(path: Path) -> list[Any]:
    book = openpyxl.load_workbook(path)
    return [ws for ws in book.worksheets if ws.sheet_state == "visible"]


def _assert_prints(ws: Any, *, grid: bool, area: bool) -> None:
    """One page wide, A4, a page header (what, which sheet, date) and page numbers."""
    where = ws.title
    assert ws.sheet_properties.pageSetUpPr is not None and \
        ws.sheet_properties.pageSetUpPr.fitToPage, where
    assert ws.page_setup.fitToHeight in (0, "0") and ws.page_setup.fitToWidth in (1, "1",
                                                                                None), where
    assert str(ws.page_setup.paperSize) == "9", where
    assert ws.oddHeader.left.text and ws.oddHeader.right.text, where
    assert "&P" in (ws.oddFooter.right.text or ""), where
    if grid:
        assert ws.page_setup.orientation == "landscape", where
        assert ws.print_title_rows, where
    if area:
        assert ws.print_area, where


def test_every_sheet_of_every_workbook_is_set_up_to_print(sheet40: Sheet40, tmp_path: Path):
    ctx = sheet40.ctx
    report = process_file(ctx, sheet40.fill(tmp_path / "returned.xlsx", {
        **seed_red_cases(sheet40), **TWO_ERRORS}), actor_id=None)
    books = {"collection sheet": sheet40.path, "collection report": report.report_xlsx}
    for form in ("person", "entity"):
        books[f"client template {form}"] = generate_client_template(
            ctx, actor_id=None, office_id=2, legal_form=form, out_dir=tmp_path / "t").path
    for kind in SETUP_KINDS:
        books[f"setup {kind}"] = generate_setup_template(
            ctx, actor_id=None, kind=kind, out_dir=tmp_path / "t").path
    loans = _loans_report(ctx, tmp_path)
    books["loans report"] = loans.report_xlsx
    for name, path in books.items():
        sheets = _visible_sheets(Path(path))
        assert sheets, name
        for ws in sheets:
            _assert_prints(ws, grid=ws.title not in ("Instructions", "Summary"),
                           area=ws.title not in ("Errors", "Reconciliation", "Summary",
                                                 "Posting"))
    summary = openpyxl.load_workbook(report.report_xlsx)["Summary"]
    assert summary["A5"].value == "Cash collected"
    assert summary["B5"].number_format == "#,##0.00"  # money, not 47630.61
    titles = {ws.title for ws in _visible_sheets(Path(loans.report_xlsx))}
    assert {"Errors", "Reconciliation", "Loans", "Instructions"} <= titles


def _loans_report(ctx: Any, tmp_path: Path) -> Any:
    template = generate_setup_template(ctx, actor_id=None, kind="loans",
                                       out_dir=tmp_path / "loans")
    common = {"as_of": dt.date(2026, 2, 27), "office": "Nairobi East", "product": "Biashara",
              "borrower": "Amina Wanjiku", "remaining_installments": 2,
              "next_due_date": dt.date(2026, 3, 3)}
    filled = fill_setup(template.path, tmp_path / "loans-filled.xlsx", {"Loans": [
        {**common, "principal_outstanding": 7045.9, "interest_outstanding": 100},
        {**common, "borrower": "Nobody Here", "principal_outstanding": 1000,
         "interest_outstanding": 100}]})
    return process_file(ctx, filled, actor_id=None)


def _one_page_wide(printed: Rendered, first: str, last: str,
                   pages: list[int] | None = None) -> list[int]:
    """The pages of a sheet whose first column header is ``first`` and last ``last`` (those
    of ``pages``, when other sheets use the words): every page showing the last column shows
    the first on the same line, so no column is printed on a page of its own (the sheet
    prints one page wide)."""
    pages = [p for p in printed.pages_with(last) if pages is None or p in pages]
    assert pages, f"{last!r} is not printed"
    for page in pages:
        lasts = [w for w in printed.find(last) if w.page == page]
        firsts = [w for w in printed.find(first) if w.page == page]
        assert any(abs(a.y0 - b.y0) < 3 for a in lasts for b in firsts), (first, last, page)
    return pages


@pytest.mark.libreoffice
def test_a_filled_40_row_sheet_and_its_report_print_one_page_wide(sheet40: Sheet40,
                                                                  tmp_path: Path):
    filled = sheet40.fill(tmp_path / "kilimani.xlsx", {**seed_red_cases(sheet40),
                                                       **TWO_ERRORS})
    printed = render(filled, tmp_path / "sheet")
    assert printed.page_count == 1
    _one_page_wide(printed, "Client / group", "Paid out")
    assert printed.find("Client33 Bench") and not printed.outside()
    printed.keep("collection-sheet")

    result = process_file(sheet40.ctx, filled, actor_id=None)
    assert len(result.errors) == 2
    report = render(Path(result.report_xlsx), tmp_path / "report")
    report.keep("collection-report", pages=2)
    # the sheet (1 page), its Errors (1 page: a list, not 6 pages of column groups), Summary,
    # then what posting will do to each account (a list, one page wide)
    posting = report.pages_with("Before")
    assert posting and posting == list(range(4, report.page_count + 1))
    assert _one_page_wide(report, "Client / group", "Paid out", [1, 2]) == [1]
    assert _one_page_wide(report, "What is wrong", "How to fix") == [2]
    assert _one_page_wide(report, "Account", "Status", posting) == posting
    assert report.pages_with("Cash to hand over") == [1, 3]
    assert report.find("Client2 Bench") and not report.outside()
    assert not report.overlapping()
    # page header: the center, the sheet, the meeting date; page numbers in the footer
    page = report.pages[1]
    assert {"Kilimani", "Errors", "2026-03-03", "Page", "2", "of",
            str(report.page_count)} <= {w.text for w in page.words}


@pytest.mark.libreoffice
@pytest.mark.parametrize("form", ["person", "entity"])
def test_the_empty_client_template_prints_its_header_one_page_wide(kilimani, tmp_path: Path,
                                                                   form: str):
    template = generate_client_template(kilimani.ctx, actor_id=None, office_id=2,
                                        legal_form=form, out_dir=tmp_path / "t")
    printed = render(template.path, tmp_path / "print")
    printed.keep(f"client-template-{form}", pages=2)
    # Instructions, Clients, Family members, Addresses: one page each (was 25 pages)
    assert printed.page_count == 4
    assert _one_page_wide(printed, "Row key", "Import status", [2]) == [2]
    assert "Office" in printed.pages[1].text()
    assert not printed.outside() and not printed.overlapping()
    title = "persons" if form == "person" else "entities"
    assert printed.find(f"Client import: {title} of Nairobi East")


@pytest.mark.libreoffice
def test_a_migration_report_prints_its_sheets_one_page_wide(kilimani, tmp_path: Path):
    result = _loans_report(kilimani.ctx, tmp_path)
    printed = render(Path(result.report_xlsx), tmp_path / "print")
    printed.keep("loans-report", pages=4)
    _one_page_wide(printed, "Row key", "Import status")
    _one_page_wide(printed, "What is wrong", "How to fix")
    _one_page_wide(printed, "Office", "Savings balance")
    assert printed.page_count == 4  # Instructions, Loans, Errors, Reconciliation
    assert not printed.outside() and not printed.overlapping()
    # money is money: 2 decimals, thousands grouped, on paper too
    assert printed.find("7,045.90")
    assert not [w.text for w in printed.words() if w.text.endswith(".9000")]


@pytest.mark.libreoffice
def test_the_empty_sheet_and_every_template_and_import_report_print_within_their_pages(
        sheet40: Sheet40, tmp_path: Path):
    """The rest of what the engine writes, on paper: the empty 40-row sheet (one page), the
    products template (two grids), a client import's report with errors."""
    from tests.client_import.filling import fill as fill_clients

    ctx = sheet40.ctx
    empty = render(sheet40.path, tmp_path / "empty")
    assert empty.page_count == 1
    _one_page_wide(empty, "Client / group", "Paid out")
    products = generate_setup_template(ctx, actor_id=None, kind="products",
                                       out_dir=tmp_path / "t")
    printed = render(products.path, tmp_path / "products")
    assert printed.page_count == 3  # Instructions, Loan products, Savings products
    assert len(_one_page_wide(printed, "Row key", "Import status")) == 2
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "t")
    filled = fill_clients(template.path, tmp_path / "clients.xlsx", [
        {"row_key": "1", "office": "Nairobi East", "first_name": "Zawadi",
         "last_name": "Achieng", "mobile_no": "not a phone", "active": "No"},
        {"row_key": "2", "office": "Nairobi East", "first_name": "Baraka",
         "last_name": "Otieno", "active": "No"}])
    report = render(Path(process_file(ctx, filled, actor_id=None).report_xlsx),
                    tmp_path / "report")
    report.keep("client-import-report", pages=(2, 5))
    # Instructions, Clients, Family members, Addresses, Errors: a page each
    assert report.page_count == 5
    _one_page_wide(report, "What is wrong", "How to fix")
    assert report.find("Zawadi Achieng")  # the Errors list names the client
    for done in (empty, printed, report):
        assert not done.outside() and not done.overlapping()


def test_the_openpyxl_fallback_sets_up_the_reports_sheets_alike(sheet40: Sheet40,
                                                                tmp_path: Path,
                                                                monkeypatch):
    """A package the XML edits do not expect is rewritten with openpyxl: same print setup,
    same marks."""
    from workbook_engine.reports import collection_report, xlsx_patch
    from workbook_engine.services.pipeline import processing

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise xlsx_patch.Unsupported("forced")

    monkeypatch.setattr(collection_report, "_patch_package", refuse)
    monkeypatch.setattr(processing, "run_limited",
                        lambda fn, *args, limits, **kwargs: fn(*args, **kwargs))
    result = process_file(sheet40.ctx, sheet40.fill(tmp_path / "returned.xlsx", {
        **seed_red_cases(sheet40), **TWO_ERRORS}), actor_id=None)
    for ws in _visible_sheets(Path(result.report_xlsx)):
        _assert_prints(ws, grid=ws.title != "Summary", area=ws.title == "Collection sheet")
    book = openpyxl.load_workbook(result.report_xlsx)
    cell = book["Collection sheet"][sheet40.address("Client3 Bench", "repayment")]
    assert cell.fill.fgColor.rgb.endswith("F8CBAD")
    assert book["Summary"]["B5"].number_format == "#,##0.00"
    assert book["Errors"]["G2"].alignment.wrap_text
