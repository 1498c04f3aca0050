"""Financial integrity: do the books agree with themselves?

Each invariant is one set-based query (aggregated subqueries joined to the accounts, never a
Python loop over accounts) that yields, per account, the figures being compared; a condition
on those figures picks out the rows that break it. :func:`run_check` runs every invariant and
returns how many rows each checked and every row that breaks it. docs/integrity.md gives the
exact definition of each invariant and the test that proves it.

Money comparisons: money is ``NUMERIC(18, 4)``, but SQLite stores NUMERIC as REAL (a binary
float), so a sum of amounts that are equal in decimal may differ by ~1e-12 there. Two amounts
are therefore "different" only when they differ by more than half the smallest stored unit
(0.00005): exact for PostgreSQL/MariaDB (where the difference is 0 or >= 0.0001) and immune to
float noise on SQLite, where any real error of one stored unit (0.0001) is still caught.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    literal_column,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Attendance,
    Center,
    Charge,
    ChargePayment,
    Client,
    Group,
    GroupMembership,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
    Office,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    Submission,
)
from workbook_engine.domain.base import MONEY_SCALE
from workbook_engine.domain.enums import (
    ChargeStatus,
    DepositUnit,
    LoanStatus,
    LOAN_SETTLEMENTS,
    SAVINGS_CREDITS,
    SAVINGS_MIGRATED,
    LoanTransactionType,
    SavingsTransactionType,
    SubmissionStatus,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.services.context import AppContext

# Half the smallest stored unit (see the module docstring).
TOLERANCE = literal_column("0.00005")
MINUS_TOLERANCE = literal_column("-0.00005")
ZERO = literal_column("0")
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def differs(a: ColumnElement[Any], b: ColumnElement[Any]) -> ColumnElement[bool]:
    """True when two money amounts differ by more than float noise."""
    return func.abs(a - b) > TOLERANCE


def positive(a: ColumnElement[Any]) -> ColumnElement[bool]:
    return a > TOLERANCE


def negative(a: ColumnElement[Any]) -> ColumnElement[bool]:
    return a < MINUS_TOLERANCE


def _sum(column: Any) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), ZERO)


def _value(column: Any) -> ColumnElement[Any]:
    """A subquery's aggregated column, zero when the outer join found nothing."""
    return func.coalesce(column, ZERO)


# --- scope: which accounts an office owns ------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """The offices whose clients, groups and centers are checked (None: all of them)."""

    office_ids: tuple[int, ...] | None = None

    def owned(self, client_id: Any, group_id: Any,
              center_id: Any | None = None) -> ColumnElement[bool]:
        """Whether the owner (client, group or center) of a row belongs to the scope."""
        if self.office_ids is None:
            return true()
        ids = self.office_ids
        conditions = [client_id.in_(select(Client.id).where(Client.office_id.in_(ids))),
                      group_id.in_(select(Group.id).where(Group.office_id.in_(ids)))]
        if center_id is not None:
            conditions.append(center_id.in_(select(Center.id).where(Center.office_id.in_(ids))))
        return or_(*conditions)

    def loan(self) -> ColumnElement[bool]:
        return self.owned(Loan.client_id, Loan.group_id)

    def savings(self) -> ColumnElement[bool]:
        return self.owned(SavingsAccount.client_id, SavingsAccount.group_id,
                          SavingsAccount.center_id)

    def charge(self) -> ColumnElement[bool]:
        return self.owned(Charge.client_id, Charge.group_id, Charge.center_id)

    def submission(self) -> ColumnElement[bool]:
        if self.office_ids is None:
            return true()
        return or_(Submission.office_id.in_(self.office_ids),
                   and_(Submission.office_id.is_(None), Submission.center_id.in_(
                       select(Center.id).where(Center.office_id.in_(self.office_ids)))))


