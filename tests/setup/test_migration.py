"""Migrating a live portfolio: the schedule reproduces the old system's dues, totals reconcile."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from workbook_engine.domain import (
    Group,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanTransaction,
    SavingsAccount,
)
from workbook_engine.domain.enums import LoanStatus, LoanTransactionType, SavingsTransactionType
from workbook_engine.errors import EngineError
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.demo import Reference, build_reference
from workbook_engine.services.imports.migration import (
    ClientMigration,
    LoanMigration,
    SavingsMigration,
    database_totals,
    migrate_loan,
    migrate_savings,
    portfolio_totals,
)

D = Decimal
MIGRATION = dt.date(2026, 2, 27)  # a Friday; Kilimani-like centers meet every other Tuesday
NEXT_MEETING = dt.date(2026, 3, 3)


def _world(ctx: AppContext) -> tuple[Reference, int, int]:
    """The demo's offices, staff and products, a fortnightly center and one active client."""
    ref = build_reference(ctx)
    office = ref.branches["Nairobi East"]
    officer = ref.loan_officers["Wanjiru"]
    center = setup.create_center(ctx, actor_id=None, office_id=office, name="Kilimani",
                                 staff_id=officer, meeting_start=dt.date(2026, 1, 6),
                                 meeting_frequency="weekly", meeting_interval=2)
    group = setup.create_group(ctx, actor_id=None, office_id=office, name="Umoja",
                               staff_id=None, center_id=center)
    client = create_client(ctx, actor_id=None, office_id=office, first_name="Amina",
                           last_name="Wanjiku", submitted_on=dt.date(2025, 6, 1), active=True,
                           group_id=group)
    return ref, group, client


def _row(ref: Reference, client: int, **changes: object) -> LoanMigration:
    row = LoanMigration(
        office="Nairobi East", product_id=ref.loan_products["Biashara"], client_id=client,
        principal_outstanding=D(6000), interest_outstanding=D(600),
        arrears_amount=D(2200), arrears_since=dt.date(2026, 2, 3),
        remaining_installments=4, next_due_date=NEXT_MEETING,
        original_principal=D(10000), interest_paid=D(400), disbursed_on=dt.date(2025, 11, 25),
        loan_officer_id=ref.loan_officers["Wanjiru"], external_id="OLD-L-1")
    return replace(row, **changes)  # type: ignore[arg-type]


def _check_invariants(ctx: AppContext, loan_id: int) -> Loan:
    with ctx.session_factory() as s:
        loan = s.get(Loan, loan_id)
        assert loan is not None
        installments = loan.installments
        assert sum(i.principal for i in installments) == loan.principal
        disbursed = s.scalar(select(func.sum(LoanTransaction.amount)).where(
            LoanTransaction.loan_id == loan_id,
            LoanTransaction.type == LoanTransactionType.DISBURSEMENT))
        assert disbursed == loan.principal
        paid = sum(i.total_paid for i in installments)
        allocated = s.scalar(select(func.coalesce(func.sum(
            LoanAllocation.principal + LoanAllocation.interest), 0))
            .join(LoanTransaction).where(LoanTransaction.loan_id == loan_id))
        assert D(str(allocated)) == paid
        s.expunge_all()
        return loan


