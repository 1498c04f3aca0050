"""Loan products, loans, their repayment schedules and transactions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbook_engine.domain.base import (
    Base,
    CreatedAtMixin,
    PostedMoneyMixin,
    enum_column,
    money_column,
)
from workbook_engine.domain.enums import LoanStatus, LoanTransactionType
from workbook_engine.domain.ledger import InstallmentOwed, LoanOwed

if TYPE_CHECKING:
    from workbook_engine.domain.customers import Client, Group
    from workbook_engine.domain.org import PaymentType, Staff


class LoanProduct(CreatedAtMixin, Base):
    """The terms a loan is made on."""

    __tablename__ = "loan_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(10), unique=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    currency_digits: Mapped[int] = mapped_column(default=2)
    annual_interest_rate: Mapped[Decimal] = money_column()  # percent per year
    interest_method: Mapped[str] = mapped_column(String(20))  # flat | declining_balance
    repayment_every: Mapped[int] = mapped_column(default=1)
    repayment_unit: Mapped[str] = mapped_column(String(10))  # weeks | months
    number_of_repayments: Mapped[int]
    interest_deducted_at_disbursement: Mapped[bool] = mapped_column(default=False)
    min_principal: Mapped[Decimal | None] = money_column(default=None, nullable=True)
    max_principal: Mapped[Decimal | None] = money_column(default=None, nullable=True)
    active: Mapped[bool] = mapped_column(default=True)


class Loan(LoanOwed, CreatedAtMixin, Base):
    """A loan to a client or a group."""

    __tablename__ = "loans"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(String(20), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("loan_products.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_groups.id"), index=True)
    loan_officer_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    status: Mapped[LoanStatus] = enum_column(LoanStatus, default=LoanStatus.SUBMITTED)
    principal: Mapped[Decimal] = money_column()
    annual_interest_rate: Mapped[Decimal] = money_column()
    interest_method: Mapped[str] = mapped_column(String(20))
    repayment_every: Mapped[int] = mapped_column(default=1)
    repayment_unit: Mapped[str] = mapped_column(String(10))
    number_of_repayments: Mapped[int]
    interest_deducted_at_disbursement: Mapped[bool] = mapped_column(default=False)
    submitted_on: Mapped[dt.date]
    approved_on: Mapped[dt.date | None]
    expected_disbursement_date: Mapped[dt.date | None]
    disbursed_on: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]

    product: Mapped[LoanProduct] = relationship()
    client: Mapped[Client | None] = relationship()
    group: Mapped[Group | None] = relationship()
    loan_officer: Mapped[Staff | None] = relationship()
    installments: Mapped[list[LoanInstallment]] = relationship(
        back_populates="loan", order_by="LoanInstallment.number", cascade="all, delete-orphan")
    transactions: Mapped[list[LoanTransaction]] = relationship(
        back_populates="loan", order_by="LoanTransaction.id")


class LoanInstallment(InstallmentOwed, Base):
    """One line of a repayment schedule, with what has been paid of it."""

    __tablename__ = "loan_installments"
    __table_args__ = (UniqueConstraint("loan_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    number: Mapped[int]
    due_date: Mapped[dt.date] = mapped_column(index=True)
    principal: Mapped[Decimal] = money_column()
    interest: Mapped[Decimal] = money_column()
    fees: Mapped[Decimal] = money_column()
    penalties: Mapped[Decimal] = money_column()
    principal_paid: Mapped[Decimal] = money_column()
    interest_paid: Mapped[Decimal] = money_column()
    fees_paid: Mapped[Decimal] = money_column()
    penalties_paid: Mapped[Decimal] = money_column()
    completed_on: Mapped[dt.date | None]

    loan: Mapped[Loan] = relationship(back_populates="installments")


class LoanTransaction(PostedMoneyMixin, Base):
    """A disbursement or repayment; repayments are split over installments by allocations."""

    __tablename__ = "loan_transactions"
    __table_args__ = (UniqueConstraint("source_workbook_id", "source_cell", "loan_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    loan_id: Mapped[int] = mapped_column(ForeignKey("loans.id"), index=True)
    type: Mapped[LoanTransactionType] = enum_column(LoanTransactionType)
    on_date: Mapped[dt.date]
    amount: Mapped[Decimal] = money_column()
    principal_portion: Mapped[Decimal] = money_column()
    interest_portion: Mapped[Decimal] = money_column()
    fees_portion: Mapped[Decimal] = money_column()
    penalties_portion: Mapped[Decimal] = money_column()
    reversed: Mapped[bool] = mapped_column(default=False)

    loan: Mapped[Loan] = relationship(back_populates="transactions")
    payment_type: Mapped[PaymentType | None] = relationship()
    allocations: Mapped[list[LoanAllocation]] = relationship(
        back_populates="transaction", cascade="all, delete-orphan")


class LoanAllocation(Base):
    """The part of a repayment that went to one installment."""

    __tablename__ = "loan_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("loan_transactions.id"), index=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("loan_installments.id"), index=True)
    principal: Mapped[Decimal] = money_column()
    interest: Mapped[Decimal] = money_column()
    fees: Mapped[Decimal] = money_column()
    penalties: Mapped[Decimal] = money_column()

    transaction: Mapped[LoanTransaction] = relationship(back_populates="allocations")
    installment: Mapped[LoanInstallment] = relationship()

    @property
    def total(self) -> Decimal:
        return self.principal + self.interest + self.fees + self.penalties
