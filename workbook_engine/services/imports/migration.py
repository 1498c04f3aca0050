"""Moving a live portfolio in: loans with what is still outstanding, savings with a balance.

The conventions (written for managers in docs/migration.md):

* The old system's figures are taken **at the close of the migration date**: everything paid
  up to and including that day is in them, the arrears are what fell due on or before it and
  is unpaid, and the next due date is the first due date after it.
* A migrated loan is ACTIVE with a schedule of up to three kinds of installments, numbered in
  this order:

  1. *paid before migration* (only when something was repaid in the old system): the
     principal and interest already repaid, due on the disbursal date and fully paid by one
     ``migration`` transaction dated the migration date;
  2. *arrears* (only when arrears are above zero): the arrears amount, due on the date the
     oldest unpaid installment fell due (``arrears_since``, default the migration date), split
     into interest and principal in proportion to what is outstanding unless the row says how
     much of it is interest;
  3. the *remaining installments*: what is neither paid nor in arrears, spread evenly over
     ``remaining_installments`` installments (the last one absorbs rounding), the first due on
     ``next_due_date`` (which must be a meeting day of the borrower's center or group) and
     the others one repayment period apart on the same meeting calendar.

  So the principal disbursed equals the installments' principal, the interest the
  installments' interest, and what is marked paid equals the migration transaction's
  allocations; what is due at the first meeting after migration is exactly the arrears plus
  the next installment.
* A migrated savings account is opened with its balance as one ``opening_balance``
  transaction on the migration date. It is active from its own date in the old system (its
  activation date, else its opening date, else the migration date), so its statement and
  its history agree; its mandatory deposits are due from the day after the migration
  (``deposits_due_from``): from the first meeting after the move (the balance is not a
  deposit made at a meeting, and the old system's savings arrears are not brought over).
* A transaction history (Fineract's repayment and savings transaction workbooks) is replayed
  on loans and accounts already migrated, one transaction per row, in date order: a
  repayment as a ``migration`` loan transaction (allocated like any repayment, oldest
  installment first), a deposit or withdrawal as ``migrated_deposit`` /
  ``migrated_withdrawal``; so what is outstanding, in arrears and saved follows from the
  history.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, select, type_coerce
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Center,
    Client,
    Group,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
    Office,
    SavingsAccount,
    SavingsProduct,
    SavingsTransaction,
    Staff,
)
from workbook_engine.domain.base import Money
from workbook_engine.domain.calendar import is_meeting_date, next_meeting_on_or_after
from workbook_engine.domain.enums import (
    ClientStatus,
    GroupStatus,
    LoanStatus,
    LoanTransactionType,
    SavingsStatus,
    SavingsTransactionType,
)
from workbook_engine.domain.schedule import InterestMethod, LoanTerms, PeriodUnit
from workbook_engine.domain.schedule import repayment_dates
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import (
    DATE_NOT_ALLOWED,
    DUPLICATE_VALUE,
    INVALID_VALUE,
    MISSING_VALUE,
    WRONG_STATE,
)
from workbook_engine.errors.setup import MIGRATION_FIGURES, NOT_A_MEETING_DAY, STAFF_NOT_USABLE
from workbook_engine.money import round_money, split_evenly
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.loans import (
    NO_SOURCE,
    MoneyMovementSource,
    _next_account_no,
    disburse,
    loan_calendar,
    repay,
    require_calendar_fit,
)
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.ledger.savings import move_money, open_account

ZERO = Decimal(0)


# --------------------------------------------------------------------------- rows

@dataclass(frozen=True)
class ClientMigration:
    """What the dry run needs of a migrated client row: its office."""

    office: str
    external_id: str | None = None


@dataclass(frozen=True)
class LoanMigration:
    """One live loan as the old system reports it at the close of the migration date.

    Attributes:
        office: the office name the row gives (checked against the borrower's office).
        product_id: the loan product.
        principal_outstanding: principal still owed (> 0).
        interest_outstanding: interest still owed (>= 0).
        remaining_installments: installments not yet due (after the migration date).
        next_due_date: due date of the first of them; a meeting day of the borrower.
        arrears_amount: principal and interest due on or before the migration date, unpaid.
        arrears_since: the due date of the oldest unpaid installment (default: the migration
            date); days in arrears are counted from it.
        arrears_interest: the part of the arrears that is interest (default: in proportion
            to the interest and principal outstanding).
        client_id / group_id: the borrower (exactly one).
        original_principal: the amount disbursed (default: the principal outstanding).
        interest_paid: interest already repaid in the old system.
        disbursed_on: the disbursal date (default: the arrears date, else the migration
            date).
    """

    office: str | None
    product_id: int
    principal_outstanding: Decimal
    interest_outstanding: Decimal
    remaining_installments: int
    next_due_date: dt.date | None
    arrears_amount: Decimal = ZERO
    arrears_since: dt.date | None = None
    arrears_interest: Decimal | None = None
    client_id: int | None = None
    group_id: int | None = None
    original_principal: Decimal | None = None
    interest_paid: Decimal = ZERO
    disbursed_on: dt.date | None = None
    loan_officer_id: int | None = None
    external_id: str | None = None


@dataclass(frozen=True)
class SavingsMigration:
    """One savings account with its balance at the close of the migration date."""

    office: str | None
    product_id: int
    balance: Decimal
    client_id: int | None = None
    group_id: int | None = None
    center_id: int | None = None
    opened_on: dt.date | None = None
    recommended_deposit: Decimal | None = None
    external_id: str | None = None
    activated_on: dt.date | None = None
    """The day the old system activated it (None: ``opened_on``, else the migration date)."""


@dataclass
class OfficeTotals:
    """The reconciliation figures of one office."""

    office: str
    clients: int = 0
    loans: int = 0
    principal_outstanding: Decimal = ZERO
    interest_outstanding: Decimal = ZERO
    arrears: Decimal = ZERO
    savings_accounts: int = 0
    savings_balance: Decimal = ZERO

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class PlannedLine:
    """One installment of a migrated loan, with what is already paid of it."""

    kind: str  # paid | arrears | remaining
    due_date: dt.date
    principal: Decimal
    interest: Decimal
    principal_paid: Decimal = ZERO
    interest_paid: Decimal = ZERO


@dataclass(frozen=True)
class _Figures:
    principal: Decimal
    paid_principal: Decimal
    paid_interest: Decimal
    arrears_principal: Decimal
    arrears_interest: Decimal
    rest_principal: Decimal
    rest_interest: Decimal
    disbursed_on: dt.date
    arrears_since: dt.date


# --------------------------------------------------------------------------- loans

def migrate_loan(ctx: AppContext, *, actor_id: int | None, migration_date: dt.date,
                 row: LoanMigration, source: MoneyMovementSource = NO_SOURCE) -> int:
    """Create an ACTIVE loan reproducing what the old system says is owed; returns its id."""
    check_migration_date(ctx, migration_date)
    with ctx.unit_of_work(actor_id) as uow:
        loan = migrate_loan_in(uow.session, row, migration_date, actor_id, source)
        uow.audit("loan.migrate", loan, note=_note(row, migration_date))
        uow.commit()
        return loan.id


def migrate_loan_in(session: Session, row: LoanMigration, migration_date: dt.date,
                    actor_id: int | None,
                    source: MoneyMovementSource = NO_SOURCE) -> Loan:
    """:func:`migrate_loan` inside the caller's transaction (for posting a workbook)."""
    s = session
    product = get_or_fail(s, LoanProduct, row.product_id, "loan product")
    if not product.active:
        raise EngineError(WRONG_STATE, f"Loan product '{product.name}' is inactive; migrate "
                          "the loan under an active product.", field="product",
                          value=str(row.product_id))
    office = _borrower_office(s, row.client_id, row.group_id, row.office)
    _check_officer(s, row.loan_officer_id, office)
    require_calendar_fit(s, product.name, product.repayment_every, product.repayment_unit,
                         client_id=row.client_id, group_id=row.group_id)
    if row.external_id and s.scalar(select(Loan.id).where(Loan.external_id ==
                                                          row.external_id)):
        raise EngineError(DUPLICATE_VALUE, f"External id '{row.external_id}' is already used "
                          "by another loan (was this loan migrated already?).",
                          field="external id", value=row.external_id)
    figures = _loan_figures(row, product.currency_digits, migration_date)
    loan = Loan(
        account_no=_next_account_no(s, Loan, "L"), external_id=row.external_id,
        product_id=product.id, client_id=row.client_id, group_id=row.group_id,
        loan_officer_id=row.loan_officer_id, status=LoanStatus.ACTIVE,
        principal=figures.principal, annual_interest_rate=product.annual_interest_rate,
        interest_method=product.interest_method, repayment_every=product.repayment_every,
        repayment_unit=product.repayment_unit, number_of_repayments=1,
        interest_deducted_at_disbursement=False, submitted_on=figures.disbursed_on,
        approved_on=figures.disbursed_on, expected_disbursement_date=figures.disbursed_on,
        disbursed_on=figures.disbursed_on)
    loan.product = product
    rule, office_id = loan_calendar(s, loan)
    holidays = office_holidays(s, office_id)
    dates = _remaining_dates(row, product, rule, holidays, migration_date)
    lines = plan_installments(figures, dates, product.currency_digits)
    loan.number_of_repayments = len(lines)
    s.add(loan)
    s.flush()
    for number, line in enumerate(lines, start=1):
        loan.installments.append(LoanInstallment(
            number=number, due_date=line.due_date, principal=line.principal,
            interest=line.interest, fees=ZERO, penalties=ZERO,
            principal_paid=line.principal_paid, interest_paid=line.interest_paid,
            fees_paid=ZERO, penalties_paid=ZERO,
            completed_on=migration_date if line.kind == "paid" else None))
    s.flush()
    s.add(LoanTransaction(
        loan_id=loan.id, type=LoanTransactionType.DISBURSEMENT, on_date=figures.disbursed_on,
        amount=figures.principal, principal_portion=figures.principal,
        interest_portion=ZERO, fees_portion=ZERO, penalties_portion=ZERO,
        created_by_id=actor_id))
    paid = figures.paid_principal + figures.paid_interest
    if paid > 0:
        transaction = LoanTransaction(
            loan_id=loan.id, type=LoanTransactionType.MIGRATION, on_date=migration_date,
            amount=paid, principal_portion=figures.paid_principal,
            interest_portion=figures.paid_interest, fees_portion=ZERO, penalties_portion=ZERO,
            submission_id=source.submission_id, source_workbook_id=source.workbook_id,
            source_cell=source.cell, created_by_id=actor_id)
        transaction.allocations.append(LoanAllocation(
            installment=loan.installments[0], principal=figures.paid_principal,
            interest=figures.paid_interest, fees=ZERO, penalties=ZERO))
        s.add(transaction)
    s.flush()
    return loan


def migrate_loan_from_terms_in(session: Session, *, terms: LoanTerms, product: LoanProduct,
                               office: str, client_id: int | None, group_id: int | None,
                               loan_officer_id: int | None, external_id: str | None,
                               disbursed_on: dt.date, repaid: Decimal, repaid_on: dt.date,
                               as_of: dt.date, actor_id: int | None,
                               source: MoneyMovementSource = NO_SOURCE) -> Loan:
    """Bring over a live loan from its original terms and what was repaid (a Mifos X /
    Fineract loan): the schedule is built from the terms on the borrower's meeting
    calendar, the disbursal recorded, and the amount repaid replayed on the schedule as a
    ``migration`` transaction (oldest installment first: interest, then principal), so what
    is outstanding and in arrears follows as the old system computed it.

    Raises ``ValueError`` when the calendar cannot carry the schedule; refuses a loan that
    is repaid in full (it stays in the old system's history) or repaid more than it owes.
    """
    if not product.active:
        raise EngineError(WRONG_STATE, f"Loan product '{product.name}' is inactive; migrate "
                          "the loan under an active product.", field="product",
                          value=product.name)
    _check_officer(session, loan_officer_id,
                   _borrower_office(session, client_id, group_id, office))
    if external_id and session.scalar(select(Loan.id).where(Loan.external_id == external_id)):
        raise EngineError(DUPLICATE_VALUE, f"External id '{external_id}' is already used "
                          "by another loan (was this loan migrated already?).",
                          field="external id", value=external_id)
    if disbursed_on > as_of:
        raise EngineError(MIGRATION_FIGURES, f"The disbursal date {disbursed_on} is after "
                          f"the migration date {as_of}.", field="disbursal date",
                          value=str(disbursed_on))
    if repaid > 0 and not disbursed_on <= repaid_on <= as_of:
        raise EngineError(MIGRATION_FIGURES, f"The last repayment date {repaid_on} must be "
                          f"between the disbursal ({disbursed_on}) and the migration date "
                          f"({as_of}).", field="date-last repayment", value=str(repaid_on))
    loan = Loan(
        account_no=_next_account_no(session, Loan, "L"), external_id=external_id,
        product_id=product.id, client_id=client_id, group_id=group_id,
        loan_officer_id=loan_officer_id, status=LoanStatus.APPROVED,
        principal=terms.principal, annual_interest_rate=terms.annual_interest_rate,
        interest_method=terms.method.value, repayment_every=terms.repayment_every,
        repayment_unit=terms.repayment_unit.value,
        number_of_repayments=terms.number_of_repayments,
        interest_deducted_at_disbursement=False, submitted_on=disbursed_on,
        approved_on=disbursed_on, expected_disbursement_date=disbursed_on)
    loan.product = product
    session.add(loan)
    session.flush()
    disburse(session, loan, disbursed_on, actor_id)
    owed = sum((i.principal + i.interest for i in loan.installments), ZERO)
    if repaid >= owed:
        raise EngineError(MIGRATION_FIGURES, f"The amount repaid {repaid} pays the whole "
                          f"loan ({owed}): a loan repaid in full is not migrated (leave it in "
                          "the old system's history).", field="amount repaid",
                          value=str(repaid))
    if repaid > 0:
        repay(session, loan, repaid, repaid_on, actor_id, source,
              kind=LoanTransactionType.MIGRATION)
    return loan


def _loan_figures(row: LoanMigration, digits: int, migration_date: dt.date) -> _Figures:
    """Check a row's figures and split them into paid, arrears and remaining parts."""
    p_out = _money(row.principal_outstanding, digits, "principal outstanding")
    i_out = _money(row.interest_outstanding, digits, "interest outstanding")
    arrears = _money(row.arrears_amount, digits, "arrears amount")
    interest_paid = _money(row.interest_paid, digits, "interest paid")
    principal = (p_out if row.original_principal is None
                 else _money(row.original_principal, digits, "original principal"))
    if p_out <= 0:
        raise EngineError(MIGRATION_FIGURES, f"The principal outstanding is {p_out}: a loan "
                          "with no principal left is not migrated (leave it in the old "
                          "system's history).", field="principal outstanding", value=str(p_out))
    if principal < p_out:
        raise EngineError(MIGRATION_FIGURES, f"The original principal {principal} is less "
                          f"than the principal outstanding {p_out}.",
                          field="original principal", value=str(principal))
    if arrears > p_out + i_out:
        raise EngineError(MIGRATION_FIGURES, f"The arrears amount {arrears} is more than "
                          f"what is outstanding ({p_out} principal + {i_out} interest = "
                          f"{p_out + i_out}).", field="arrears amount", value=str(arrears))
    if row.arrears_interest is None:
        share = (round_money(arrears * i_out / (p_out + i_out), digits)
                 if arrears > 0 else ZERO)
        a_int = max(arrears - p_out, min(share, i_out))
    else:
        a_int = _money(row.arrears_interest, digits, "arrears interest")
        if a_int > arrears or a_int > i_out or arrears - a_int > p_out:
            raise EngineError(MIGRATION_FIGURES, f"The arrears interest {a_int} does not fit: "
                              f"it must be at most the arrears ({arrears}) and the interest "
                              f"outstanding ({i_out}), and the rest of the arrears at most the "
                              f"principal outstanding ({p_out}).", field="arrears interest",
                              value=str(a_int))
    a_prin = arrears - a_int
    rest_p, rest_i = p_out - a_prin, i_out - a_int
    n = row.remaining_installments
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise EngineError(INVALID_VALUE, f"The number of remaining installments '{n}' must be "
                          "a whole number, 0 or more.", field="remaining installments",
                          value=str(n))
    if rest_p + rest_i > 0 and n == 0:
        raise EngineError(MIGRATION_FIGURES, f"{rest_p + rest_i} is outstanding beyond the "
                          "arrears but the number of remaining installments is 0.",
                          field="remaining installments", value="0")
    if rest_p + rest_i == 0 and n > 0:
        raise EngineError(MIGRATION_FIGURES, f"Everything outstanding is in arrears, so there "
                          f"cannot be {n} remaining installments (give 0).",
                          field="remaining installments", value=str(n))
    disbursed_on = row.disbursed_on or min(row.arrears_since or migration_date, migration_date)
    if disbursed_on > migration_date:
        raise EngineError(DATE_NOT_ALLOWED, f"The disbursal date {disbursed_on} is after the "
                          f"migration date {migration_date}.", field="disbursed on",
                          value=str(disbursed_on))
    if arrears == 0 and row.arrears_since is not None:
        raise EngineError(MIGRATION_FIGURES, f"Arrears since {row.arrears_since} are given but "
                          "the arrears amount is 0.", field="arrears since",
                          value=str(row.arrears_since))
    since = row.arrears_since or migration_date
    if not disbursed_on <= since <= migration_date:
        raise EngineError(DATE_NOT_ALLOWED, f"The arrears date {since} must be between the "
                          f"disbursal date {disbursed_on} and the migration date "
                          f"{migration_date}.", field="arrears since", value=str(since))
    return _Figures(principal=principal, paid_principal=principal - p_out,
                    paid_interest=interest_paid, arrears_principal=a_prin,
                    arrears_interest=a_int, rest_principal=rest_p, rest_interest=rest_i,
                    disbursed_on=disbursed_on, arrears_since=since)


def _remaining_dates(row: LoanMigration, product: LoanProduct, rule: Any,
                     holidays: frozenset[dt.date], migration_date: dt.date) -> list[dt.date]:
    """Due dates of the remaining installments: the next due date, then one period apart on
    the borrower's meeting calendar."""
    n = row.remaining_installments
    if n == 0:
        return []
    due = row.next_due_date
    if due is None:
        raise EngineError(MISSING_VALUE, f"The next due date is needed for the {n} remaining "
                          "installments.", field="next due date")
    if due <= migration_date:
        raise EngineError(DATE_NOT_ALLOWED, f"The next due date {due} must be after the "
                          f"migration date {migration_date} (what fell due before is arrears).",
                          field="next due date", value=str(due))
    if rule is not None and not is_meeting_date(rule, due, holidays):
        raise EngineError(NOT_A_MEETING_DAY, f"The next due date {due} is not a meeting day "
                          f"of the borrower's center or group; the next meeting on or after it "
                          f"is {next_meeting_on_or_after(rule, due, holidays)}.",
                          field="next due date", value=str(due))
    if n == 1:
        return [due]
    terms = LoanTerms(principal=Decimal(1), annual_interest_rate=ZERO,
                      method=InterestMethod.FLAT, repayment_every=product.repayment_every,
                      repayment_unit=PeriodUnit(product.repayment_unit),
                      number_of_repayments=n - 1, currency_digits=0)
    try:
        return [due] + repayment_dates(due, terms, rule, holidays)
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, f"The {n} remaining installments cannot be placed on "
                          f"the meeting calendar from {due}: {exc}.",
                          field="remaining installments", value=str(n)) from None