def test_migrated_loan_shows_arrears_plus_next_installment_at_the_next_meeting(
        any_ctx: AppContext) -> None:
    ref, _, client = _world(any_ctx)
    loan_id = migrate_loan(any_ctx, actor_id=ref.clerk, migration_date=MIGRATION,
                           row=_row(ref, client))
    with any_ctx.session_factory() as s:
        loan = s.get(Loan, loan_id)
        assert loan is not None and loan.status == LoanStatus.ACTIVE
        lines = [(i.number, i.due_date, i.principal, i.interest, i.total_paid)
                 for i in loan.installments]
        assert lines == [
            (1, dt.date(2025, 11, 25), D(4000), D(400), D(4400)),  # paid before migration
            (2, dt.date(2026, 2, 3), D(2000), D(200), D(0)),  # the two installments in arrears
            (3, dt.date(2026, 3, 3), D(1000), D(100), D(0)),
            (4, dt.date(2026, 3, 17), D(1000), D(100), D(0)),
            (5, dt.date(2026, 3, 31), D(1000), D(100), D(0)),
            (6, dt.date(2026, 4, 14), D(1000), D(100), D(0)),
        ]
        assert loan.outstanding == D(6600)
        due = s.scalar(select(func.sum(
            LoanInstallment.principal + LoanInstallment.interest
            - LoanInstallment.principal_paid - LoanInstallment.interest_paid))
            .where(LoanInstallment.loan_id == loan_id,
                   LoanInstallment.due_date <= NEXT_MEETING))
        assert D(str(due)) == D(2200) + D(1100)
        oldest_unpaid = min(i.due_date for i in loan.installments if i.outstanding > 0)
        assert (NEXT_MEETING - oldest_unpaid).days == 28
        migration = s.scalar(select(LoanTransaction).where(
            LoanTransaction.loan_id == loan_id,
            LoanTransaction.type == LoanTransactionType.MIGRATION))
        assert migration is not None and migration.on_date == MIGRATION
        assert (migration.principal_portion, migration.interest_portion) == (D(4000), D(400))
    _check_invariants(any_ctx, loan_id)


def test_repaying_the_dues_after_migration_leaves_the_rest(ctx: AppContext) -> None:
    from workbook_engine.services.ledger.loans import repay_loan

    ref, _, client = _world(ctx)
    loan_id = migrate_loan(ctx, actor_id=None, migration_date=MIGRATION,
                           row=_row(ref, client))
    repay_loan(ctx, actor_id=None, loan_id=loan_id, amount=D(3300), on_date=NEXT_MEETING)
    loan = _check_invariants(ctx, loan_id)
    assert loan.outstanding == D(3300)
    assert [i.outstanding for i in loan.installments][:3] == [D(0), D(0), D(0)]


def test_minimal_row_defaults_and_proportional_arrears_split(ctx: AppContext) -> None:
    """No history: disbursed on the migration date, arrears split 10:1 like what is owed."""
    ref, _, client = _world(ctx)
    row = LoanMigration(office=None, product_id=ref.loan_products["Biashara"],
                        client_id=client, principal_outstanding=D(5000),
                        interest_outstanding=D(500), arrears_amount=D(550),
                        remaining_installments=3, next_due_date=NEXT_MEETING)
    loan_id = migrate_loan(ctx, actor_id=None, migration_date=MIGRATION, row=row)
    loan = _check_invariants(ctx, loan_id)
    assert loan.principal == D(5000) and loan.disbursed_on == MIGRATION
    assert [(i.due_date, i.principal, i.interest) for i in loan.installments] == [
        (MIGRATION, D(500), D(50)),
        (dt.date(2026, 3, 3), D("1500.00"), D(150)),
        (dt.date(2026, 3, 17), D("1500.00"), D(150)),
        (dt.date(2026, 3, 31), D("1500.00"), D(150)),
    ]
    with ctx.session_factory() as s:
        types = list(s.scalars(select(LoanTransaction.type)
                               .where(LoanTransaction.loan_id == loan_id)))
    assert types == [LoanTransactionType.DISBURSEMENT]  # nothing was repaid before


def test_rounding_goes_to_the_last_installment(ctx: AppContext) -> None:
    ref, _, client = _world(ctx)
    row = _row(ref, client, principal_outstanding=D(1000), interest_outstanding=D(100),
               arrears_amount=D(0), arrears_since=None, remaining_installments=3,
               original_principal=None, interest_paid=D(0), external_id=None)
    loan = _check_invariants(ctx, migrate_loan(ctx, actor_id=None, migration_date=MIGRATION,
                                               row=row))
    assert [(i.principal, i.interest) for i in loan.installments] == [
        (D("333.33"), D("33.33")), (D("333.33"), D("33.33")), (D("333.34"), D("33.34"))]


