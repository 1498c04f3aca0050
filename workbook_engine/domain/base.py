"""Declarative base, column types and mixins shared by every table.

Money is stored as ``NUMERIC(18, 4)`` and always handled as :class:`~decimal.Decimal` in
Python. Floats are refused at bind time, so a float can never sneak into the books.
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, Numeric, String, TypeDecorator, func
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# SQLite stores NUMERIC as REAL; the Money type quantizes every value read back, so the
# driver's warning about Decimal support carries no information for us.
warnings.filterwarnings("ignore", message=".*does \\*not\\* support Decimal objects natively.*",
                        category=sa_exc.SAWarning)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

MONEY_SCALE = 4


class Money(TypeDecorator[Decimal]):
    """A money amount: Decimal in, Decimal out, never float."""

    impl = Numeric(18, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        return Decimal(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        if value is None:
            return None
        if type(value) is Decimal:  # most drivers, and SQLite's Numeric processor
            return value.quantize(_QUANTUM)
        # SQLite hands back floats; quantizing to the stored scale restores the exact amount.
        return Decimal(str(value)).quantize(_QUANTUM)


_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)


def money_column(default: Decimal | None = Decimal(0), nullable: bool = False) -> Any:
    """A money column defaulting to zero."""
    return mapped_column(Money(), default=default, nullable=nullable)


def utcnow() -> dt.datetime:
    """The current UTC time, timezone-naive (stored as UTC everywhere)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """The declarative base of every table."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        str: String(255),
        Decimal: Money(),
        dt.datetime: DateTime(),
    }


class CreatedAtMixin:
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, server_default=func.now())


def enum_column(enum_cls: type, length: int = 32, **kwargs: Any) -> Any:
    """A string column holding an enum's values (portable: no native ENUM types)."""
    from sqlalchemy import Enum

    return mapped_column(
        Enum(enum_cls, native_enum=False, create_constraint=False, length=length,
             values_callable=lambda e: [m.value for m in e], validate_strings=True),
        **kwargs,
    )


class PostedMoneyMixin:
    """Where a money movement came from: its receipt, and the submission and workbook cell.

    (source_workbook_id, source_cell, account) is unique in each table that uses this, so
    the same cell of the same sheet can never be posted twice.
    """

    payment_type_id: Mapped[int | None] = mapped_column(ForeignKey("payment_types.id"))
    receipt_number: Mapped[str | None] = mapped_column(String(50))
    receipt_date: Mapped[dt.date | None]
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    source_workbook_id: Mapped[str | None] = mapped_column(String(36))
    source_cell: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))

    def record_source(self, source: Any, actor_id: int | None) -> None:
        """Copy a ``MoneyMovementSource`` (receipt, submission, cell) and the actor."""
        self.payment_type_id = source.payment_type_id
        self.receipt_number = source.receipt_number
        self.receipt_date = source.receipt_date
        self.submission_id = source.submission_id
        self.source_workbook_id = source.workbook_id
        self.source_cell = source.cell
        self.created_by_id = actor_id
