"""Loan use cases: submit, approve, disburse (with its schedule), repay (allocated)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workbook_engine.domain import (
    Client,
    Group,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanProduct,
    LoanTransaction,
)
from workbook_engine.domain.calendar import MeetingRule
from workbook_engine.domain.enums import ClientStatus, LoanStatus, LoanTransactionType
from workbook_engine.domain.ledger import (
    apply_repayment,
    installment_values,
    mark_disbursed,
    require_disbursable,
)
from workbook_engine.domain.schedule import (
    InterestMethod,
    LoanTerms,
    PeriodUnit,
    build_schedule,
    calendar_misfit,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATE_NOT_ALLOWED, INVALID_VALUE, WRONG_STATE
from workbook_engine.errors.loans import LOAN_CALENDAR_MISMATCH
from workbook_engine.services.collection.calendars import client_group, office_holidays
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.amounts import typed_amount
from workbook_engine.services.setup.lookup import get_or_fail


class MoneyMovementSource(NamedTuple):
    """Where a posted amount came from: a submission's workbook cell, and its receipt (a
    named tuple: a sheet's posting makes one per movement)."""

    submission_id: int | None = None
    workbook_id: str | None = None
    cell: str | None = None
    payment_type_id: int | None = None
    receipt_number: str | None = None
    receipt_date: dt.date | None = None


NO_SOURCE = MoneyMovementSource()


def not_in_future(ctx: AppContext, value: dt.date, what: str) -> None:
    """Refuse a date after today for something that has already happened."""
    if value > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"The {what} {value} is in the future (today is "
                          f"{ctx.today()}).", field=what, value=str(value))


def _next_account_no(session: Session, model: type, prefix: str) -> str:
    """The next account number, from the highest id (an index look-up, not a count).

    Two writers racing for the same number cannot both commit: the column is unique.
    """
    session.flush()
    highest = session.scalar(select(func.max(model.id))) or 0  # type: ignore[attr-defined]
    return f"{prefix}{highest + 1:09d}"


def submit_loan(ctx: AppContext, *, actor_id: int | None, product_id: int, principal: Decimal,
                submitted_on: dt.date, expected_disbursement_date: dt.date,
                client_id: int | None = None, group_id: int | None = None,
                loan_officer_id: int | None = None, external_id: str | None = None) -> int:
    """Submit a loan application for a client or a group, on the product's terms."""
    if (client_id is None) == (group_id is None):
        raise EngineError(INVALID_VALUE, "A loan belongs to exactly one client or one group.")
    not_in_future(ctx, submitted_on, "submission date")
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        product = get_or_fail(s, LoanProduct, product_id, "loan product")
        if client_id is not None:
            client = get_or_fail(s, Client, client_id, "client")
            if client.status != ClientStatus.ACTIVE:
                raise EngineError(WRONG_STATE, f"{client.display_name} is "
                                  f"{client.status.value.replace('_', ' ')}: only an active "
                                  "client can apply for a loan.")
        else:
            get_or_fail(s, Group, group_id, "group")  # type: ignore[arg-type]
        principal = typed_amount(principal, product.currency_digits, "The loan principal")
        if principal <= 0:
            raise EngineError(INVALID_VALUE, "The loan principal must be more than zero.")
        for limit, ok in ((product.min_principal, lambda m: principal >= m),
                          (product.max_principal, lambda m: principal <= m)):
            if limit is not None and not ok(limit):
                raise EngineError(INVALID_VALUE, f"A {product.name} loan must be between "
                                  f"{product.min_principal} and {product.max_principal}.")
        if expected_disbursement_date < submitted_on:
            raise EngineError(DATE_NOT_ALLOWED, "The expected disbursement date cannot be "
                              "before the submission date.")
        require_calendar_fit(s, product.name, product.repayment_every, product.repayment_unit,
                             client_id=client_id, group_id=group_id)
        loan = Loan(
            account_no=_next_account_no(s, Loan, "L"), external_id=external_id,
            product_id=product.id, client_id=client_id, group_id=group_id,
            loan_officer_id=loan_officer_id, status=LoanStatus.SUBMITTED, principal=principal,
            annual_interest_rate=product.annual_interest_rate,
            interest_method=product.interest_method, repayment_every=product.repayment_every,
            repayment_unit=product.repayment_unit,
            number_of_repayments=product.number_of_repayments,
            interest_deducted_at_disbursement=product.interest_deducted_at_disbursement,
            submitted_on=submitted_on, expected_disbursement_date=expected_disbursement_date)
        s.add(loan)
        uow.audit("loan.submit", loan)
        uow.commit()
        return loan.id


