"""Mifos X / Fineract transaction histories: the LoanRepayment and SavingsTransaction
workbooks (the layouts of Fineract's LoanRepaymentWorkbookPopulator and
SavingsTransactionsWorkbookPopulator, tests/fixtures/fineract), replayed on the loans and
savings accounts their Loans and SavingsAccounts workbooks brought in, so what is
outstanding, in arrears and saved follows from the history; the books balance after each
kind, on every database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
from sqlalchemy import select

from tests.fixtures.fineract.populators import (
    FineractRepayment,
    FineractSavings,
    FineractSavingsTransaction,
    loans_workbook_of,
    repayments_workbook,
    savings_transactions_workbook,
    savings_workbook,
    staff_label,
    two_percent_a_month,
)
from workbook_engine.domain import Client, Loan, Office, SavingsAccount
from workbook_engine.domain.enums import (
    LoanStatus,
    LoanTransactionType,
    SavingsTransactionType,
)
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission

D = Decimal
TODAY = dt.date(2026, 3, 3)


def _amani(ctx) -> Client:  # noqa: ANN001
    """A Nairobi East client in no group (a monthly loan follows no meeting calendar)."""
    with ctx.session_factory() as s:
        office_id = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    client_id = create_client(ctx, actor_id=None, office_id=office_id, first_name="Amani",
                              last_name="Otieno", submitted_on=dt.date(2025, 9, 1),
                              active=True, activation_date=dt.date(2025, 9, 1))
    with ctx.session_factory() as s:
        return s.get(Client, client_id)


def _approved(ctx, path: Path) -> dict:  # noqa: ANN001
    result = process_file(ctx, path, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    report = run_check(ctx)
    assert report.ok, (path.name, [r.as_dict() for r in report.results if r.broken])
    return result


def _loan(ctx, amani: Client, tmp_path: Path, external_id: str = "F-LN-9") -> None:  # noqa: ANN001
    loan = two_percent_a_month(f"Amani Otieno({amani.id + 300})", dt.date(2025, 10, 6),
                               external_id=external_id)
    _approved(ctx, loans_workbook_of(tmp_path / f"Loans-{external_id}.xlsx", [loan]))


def test_a_fineract_portfolio_and_its_histories_balance_on_each_database(
        any_kilimani, tmp_path: Path) -> None:
    """Loans, then their repayment history; savings accounts (no balance in Fineract's
    workbook), then their transactions: `check` is clean after each; the 2 %-a-month loan
    with 6,000 of its 11,000 repaid owes 4,600 + 400, of which 2,800 is in arrears."""
    ctx = any_kilimani.ctx
    amani = _amani(ctx)
    _loan(ctx, amani, tmp_path)
    label = f"Amani Otieno({amani.id + 300})"
    _approved(ctx, repayments_workbook(tmp_path / "LoanRepayment.xlsx", [
        FineractRepayment(2200, dt.date(2025, 11, 6), label, "000000007-Active",
                          "Nairobi East", receipt="R-1"),
        FineractRepayment(2200, dt.date(2025, 12, 8)),  # the row above's loan
        FineractRepayment(1600, dt.date(2026, 1, 10), payment_type="MPesa")],
        offices=["Nairobi East"], loans=[(label, "000000007-Active", "Biashara", 10000)]))
    with ctx.session_factory() as s:
        loan = s.scalar(select(Loan).where(Loan.external_id == "F-LN-9"))
        assert [(t.type, t.on_date, t.amount) for t in sorted(
            loan.transactions, key=lambda t: t.id)] == [
            (LoanTransactionType.DISBURSEMENT, dt.date(2025, 10, 6), D(10000)),
            (LoanTransactionType.MIGRATION, dt.date(2025, 11, 6), D(2200)),
            (LoanTransactionType.MIGRATION, dt.date(2025, 12, 8), D(2200)),
            (LoanTransactionType.MIGRATION, dt.date(2026, 1, 10), D(1600))]
        assert loan.transactions[1].receipt_number == "R-1"
        principal = sum(i.principal - i.principal_paid for i in loan.installments)
        interest = sum(i.interest - i.interest_paid for i in loan.installments)
        arrears = sum(i.outstanding for i in loan.installments if i.due_date <= TODAY)
        assert (principal, interest, arrears) == (D(4600), D(400), D(2800))

    _approved(ctx, savings_workbook(tmp_path / "SavingsAccounts.xlsx", [FineractSavings(
        "Nairobi East", label, "Hiari", staff_label("Wanjiru", "Kamau"),
        dt.date(2025, 10, 1), "F-SV-1")], offices=["Nairobi East"], clients=[label],
        products=["Hiari"]))
    _approved(ctx, savings_transactions_workbook(tmp_path / "SavingsTransaction.xlsx", [
        FineractSavingsTransaction(1000, dt.date(2025, 10, 10), label, "000000003",
                                   "Nairobi East"),
        FineractSavingsTransaction(500, dt.date(2025, 11, 10)),
        FineractSavingsTransaction(250.5, dt.date(2026, 1, 15), kind="Withdrawal")],
        offices=["Nairobi East"], accounts=[(label, "000000003", "Hiari")]))
    with ctx.session_factory() as s:
        account = s.scalar(select(SavingsAccount).where(SavingsAccount.external_id == "F-SV-1"))
        assert account.balance == D("1249.50")
        # Active from the workbook's "Activation Date", not the day after it was processed:
        # its statement starts with its activation, its history after it.
        assert account.activated_on == dt.date(2025, 10, 1)
        assert min(t.on_date for t in account.transactions) >= account.activated_on
        assert account.deposits_due_from == TODAY + dt.timedelta(days=1)
        assert [t.type for t in sorted(account.transactions, key=lambda t: t.id)] == [
            SavingsTransactionType.MIGRATED_DEPOSIT, SavingsTransactionType.MIGRATED_DEPOSIT,
            SavingsTransactionType.MIGRATED_WITHDRAWAL]


def test_a_history_row_is_refused_on_its_cell_never_guessed(kilimani, tmp_path: Path
                                                            ) -> None:
    """Two active Biashara loans: Fineract's account number cannot tell them apart (it is
    not ours), so the row names both of ours; the engine's own account number finds one; a
    repayment dated before that loan's last one is refused on its date, one more than is
    owed on its amount, a client with no loan on the loan's cell."""
    ctx = kilimani.ctx
    amani = _amani(ctx)
    _loan(ctx, amani, tmp_path, "F-LN-1")
    _loan(ctx, amani, tmp_path, "F-LN-2")
    with ctx.session_factory() as s:
        first, second = (s.scalar(select(Loan.account_no).where(Loan.external_id == e))
                         for e in ("F-LN-1", "F-LN-2"))
    label = f"Amani Otieno({amani.id + 300})"
    path = repayments_workbook(tmp_path / "LoanRepayment.xlsx", [
        FineractRepayment(2200, dt.date(2025, 11, 6), label, "000000007-Active",
                          "Nairobi East"),
        FineractRepayment(2200, dt.date(2025, 11, 6), label, first, "Nairobi East"),
        FineractRepayment(100, dt.date(2025, 11, 1)),  # before the row above, same loan
        FineractRepayment(99000, dt.date(2025, 12, 6), label, "F-LN-2", "Nairobi East"),
        FineractRepayment(10, dt.date(2025, 12, 6), "Dalia Njeri(4)", "000000009",
                          "Nairobi East")],
        offices=["Nairobi East"], loans=[(label, "000000007-Active", "Biashara", 10000)])
    result = process_file(ctx, path, actor_id=None)
    assert result.status == "invalid"
    found = {(e["row"], e["column"], e["code"]) for e in result.errors}
    assert found == {(2, "loan", "setup-ambiguous-name"), (4, "on_date", "date-not-allowed"),
                     (5, "amount", "invalid-value"), (6, "loan", "setup-not-loaded-yet")}
    ambiguous = next(e for e in result.errors if e["row"] == 2)["message"]
    assert first in ambiguous and second in ambiguous