def office_scope(session: Session, office_id: int | None) -> Scope:
    """An office and every office below it in the tree (the offices table is small)."""
    if office_id is None:
        return Scope()
    parents = {row[0]: row[1] for row in session.execute(select(Office.id, Office.parent_id))}
    if office_id not in parents:
        raise EngineError(NOT_FOUND, f"There is no office with id {office_id}; list them with "
                          "`workbook-engine offices list`.")
    children: dict[int | None, list[int]] = {}
    for child, parent in parents.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], [office_id]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(children.get(current, []))
    return Scope(tuple(sorted(found)))


# --- the invariants --------------------------------------------------------------------------

Condition = Callable[[Any], ColumnElement[bool]]


@dataclass(frozen=True)
class Invariant:
    """One rule the books must obey: the rows it checks and the condition that breaks it."""

    code: str
    title: str
    account_kind: str  # what the "account" column names: loan, savings, charge, ...
    rows: Callable[[Scope], Select[Any]]
    broken: Condition


INVARIANTS: list[Invariant] = []


def invariant(code: str, title: str, account_kind: str,
              broken: Condition) -> Callable[[Callable[[Scope], Select[Any]]],
                                             Callable[[Scope], Select[Any]]]:
    """Register the function building an invariant's rows (with an ``account`` column)."""
    def register(rows: Callable[[Scope], Select[Any]]) -> Callable[[Scope], Select[Any]]:
        INVARIANTS.append(Invariant(code, title, account_kind, rows, broken))
        return rows
    return register


_DISBURSED = (LoanStatus.ACTIVE, LoanStatus.CLOSED)
_PORTIONS = ("principal", "interest", "fees", "penalties")


def _periods_per_year() -> ColumnElement[Any]:
    # 52 // every (weeks), 365 // every (days) or 12 // every (months), as
    # domain/schedule.py; written with %
    # because "/" on integers truncates on SQLite/PostgreSQL but not on MariaDB.
    base = case((Loan.repayment_unit == "weeks", literal_column("52")),
                (Loan.repayment_unit == "days", literal_column("365")),
                else_=literal_column("12"))
    return (base - base % Loan.repayment_every) / Loan.repayment_every


def _half_unit() -> ColumnElement[Any]:
    """Half the smallest unit of the loan's currency (its rounding allowance)."""
    return case({0: literal_column("0.5"), 1: literal_column("0.05"),
                 2: literal_column("0.005"), 3: literal_column("0.0005")},
                value=LoanProduct.currency_digits, else_=literal_column("0.00005"))


@invariant("loan-principal-scheduled",
           "Loan: principal disbursed = principal scheduled (none before disbursal); flat "
           "interest scheduled = terms",
           "loan",
           lambda c: or_(differs(c.to_disburse, c.disbursed),
                         differs(c.disbursed, c.scheduled_principal),
                         c.interest_off_terms > TOLERANCE))
def _loan_principal(scope: Scope) -> Select[Any]:
    disbursed = (select(LoanTransaction.loan_id,
                        func.sum(LoanTransaction.amount).label("amount"))
                 .where(LoanTransaction.type == LoanTransactionType.DISBURSEMENT,
                        LoanTransaction.reversed.is_(False))
                 .group_by(LoanTransaction.loan_id).subquery())
    scheduled = (select(LoanInstallment.loan_id,
                        func.sum(LoanInstallment.principal).label("principal"),
                        func.sum(LoanInstallment.interest).label("interest"),
                        func.sum(LoanInstallment.principal + LoanInstallment.interest
                                 + LoanInstallment.fees + LoanInstallment.penalties)
                        .label("total"))
                 .group_by(LoanInstallment.loan_id).subquery())
    # Flat interest = principal x rate x n / periods-per-year, rounded once to the currency:
    # the scheduled interest may differ from the exact figure by at most half a unit.
    exact_flat = (Loan.principal * Loan.annual_interest_rate * Loan.number_of_repayments
                  / (literal_column("100") * _periods_per_year()))
    off_terms = case(
        (and_(Loan.interest_method == "flat", Loan.status.in_(_DISBURSED)),
         func.abs(_value(scheduled.c.interest) - exact_flat) - _half_unit()),
        else_=ZERO)
    # A loan not (yet) disbursed must have neither a disbursal nor a schedule.
    to_disburse = case((Loan.status.in_(_DISBURSED), Loan.principal), else_=ZERO)
    return (select(Loan.account_no.label("account"), Loan.status, Loan.interest_method,
                   Loan.principal, to_disburse.label("to_disburse"),
                   _value(disbursed.c.amount).label("disbursed"),
                   _value(scheduled.c.principal).label("scheduled_principal"),
                   _value(scheduled.c.interest).label("scheduled_interest"),
                   _value(scheduled.c.total).label("installments_total"),
                   case((Loan.interest_method == "flat", exact_flat))
                   .label("flat_interest_exact"),
                   off_terms.label("interest_off_terms"))
            .join(LoanProduct, LoanProduct.id == Loan.product_id)
            .outerjoin(disbursed, disbursed.c.loan_id == Loan.id)
            .outerjoin(scheduled, scheduled.c.loan_id == Loan.id)
            .where(scope.loan()))