def plan_installments(figures: _Figures, dates: list[dt.date],
                      digits: int) -> list[PlannedLine]:
    """The schedule lines of a migrated loan (see the module docstring)."""
    lines: list[PlannedLine] = []
    if figures.paid_principal + figures.paid_interest > 0:
        lines.append(PlannedLine("paid", figures.disbursed_on, figures.paid_principal,
                                 figures.paid_interest, figures.paid_principal,
                                 figures.paid_interest))
    if figures.arrears_principal + figures.arrears_interest > 0:
        lines.append(PlannedLine("arrears", figures.arrears_since, figures.arrears_principal,
                                 figures.arrears_interest))
    if dates:
        principals = split_evenly(figures.rest_principal, len(dates), digits)
        interests = split_evenly(figures.rest_interest, len(dates), digits)
        lines += [PlannedLine("remaining", due, p, i)
                  for due, p, i in zip(dates, principals, interests, strict=True)]
    return lines


@dataclass(frozen=True)
class Outstanding:
    """What a loan still owes at the close of a day, worked out from its full schedule and
    the total repaid (for workbooks that give the original terms, like Fineract's)."""

    principal_outstanding: Decimal
    interest_outstanding: Decimal
    arrears_amount: Decimal
    arrears_since: dt.date | None
    arrears_interest: Decimal
    remaining_installments: int
    next_due_date: dt.date | None
    interest_paid: Decimal