@pytest.mark.parametrize("changes, code, words", [
    ({"arrears_amount": D(7000)}, "migration-figures", "arrears amount 7000 is more than"),
    ({"next_due_date": dt.date(2026, 3, 4)}, "not-a-meeting-day", "is 2026-03-17"),
    ({"next_due_date": dt.date(2026, 2, 17)}, "date-not-allowed", "must be after the migration"),
    ({"remaining_installments": 0}, "migration-figures", "remaining installments is 0"),
    ({"principal_outstanding": D(0)}, "migration-figures", "principal outstanding is 0"),
    ({"original_principal": D(5000)}, "migration-figures", "less than the principal"),
    ({"arrears_interest": D(700)}, "migration-figures", "arrears interest 700 does not fit"),
    ({"arrears_since": dt.date(2026, 3, 1)}, "date-not-allowed", "arrears date 2026-03-01"),
    ({"disbursed_on": dt.date(2026, 2, 28)}, "date-not-allowed", "disbursal date 2026-02-28"),
    ({"office": "Kisumu"}, "invalid-value", "belongs to office 'Nairobi East'"),
    ({"principal_outstanding": D("6000.005")}, "invalid-value", "more than 2 decimals"),
    ({"interest_outstanding": D(-1)}, "migration-figures", "cannot be negative"),
    ({"client_id": None}, "invalid-value", "exactly one client or one group"),
])
def test_refusals_name_the_field_and_value(ctx: AppContext, changes: dict, code: str,
                                           words: str) -> None:
    ref, _, client = _world(ctx)
    with pytest.raises(EngineError) as caught:
        migrate_loan(ctx, actor_id=None, migration_date=MIGRATION,
                     row=_row(ref, client, **changes))
    assert caught.value.code == code
    assert words in caught.value.message
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Loan)) == 0


def test_future_migration_date_and_second_migration_are_refused(ctx: AppContext) -> None:
    ref, _, client = _world(ctx)
    with pytest.raises(EngineError, match="migration date 2026-03-04 is in the future"):
        migrate_loan(ctx, actor_id=None, migration_date=dt.date(2026, 3, 4),
                     row=_row(ref, client))
    migrate_loan(ctx, actor_id=None, migration_date=MIGRATION, row=_row(ref, client))
    with pytest.raises(EngineError, match="'OLD-L-1' is already used by another loan"):
        migrate_loan(ctx, actor_id=None, migration_date=MIGRATION, row=_row(ref, client))


def test_migrated_savings_has_its_balance_as_an_opening_transaction(ctx: AppContext) -> None:
    ref, group, client = _world(ctx)
    account_id = migrate_savings(ctx, actor_id=ref.clerk, migration_date=MIGRATION,
                                 row=SavingsMigration(
                                     office="Nairobi East",
                                     product_id=ref.savings_products["Lazima"],
                                     client_id=client, balance=D("1250.50"),
                                     opened_on=dt.date(2025, 7, 1), external_id="OLD-S-1"))
    with ctx.session_factory() as s:
        account = s.get(SavingsAccount, account_id)
        assert account is not None
        assert account.balance == D("1250.50")
        assert account.submitted_on == dt.date(2025, 7, 1)
        assert account.activated_on == dt.date(2025, 7, 1)  # its own, not the migration's
        assert account.deposits_due_from == MIGRATION + dt.timedelta(days=1)
        assert [(t.type, t.amount, t.on_date) for t in account.transactions] == [
            (SavingsTransactionType.OPENING_BALANCE, D("1250.50"), MIGRATION)]
    with pytest.raises(EngineError, match="balance -5 is below zero"):
        migrate_savings(ctx, actor_id=None, migration_date=MIGRATION, row=SavingsMigration(
            office=None, product_id=ref.savings_products["Lazima"], group_id=group,
            balance=D(-5)))


