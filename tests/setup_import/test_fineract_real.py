"""Real Mifos X / Fineract workbooks: the data import tool's own test files, and workbooks
with the layouts of Fineract's bulk-import populators (tests/fixtures/fineract)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fixtures.fineract.populators import (
    FineractLoan,
    FineractSavings,
    loans_workbook,
    loans_workbook_of,
    savings_workbook,
    serial,
    staff_label,
    two_percent_a_month,
)
from tests.support.libreoffice import SOFFICE, convert
from workbook_engine.domain import Client, Loan, LoanTransaction, Office, SavingsAccount
from workbook_engine.domain.enums import LoanTransactionType
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = Decimal
REAL = Path(__file__).parents[1] / "fixtures" / "fineract" / "data_import_tool"
KINDS = {"center.xls": "setup_centers", "groups.xls": "setup_groups",
         "loan.xls": "setup_loans", "savings.xls": "setup_savings",
         "client.xls": "client_import", "client-corporate.xls": "client_import",
         "loanRepaymentHistory.xls": "setup_repayments",
         "savingsTransactionHistory.xls": "setup_savings_history"}


@pytest.mark.parametrize("name", sorted(KINDS))
def test_the_data_import_tools_own_workbooks_are_read_row_by_row(kilimani, tmp_path: Path,
                                                                 name: str) -> None:
    """Each real .xls is recognised as its kind and every filled row gets a status: none
    crashes, none is refused as a format, the formula rows are not rows."""
    source = tmp_path / name
    shutil.copy(REAL / name, source)
    result = process_file(kilimani.ctx, source, actor_id=None)
    assert not result.not_ours, result.errors
    assert result.status in ("invalid", "awaiting_approval")
    codes = {e["code"] for e in result.errors}
    assert not codes & {"format-not-accepted", "workbook-not-recognised", "internal"}
    rows = {e.get("row") for e in result.errors if e.get("row")}
    assert not rows or max(rows) < 10  # the sample rows, never the 1,000 formula rows
    if "History" in name:  # row 3 has no client or account: the row above's (Fineract's rule)
        assert {(e["row"], e["column"], e["code"]) for e in result.errors} == {
            (2, "borrower", "setup-not-loaded-yet"), (3, "borrower", "setup-not-loaded-yet")}
    with kilimani.ctx.session_factory() as s:
        from workbook_engine.domain import Submission

        assert s.get(Submission, result.submission_id).kind == KINDS[name]


def test_a_client_workbook_without_submitted_on_takes_the_activation_date(
        kilimani, tmp_path: Path) -> None:
    """The data import tool's client.xls has no "Submitted On": the activation date
    (2013-05-19) is the submission date, so it is not refused as after the submission."""
    source = tmp_path / "client.xls"
    shutil.copy(REAL / "client.xls", source)
    result = process_file(kilimani.ctx, source, actor_id=None)
    assert not [e for e in result.errors if e["code"] == "client-date-not-allowed"]


def _dalia(kilimani) -> Client:  # noqa: ANN001
    with kilimani.ctx.session_factory() as s:
        return s.scalar(select(Client).where(Client.first_name == "Dalia"))


def _individual(kilimani) -> Client:  # noqa: ANN001
    """A Nairobi East client in no group: her loans follow no meeting calendar, so any
    repayment frequency fits (a monthly loan at fortnightly Kilimani would not)."""
    with kilimani.ctx.session_factory() as s:
        office_id = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    client_id = create_client(kilimani.ctx, actor_id=None, office_id=office_id,
                              first_name="Amani", last_name="Otieno",
                              submitted_on=dt.date(2025, 12, 1), active=True,
                              activation_date=dt.date(2025, 12, 1))
    with kilimani.ctx.session_factory() as s:
        return s.get(Client, client_id)


@pytest.mark.parametrize("suffix", [".xlsx", ".xls"])
def test_a_loan_at_2_percent_a_month_flat_migrates_with_its_schedule(
        kilimani, tmp_path: Path, suffix: str) -> None:
    """10,000 at 2 % per month flat, 5 monthly repayments, 6,000 repaid: 4,600 principal and
    400 interest outstanding (Fineract's figures), on a schedule of 5 x (2,000 + 200); the
    thousand formula rows with cached zeros are empty; staff "Kamau, Wanjiru", office
    "Nairobi_East", dates as serial numbers."""
    if suffix == ".xls" and not Path(SOFFICE).exists():
        pytest.skip("LibreOffice is needed to save the workbook as .xls")
    amani = _individual(kilimani)
    loan = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2026, 1, 6),
                               amount_repaid=6000, last_repayment_on=dt.date(2026, 2, 17),
                               external_id="F-LN-2PM")
    path = loans_workbook_of(tmp_path / "Loans.xlsx", [loan])
    if suffix == ".xls":
        path = convert(path, "xls", tmp_path)
    result = process_file(kilimani.ctx, path, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(kilimani.ctx, submission_id=result.submission_id, by="Grace Wambui")
    with kilimani.ctx.session_factory() as s:
        migrated = s.scalar(select(Loan).where(Loan.external_id == "F-LN-2PM"))
        assert (migrated.annual_interest_rate, migrated.repayment_unit,
                migrated.number_of_repayments) == (D(24), "months", 5)
        assert [(i.principal, i.interest) for i in migrated.installments] == \
            [(D(2000), D(200))] * 5
        principal = sum(i.principal - i.principal_paid for i in migrated.installments)
        interest = sum(i.interest - i.interest_paid for i in migrated.installments)
        assert (principal, interest) == (D(4600), D(400))
        kinds = [t.type for t in s.scalars(select(LoanTransaction).where(
            LoanTransaction.loan_id == migrated.id).order_by(LoanTransaction.id))]
        assert kinds == [LoanTransactionType.DISBURSEMENT, LoanTransactionType.MIGRATION]
    report = run_check(kilimani.ctx)
    assert report.ok, [r.as_dict() for r in report.results if r.broken]


def test_a_fineract_row_with_a_principal_and_no_product_is_a_cell_error(
        kilimani, tmp_path: Path) -> None:
    """No AssertionError: the row is reported on its Product cell."""
    dalia = _dalia(kilimani)
    loan = FineractLoan(
        office="Nairobi East", client=f"Dalia Njeri({dalia.id})", product="",
        loan_officer=staff_label("Wanjiru", "Kamau"), disbursed_on=dt.date(2026, 1, 6),
        principal=5000, repayments=4, every=2, unit="Weeks", rate=24, rate_period="Per year")
    path = loans_workbook(tmp_path / "Loans.xlsx", [loan], offices=["Nairobi East"],
                          clients=[loan.client], staff=[loan.loan_officer], products=[])
    result = process_file(kilimani.ctx, path, actor_id=None)
    assert result.status == "invalid"
    assert [(e["code"], e["row"], e["column"]) for e in result.errors] == [
        ("setup-missing-value", 2, "product")]


@pytest.mark.parametrize("column, cell, value, key", [
    (28, "First Repayment On", serial(dt.date(2026, 1, 20)), "first_repayment_on"),
    (27, "Interest Charged From", serial(dt.date(2026, 1, 13)), "interest_charged_from"),
    (24, "Grace-Principal Payment", 1, "grace_on_principal"),
    (25, "Grace-Interest Payment", 2, "grace_on_interest"),
    (26, "Interest-Free Period(s)", 1, "interest_free_periods")])
def test_fineract_terms_the_engine_cannot_rebuild_are_refused_on_their_cell(
        kilimani, tmp_path: Path, column: int, cell: str, value: int, key: str) -> None:
    """The data import tool's loan.xls fills "First Repayment On" and grace periods: they
    were skipped, and the loan got a schedule with other due dates (or without its grace)
    than the old system's, so its first sheet would not ask what the old system said."""
    amani = _individual(kilimani)
    loan = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2026, 1, 6),
                               amount_repaid=2200, last_repayment_on=dt.date(2026, 2, 6),
                               extra={column: value})
    result = process_file(kilimani.ctx, loans_workbook_of(tmp_path / "Loans.xlsx", [loan]),
                          actor_id=None)
    assert result.status == "invalid"
    [error] = result.errors
    assert (error["row"], error["column"]) == (2, key), error
    assert cell in error["message"] and "--kind loans" in error["message"], error["message"]