def outstanding_from_repaid(planned: Iterable[Any], amount_repaid: Decimal,
                            as_of: dt.date) -> Outstanding:
    """Apply ``amount_repaid`` to the installments in order (each one's interest, then its
    principal) and say what is outstanding, in arrears and still to fall due on ``as_of``.

    ``planned`` are the installments of the loan's full schedule (``due_date``, ``principal``,
    ``interest``), as :func:`domain.schedule.build_schedule` makes them.
    """
    items = list(planned)
    owed = sum((i.principal + i.interest for i in items), ZERO)
    if amount_repaid < 0 or amount_repaid > owed:
        raise EngineError(MIGRATION_FIGURES, f"The amount repaid {amount_repaid} must be "
                          f"between 0 and what the loan's schedule comes to ({owed}).",
                          field="amount repaid", value=str(amount_repaid))
    left = amount_repaid
    paid_i = out_p = out_i = arrears = arrears_i = ZERO
    since: dt.date | None = None
    future: list[dt.date] = []
    for item in items:
        to_i = min(left, item.interest)
        to_p = min(left - to_i, item.principal)
        left -= to_i + to_p
        paid_i += to_i
        unpaid_p, unpaid_i = item.principal - to_p, item.interest - to_i
        out_p += unpaid_p
        out_i += unpaid_i
        if unpaid_p + unpaid_i == 0:
            continue
        if item.due_date <= as_of:
            arrears += unpaid_p + unpaid_i
            arrears_i += unpaid_i
            since = since or item.due_date
        else:
            future.append(item.due_date)
    return Outstanding(out_p, out_i, arrears, since, arrears_i, len(future),
                       future[0] if future else None, paid_i)


