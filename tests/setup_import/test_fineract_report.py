"""The report of a Mifos X / Fineract workbook carries every column of the original (the
loan's terms included) and the figures the engine computed for each row, so a corrected
report comes back complete."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.fixtures.fineract.populators import loans_workbook_of, two_percent_a_month
from tests.setup_import.test_fineract_history import _amani
from workbook_engine.domain import Loan
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = Decimal


def _columns(sheet) -> dict[str, int]:  # noqa: ANN001
    return {str(c.value).replace("*", "").strip(): c.column for c in sheet[1] if c.value}


def test_a_corrected_report_of_a_fineract_loan_comes_back_complete(kilimani, tmp_path: Path
                                                                   ) -> None:
    ctx = kilimani.ctx
    amani = _amani(ctx)
    good = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2025, 10, 6),
                               amount_repaid=6000, last_repayment_on=dt.date(2026, 1, 10),
                               external_id="F-LN-A")
    forgot = two_percent_a_month(good.client, dt.date(2025, 11, 6), product="",
                                 principal=5000, repayments=4, external_id="F-LN-B")
    path = loans_workbook_of(tmp_path / "Loans.xlsx", [good, forgot])
    result = process_file(ctx, path, actor_id=None)
    assert result.status == "invalid"
    book = openpyxl.load_workbook(result.report_xlsx)
    sheet = book["Loans"]
    at = _columns(sheet)
    for header in ("Principal", "# of Repayments", "Nominal Interest %", "Repaid Every",
                   "Interest Method", "Amortization", "Amount Repaid", "Date-Last Repayment",
                   "Principal outstanding", "Interest outstanding", "Arrears"):
        assert header in at, header
    first = 3  # below the headers and the hidden key row
    assert sheet.cell(first, at["Principal"]).value == 10000
    assert sheet.cell(first, at["Nominal Interest % period"]).value == "Per month"
    assert sheet.cell(first, at["Repaid Every unit"]).value == "Months"
    assert sheet.cell(first, at["Principal outstanding"]).value == 4600
    assert sheet.cell(first, at["Interest outstanding"]).value == 400
    assert sheet.cell(first + 1, at["Principal"]).value == 5000
    sheet.cell(first + 1, at["Product"]).value = "Biashara"  # the correction
    corrected = tmp_path / "Loans-corrected.xlsx"
    book.save(corrected)

    again = process_file(ctx, corrected, actor_id=None)
    assert again.status == "awaiting_approval", again.errors
    approve_submission(ctx, submission_id=again.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        loans = {loan.external_id: loan for loan in s.scalars(select(Loan))}
        late = loans["F-LN-B"]
        assert (late.principal, late.annual_interest_rate, late.repayment_unit,
                late.number_of_repayments) == (D(5000), D(24), "months", 4)
        assert loans["F-LN-A"].principal == D(10000)
    # The corrected report sent once more (saved again): its rows were imported, whatever
    # figures the engine wrote beside the terms.
    openpyxl.load_workbook(corrected).save(tmp_path / "Loans-once-more.xlsx")
    once_more = process_file(ctx, tmp_path / "Loans-once-more.xlsx", actor_id=None)
    assert "2 already imported" in once_more.message
