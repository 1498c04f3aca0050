"""Fees and penalties charged to a client, group or center (or one of their accounts)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workbook_engine.domain.base import (
    Base,
    PostedMoneyMixin,
    enum_column,
    money_column,
)
from workbook_engine.domain.enums import ChargeKind, ChargeStatus
from workbook_engine.domain.ledger import ChargeOwed


class Charge(ChargeOwed, Base):
    """A fee or penalty due on a date; paid + waived + outstanding = amount."""

    __tablename__ = "charges"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[ChargeKind] = enum_column(ChargeKind)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"), index=True)
    group_id: Mapped[int | None] = mapped_column(ForeignKey("client_groups.id"), index=True)
    center_id: Mapped[int | None] = mapped_column(ForeignKey("centers.id"), index=True)
    loan_id: Mapped[int | None] = mapped_column(ForeignKey("loans.id"))
    savings_account_id: Mapped[int | None] = mapped_column(ForeignKey("savings_accounts.id"))
    currency_code: Mapped[str] = mapped_column(String(3))
    currency_digits: Mapped[int] = mapped_column(default=2)
    amount: Mapped[Decimal] = money_column()
    amount_paid: Mapped[Decimal] = money_column()
    amount_waived: Mapped[Decimal] = money_column()
    due_date: Mapped[dt.date]
    charged_on: Mapped[dt.date]
    status: Mapped[ChargeStatus] = enum_column(ChargeStatus, default=ChargeStatus.DUE)

    payments: Mapped[list[ChargePayment]] = relationship(back_populates="charge")


class ChargePayment(PostedMoneyMixin, Base):
    """A payment of a charge, e.g. collected on a collection sheet."""

    __tablename__ = "charge_payments"
    __table_args__ = (UniqueConstraint("source_workbook_id", "source_cell", "charge_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    charge_id: Mapped[int] = mapped_column(ForeignKey("charges.id"), index=True)
    on_date: Mapped[dt.date]
    amount: Mapped[Decimal] = money_column()

    charge: Mapped[Charge] = relationship(back_populates="payments")