# --------------------------------------------------------------------------- savings

def migrate_savings(ctx: AppContext, *, actor_id: int | None, migration_date: dt.date,
                    row: SavingsMigration, source: MoneyMovementSource = NO_SOURCE) -> int:
    """Open a savings account with its balance from the old system; returns its id."""
    check_migration_date(ctx, migration_date)
    with ctx.unit_of_work(actor_id) as uow:
        account = migrate_savings_in(uow.session, row, migration_date, actor_id, source)
        uow.audit("savings.migrate", account, note=_note(row, migration_date))
        uow.commit()
        return account.id


def migrate_savings_in(session: Session, row: SavingsMigration, migration_date: dt.date,
                       actor_id: int | None,
                       source: MoneyMovementSource = NO_SOURCE) -> SavingsAccount:
    """:func:`migrate_savings` inside the caller's transaction."""
    product = get_or_fail(session, SavingsProduct, row.product_id, "savings product")
    balance = _money(row.balance, product.currency_digits, "balance")
    if balance < 0 and not product.allow_overdraft:
        raise EngineError(MIGRATION_FIGURES, f"The balance {balance} is below zero and "
                          f"product '{product.name}' allows no overdraft.", field="balance",
                          value=str(balance))
    activated_on = row.activated_on or row.opened_on or migration_date
    opened_on = min(row.opened_on or activated_on, activated_on)
    if activated_on > migration_date:
        raise EngineError(DATE_NOT_ALLOWED, f"The opening date {activated_on} is after the "
                          f"migration date {migration_date}.", field="opened on",
                          value=str(activated_on))
    if row.office is not None:
        owner_office = _savings_owner_office(session, row)
        if owner_office is not None and owner_office.name != row.office:
            raise EngineError(INVALID_VALUE, f"The row says office '{row.office}' but the "
                              f"account's owner belongs to office '{owner_office.name}'.",
                              field="office", value=row.office)
    account = open_account(session, product_id=product.id, opened_on=opened_on,
                           client_id=row.client_id, group_id=row.group_id,
                           center_id=row.center_id,
                           recommended_deposit=row.recommended_deposit,
                           external_id=row.external_id)
    # Active since its own date; mandatory deposits are due from the next meeting only.
    account.activated_on = activated_on
    account.deposits_due_from = migration_date + dt.timedelta(days=1)
    if balance != 0:
        if balance > 0:
            move_money(session, account, SavingsTransactionType.OPENING_BALANCE, balance,
                       migration_date, actor_id, source)
        else:  # an overdraft brought over: a withdrawal from zero
            move_money(session, account, SavingsTransactionType.WITHDRAWAL, -balance,
                       migration_date, actor_id, source)
    return account