def test_a_history_repayment_on_the_day_of_the_loans_amount_repaid_keeps_check_clean(
        kilimani, tmp_path: Path) -> None:
    """Fineract's Loans workbook replays its "Amount Repaid" on "Date-Last Repayment"; a
    repayment history row of the same day (another workbook) is not a second posting of one
    meeting: both are the old system's history."""
    ctx = kilimani.ctx
    amani = _amani(ctx)
    label = f"Amani Otieno({amani.id + 300})"
    loan = two_percent_a_month(label, dt.date(2025, 10, 6), amount_repaid=2200,
                               last_repayment_on=dt.date(2025, 11, 6), external_id="F-LN-5")
    _approved(ctx, loans_workbook_of(tmp_path / "Loans.xlsx", [loan]))
    _approved(ctx, repayments_workbook(tmp_path / "LoanRepayment.xlsx", [
        FineractRepayment(100, dt.date(2025, 11, 6), label, "F-LN-5", "Nairobi East")],
        offices=["Nairobi East"], loans=[(label, "000000001-Active", "Biashara", 10000)]))


def test_our_history_templates_post_on_the_engines_own_account_numbers(kilimani, tmp_path: Path
                                                                      ) -> None:
    """`template setup --kind repayments` and `--kind savings_history`, filled: the loan and
    the account by the engine's account number, a row without one is the row above's."""
    from tests.setup_import.filling import load

    ctx = kilimani.ctx
    with ctx.session_factory() as s:
        account = s.scalar(select(SavingsAccount).where(SavingsAccount.client_id.in_(
            select(Loan.client_id).where(Loan.status == LoanStatus.ACTIVE))).limit(1))
        loan = s.scalar(select(Loan).where(Loan.client_id == account.client_id,
                                           Loan.status == LoanStatus.ACTIVE))
        name, office = account.client.display_name, account.client.office.name
        owed, balance = loan.outstanding, account.balance
    day = dt.date(2026, 3, 2)
    repaid = load(ctx, "repayments", [
        {"office": office, "borrower": name, "loan": loan.account_no,
         "amount": 100, "on_date": day, "receipt_no": "R-9"},
        {"amount": 50, "on_date": day}], tmp_path / "r", by="Grace Wambui")
    load(ctx, "savings_history", [
        {"office": office, "borrower": name, "account": account.account_no,
         "transaction_type": "Deposit", "amount": 70, "on_date": day},
        {"transaction_type": "Withdrawal", "amount": 20, "on_date": day}],
         tmp_path / "s", by="Grace Wambui")
    with ctx.session_factory() as s:
        assert s.get(Loan, loan.id).outstanding == owed - 150
        assert s.get(SavingsAccount, account.id).balance == balance + 50
    assert run_check(ctx).ok
    # The report shows what the loan owes after each row; sent again, its rows are known.
    report = openpyxl.load_workbook(repaid.report_xlsx)["Repayments"]
    column = next(c.column for c in report[2] if c.value == "owed_after")
    assert [report.cell(r, column).value for r in (3, 4)] == [
        float(owed - 100), float(owed - 150)]
    again = process_file(ctx, Path(repaid.report_xlsx), actor_id=None)
    assert "2 already imported" in again.message