def approve_loan(ctx: AppContext, *, actor_id: int | None, loan_id: int,
                 approved_on: dt.date) -> None:
    """Approve a submitted loan; it then waits for disbursal."""
    not_in_future(ctx, approved_on, "approval date")
    with ctx.unit_of_work(actor_id) as uow:
        loan = get_or_fail(uow.session, Loan, loan_id, "loan")
        if loan.status != LoanStatus.SUBMITTED:
            raise EngineError(WRONG_STATE, f"Loan {loan.account_no} is {loan.status.value}; "
                              "only a submitted loan can be approved.")
        if approved_on < loan.submitted_on:
            raise EngineError(DATE_NOT_ALLOWED, "A loan cannot be approved before it was "
                              "submitted.")
        require_loan_fits(uow.session, loan)
        loan.status = LoanStatus.APPROVED
        loan.approved_on = approved_on
        uow.audit("loan.approve", loan)
        uow.commit()


def loan_terms(loan: Loan) -> LoanTerms:
    """The schedule terms of a loan."""
    return LoanTerms(
        principal=loan.principal, annual_interest_rate=loan.annual_interest_rate,
        method=InterestMethod(loan.interest_method), repayment_every=loan.repayment_every,
        repayment_unit=PeriodUnit(loan.repayment_unit),
        number_of_repayments=loan.number_of_repayments,
        currency_digits=loan.product.currency_digits,
        interest_deducted_at_disbursement=loan.interest_deducted_at_disbursement)


@dataclass(frozen=True)
class RepaymentCalendar:
    """The meeting calendar a borrower repays on, whose it is, and whose holidays apply."""

    rule: MeetingRule | None
    office_id: int
    meets_with: str | None
    """e.g. "center Kilimani" or "group Umoja" (None: no calendar)."""


def repayment_calendar(session: Session, *, client_id: int | None = None,
                       group_id: int | None = None) -> RepaymentCalendar:
    """The calendar a client (their group's, or its center's) or a group repays on."""
    if client_id is not None:
        client = get_or_fail(session, Client, client_id, "client")
        group = client_group(session, client.id)
        office_id = client.office_id
    else:
        group = get_or_fail(session, Group, group_id, "group")  # type: ignore[arg-type]
        office_id = group.office_id
    if group is None:
        return RepaymentCalendar(None, office_id, None)
    owner = f"center {group.center.name}" if group.center is not None else f"group {group.name}"
    return RepaymentCalendar(group.effective_meeting_rule, office_id, owner)


def require_calendar_fit(session: Session, product_name: str, repayment_every: int,
                         repayment_unit: str, *, client_id: int | None = None,
                         group_id: int | None = None, account_no: str | None = None) -> None:
    """Refuse (``loan-calendar-mismatch``) a loan whose repayments cannot follow the meetings
    of the borrower's center or group (the Mifos rule; see :func:`calendar_misfit`)."""
    calendar = repayment_calendar(session, client_id=client_id, group_id=group_id)
    refusal = calendar_refusal(lambda: borrower_name(session, client_id, group_id), calendar,
                               product_name, repayment_every, repayment_unit, account_no)
    if refusal is not None:
        raise refusal


def borrower_name(session: Session, client_id: int | None, group_id: int | None) -> str:
    """A client's display name, or "group NAME"."""
    if client_id is not None:
        return session.get(Client, client_id).display_name  # type: ignore[union-attr]
    return f"group {session.get(Group, group_id).name}"  # type: ignore[union-attr]


def calendar_refusal(borrower: Callable[[], str], calendar: RepaymentCalendar,
                     product_name: str, repayment_every: int, repayment_unit: str,
                     account_no: str | None = None) -> EngineError | None:
    """The ``loan-calendar-mismatch`` refusal of a loan on these terms repaid on
    ``calendar``, or None when it fits (``borrower`` names who repays, asked only then)."""
    misfit = calendar_misfit(repayment_every, repayment_unit, calendar.rule)
    if misfit is None:
        return None
    loan = f"loan {account_no} ({product_name})" if account_no else f"a {product_name} loan"
    return EngineError(LOAN_CALENDAR_MISMATCH, f"{borrower()} repays at the meetings of "
                       f"{calendar.meets_with}, so {loan} cannot be scheduled: {misfit}.",
                       field="product", value=product_name)


def require_loans_fit_group(session: Session, client: Client, group: Group) -> None:
    """Refuse (``loan-calendar-mismatch``) moving a client with loans not yet closed into a
    group whose meetings their repayments cannot follow."""
    owner = f"center {group.center.name}" if group.center is not None else f"group {group.name}"
    for loan in session.scalars(select(Loan).where(
            Loan.client_id == client.id,
            Loan.status.in_([LoanStatus.SUBMITTED, LoanStatus.APPROVED, LoanStatus.ACTIVE]))
            .order_by(Loan.id)):
        misfit = calendar_misfit(loan.repayment_every, loan.repayment_unit,
                                 group.effective_meeting_rule)
        if misfit is not None:
            raise EngineError(LOAN_CALENDAR_MISMATCH, f"{client.display_name} cannot join "
                              f"group {group.name}: loan {loan.account_no} "
                              f"({loan.product.name}) would be repaid at the meetings of "
                              f"{owner}, and {misfit}.", field="group", value=str(group.id))