# --------------------------------------------------------------------------- histories

def replay_repayment_in(session: Session, loan: Loan, amount: Decimal, on_date: dt.date,
                        today: dt.date, actor_id: int | None,
                        source: MoneyMovementSource = NO_SOURCE) -> LoanTransaction:
    """One repayment of a migrated loan's history in the old system, as a ``migration``
    transaction on its date, allocated oldest installment first (interest, then principal);
    refused when it is in the future, before the disbursal or before the loan's last
    transaction (a history is replayed in date order), or more than is owed."""
    amount = _history_amount(amount, loan.product.currency_digits, "amount repaid")
    last = session.scalar(select(func.max(LoanTransaction.on_date)).where(
        LoanTransaction.loan_id == loan.id, LoanTransaction.reversed.is_(False)))
    _history_date(on_date, today, loan.disbursed_on, last, f"loan {loan.account_no}",
                  "disbursed", "repaid on")
    return repay(session, loan, amount, on_date, actor_id, source,
                 kind=LoanTransactionType.MIGRATION)


def replay_savings_transaction_in(session: Session, account: SavingsAccount, deposit: bool,
                                  amount: Decimal, on_date: dt.date, today: dt.date,
                                  actor_id: int | None,
                                  source: MoneyMovementSource = NO_SOURCE
                                  ) -> SavingsTransaction:
    """One deposit or withdrawal of a migrated account's history, on its date, as
    ``migrated_deposit`` / ``migrated_withdrawal`` (in the balance; neither a meeting's
    deposit nor cash moved today); refused like :func:`replay_repayment_in`, and a
    withdrawal above the balance of that day unless the product allows an overdraft."""
    amount = _history_amount(amount, account.product.currency_digits, "amount")
    last = session.scalar(select(func.max(SavingsTransaction.on_date)).where(
        SavingsTransaction.account_id == account.id, SavingsTransaction.reversed.is_(False)))
    _history_date(on_date, today, account.submitted_on, last,
                  f"savings account {account.account_no}", "opened", "on")
    kind = (SavingsTransactionType.MIGRATED_DEPOSIT if deposit
            else SavingsTransactionType.MIGRATED_WITHDRAWAL)
    return move_money(session, account, kind, amount, on_date, actor_id, source)


