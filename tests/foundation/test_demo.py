"""The demo institution: the worked center's figures, variety, determinism."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select

from workbook_engine.domain import (
    Center,
    Charge,
    Group,
    Loan,
    LoanInstallment,
    SavingsAccount,
    SavingsProduct,
)
from workbook_engine.domain.enums import DepositUnit, LoanStatus
from workbook_engine.services.setup.demo import kilimani_meeting_for, load_demo


def test_kilimani_matches_the_domain_notes(kilimani):
    with kilimani.ctx.session_factory() as s:
        loans = s.scalars(select(Loan).order_by(Loan.id)).all()
        amina, baraka_old, baraka_new, chiku = loans
        assert amina.outstanding == Decimal("11107.69") - 2 * Decimal("925.64")
        assert [i.due_date for i in amina.installments[:3]] == [
            dt.date(2026, 1, 20), dt.date(2026, 2, 3), dt.date(2026, 2, 17)]
        assert baraka_new.installments[0].due_date == dt.date(2026, 2, 17)
        assert baraka_new.installments[0].outstanding == 0
        assert chiku.status == LoanStatus.APPROVED
        assert chiku.expected_disbursement_date == dt.date(2026, 3, 3)
        fee = s.scalar(select(Charge))
        assert (fee.amount, fee.due_date) == (Decimal(200), dt.date(2026, 2, 17))
        group_fund = s.scalar(select(SavingsAccount).join(SavingsProduct)
                              .where(SavingsProduct.deposit_unit == DepositUnit.PER_CLIENT))
        assert group_fund.balance == Decimal(80)


def test_kilimani_meeting_follows_today():
    assert kilimani_meeting_for(dt.date(2026, 3, 1)) == dt.date(2026, 3, 3)
    assert kilimani_meeting_for(dt.date(2026, 11, 24)) == dt.date(2026, 11, 24)
    assert kilimani_meeting_for(dt.date(2026, 11, 25)) == dt.date(2026, 12, 8)


def _fingerprint(ctx):
    with ctx.session_factory() as s:
        return (
            s.scalars(select(Center.name).order_by(Center.id)).all(),
            s.scalars(select(Group.name).order_by(Group.id)).all(),
            [(r.principal, r.status) for r in s.scalars(select(Loan).order_by(Loan.id))],
            s.scalar(select(func.sum(LoanInstallment.principal_paid))),
        )


def test_demo_is_deterministic_and_varied(ctx, tmp_path):
    from tests.conftest import make_context
    from tests.support.databases import fresh_database

    load_demo(ctx)
    with fresh_database("sqlite", tmp_path / "second") as url:
        (tmp_path / "second").mkdir(exist_ok=True)
        other = make_context(tmp_path / "second", url, ctx.today())
        load_demo(other)
        assert _fingerprint(ctx) == _fingerprint(other)
    with ctx.session_factory() as s:
        no_center = s.scalar(select(func.count()).select_from(Group)
                             .where(Group.center_id.is_(None)))
        assert no_center >= 1
        haraka = s.scalar(select(func.count()).select_from(Loan)
                          .where(Loan.interest_deducted_at_disbursement.is_(True)))
        assert haraka >= 1
        weekly = s.scalar(select(func.count()).select_from(Center)
                          .where(Center.meeting_interval == 1))
        assert weekly >= 1