def _allocated_per_installment() -> Any:
    """What non-reversed transactions allocated to each installment, per portion."""
    return (select(LoanAllocation.installment_id,
                   *(func.sum(getattr(LoanAllocation, p)).label(p) for p in _PORTIONS))
            .join(LoanTransaction, LoanTransaction.id == LoanAllocation.transaction_id)
            .where(LoanTransaction.reversed.is_(False))
            .group_by(LoanAllocation.installment_id).subquery())


@invariant("loan-installment-allocations",
           "Loan installment: each *_paid = the sum allocated to it by repayments", "loan",
           lambda c: or_(*(differs(getattr(c, f"{p}_paid"), getattr(c, f"{p}_allocated"))
                           for p in _PORTIONS)))
def _installment_allocations(scope: Scope) -> Select[Any]:
    allocated = _allocated_per_installment()
    return (select(Loan.account_no.label("account"),
                   LoanInstallment.number.label("installment"),
                   *(getattr(LoanInstallment, f"{p}_paid") for p in _PORTIONS),
                   *(_value(getattr(allocated.c, p)).label(f"{p}_allocated")
                     for p in _PORTIONS))
            .join(Loan, Loan.id == LoanInstallment.loan_id)
            .outerjoin(allocated, allocated.c.installment_id == LoanInstallment.id)
            .where(scope.loan()))


@invariant("loan-installment-within-due",
           "Loan installment: 0 <= paid <= due for principal, interest, fees and penalties",
           "loan",
           lambda c: or_(*(or_(negative(getattr(c, f"{p}_paid")),
                               positive(getattr(c, f"{p}_paid") - getattr(c, p)),
                               negative(getattr(c, p)))
                           for p in _PORTIONS)))
def _installment_within_due(scope: Scope) -> Select[Any]:
    return (select(Loan.account_no.label("account"),
                   LoanInstallment.number.label("installment"),
                   *(getattr(LoanInstallment, p) for p in _PORTIONS),
                   *(getattr(LoanInstallment, f"{p}_paid") for p in _PORTIONS))
            .join(Loan, Loan.id == LoanInstallment.loan_id)
            .where(scope.loan()))


@invariant("loan-repayments-allocated",
           "Loan: repayments (waivers, repayments migrated from the old system) = their "
           "portions = what was allocated to its installments", "loan",
           lambda c: or_(differs(c.repaid, c.allocated), differs(c.repaid, c.portions)))
