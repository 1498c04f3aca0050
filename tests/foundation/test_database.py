"""Migrations, the demo load and basic queries on every database engine."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from workbook_engine.db.migrate import head_revision, is_up_to_date
from workbook_engine.domain import Client, Loan, LoanInstallment, SavingsAccount
from workbook_engine.domain.enums import ClientStatus, LoanStatus
from workbook_engine.services.setup.demo import load_demo


def test_migrations_reach_head_and_demo_loads(any_ctx):
    assert head_revision() is not None
    assert is_up_to_date(any_ctx.engine)
    load_demo(any_ctx)
    with any_ctx.session_factory() as s:
        clients = s.scalar(select(func.count()).select_from(Client))
        assert clients >= 150
        statuses = set(s.scalars(select(Client.status).distinct()))
        assert {ClientStatus.ACTIVE, ClientStatus.PENDING, ClientStatus.CLOSED} <= statuses
        loan_states = set(s.scalars(select(Loan.status).distinct()))
        assert {LoanStatus.ACTIVE, LoanStatus.APPROVED, LoanStatus.CLOSED} <= loan_states
        # Money survives the round trip exactly on every engine.
        amina_loan = s.scalar(select(Loan).where(Loan.client_id == 1))
        assert amina_loan.principal == Decimal("10000")
        first = s.scalar(select(LoanInstallment).where(LoanInstallment.loan_id == amina_loan.id,
                                                       LoanInstallment.number == 12))
        assert (first.principal, first.interest) == (Decimal("833.37"), Decimal("92.28"))
        total = s.scalar(select(func.sum(LoanInstallment.principal + LoanInstallment.interest))
                         .where(LoanInstallment.loan_id == amina_loan.id))
        assert Decimal(total).quantize(Decimal("0.01")) == Decimal("11107.69")
        balance = s.scalar(select(func.sum(SavingsAccount.balance)))
        assert Decimal(balance) > 0


def test_models_and_migrations_agree(any_ctx):
    """A model change without its migration (or the reverse) fails here."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from workbook_engine.domain import Base

    with any_ctx.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    significant = [d for d in diff if d[0] not in ("modify_default", "modify_nullable")
                   and not (isinstance(d, list))]
    assert significant == []