def require_loan_fits(session: Session, loan: Loan) -> None:
    """:func:`require_calendar_fit` for an existing loan, on its own terms."""
    require_calendar_fit(session, loan.product.name, loan.repayment_every, loan.repayment_unit,
                         client_id=loan.client_id, group_id=loan.group_id,
                         account_no=loan.account_no)


def loan_calendar(session: Session, loan: Loan) -> tuple[MeetingRule | None, int]:
    """The meeting calendar a loan is repaid on (its client's group's, or its group's) and
    the office whose holidays apply."""
    calendar = repayment_calendar(session, client_id=loan.client_id, group_id=loan.group_id)
    return calendar.rule, calendar.office_id


def generate_schedule(session: Session, loan: Loan, disbursed_on: dt.date) -> None:
    """(Re)write a loan's repayment schedule from its disbursal date and meeting calendar.

    A loan whose repayments do not follow the calendar (the borrower moved to a group that
    meets at another rhythm since approval) is refused with ``loan-calendar-mismatch``.
    """
    require_loan_fits(session, loan)
    rule, office_id = loan_calendar(session, loan)
    planned = build_schedule(loan_terms(loan), disbursed_on, rule,
                             office_holidays(session, office_id))
    loan.installments.clear()
    session.flush()
    for item in planned:
        loan.installments.append(LoanInstallment(**installment_values(item)))


def disburse(session: Session, loan: Loan, on_date: dt.date, actor_id: int | None,
             source: MoneyMovementSource = NO_SOURCE, *, flush: bool = True) -> LoanTransaction:
    """Disburse an approved loan inside the caller's transaction; returns the transaction.

    Every refusal comes before anything changes (the rules: :mod:`domain.ledger`).
    ``flush=False`` leaves the transaction pending (a caller writing many flushes them
    together; its id comes with that flush).
    """
    require_disbursable(loan, on_date)
    generate_schedule(session, loan, on_date)
    mark_disbursed(loan, on_date)
    transaction = LoanTransaction(
        loan_id=loan.id, type=LoanTransactionType.DISBURSEMENT, on_date=on_date,
        amount=loan.principal, principal_portion=loan.principal,
        interest_portion=Decimal(0), fees_portion=Decimal(0), penalties_portion=Decimal(0))
    transaction.record_source(source, actor_id)
    session.add(transaction)
    if flush:
        session.flush()
    return transaction


def disburse_loan(ctx: AppContext, *, actor_id: int | None, loan_id: int,
                  disbursed_on: dt.date) -> None:
    """Disburse an approved loan: its schedule is generated from the disbursal date."""
    not_in_future(ctx, disbursed_on, "disbursal date")
    with ctx.unit_of_work(actor_id) as uow:
        loan = get_or_fail(uow.session, Loan, loan_id, "loan")
        disburse(uow.session, loan, disbursed_on, actor_id)
        uow.audit("loan.disburse", loan)
        uow.commit()


def repay(session: Session, loan: Loan, amount: Decimal, on_date: dt.date,
          actor_id: int | None, source: MoneyMovementSource = NO_SOURCE,
          kind: LoanTransactionType = LoanTransactionType.REPAYMENT, *,
          flush: bool = True) -> LoanTransaction:
    """Apply a repayment inside the caller's transaction: oldest installment first.

    Paying the last amount owed closes the loan. A repayment above what is owed is refused;
    every refusal comes before anything changes (the rules:
    :func:`domain.ledger.apply_repayment`). ``kind`` MIGRATION replays a repayment of the old
    system's history (allocated the same way, but no cash moved in the engine).
    ``flush=False``: as :func:`disburse`.
    """
    split = apply_repayment(loan, amount, on_date, loan.product.currency_digits)
    transaction = LoanTransaction(
        loan_id=loan.id, type=kind, on_date=on_date, amount=amount,
        principal_portion=split.principal, interest_portion=split.interest,
        fees_portion=split.fees, penalties_portion=split.penalties)
    transaction.record_source(source, actor_id)
    for allocation in split.allocations:
        transaction.allocations.append(LoanAllocation(installment=allocation.installment,
                                                      **allocation.parts()))
    session.add(transaction)
    if flush:
        session.flush()
    return transaction


def repay_loan(ctx: AppContext, *, actor_id: int | None, loan_id: int, amount: Decimal,
               on_date: dt.date, payment_type_id: int | None = None,
               receipt_number: str | None = None) -> int:
    """Record a repayment made at the office; returns the transaction id."""
    not_in_future(ctx, on_date, "repayment date")
    with ctx.unit_of_work(actor_id) as uow:
        loan = get_or_fail(uow.session, Loan, loan_id, "loan")
        transaction = repay(uow.session, loan, typed_amount(
                                amount, loan.product.currency_digits, "The repayment amount"),
                            on_date, actor_id,
                            MoneyMovementSource(payment_type_id=payment_type_id,
                                                receipt_number=receipt_number,
                                                receipt_date=on_date))
        uow.audit("loan.repay", transaction)
        uow.commit()
        return transaction.id
