"""Savings products, accounts (of a client, group or center) and their transactions."""

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
from workbook_engine.domain.enums import (
    DepositUnit,
    SavingsDepositType,
    SavingsStatus,
    SavingsTransactionType,
)

if TYPE_CHECKING:
    from workbook_engine.domain.customers import Center, Client, Group


class SavingsProduct(CreatedAtMixin, Base):
    """Mandatory or voluntary savings with a recommended deposit per meeting."""

    __tablename__ = "savings_products"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    short_name: Mapped[str] = mapped_column(String(10), unique=True)
    currency_code: Mapped[str] = mapped_column(String(3))
    currency_digits: Mapped[int] = mapped_column(default=2)
    deposit_type: Mapped[SavingsDepositType] = enum_column(SavingsDepositType)
    recommended_deposit: Mapped[Decimal] = money_column()
    deposit_unit: Mapped[DepositUnit] = enum_column(DepositUnit, default=DepositUnit.PER_GROUP)
    allow_overdraft: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)


class SavingsAccount(CreatedAtMixin, Base):
    """A savings account owned by exactly one of a client, a group or a center."""

    __tablename__ = "savings_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    account_no: Mapped[str] = mapped_column(String(20), unique=True)
    external_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("savings_products.id"))
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_groups.id"), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"), index=True)
    status: Mapped[SavingsStatus] = enum_column(SavingsStatus, default=SavingsStatus.ACTIVE)
    recommended_deposit: Mapped[Decimal | None] = money_column(default=None, nullable=True)
    submitted_on: Mapped[dt.date]
    activated_on: Mapped[dt.date | None]
    # The first day mandatory deposits are expected (None: the activation). A migrated
    # account is active from its own date in the old system, and owes deposits from the day
    # after the migration only: the old system's savings arrears are not brought over.
    deposits_due_from: Mapped[dt.date | None]
    closed_on: Mapped[dt.date | None]
    balance: Mapped[Decimal] = money_column()

    product: Mapped[SavingsProduct] = relationship()
    client: Mapped[Client | None] = relationship()
    group: Mapped[Group | None] = relationship()
    center: Mapped[Center | None] = relationship()
    transactions: Mapped[list[SavingsTransaction]] = relationship(
        back_populates="account", order_by="SavingsTransaction.id")

    @property
    def effective_recommended_deposit(self) -> Decimal:
        """The account's own recommended deposit, else the product's."""
        if self.recommended_deposit is not None:
            return self.recommended_deposit
        return self.product.recommended_deposit


class SavingsTransaction(PostedMoneyMixin, Base):
    """A deposit or withdrawal. For a group/center account it may name the client it came from."""

    __tablename__ = "savings_transactions"
    __table_args__ = (UniqueConstraint("source_workbook_id", "source_cell", "account_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("savings_accounts.id"), index=True)
    type: Mapped[SavingsTransactionType] = enum_column(SavingsTransactionType)
    on_date: Mapped[dt.date]
    amount: Mapped[Decimal] = money_column()
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    reversed: Mapped[bool] = mapped_column(default=False)

    account: Mapped[SavingsAccount] = relationship(back_populates="transactions")
