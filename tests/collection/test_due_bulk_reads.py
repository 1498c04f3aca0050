"""What is due reads accounts in bulk, the amounts through the Money type's column type alone
and the recommended deposit and the day deposits are due from chosen by the database: on
each database engine, what it reads is what the ORM's records say (the demo institution)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select

from workbook_engine.domain import Center, Group, Loan, SavingsAccount
from workbook_engine.domain.enums import GroupStatus, LoanStatus
from workbook_engine.money import round_money
from workbook_engine.services.collection.due import _load_loans, _load_savings, _Owners
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup import demo

LAST_MEETING = dt.date(2026, 3, 3)


def _owners(ctx: AppContext) -> _Owners:
    with ctx.session_factory() as s:
        groups = list(s.scalars(select(Group.id).where(Group.status == GroupStatus.ACTIVE)
                                .order_by(Group.id)))
        centers = list(s.scalars(select(Center.id).order_by(Center.id)))
    return _Owners(group_ids=groups, center_ids=centers, any_client=True)


def test_accounts_read_in_bulk_are_the_records(any_ctx: AppContext) -> None:
    demo.load_demo(any_ctx, scale=1)
    with any_ctx.unit_of_work(None) as uow:  # both sides of each choice the database makes
        accounts = list(uow.session.scalars(select(SavingsAccount).order_by(SavingsAccount.id)))
        for account in accounts[:4]:  # migrated: deposits due from the day after
            account.deposits_due_from = dt.date(2026, 1, 20)
        accounts[4].recommended_deposit = Decimal("35.5")
        accounts[5].recommended_deposit = None
        uow.commit()
    _savings_are_the_records(any_ctx)
    _loans_owe_what_the_records_owe(any_ctx)


def _savings_are_the_records(any_ctx: AppContext) -> None:
    owners = _owners(any_ctx)
    with any_ctx.session_factory() as s:
        facts = _load_savings(s, owners)
        assert facts.accounts.rows
        assert {row.opened for row in facts.accounts.rows} >= {dt.date(2026, 1, 20)}
        assert Decimal("35.5") in {row.recommended for row in facts.accounts.rows}
        for row in facts.accounts.rows:
            account = s.get(SavingsAccount, row.id)
            assert account is not None
            assert row.recommended == account.effective_recommended_deposit
            assert row.opened == (account.deposits_due_from or account.activated_on
                                  or account.submitted_on)
            assert type(row.balance) is Decimal and row.balance == account.balance
            terms = facts.products[row.product_id]
            product = account.product
            assert (terms.deposit_type, terms.deposit_unit, terms.currency_digits) == (
                product.deposit_type, product.deposit_unit, product.currency_digits)
            assert (terms.ref.name, terms.ref.short_name) == (product.name, product.short_name)
            deposited, _ = facts.deposits.get(row.id, (Decimal(0), None))
            assert deposited == sum((t.amount for t in account.transactions
                                     if t.type.value == "deposit" and not t.reversed),
                                    Decimal(0))


def _loans_owe_what_the_records_owe(any_ctx: AppContext) -> None:
    with any_ctx.session_factory() as s:
        facts = _load_loans(s, _owners(any_ctx), LAST_MEETING)
        active = [row for row in facts.loans.rows if row.status == LoanStatus.ACTIVE]
        assert active
        for row in active:
            loan = s.get(Loan, row.id)
            assert loan is not None
            assert round_money(facts.outstanding.get(row.id, Decimal(0)), 2) == \
                round_money(loan.outstanding, 2)
            by_day: dict[dt.date, Decimal] = {}
            for i in loan.installments:  # the installments of one day together
                if i.due_date <= LAST_MEETING and i.outstanding > 0:
                    by_day[i.due_date] = by_day.get(i.due_date, Decimal(0)) + i.outstanding
            assert facts.unpaid.get(row.id, []) == sorted(by_day.items())
