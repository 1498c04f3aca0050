"""Declarative base, column types and mixins shared by every table.

Money is stored as ``NUMERIC(18, 4)`` and always handled as :class:`~decimal.Decimal` in
Python. Floats are refused at bind time, so a float can never sneak into the books. An
amount the column cannot keep is refused at bind time too, with :class:`MoneyOutOfRange` (a
domain error, the same on every engine), not left to the driver: PostgreSQL and MariaDB
failed with an overflow of their own, and SQLite, which keeps NUMERIC as an 8-byte float,
stored the amount and read back another one (99999999999999.99 came back as
99999999999999.9844).
"""

from __future__ import annotations

import datetime as dt
import warnings
from decimal import Context, Decimal
from typing import Any

from sqlalchemy import DateTime, ForeignKey, MetaData, Numeric, String, TypeDecorator, func
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeEngine

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE
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

MONEY_PRECISION_DIGITS = 18
MONEY_SCALE = 4
_QUANTUM = Decimal(1).scaleb(-MONEY_SCALE)

#: The largest amount a money column keeps: NUMERIC(18, 4), 14 digits before the point.
MAX_STORED_AMOUNT = Decimal(10) ** (MONEY_PRECISION_DIGITS - MONEY_SCALE) - _QUANTUM


class MoneyOutOfRange(EngineError, sa_exc.DontWrapMixin):
    """An amount a money column cannot keep exactly: refused before the database sees it.

    An :class:`EngineError` (``invalid-value``) that SQLAlchemy lets through as it is
    (``DontWrapMixin``), so a statement or a flush raises it, not a ``StatementError``.
    """


class Money(TypeDecorator[Decimal]):
    """A money amount: Decimal in, Decimal out, never float; refused when the column cannot
    keep it (:class:`MoneyOutOfRange`)."""

    impl = Numeric(MONEY_PRECISION_DIGITS, MONEY_SCALE, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """On SQLite (NUMERIC kept as an 8-byte float), the float the driver hands back, read
        as is: its shortest text is the amount stored, where the Numeric processor's "%.4f"
        added noise beyond the float's 15-16 significant digits."""
        if dialect.name != "sqlite":
            return dialect.type_descriptor(self.impl)
        return dialect.type_descriptor(
            Numeric(MONEY_PRECISION_DIGITS, MONEY_SCALE, asdecimal=False))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The amount to store; a float is a bug (TypeError), an amount the column cannot
        keep a refusal (:class:`MoneyOutOfRange`)."""
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError("money must be a Decimal, not a float")
        amount = Decimal(value)
        if not amount.is_finite():
            raise MoneyOutOfRange(INVALID_VALUE, f"The amount {amount} is not a number; "
                                  "type the figure in digits.", value=str(amount))
        if -_EXACT_EVERYWHERE < amount < _EXACT_EVERYWHERE:  # every amount a sheet carries
            return amount
        stored = amount.quantize(_QUANTUM, context=_WIDE)
        if abs(stored) > MAX_STORED_AMOUNT:
            raise MoneyOutOfRange(
                INVALID_VALUE, f"The amount {amount:,} is more than the largest amount the "
                f"database keeps ({MAX_STORED_AMOUNT:,}); check the figure.",
                value=str(amount))
        if dialect.name == "sqlite" and _read_back(float(stored)) != stored:
            raise MoneyOutOfRange(
                INVALID_VALUE, f"The amount {amount:,} has more digits than a SQLite "
                f"database keeps exactly (it would read back as "
                f"{_read_back(float(stored)):,}); "
                "check the figure, or keep the books on PostgreSQL or MariaDB for amounts "
                "this large.", value=str(amount))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """The stored amount, to the column's scale."""
        if value is None:
            return None
        if type(value) is Decimal:  # PostgreSQL and MariaDB
            return value.quantize(_QUANTUM)
        return _read_back(value)  # SQLite: a float (or an int for a whole amount)


_WIDE = Context(prec=60)
_EXACT_EVERYWHERE = Decimal(10) ** 11
"""Below this, an amount to the column's scale has at most 15 significant digits: every
engine keeps it exactly (an 8-byte float too)."""


def _read_back(stored: float | int) -> Decimal:
    """The amount SQLite hands back as ``stored``: its shortest text, to the column's scale."""
    return Decimal(repr(stored)).quantize(_QUANTUM, context=_WIDE)


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