def _loan_repayments(scope: Scope) -> Select[Any]:
    settled = LOAN_SETTLEMENTS
    repaid = (select(LoanTransaction.loan_id, func.sum(LoanTransaction.amount).label("amount"),
                     func.sum(LoanTransaction.principal_portion
                              + LoanTransaction.interest_portion
                              + LoanTransaction.fees_portion
                              + LoanTransaction.penalties_portion).label("portions"))
              .where(LoanTransaction.type.in_(settled), LoanTransaction.reversed.is_(False))
              .group_by(LoanTransaction.loan_id).subquery())
    # Allocated to THIS loan's installments: an allocation to another loan's installment
    # breaks both loans.
    allocated = (select(LoanInstallment.loan_id,
                        func.sum(LoanAllocation.principal + LoanAllocation.interest
                                 + LoanAllocation.fees + LoanAllocation.penalties)
                        .label("amount"))
                 .join(LoanAllocation, LoanAllocation.installment_id == LoanInstallment.id)
                 .join(LoanTransaction, LoanTransaction.id == LoanAllocation.transaction_id)
                 .where(LoanTransaction.reversed.is_(False))
                 .group_by(LoanInstallment.loan_id).subquery())
    return (select(Loan.account_no.label("account"), Loan.status,
                   _value(repaid.c.amount).label("repaid"),
                   _value(repaid.c.portions).label("portions"),
                   _value(allocated.c.amount).label("allocated"))
            .outerjoin(repaid, repaid.c.loan_id == Loan.id)
            .outerjoin(allocated, allocated.c.loan_id == Loan.id)
            .where(Loan.status.in_(_DISBURSED), scope.loan()))


def _loan_outstanding(status: LoanStatus, scope: Scope) -> Select[Any]:
    owed = (select(LoanInstallment.loan_id,
                   func.sum(LoanInstallment.principal + LoanInstallment.interest
                            + LoanInstallment.fees + LoanInstallment.penalties).label("due"),
                   func.sum(LoanInstallment.principal_paid + LoanInstallment.interest_paid
                            + LoanInstallment.fees_paid + LoanInstallment.penalties_paid)
                   .label("paid"))
            .group_by(LoanInstallment.loan_id).subquery())
    return (select(Loan.account_no.label("account"), Loan.status, Loan.closed_on,
                   _value(owed.c.due).label("due"), _value(owed.c.paid).label("paid"),
                   (_value(owed.c.due) - _value(owed.c.paid)).label("outstanding"))
            .outerjoin(owed, owed.c.loan_id == Loan.id)
            .where(Loan.status == status, scope.loan()))


@invariant("loan-closed-owes-nothing", "Closed loan: nothing outstanding", "loan",
           lambda c: or_(differs(c.outstanding, ZERO), c.closed_on.is_(None)))
def _closed_loans(scope: Scope) -> Select[Any]:
    return _loan_outstanding(LoanStatus.CLOSED, scope)


@invariant("loan-active-owes-something", "Active loan: something outstanding", "loan",
           lambda c: ~positive(c.outstanding))
def _active_loans(scope: Scope) -> Select[Any]:
    return _loan_outstanding(LoanStatus.ACTIVE, scope)


def _signed_savings_amount() -> ColumnElement[Any]:
    return case((SavingsTransaction.type.in_(SAVINGS_CREDITS),
                 SavingsTransaction.amount), else_=-SavingsTransaction.amount)


@invariant("savings-balance",
           "Savings account: balance = credits (deposits, opening balance, migrated deposits) "
           "- debits (withdrawals, migrated withdrawals), reversed ones left out",
           "savings", lambda c: differs(c.balance, c.deposits - c.withdrawals))
def _savings_balance(scope: Scope) -> Select[Any]:
    moved = (select(SavingsTransaction.account_id,
                    _sum(case((SavingsTransaction.type.in_(SAVINGS_CREDITS),
                               SavingsTransaction.amount), else_=ZERO)).label("deposits"),
                    _sum(case((SavingsTransaction.type.not_in(SAVINGS_CREDITS),
                               SavingsTransaction.amount), else_=ZERO)).label("withdrawals"))
             .where(SavingsTransaction.reversed.is_(False))
             .group_by(SavingsTransaction.account_id).subquery())
    return (select(SavingsAccount.account_no.label("account"), SavingsAccount.balance,
                   _value(moved.c.deposits).label("deposits"),
                   _value(moved.c.withdrawals).label("withdrawals"))
            .outerjoin(moved, moved.c.account_id == SavingsAccount.id)
            .where(scope.savings()))