def _history_amount(value: Any, digits: int, what: str) -> Decimal:
    amount = _money(value, digits, what)
    if amount == 0:
        raise EngineError(INVALID_VALUE, f"The {what} is 0: a row of the history moves some "
                          "money (leave the row out).", field=what, value="0")
    return amount


def _history_date(on_date: dt.date, today: dt.date, start: dt.date | None,
                  last: dt.date | None, account: str, started: str, field: str) -> None:
    if on_date > today:
        raise EngineError(DATE_NOT_ALLOWED, f"{on_date} is in the future (today is {today}): "
                          "a history brings what has already happened.", field=field,
                          value=str(on_date))
    if start is not None and on_date < start:
        raise EngineError(DATE_NOT_ALLOWED, f"{on_date} is before {account} was {started} "
                          f"({start}).", field=field, value=str(on_date))
    if last is not None and on_date < last:
        raise EngineError(DATE_NOT_ALLOWED, f"{on_date} is before the last transaction of "
                          f"{account} ({last}): a history is brought in date order; sort the "
                          "rows by date (or bring this one in a new loan's history).",
                          field=field, value=str(on_date))


# --------------------------------------------------------------------------- totals

def portfolio_totals(clients: Iterable[ClientMigration], loans: Iterable[LoanMigration],
                     savings: Iterable[SavingsMigration]) -> dict[str, OfficeTotals]:
    """What posting these migration rows would create, per office (the dry run's figures)."""
    totals: dict[str, OfficeTotals] = {}

    def of(office: str | None) -> OfficeTotals:
        key = office or "(no office)"
        return totals.setdefault(key, OfficeTotals(office=key))

    for client in clients:
        of(client.office).clients += 1
    for loan in loans:
        t = of(loan.office)
        t.loans += 1
        t.principal_outstanding += Decimal(loan.principal_outstanding)
        t.interest_outstanding += Decimal(loan.interest_outstanding)
        t.arrears += Decimal(loan.arrears_amount)
    for account in savings:
        t = of(account.office)
        t.savings_accounts += 1
        t.savings_balance += Decimal(account.balance)
    return dict(sorted(totals.items()))


