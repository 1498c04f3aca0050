"""Savings use cases: open an account, deposit, withdraw."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import Center, Client, Group, SavingsAccount, SavingsProduct
from workbook_engine.domain import SavingsTransaction
from workbook_engine.domain.ledger import apply_savings_movement
from workbook_engine.domain.enums import (
    ClientStatus,
    SavingsStatus,
    SavingsTransactionType,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import (
    DATE_NOT_ALLOWED,
    DUPLICATE_VALUE,
    INVALID_VALUE,
    WRONG_STATE,
)
from workbook_engine.money import round_money
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.amounts import typed_amount
from workbook_engine.services.ledger.loans import NO_SOURCE, MoneyMovementSource, _next_account_no
from workbook_engine.services.setup.lookup import get_or_fail


def open_savings_account(ctx: AppContext, *, actor_id: int | None, product_id: int,
                         opened_on: dt.date, client_id: int | None = None,
                         group_id: int | None = None, center_id: int | None = None,
                         recommended_deposit: Decimal | None = None,
                         external_id: str | None = None) -> int:
    """Open (and activate) a savings account for a client, a group or a center."""
    if opened_on > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"The opening date {opened_on} is in the future "
                          f"(today is {ctx.today()}).", field="opened on",
                          value=str(opened_on))
    with ctx.unit_of_work(actor_id) as uow:
        account = open_account(uow.session, product_id=product_id, opened_on=opened_on,
                               client_id=client_id, group_id=group_id, center_id=center_id,
                               recommended_deposit=recommended_deposit,
                               external_id=external_id)
        uow.audit("savings.open", account)
        uow.commit()
        return account.id


def open_account(session: Session, *, product_id: int, opened_on: dt.date,
                 client_id: int | None = None, group_id: int | None = None,
                 center_id: int | None = None, recommended_deposit: Decimal | None = None,
                 external_id: str | None = None) -> SavingsAccount:
    """Open an active account with a zero balance inside the caller's transaction."""
    owners = [o for o in (client_id, group_id, center_id) if o is not None]
    if len(owners) != 1:
        raise EngineError(INVALID_VALUE, "A savings account belongs to exactly one client, "
                          "group or center.")
    s = session
    product = get_or_fail(s, SavingsProduct, product_id, "savings product")
    if client_id is not None:
        client = get_or_fail(s, Client, client_id, "client")
        if client.status != ClientStatus.ACTIVE:
            raise EngineError(WRONG_STATE, f"{client.display_name} is "
                              f"{client.status.value.replace('_', ' ')}: only an active "
                              "client can open a savings account.")
    elif group_id is not None:
        get_or_fail(s, Group, group_id, "group")
    else:
        get_or_fail(s, Center, center_id, "center")  # type: ignore[arg-type]
    if recommended_deposit is not None:
        recommended_deposit = round_money(recommended_deposit, product.currency_digits)
        if recommended_deposit < 0:
            raise EngineError(INVALID_VALUE, f"The recommended deposit {recommended_deposit} "
                              "cannot be negative.", field="recommended deposit",
                              value=str(recommended_deposit))
    if external_id and s.scalar(select(SavingsAccount.id).where(
            SavingsAccount.external_id == external_id)):
        raise EngineError(DUPLICATE_VALUE, f"External id '{external_id}' is already used by "
                          "another savings account.", field="external id", value=external_id)
    account = SavingsAccount(
        account_no=_next_account_no(s, SavingsAccount, "S"), external_id=external_id,
        product_id=product.id, client_id=client_id, group_id=group_id,
        center_id=center_id, status=SavingsStatus.ACTIVE,
        recommended_deposit=recommended_deposit, submitted_on=opened_on,
        activated_on=opened_on, balance=Decimal(0))
    account.product = product
    s.add(account)
    s.flush()
    return account


def move_money(session: Session, account: SavingsAccount, kind: SavingsTransactionType,
               amount: Decimal, on_date: dt.date, actor_id: int | None,
               source: MoneyMovementSource = NO_SOURCE,
               client_id: int | None = None, *, flush: bool = True) -> SavingsTransaction:
    """Deposit into or withdraw from an account inside the caller's transaction.

    Every refusal comes before anything changes (the rules:
    :func:`domain.ledger.apply_savings_movement`); ``flush=False`` leaves the transaction
    pending (a caller writing many flushes them together)."""
    apply_savings_movement(account, kind, amount,
                           allow_overdraft=account.product.allow_overdraft,
                           currency_digits=account.product.currency_digits)
    transaction = SavingsTransaction(
        account_id=account.id, type=kind, on_date=on_date, amount=amount, client_id=client_id)
    transaction.record_source(source, actor_id)
    session.add(transaction)
    if flush:
        session.flush()
    return transaction


def record_savings_transaction(ctx: AppContext, *, actor_id: int | None, account_id: int,
                               kind: str, amount: Decimal, on_date: dt.date,
                               client_id: int | None = None,
                               payment_type_id: int | None = None,
                               receipt_number: str | None = None) -> int:
    """Record a deposit or withdrawal made at the office; returns the transaction id."""
    if kind not in (SavingsTransactionType.DEPOSIT, SavingsTransactionType.WITHDRAWAL):
        raise EngineError(INVALID_VALUE, f"'{kind}' is not a savings transaction made at the "
                          "office: use deposit or withdrawal.", field="kind", value=str(kind))
    if on_date > ctx.today():
        raise EngineError(DATE_NOT_ALLOWED, f"The {kind} date {on_date} is in the future "
                          f"(today is {ctx.today()}).", field="on", value=str(on_date))
    with ctx.unit_of_work(actor_id) as uow:
        account = get_or_fail(uow.session, SavingsAccount, account_id, "savings account")
        transaction = move_money(
            uow.session, account, SavingsTransactionType(kind),
            typed_amount(amount, account.product.currency_digits, f"The {kind} amount"),
            on_date, actor_id,
            MoneyMovementSource(payment_type_id=payment_type_id, receipt_number=receipt_number,
                                receipt_date=on_date), client_id=client_id)
        uow.audit(f"savings.{kind}", transaction)
        uow.commit()
        return transaction.id