@invariant("savings-not-overdrawn",
           "Savings account: balance never below zero unless its product allows overdraft",
           "savings", lambda c: negative(c.balance))
def _savings_overdrawn(scope: Scope) -> Select[Any]:
    return (select(SavingsAccount.account_no.label("account"), SavingsAccount.balance,
                   SavingsProduct.name.label("product"))
            .join(SavingsProduct, SavingsProduct.id == SavingsAccount.product_id)
            .where(SavingsProduct.allow_overdraft.is_(False), scope.savings()))


@invariant("savings-per-client-log",
           "Per-client group/center account: each sheet's movement is logged client by "
           "client, members only", "savings",
           lambda c: or_(differs(c.movement, c.logged_per_client), c.non_members > 0))
def _per_client_log(scope: Scope) -> Select[Any]:
    member = exists(
        select(GroupMembership.id).join(Group, Group.id == GroupMembership.group_id)
        .where(GroupMembership.client_id == SavingsTransaction.client_id,
               or_(Group.id == SavingsAccount.group_id,
                   Group.center_id == SavingsAccount.center_id)))
    signed = _signed_savings_amount()
    return (select(SavingsAccount.account_no.label("account"),
                   SavingsTransaction.source_workbook_id.label("workbook"),
                   func.sum(signed).label("movement"),
                   _sum(case((SavingsTransaction.client_id.is_not(None), signed),
                             else_=ZERO)).label("logged_per_client"),
                   func.count(case((and_(SavingsTransaction.client_id.is_not(None), ~member),
                                    SavingsTransaction.id))).label("non_members"))
            .join(SavingsAccount, SavingsAccount.id == SavingsTransaction.account_id)
            .join(SavingsProduct, SavingsProduct.id == SavingsAccount.product_id)
            .where(SavingsProduct.deposit_unit == DepositUnit.PER_CLIENT,
                   SavingsAccount.client_id.is_(None),
                   SavingsTransaction.source_workbook_id.is_not(None),
                   SavingsTransaction.reversed.is_(False), scope.savings())
            .group_by(SavingsAccount.account_no, SavingsTransaction.source_workbook_id))


def _movements(scope: Scope, *, with_reversed: bool) -> Any:
    """Every money movement of the three ledgers, as one relation.

    Columns: kind (loan / savings / charge), id, account (its number, or the charge id),
    account_id, submission_id, workbook, cell, money_in, money_out.
    """
    loan_in = (LoanTransactionType.REPAYMENT,)
    loans = (select(literal("loan").label("kind"), LoanTransaction.id,
                    Loan.account_no.label("account"), Loan.id.label("account_id"),
                    LoanTransaction.submission_id,
                    LoanTransaction.source_workbook_id.label("workbook"),
                    LoanTransaction.source_cell.label("cell"),
                    case((LoanTransaction.type.in_(loan_in), LoanTransaction.amount),
                         else_=ZERO).label("money_in"),
                    case((LoanTransaction.type == LoanTransactionType.DISBURSEMENT,
                          LoanTransaction.amount), else_=ZERO).label("money_out"))
             .join(Loan, Loan.id == LoanTransaction.loan_id)
             .where(scope.loan(),
                    true() if with_reversed else LoanTransaction.reversed.is_(False)))
    savings = (select(literal("savings").label("kind"), SavingsTransaction.id,
                      SavingsAccount.account_no.label("account"),
                      SavingsAccount.id.label("account_id"), SavingsTransaction.submission_id,
                      SavingsTransaction.source_workbook_id.label("workbook"),
                      SavingsTransaction.source_cell.label("cell"),
                      case((SavingsTransaction.type == SavingsTransactionType.DEPOSIT,
                            SavingsTransaction.amount), else_=ZERO).label("money_in"),
                      case((SavingsTransaction.type == SavingsTransactionType.WITHDRAWAL,
                            SavingsTransaction.amount), else_=ZERO).label("money_out"))
               .join(SavingsAccount, SavingsAccount.id == SavingsTransaction.account_id)
               .where(scope.savings(),
                      true() if with_reversed else SavingsTransaction.reversed.is_(False)))
    charges = (select(literal("charge").label("kind"), ChargePayment.id,
                      cast(Charge.id, String(20)).label("account"),
                      Charge.id.label("account_id"), ChargePayment.submission_id,
                      ChargePayment.source_workbook_id.label("workbook"),
                      ChargePayment.source_cell.label("cell"),
                      ChargePayment.amount.label("money_in"), ZERO.label("money_out"))
               .join(Charge, Charge.id == ChargePayment.charge_id)
               .where(scope.charge()))
    return union_all(loans, savings, charges).subquery("movements")