def test_a_fineract_account_without_an_activation_date_is_active_from_its_approval(
        kilimani, tmp_path: Path) -> None:
    ctx = kilimani.ctx
    amani = _amani(ctx)
    label = f"Amani Otieno({amani.id + 300})"
    _approved(ctx, savings_workbook(tmp_path / "SavingsAccounts.xlsx", [FineractSavings(
        "Nairobi East", label, "Hiari", staff_label("Wanjiru", "Kamau"), None, "F-SV-2",
        submitted_on=dt.date(2025, 9, 20), approved_on=dt.date(2025, 9, 25))],
        offices=["Nairobi East"], clients=[label], products=["Hiari"]))
    with ctx.session_factory() as s:
        account = s.scalar(select(SavingsAccount).where(SavingsAccount.external_id == "F-SV-2"))
        assert (account.submitted_on, account.activated_on) == (
            dt.date(2025, 9, 20), dt.date(2025, 9, 25))


@dataclass
class _RepaymentWithTerms(FineractRepayment):
    """A row as the data import tool's loanRepaymentHistory.xls has it: the loan's product
    and principal typed in (not left to the populator's look-up formulas)."""

    product: str = ""
    principal: float = 0

    def cells(self) -> dict[int, Any]:
        return {**super().cells(), 4: self.product, 5: self.principal}


def test_a_history_row_whose_principal_is_not_the_loans_says_so(kilimani,
                                                                 tmp_path: Path) -> None:
    """The data import tool's file names 'HM', principal 20,000, for a client whose HM loan
    is of 15,000: it said the client "has no active loan of product 'HM'", though one is
    there; the principal is what differs, and the message names the loan and its principal."""
    ctx = kilimani.ctx
    amani = _amani(ctx)
    _loan(ctx, amani, tmp_path)
    with ctx.session_factory() as s:
        ours = s.scalar(select(Loan.account_no).where(Loan.external_id == "F-LN-9"))
    label = f"Amani Otieno({amani.id + 300})"
    path = repayments_workbook(tmp_path / "LoanRepayment.xlsx", [_RepaymentWithTerms(
        2200, dt.date(2025, 11, 6), label, "000000007-Active", "Nairobi East",
        product="Biashara", principal=20000)], offices=["Nairobi East"],
        loans=[(label, "000000007-Active", "Biashara", 20000)])
    result = process_file(ctx, path, actor_id=None)
    [error] = result.errors
    assert (error["row"], error["column"]) == (2, "loan")
    assert "has no active loan" not in error["message"], error["message"]
    assert ours in error["message"] and "10,000.00" in error["message"]
    assert "20,000.00" in error["message"], error["message"]
