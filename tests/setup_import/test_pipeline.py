"""Setup workbooks in the pipeline: templates, order, rows of the same file, each row whole
or not at all, re-uploads, maker-checker."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from tests.setup_import.filling import fill, load, statuses, submit
from workbook_engine.domain import Loan, Office, Staff, Submission
from workbook_engine.errors import EngineError
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.imports.setup_import import generate_setup_template
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS

D = Decimal


def _offices(ctx: AppContext, tmp_path: Path) -> None:
    load(ctx, "offices", [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)},
        {"name": "Nairobi East", "parent": "Head Office", "opening_date": dt.date(2021, 3, 1)}],
        tmp_path / "offices", by="installer")


@pytest.mark.parametrize("kind", list(SETUP_KINDS))
def test_each_template_is_signed_with_lists_by_defined_names(kilimani, tmp_path: Path,
                                                             kind: str) -> None:
    ctx = kilimani.ctx
    result = generate_setup_template(ctx, actor_id=None, kind=kind, out_dir=tmp_path)
    book = openpyxl.load_workbook(result.path)
    assert book["_workbook"].sheet_state == "veryHidden"
    assert book["_lookups"].sheet_state == "hidden"
    lookups = {c.value: c.column_letter for c in book["_lookups"][1]}
    names = book.defined_names
    for sheet in SETUP_KINDS[kind].sheets:
        ws = book[sheet.name]
        keys = [c.value for c in ws[2] if c.value]
        assert keys[0] == "row_key" and keys[-1] == "status"
        mandatory = {c.key for c in sheet.columns if c.mandatory and c.variant is None}
        assert {ws.cell(1, i + 1).value.removesuffix(" *") for i, k in enumerate(keys)
                if k in mandatory} == {c.header for c in sheet.columns if c.key in mandatory}
        sources = {dv.formula1 for dv in ws.data_validations.dataValidation if dv.formula1}
        for spec in sheet.columns:
            if spec.choices in ("offices", "loan_officers", "loan_products"):
                assert f"L_{spec.choices}" in sources  # never an inline list
    # The lists hold what exists: the demo's offices, loan officers and products.
    values = {name: [c.value for c in book["_lookups"][letter][1:] if c.value is not None]
              for name, letter in lookups.items()}
    assert "Nairobi East" in values["offices"]
    assert "Wanjiru Kamau" in values["loan_officers"]
    assert "Biashara" in values["loan_products"]
    assert "L_offices" in names and "L_clients" in names


def test_order_matters_staff_before_their_office_points_at_the_offices_template(
        ctx: AppContext, tmp_path: Path) -> None:
    _offices(ctx, tmp_path)
    result = submit(ctx, "staff", [
        {"office": "Kisumu", "first_name": "Mwangi", "last_name": "Njoroge",
         "is_loan_officer": "Yes"},
        {"office": "Nairobi East", "first_name": "Wanjiru", "last_name": "Kamau",
         "is_loan_officer": "Yes"}], tmp_path / "staff")
    assert result.status == "invalid"
    [error] = result.errors
    assert (error["code"], error["row"], error["cell"]) == ("setup-not-loaded-yet", 3, "B3")
    assert "Kisumu" in error["message"]
    assert "template setup --kind offices" in error["message"]
    # The valid row may be approved meanwhile; the other waits for the offices workbook.
    approve_submission(ctx, submission_id=result.submission_id, by="installer")
    with ctx.session_factory() as s:
        assert list(s.scalars(select(Staff.first_name))) == ["Wanjiru"]


def test_a_row_names_an_office_above_not_below_and_each_row_is_whole(
        ctx: AppContext, tmp_path: Path) -> None:
    result = submit(ctx, "offices", [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)},
        {"name": "Kisumu", "parent": "Lake Region", "opening_date": dt.date(2021, 6, 1)},
        {"name": "Lake Region", "parent": "Head Office", "opening_date": dt.date(2021, 1, 1)},
        {"name": "Kitale", "parent": "Lake Region", "opening_date": dt.date(2020, 6, 1)},
        {"name": "Eldoret", "parent": "Kitale", "opening_date": dt.date(2022, 1, 1)}],
        tmp_path)
    by_row = {e["row"]: e for e in result.errors}
    assert by_row[4]["code"] == "setup-later-row" and "row 5" in by_row[4]["message"]
    # Kitale opens before its parent: refused by the office service itself, on its cell.
    assert (by_row[6]["code"], by_row[6]["column"]) == ("date-not-allowed", "opening_date")
    assert by_row[7]["code"] == "setup-earlier-row-invalid"
    assert set(by_row) == {4, 6, 7}
    # The dry run created nothing.
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Office)) == 0
    approve_submission(ctx, submission_id=result.submission_id, by="installer")
    with ctx.session_factory() as s:
        assert sorted(s.scalars(select(Office.name))) == ["Head Office", "Lake Region"]
    report = Path(result.report_xlsx or "")
    status = statuses(report, "Offices")
    assert status["1"].startswith("Valid") and status["2"].startswith("Not imported: Row 4")


def test_fix_and_send_again_skips_what_was_imported(ctx: AppContext, tmp_path: Path) -> None:
    result = submit(ctx, "offices", [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)},
        {"name": "Kisumu", "parent": "Head Offce", "opening_date": dt.date(2021, 6, 1)}],
        tmp_path)
    view = approve_submission(ctx, submission_id=result.submission_id, by="installer")
    posted = Path(view["report_xlsx"])
    assert statuses(posted, "Offices")["1"] == "Imported: office 1"
    book = openpyxl.load_workbook(posted)
    book["Offices"]["C4"] = "Head Office"  # the typo corrected
    book.save(tmp_path / "fixed.xlsx")
    again = process_file(ctx, tmp_path / "fixed.xlsx", actor_id=None)
    assert again.status == "awaiting_approval", again.errors
    assert "1 row(s) valid" in again.message and "1 already imported" in again.message
    approve_submission(ctx, submission_id=again.submission_id, by="installer")
    with ctx.session_factory() as s:
        assert sorted(s.scalars(select(Office.name))) == ["Head Office", "Kisumu"]
    # The very same rows in a new template are recognised by their content.
    fresh = submit(ctx, "offices", [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)}], tmp_path / "again")
    assert fresh.status == "invalid" and "1 already imported" in fresh.message


def test_maker_checker_after_the_bootstrap(ctx: AppContext, tmp_path: Path) -> None:
    _offices(ctx, tmp_path)
    load(ctx, "staff", [
        {"office": "Head Office", "first_name": "Grace", "last_name": "Wambui",
         "is_supervisor": "Yes"},
        {"office": "Nairobi East", "first_name": "Peter", "last_name": "Otieno",
         "is_supervisor": "Yes"}], tmp_path / "staff", by="installer")
    grace = submit(ctx, "offices", [{"name": "Kisumu", "parent": "Head Office",
                                    "opening_date": dt.date(2021, 6, 1)}],
                   tmp_path / "more", actor_id=1)
    with pytest.raises(EngineError) as refused:  # a supervisor exists: no bootstrap now
        approve_submission(ctx, submission_id=grace.submission_id, by="installer")
    assert refused.value.code == "not-found"
    with pytest.raises(EngineError) as same:
        approve_submission(ctx, submission_id=grace.submission_id, by="Grace Wambui")
    assert same.value.code == "maker-checker"
    approve_submission(ctx, submission_id=grace.submission_id, by="Peter Otieno")
    with ctx.session_factory() as s:
        sub = s.get(Submission, grace.submission_id)
        assert sub.decided_by_id == 2


def test_migration_rows_are_checked_by_the_migration_service(kilimani, tmp_path: Path
                                                             ) -> None:
    ctx = kilimani.ctx
    as_of = dt.date(2026, 2, 27)
    with ctx.session_factory() as s:
        before = s.scalar(select(func.count()).select_from(Loan))
    common = {"as_of": as_of, "office": "Nairobi East", "product": "Biashara",
              "borrower": "Amina Wanjiku", "remaining_installments": 2,
              "next_due_date": dt.date(2026, 3, 3)}
    result = submit(ctx, "loans", [
        {**common, "principal_outstanding": 1000, "interest_outstanding": 100,
         "arrears_amount": 5000},
        {**common, "principal_outstanding": 1000, "interest_outstanding": 100,
         "next_due_date": dt.date(2026, 3, 4)},
        {**common, "principal_outstanding": "lots", "interest_outstanding": 100},
        {**common, "borrower": "Nobody Here", "principal_outstanding": 1000,
         "interest_outstanding": 100},
        {**common, "as_of": dt.date(2026, 2, 28), "principal_outstanding": 1000,
         "interest_outstanding": 100}], tmp_path)
    codes = {e["row"]: (e["code"], e["column"]) for e in result.errors}
    assert codes == {3: ("migration-figures", "arrears_amount"),
                     4: ("not-a-meeting-day", "next_due_date"),
                     5: ("setup-bad-value", "principal_outstanding"),
                     6: ("setup-not-loaded-yet", "borrower"),
                     7: ("setup-bad-value", "as_of")}
    assert "template clients" in next(e["message"] for e in result.errors if e["row"] == 6)
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == before  # a dry run
    book = openpyxl.load_workbook(result.report_xlsx or "")
    assert book.sheetnames[:4] == ["Instructions", "Loans", "Errors", "Reconciliation"]
    assert book["Errors"].max_row == 1 + len(result.errors)
    html = Path(result.report_html or "").read_text(encoding="utf-8")
    assert "Reconciliation (dry run)" in html and "Nairobi East" in html
    assert "setup-not-loaded-yet" in html


def test_whole_amounts_in_messages_are_written_out_not_as_exponents(kilimani, tmp_path: Path
                                                                  ) -> None:
    """20000 typed in a cell is '20000' in the message, not '2E+4' (a Decimal normalised)."""
    result = submit(kilimani.ctx, "loans", [
        {"as_of": dt.date(2026, 2, 27), "office": "Nairobi East", "product": "Biashara",
         "borrower": "Amina Wanjiku", "remaining_installments": 2,
         "next_due_date": dt.date(2026, 3, 3), "principal_outstanding": 5000,
         "interest_outstanding": 500.0, "arrears_amount": 20000}], tmp_path)
    [error] = result.errors
    assert "The arrears amount 20000 is more than what is outstanding (5000 principal + 500 " \
           "interest = 5500)" in error["message"], error["message"]


def test_every_problem_of_a_row_is_reported_at_once(kilimani, tmp_path: Path) -> None:
    """Bad cells, unknown names and a date the migration refuses, on one row: each on its
    own cell, in one report (a service's own rules still stop at their first refusal)."""
    ctx = kilimani.ctx
    result = submit(ctx, "loans", [
        {"as_of": dt.date(2026, 3, 9), "office": "Nairobi East", "product": "Bishara",
         "borrower": "Nobody Here", "loan_officer": "Mr Nobody",
         "principal_outstanding": "lots", "interest_outstanding": 100,
         "remaining_installments": "two"}], tmp_path)
    columns = sorted((e["column"], e["code"]) for e in result.errors)
    assert columns == [("as_of", "date-not-allowed"), ("borrower", "setup-not-loaded-yet"),
                       ("loan_officer", "setup-not-loaded-yet"),
                       ("principal_outstanding", "setup-bad-value"),
                       ("product", "setup-not-loaded-yet"),
                       ("remaining_installments", "setup-bad-value")], result.errors
    [row] = statuses(result.report_xlsx, "Loans").values()
    assert row.startswith("Not imported: ") and "Bishara" in row and "Mr Nobody" in row