@invariant("submission-cash",
           "Posted collection sheet: money in - money out posted = cash collected - cash "
           "paid out", "submission",
           lambda c: differs(c.posted_in - c.posted_out, c.cash_collected - c.cash_paid_out))
def _submission_cash(scope: Scope) -> Select[Any]:
    movements = _movements(Scope(), with_reversed=False)
    posted = (select(movements.c.submission_id,
                     func.sum(movements.c.money_in).label("money_in"),
                     func.sum(movements.c.money_out).label("money_out"))
              .where(movements.c.submission_id.is_not(None))
              .group_by(movements.c.submission_id).subquery())
    return (select(Submission.id.label("account"), Submission.original_name,
                   Submission.cash_collected, Submission.cash_paid_out,
                   _value(posted.c.money_in).label("posted_in"),
                   _value(posted.c.money_out).label("posted_out"))
            .outerjoin(posted, posted.c.submission_id == Submission.id)
            .where(Submission.status == SubmissionStatus.POSTED, scope.submission()))


@invariant("transaction-source",
           "A transaction from a sheet names its posted submission, workbook and cell",
           "transaction",
           lambda c: or_(c.submission_id.is_(None), c.workbook.is_(None), c.cell.is_(None),
                         c.submission_status.is_(None),
                         c.submission_status != SubmissionStatus.POSTED.value,
                         c.submission_workbook.is_distinct_from(c.workbook)))
def _transaction_source(scope: Scope) -> Select[Any]:
    movements = _movements(scope, with_reversed=True)
    return (select((movements.c.kind + " " + movements.c.account).label("account"),
                   movements.c.id.label("transaction_id"), movements.c.submission_id,
                   movements.c.workbook, movements.c.cell,
                   Submission.status.label("submission_status"),
                   Submission.workbook_id.label("submission_workbook"))
            .outerjoin(Submission, Submission.id == movements.c.submission_id)
            .where(or_(movements.c.submission_id.is_not(None),
                       movements.c.workbook.is_not(None))))


@invariant("posted-once",
           "Nothing posted twice: one workbook cell feeds one ledger, one submission, and "
           "each account once", "cell",
           lambda c: or_(c.ledgers > 1, c.submissions > 1, c.transactions > c.accounts))
def _posted_once(scope: Scope) -> Select[Any]:
    m = _movements(scope, with_reversed=False)
    return (select((m.c.workbook + " " + m.c.cell).label("account"),
                   func.count().label("transactions"),
                   func.count(func.distinct(m.c.kind)).label("ledgers"),
                   func.count(func.distinct(m.c.submission_id)).label("submissions"),
                   func.count(func.distinct(m.c.account_id)).label("accounts"))
            .where(m.c.workbook.is_not(None), m.c.cell.is_not(None))
            .group_by(m.c.workbook, m.c.cell))


