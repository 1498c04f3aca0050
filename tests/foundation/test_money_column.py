"""The Money column type refuses an amount its NUMERIC(18, 4) cannot keep, on every engine.

Before, PostgreSQL failed with a driver error (numeric field overflow), MariaDB with an
out-of-range error, and SQLite stored the amount and then failed to read it back.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, insert, select

from workbook_engine.domain.base import MAX_STORED_AMOUNT, Money
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE


def _table() -> Table:
    return Table("money_probe", MetaData(), Column("id", Integer, primary_key=True),
                 Column("amount", Money()))


def _refused(ctx, amount: Decimal) -> EngineError:  # noqa: ANN001
    """Insert ``amount`` into a new table: the refusal, after checking nothing was written."""
    table = _table()
    with ctx.engine.begin() as conn:
        table.create(conn)
    with pytest.raises(EngineError) as refused, ctx.engine.begin() as conn:
        conn.execute(insert(table).values(id=1, amount=amount))
    with ctx.engine.connect() as conn:
        assert conn.execute(select(table.c.amount)).all() == []
    assert refused.value.error is INVALID_VALUE
    return refused.value


@pytest.mark.parametrize("amount", [Decimal("100000000000000"), Decimal("-100000000000000"),
                                    Decimal("99999999999999.99995"), Decimal("1E+20")])
def test_an_amount_beyond_the_column_is_refused_as_a_domain_error(any_ctx, amount):
    refused = _refused(any_ctx, amount)
    assert "largest amount" in refused.message
    assert str(MAX_STORED_AMOUNT) in refused.message.replace(",", "")


_LARGE = [Decimal("99999999999999.9999"), Decimal("99999999999999.99"),
          Decimal("12345678901234.56"), Decimal("1234567890123.4567"),
          Decimal("99999999999.9999"), Decimal("0.0001"), Decimal("-3769.74")]


def test_an_amount_is_kept_exactly_or_refused_never_changed(any_ctx):
    table = _table()
    with any_ctx.engine.begin() as conn:
        table.create(conn)
    kept = []
    for number, amount in enumerate(_LARGE + [-a for a in _LARGE], start=1):
        try:
            with any_ctx.engine.begin() as conn:
                conn.execute(insert(table).values(id=number, amount=amount))
        except EngineError as refused:
            assert refused.error is INVALID_VALUE
            continue
        with any_ctx.engine.connect() as conn:
            assert conn.execute(select(table.c.amount).where(table.c.id == number)
                                ).scalar_one() == amount
        kept.append(amount)
    # Up to 15 significant digits on every engine; the servers keep the whole column.
    assert {Decimal("99999999999.9999"), Decimal("12345678901234.56")} <= set(kept)
    if any_ctx.engine.dialect.name != "sqlite":
        assert len(kept) == 2 * len(_LARGE)
        assert MAX_STORED_AMOUNT == Decimal("99999999999999.9999")


@pytest.mark.parametrize("amount", [Decimal("NaN"), Decimal("Infinity")])
def test_not_a_number_is_refused(any_ctx, amount):
    assert "not a number" in _refused(any_ctx, amount).message


def test_an_orm_flush_of_a_too_large_balance_is_refused_before_the_database(kilimani):
    from workbook_engine.domain import SavingsAccount

    with kilimani.ctx.unit_of_work(None) as uow:
        account = uow.session.scalars(select(SavingsAccount).limit(1)).one()
        account.balance = Decimal("1E+15")
        with pytest.raises(EngineError) as refused:
            uow.session.flush()
    assert refused.value.error is INVALID_VALUE
    assert isinstance(SavingsAccount.__table__.c.balance.type, Money)