def database_totals(ctx: AppContext, as_of: dt.date) -> dict[str, OfficeTotals]:
    """The same figures computed from the database (a few set-based queries): active clients,
    active loans with their outstanding principal and interest and what is overdue on
    ``as_of``, active savings accounts and their balances, per office."""
    with ctx.session_factory() as s:
        return database_totals_in(s, as_of)


def database_totals_in(s: Session, as_of: dt.date) -> dict[str, OfficeTotals]:
    """:func:`database_totals` in the caller's session (a dry run sees its own rows)."""
    totals: dict[str, OfficeTotals] = {}

    def of(name: str) -> OfficeTotals:
        return totals.setdefault(name, OfficeTotals(office=name))

    i = LoanInstallment
    owed = i.principal + i.interest + i.fees + i.penalties - (
        i.principal_paid + i.interest_paid + i.fees_paid + i.penalties_paid)
    for name, count in s.execute(
            select(Office.name, func.count(Client.id))
            .join(Client, Client.office_id == Office.id)
            .where(Client.status == ClientStatus.ACTIVE).group_by(Office.name)):
        of(name).clients = int(count)
    loan_office = func.coalesce(Client.office_id, Group.office_id)
    loan_rows = (
        select(Office.name,
               func.count(func.distinct(Loan.id)),
               func.sum(type_coerce(i.principal - i.principal_paid, Money())),
               func.sum(type_coerce(i.interest - i.interest_paid, Money())),
               func.sum(type_coerce(case((i.due_date <= as_of, owed), else_=0), Money())))
        .select_from(Loan)
        .join(i, i.loan_id == Loan.id)
        .outerjoin(Client, Client.id == Loan.client_id)
        .outerjoin(Group, Group.id == Loan.group_id)
        .join(Office, Office.id == loan_office)
        .where(Loan.status == LoanStatus.ACTIVE).group_by(Office.name))
    for name, count, principal, interest, arrears in s.execute(loan_rows):
        t = of(name)
        t.loans = int(count)
        t.principal_outstanding = _dec(principal)
        t.interest_outstanding = _dec(interest)
        t.arrears = _dec(arrears)
    savings_office = func.coalesce(Client.office_id, Group.office_id, Center.office_id)
    savings_rows = (
        select(Office.name, func.count(SavingsAccount.id),
               func.sum(SavingsAccount.balance))
        .select_from(SavingsAccount)
        .outerjoin(Client, Client.id == SavingsAccount.client_id)
        .outerjoin(Group, Group.id == SavingsAccount.group_id)
        .outerjoin(Center, Center.id == SavingsAccount.center_id)
        .join(Office, Office.id == savings_office)
        .where(SavingsAccount.status == SavingsStatus.ACTIVE).group_by(Office.name))
    for name, count, balance in s.execute(savings_rows):
        t = of(name)
        t.savings_accounts = int(count)
        t.savings_balance = _dec(balance)
    return dict(sorted(totals.items()))