def test_a_migrated_account_is_active_from_its_own_date_and_owes_deposits_from_the_move(
        ctx: AppContext) -> None:
    """A mandatory account opened in the old system on 2025-07-01 is active since then (its
    statement shows no transaction before its activation), yet its mandatory deposits are
    due from the first meeting after the migration only: the old system's savings arrears
    are not brought over."""
    from workbook_engine.services.collection.due import compute_due

    ref, group, client = _world(ctx)
    account_id = migrate_savings(ctx, actor_id=None, migration_date=MIGRATION,
                                 row=SavingsMigration(
                                     office="Nairobi East",
                                     product_id=ref.savings_products["Lazima"],
                                     client_id=client, balance=D("400"),
                                     opened_on=dt.date(2025, 7, 1)))
    with ctx.session_factory() as s:
        account = s.get(SavingsAccount, account_id)
        assert account.activated_on == dt.date(2025, 7, 1)
        assert min(t.on_date for t in account.transactions) >= account.activated_on
        center = s.get(Group, group).center_id
        sheet = compute_due(s, center_id=center, meeting_date=NEXT_MEETING, today=MIGRATION)
        [row] = [r for r in sheet.rows if r.kind.value == "client" and r.entity_id == client]
        recommended = account.effective_recommended_deposit
        assert row.savings[account.product_id].amount == recommended  # one meeting's


def test_dry_run_totals_equal_what_posting_creates(any_ctx: AppContext) -> None:
    """The reconciliation figures of the rows equal the database's after posting them."""
    ref, group, amina = _world(any_ctx)
    ctx = any_ctx
    kisumu = ref.branches["Kisumu"]
    kisumu_group = setup.create_group(ctx, actor_id=None, office_id=kisumu, name="Nguvu",
                                      staff_id=ref.loan_officers["Mwangi"],
                                      meeting_start=dt.date(2026, 1, 5),
                                      meeting_frequency="weekly")
    clients = [ClientMigration(office="Nairobi East", external_id="C1")]
    baraka = create_client(ctx, actor_id=None, office_id=ref.branches["Nairobi East"],
                           first_name="Baraka", last_name="Mutua", active=True,
                           submitted_on=dt.date(2025, 6, 1), group_id=group)
    clients.append(ClientMigration(office="Nairobi East", external_id="C2"))
    juma = create_client(ctx, actor_id=None, office_id=kisumu, first_name="Juma",
                         last_name="Otieno", active=True, submitted_on=dt.date(2025, 6, 1),
                         group_id=kisumu_group)
    clients.append(ClientMigration(office="Kisumu", external_id="C3"))
    kilimo = ref.loan_products["Kilimo"]  # weekly
    loans = [
        _row(ref, amina),
        _row(ref, baraka, principal_outstanding=D("2500.50"), interest_outstanding=D("99.99"),
             arrears_amount=D(0), arrears_since=None, remaining_installments=5,
             original_principal=None, interest_paid=D(0), external_id="OLD-L-2"),
        LoanMigration(office="Kisumu", product_id=kilimo, client_id=juma,
                      principal_outstanding=D(3000), interest_outstanding=D(150),
                      arrears_amount=D(315), arrears_since=dt.date(2026, 2, 16),
                      remaining_installments=6, next_due_date=dt.date(2026, 3, 2),
                      external_id="OLD-L-3"),
        LoanMigration(office="Kisumu", product_id=kilimo, group_id=kisumu_group,
                      principal_outstanding=D(12000), interest_outstanding=D(0),
                      remaining_installments=8, next_due_date=dt.date(2026, 3, 2)),
    ]
    savings = [
        SavingsMigration(office="Nairobi East", product_id=ref.savings_products["Lazima"],
                         client_id=amina, balance=D("1250.50")),
        SavingsMigration(office="Nairobi East", product_id=ref.savings_products["Hiari"],
                         client_id=baraka, balance=D(0)),
        SavingsMigration(office="Kisumu", product_id=ref.savings_products["Group Fund"],
                         group_id=kisumu_group, balance=D(480)),
    ]
    dry_run = portfolio_totals(clients, loans, savings)
    for row in loans:
        migrate_loan(ctx, actor_id=None, migration_date=MIGRATION, row=row)
    for account in savings:
        migrate_savings(ctx, actor_id=None, migration_date=MIGRATION, row=account)
    posted = database_totals(ctx, MIGRATION)
    assert posted == dry_run
    nairobi = posted["Nairobi East"]
    assert (nairobi.clients, nairobi.loans, nairobi.principal_outstanding,
            nairobi.interest_outstanding, nairobi.arrears, nairobi.savings_balance) == (
        2, 2, D("8500.50"), D("699.99"), D(2200), D("1250.50"))
    assert (posted["Kisumu"].loans, posted["Kisumu"].arrears) == (2, D(315))