@invariant("posted-once-per-meeting",
           "One meeting, one posting per account and kind: at most one sheet posts a loan's "
           "repayment (or disbursal), a deposit into or withdrawal from an account (per "
           "client share), or a charge payment, for a meeting", "account",
           lambda c: c.sheets > 1)
def _posted_once_per_meeting(scope: Scope) -> Select[Any]:
    loans = (select(literal("loan").label("ledger"), Loan.account_no.label("account"),
                    literal(None, String(20)).label("client_id"),
                    cast(LoanTransaction.type, String(20)).label("kind"),
                    LoanTransaction.on_date.label("meeting"),
                    LoanTransaction.source_workbook_id.label("workbook"))
             .join(Loan, Loan.id == LoanTransaction.loan_id)
             .where(LoanTransaction.source_workbook_id.is_not(None),
                    LoanTransaction.reversed.is_(False),
                    LoanTransaction.type != LoanTransactionType.MIGRATION, scope.loan()))
    savings = (select(literal("savings").label("ledger"),
                      SavingsAccount.account_no.label("account"),
                      cast(SavingsTransaction.client_id, String(20)).label("client_id"),
                      cast(SavingsTransaction.type, String(20)).label("kind"),
                      SavingsTransaction.on_date.label("meeting"),
                      SavingsTransaction.source_workbook_id.label("workbook"))
               .join(SavingsAccount, SavingsAccount.id == SavingsTransaction.account_id)
               .where(SavingsTransaction.source_workbook_id.is_not(None),
                      SavingsTransaction.reversed.is_(False),
                      SavingsTransaction.type.not_in(SAVINGS_MIGRATED), scope.savings()))
    charges = (select(literal("charge").label("ledger"),
                      cast(Charge.id, String(20)).label("account"),
                      literal(None, String(20)).label("client_id"),
                      literal("payment", String(20)).label("kind"),
                      ChargePayment.on_date.label("meeting"),
                      ChargePayment.source_workbook_id.label("workbook"))
               .join(Charge, Charge.id == ChargePayment.charge_id)
               .where(ChargePayment.source_workbook_id.is_not(None), scope.charge()))
    m = union_all(loans, savings, charges).subquery("meeting_postings")
    return (select((m.c.ledger + " " + m.c.account).label("account"), m.c.client_id,
                   m.c.kind, m.c.meeting,
                   func.count(func.distinct(m.c.workbook)).label("sheets"))
            .group_by(m.c.ledger, m.c.account, m.c.client_id, m.c.kind, m.c.meeting))


@invariant("charge-balance",
           "Charge: paid + waived + outstanding = charged, none negative, status agrees",
           "charge",
           lambda c: or_(negative(c.amount_paid), negative(c.amount_waived),
                         negative(c.outstanding),
                         and_(c.status == ChargeStatus.DUE.value, ~positive(c.outstanding)),
                         and_(c.status != ChargeStatus.DUE.value, differs(c.outstanding, ZERO))))
def _charge_balance(scope: Scope) -> Select[Any]:
    return (select(Charge.id.label("account"), Charge.name, Charge.status, Charge.amount,
                   Charge.amount_paid, Charge.amount_waived,
                   (Charge.amount - Charge.amount_paid - Charge.amount_waived)
                   .label("outstanding"))
            .where(scope.charge()))


@invariant("charge-payments", "Charge: amount paid = the sum of its payments", "charge",
           lambda c: differs(c.amount_paid, c.payments))
def _charge_payments(scope: Scope) -> Select[Any]:
    paid = (select(ChargePayment.charge_id, func.sum(ChargePayment.amount).label("amount"))
            .group_by(ChargePayment.charge_id).subquery())
    return (select(Charge.id.label("account"), Charge.name, Charge.amount_paid,
                   _value(paid.c.amount).label("payments"))
            .outerjoin(paid, paid.c.charge_id == Charge.id)
            .where(scope.charge()))


@invariant("attendance-once", "Attendance: at most one record per client per meeting",
           "client", lambda c: c.records > 1)