def test_a_first_repayment_on_the_engines_first_due_date_is_taken(kilimani,
                                                                   tmp_path: Path) -> None:
    """Installment 1 a month after the disbursal, as the engine builds it, and interest
    charged from the disbursal: nothing to refuse; a grace of 0 periods is no grace."""
    amani = _individual(kilimani)
    loan = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2026, 1, 6),
                               amount_repaid=2200, last_repayment_on=dt.date(2026, 2, 6),
                               extra={28: serial(dt.date(2026, 2, 6)), 24: 0, 25: 0, 26: 0,
                                      27: serial(dt.date(2026, 1, 6))})
    result = process_file(kilimani.ctx, loans_workbook_of(tmp_path / "Loans.xlsx", [loan]),
                          actor_id=None)
    assert result.status == "awaiting_approval", result.errors


def _savings_in(kilimani, tmp_path: Path, currency: str | None):  # noqa: ANN001, ANN202
    amani = _individual(kilimani)
    label = f"Amani Otieno({amani.id + 300})"
    path = savings_workbook(tmp_path / "SavingsAccounts.xlsx", [FineractSavings(
        "Nairobi East", label, "Hiari", staff_label("Wanjiru", "Kamau"), dt.date(2026, 1, 6),
        "F-SV-CUR", currency=currency)], offices=["Nairobi East"], clients=[label],
        products=["Hiari"])
    return process_file(kilimani.ctx, path, actor_id=None)


def test_a_savings_account_in_another_currency_than_its_product_is_refused(
        kilimani, tmp_path: Path) -> None:
    """Fineract's "Currency" was not read: a USD account was taken into a KES product, its
    balance and deposits counted in shillings."""
    result = _savings_in(kilimani, tmp_path, "USD")
    assert result.status == "invalid"
    [error] = result.errors
    assert (error["code"], error["row"], error["column"]) == (
        "setup-bad-value", 2, "currency"), error
    assert "USD" in error["message"] and "Hiari" in error["message"] \
        and "KES" in error["message"], error["message"]


@pytest.mark.parametrize("currency", ["KES", "kes", None])
def test_a_savings_account_in_its_products_currency_is_taken(kilimani, tmp_path: Path,
                                                             currency: str | None) -> None:
    """The product's currency (any case), or the look-up formula's cached zero (blank)."""
    result = _savings_in(kilimani, tmp_path, currency)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(kilimani.ctx, submission_id=result.submission_id, by="Grace Wambui")
    with kilimani.ctx.session_factory() as s:
        account = s.scalar(select(SavingsAccount).where(SavingsAccount.external_id ==
                                                        "F-SV-CUR"))
        assert account.product.currency_code == "KES"
