"""Mifos X / Fineract workbooks of offices, staff and loans: recognised by their sheets and
headers, mapped by name (Fineract's ids are not ours), the report a template of ours."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl
from sqlalchemy import select

from tests.support.libreoffice import SOFFICE, convert
from workbook_engine.domain import Client, Loan, Office, SavingsAccount, Staff
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = Decimal
TODAY = dt.date(2026, 3, 3)


def _workbook(path: Path, sheet: str, headers: list[str], rows: list[list[object]],
              lookups: tuple[str, ...] = ("Offices", "Staff", "Extras")) -> Path:
    """A workbook in Fineract's layout: its data sheet (status column last) and the lookup
    sheets it carries."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = sheet
    ws.append(headers)
    for row in rows:
        ws.append(row)
    for name in lookups:
        if name != sheet:
            book.create_sheet(name).append(["Office Name", "Office Id"])
    book.save(path)
    return path


def test_fineract_offices_and_staff_are_mapped_by_name(any_kilimani, tmp_path: Path) -> None:
    """On each database; `check` is clean after each approval."""
    ctx = any_kilimani.ctx
    offices = _workbook(tmp_path / "Offices.xlsx", "Offices", [
        "Office Name*", "Parent Office*", "Parent OfficeId*", "Opened On Date*",
        "External Id*", None, None, "Lookup Offices", "Lookup OfficeId*"], [
        ["Mombasa", "Head Office-1", 1, dt.datetime(2022, 1, 10), "F-OFF-9", None, None,
         "Head Office", 1],
        ["Likoni", "Mombasa", None, dt.datetime(2023, 5, 2), "F-OFF-10"]], lookups=())
    result = process_file(ctx, offices, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert run_check(ctx).ok
    with ctx.session_factory() as s:
        mombasa = s.scalar(select(Office).where(Office.name == "Mombasa"))
        likoni = s.scalar(select(Office).where(Office.name == "Likoni"))
        assert mombasa.parent.name == "Head Office" and likoni.parent_id == mombasa.id
        assert mombasa.external_id == "F-OFF-9"

    staff = _workbook(tmp_path / "Staff.xlsx", "Employee", [
        "Office Name *", "First Name *", "Last Name *", "Is Loan Officer *", "Mobile no",
        "Joined on *", "External Id *", "Is Active *"], [
        ["Mombasa", "Halima", "Said", "True", "0722000009", dt.datetime(2022, 2, 1),
         "F-ST-1", "True"],
        ["Atlantis", "Nemo", "Captain", "False", None, dt.datetime(2022, 2, 1), "F-ST-2",
         "True"]])
    result = process_file(ctx, staff, actor_id=None)
    assert result.status == "invalid"
    [error] = result.errors
    # A Fineract file has no key row: its row 3 is the report's row 4, but errors name the
    # row as the person sees it in the file they sent.
    assert (error["code"], error["row"], error["cell"]) == ("setup-not-loaded-yet", 3, "A3")
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    assert run_check(ctx).ok
    with ctx.session_factory() as s:
        halima = s.scalar(select(Staff).where(Staff.first_name == "Halima"))
        assert (halima.office.name, halima.is_loan_officer, halima.mobile_no) == (
            "Mombasa", True, "0722000009")
    # The report of a Fineract file is a signed template of ours, to correct and resend.
    report = openpyxl.load_workbook(result.report_xlsx or "")
    assert "_workbook" in report.sheetnames and report["Staff"]["B4"].value == "Atlantis"


def test_fineract_loan_rebuilt_from_its_terms_and_amount_repaid(kilimani, tmp_path: Path
                                                                ) -> None:
    """Dalia Njeri (Kilimani, every other Tuesday) borrowed 6,500 on 2026-01-06 under
    Biashara (24% flat, every 2 weeks) in 4 repayments: 240 interest, so 4 x (1,625 + 60)
    on 01-20, 02-03, 02-17 and 03-03. 3,370 repaid pays the first two; on the day the file
    is processed (03-03) the last two, 3,370, are due, the oldest since 02-17."""
    ctx = kilimani.ctx
    with ctx.session_factory() as s:
        dalia = s.scalar(select(Client).where(Client.first_name == "Dalia"))
    loans = _workbook(tmp_path / "Loans.xlsx", "Loans", [
        "Office Name*", "Loan Type*", "Client/Group Name*", "Client ExternalID", "Product*",
        "Loan Officer*", "Submitted On*", "Approved On", "Disbursed Date", "Payment Type*",
        "Fund Name", "Principal*", "# of Repayments*", "Repaid Every*", "Loan Term*",
        "Nominal Interest %*", "Amortization*", "Interest Method*", "Amount Repaid",
        "Date-Last Repayment", "Repayment Type", "External Id"], [
        ["Nairobi East", "Individual", f"Dalia Njeri({dalia.id + 100})", None, "Biashara",
         "Wanjiru Kamau", dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 5),
         dt.datetime(2026, 1, 6), "Cash", None, 6500, 4, 2, 8, 24, "Equal installments",
         "Flat", 3370, dt.datetime(2026, 2, 3), "Cash", "F-LN-77"]])
    xls = loans
    if Path(SOFFICE).exists():  # the .xls Mifos X hands out, as LibreOffice saves it
        xls = convert(loans, "xls", tmp_path)
    result = process_file(ctx, xls, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        loan = s.scalar(select(Loan).where(Loan.external_id == "F-LN-77"))
        assert loan.client_id == dalia.id and loan.principal == D(6500)
        assert sum(i.principal + i.interest for i in loan.installments) == D(6740)
        assert sum(i.total_paid for i in loan.installments) == D(3370)
        sheet = compute_due(s, center_id=kilimani.center_id, meeting_date=TODAY, today=TODAY)
    row = next(r for r in sheet.rows if r.name == "Dalia Njeri")
    cell = next(iter(row.repayments.values()))
    assert (cell.amount, cell.days_in_arrears) == (D(3370), 14)


def test_fineract_savings_account_opens_at_zero_its_history_brings_the_balance(
        kilimani, tmp_path: Path) -> None:
    """Fineract's SavingsAccounts sheet has no balance (its SavingsTransaction workbook
    brings the history): the account is opened with 0, not refused for a missing column."""
    book = _workbook(tmp_path / "Savings.xlsx", "SavingsAccounts", [
        "Office Name*", "Individual/Group*", "Client Name*", "Product*", "Field Officer*",
        "Submitted On*", "Approved On*", "Activation Date*", "External Id"], [
        ["Nairobi East", "Individual", "Dalia Njeri", "Hiari", "Kamau, Wanjiru",
         dt.datetime(2026, 1, 6), dt.datetime(2026, 1, 6), dt.datetime(2026, 1, 6),
         "F-SV-7"]])
    result = process_file(kilimani.ctx, book, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(kilimani.ctx, submission_id=result.submission_id, by="Grace Wambui")
    with kilimani.ctx.session_factory() as s:
        account = s.scalar(select(SavingsAccount).where(SavingsAccount.external_id == "F-SV-7"))
        assert (account.balance, account.transactions) == (D(0), [])