def _attendance(scope: Scope) -> Select[Any]:
    return (select(Attendance.client_id.label("account"), Attendance.meeting_date,
                   func.count().label("records"))
            .where(true() if scope.office_ids is None else Attendance.client_id.in_(
                select(Client.id).where(Client.office_id.in_(scope.office_ids))))
            .group_by(Attendance.client_id, Attendance.meeting_date))


# --- running them ----------------------------------------------------------------------------


@dataclass
class InvariantResult:
    """How one invariant fared: rows checked and the rows that break it."""

    code: str
    title: str
    account_kind: str
    checked: int
    broken: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "title": self.title, "account_kind": self.account_kind,
                "checked": self.checked, "broken_count": len(self.broken),
                "broken": self.broken}


@dataclass
class CheckReport:
    """The result of every invariant."""

    office_id: int | None
    results: list[InvariantResult]

    @property
    def ok(self) -> bool:
        return not any(r.broken for r in self.results)

    @property
    def broken_count(self) -> int:
        return sum(len(r.broken) for r in self.results)

    def result(self, code: str) -> InvariantResult:
        return next(r for r in self.results if r.code == code)

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "office_id": self.office_id,
                "broken_count": self.broken_count,
                "invariants": [r.as_dict() for r in self.results]}


def _figure(value: Any) -> Any:
    """A database value as a report figure: money as an exact Decimal, enums as text."""
    if isinstance(value, float):  # SQLite's REAL: back to the stored 4-decimal amount
        return Decimal(repr(value)).quantize(_QUANTUM)
    if isinstance(value, Decimal):
        return value.quantize(_QUANTUM)
    if hasattr(value, "value") and not isinstance(value, int | str | dt.date):
        return value.value
    return value


def check_invariant(session: Session, inv: Invariant, scope: Scope) -> InvariantResult:
    """Run one invariant: two set-based queries (the count, and the broken rows)."""
    rows = inv.rows(scope).subquery()
    checked = session.scalar(select(func.count()).select_from(rows)) or 0
    broken = session.execute(select(rows).where(inv.broken(rows.c))
                             .order_by(rows.c.account)).mappings().all()
    hidden = {"interest_off_terms"}
    return InvariantResult(
        code=inv.code, title=inv.title, account_kind=inv.account_kind, checked=checked,
        broken=[{k: _figure(v) for k, v in row.items() if k not in hidden} for row in broken])


def check_session(session: Session, office_id: int | None = None,
                  codes: Sequence[str] | None = None) -> CheckReport:
    """Run the invariants (all, or those named) in an open session."""
    scope = office_scope(session, office_id)
    chosen = [i for i in INVARIANTS if codes is None or i.code in codes]
    return CheckReport(office_id, [check_invariant(session, i, scope) for i in chosen])


def run_check(ctx: AppContext, *, office_id: int | None = None) -> CheckReport:
    """Check that the books agree with themselves (read-only: nothing is changed)."""
    with ctx.session_factory() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every query, so postings made meanwhile cannot show as breaks.
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        return check_session(session, office_id)


def describe_row(row: dict[str, Any]) -> str:
    """One broken row as text: its figures, name=value."""
    return ", ".join(f"{k}={v}" for k, v in row.items() if k != "account")


def summary_lines(report: CheckReport) -> list[str]:
    """The short report: one line per invariant, and one per broken row (docs/integrity.md
    says what each invariant means)."""
    lines = []
    for r in report.results:
        mark = "ok    " if not r.broken else "BROKEN"
        lines.append(f"{mark} {r.code:<30} {r.checked:>8} checked {len(r.broken):>5} broken")
        for row in r.broken:
            lines.append(f"       {r.account_kind} {row['account']}: {describe_row(row)}")
    verdict = ("Every cent is accounted for." if report.ok else
               f"{report.broken_count} row(s) break the books' invariants.")
    lines.append(verdict)
    return lines