# --------------------------------------------------------------------------- helpers

def _dec(value: Any) -> Decimal:
    """A summed money value, exact to the stored scale (SQLite sums REALs)."""
    if value is None:
        return ZERO
    return round_money(Decimal(str(value)), 4)


def _money(value: Any, digits: int, what: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite():
        raise EngineError(INVALID_VALUE, f"The {what} '{value}' is not an amount.",
                          field=what, value=str(value))
    if what != "balance" and amount < 0:
        raise EngineError(MIGRATION_FIGURES, f"The {what} {amount} cannot be negative.",
                          field=what, value=str(amount))
    if round_money(amount, digits) != amount:
        raise EngineError(INVALID_VALUE, f"The {what} {amount} has more than {digits} "
                          "decimals.", field=what, value=str(amount))
    return amount


def check_migration_date(ctx: AppContext, migration_date: dt.date) -> None:
    """Refuse a migration date in the future (figures are of a day that has ended)."""
    if migration_date > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"The migration date {migration_date} is in the "
                          f"future (today is {ctx.today()}); figures can only be migrated as "
                          "of a day that has ended.", field="migration date",
                          value=str(migration_date))


def _borrower_office(s: Session, client_id: int | None, group_id: int | None,
                     office_name: str | None) -> Office:
    if (client_id is None) == (group_id is None):
        raise EngineError(INVALID_VALUE, "A loan belongs to exactly one client or one group.",
                          field="client")
    if client_id is not None:
        client = get_or_fail(s, Client, client_id, "client")
        if client.status != ClientStatus.ACTIVE:
            raise EngineError(WRONG_STATE, f"{client.display_name} is "
                              f"{client.status.value.replace('_', ' ')}: only an active client "
                              "can hold a live loan.", field="client", value=str(client_id))
        office = client.office
    else:
        group = get_or_fail(s, Group, group_id, "group")  # type: ignore[arg-type]
        if group.status != GroupStatus.ACTIVE:
            raise EngineError(WRONG_STATE, f"Group '{group.name}' is {group.status.value}: "
                              "only an active group can hold a live loan.", field="group",
                              value=str(group_id))
        office = group.office
    if office_name is not None and office.name != office_name:
        raise EngineError(INVALID_VALUE, f"The row says office '{office_name}' but the "
                          f"borrower belongs to office '{office.name}'.", field="office",
                          value=office_name)
    return office


def _savings_owner_office(s: Session, row: SavingsMigration) -> Office | None:
    for model, owner_id in ((Client, row.client_id), (Group, row.group_id),
                            (Center, row.center_id)):
        if owner_id is not None:
            owner = s.get(model, owner_id)
            return owner.office if owner is not None else None  # type: ignore[attr-defined]
    return None


def _check_officer(s: Session, staff_id: int | None, office: Office) -> None:
    if staff_id is None:
        return
    staff = get_or_fail(s, Staff, staff_id, "member of staff")
    if not (staff.active and staff.is_loan_officer and staff.office_id == office.id):
        raise EngineError(STAFF_NOT_USABLE, f"{staff.display_name} (id {staff.id}) cannot be "
                          f"the loan officer: choose an active loan officer of office "
                          f"'{office.name}'.", field="loan officer", value=str(staff_id))


def _note(row: Any, migration_date: dt.date) -> str:
    fields = ", ".join(f"{k}={v}" for k, v in row.__dict__.items() if v is not None)
    return f"migrated as of {migration_date}: {fields}"[:500]
