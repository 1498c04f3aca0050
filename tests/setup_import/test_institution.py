"""Done when: an institution moves in entirely through workbooks, from an empty database.

Offices, staff, centers with meetings, groups, products (setup workbooks), clients (the
client import), live loans and savings (migration workbooks): each filled by a script,
processed and approved; then the first collection sheet shows exactly what the migrated
figures imply (hand-computed below), and the dry run's reconciliation equals what posting
created. On SQLite, PostgreSQL and MariaDB.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.client_import.filling import fill as fill_clients
from tests.conftest import make_context
from tests.setup_import.filling import load, statuses, submit
from tests.support.databases import BACKENDS, fresh_database
from workbook_engine.domain import Center, Client, Group, Office, SetupImportRow, Staff
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.services.imports.migration import database_totals
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission, show_submission

D = Decimal
TODAY = dt.date(2026, 3, 3)  # a Tuesday: Kilimani meets
AS_OF = dt.date(2026, 2, 27)  # the migration date, a Friday


@pytest.fixture(params=BACKENDS)
def empty(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    """An engine on an empty, migrated database (no office, no staff, nothing)."""
    with fresh_database(request.param, tmp_path) as url:
        context = make_context(tmp_path, url, TODAY)
        yield context
        context.dispose()


def _id(ctx: AppContext, model: type, **where: object) -> int:
    with ctx.session_factory() as s:
        query = select(model.id)  # type: ignore[attr-defined]
        for key, value in where.items():
            query = query.where(getattr(model, key) == value)
        found = s.scalar(query)
        assert found is not None, (model, where)
        return int(found)


def _clients(ctx: AppContext, work: Path) -> None:
    head = _id(ctx, Office, name="Head Office")
    template = generate_client_template(ctx, actor_id=None, office_id=head,
                                        legal_form="person", out_dir=work)
    person = {"active": "Yes", "submitted_on": dt.date(2025, 6, 1),
              "activation_date": dt.date(2025, 6, 1)}
    filled = fill_clients(template.path, work / "clients.xlsx", [
        {"row_key": "1", "office": "Nairobi East", "first_name": "Amina",
         "last_name": "Wanjiku", "group": "Umoja", **person},
        {"row_key": "2", "office": "Nairobi East", "first_name": "Baraka",
         "last_name": "Otieno", "group": "Umoja", **person},
        {"row_key": "3", "office": "Kisumu", "first_name": "Chausiku", "last_name": "Akinyi",
         "group": "Nguvu", "external_id": "K-1", **person}])
    result = process_file(ctx, filled, actor_id=_id(ctx, Staff, first_name="Wanjiru"))
    assert result.status == "awaiting_approval", result.errors
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")


def _setup(ctx: AppContext, work: Path) -> None:
    """Offices, staff, centers, groups, products: each its workbook, processed, approved."""
    load(ctx, "offices", [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1), "external_id": "HO"},
        {"name": "Nairobi East", "parent": "Head Office", "opening_date": dt.date(2021, 3, 1)},
        {"name": "Kisumu", "parent": "Head Office", "opening_date": dt.date(2021, 6, 1)}],
        work, by="the installer")  # no supervisor exists yet: the bootstrap approval
    load(ctx, "staff", [
        {"office": "Head Office", "first_name": "Grace", "last_name": "Wambui",
         "is_supervisor": "Yes", "email": "grace@mfi.example"},
        {"office": "Nairobi East", "first_name": "Wanjiru", "last_name": "Kamau",
         "is_loan_officer": "Yes", "email": "wanjiru@mfi.example"},
        {"office": "Kisumu", "first_name": "Mwangi", "last_name": "Njoroge",
         "is_loan_officer": "Yes", "mobile_no": "0712000001"}],
        work, by="the installer")
    wanjiru = _id(ctx, Staff, first_name="Wanjiru")
    load(ctx, "centers", [
        {"name": "Kilimani", "office": "Nairobi East", "staff": "Wanjiru Kamau",
         "meeting_start": dt.date(2026, 1, 6), "frequency": "Weekly", "interval": 2,
         "weekday": "Tue"}], work, by="Grace Wambui", actor_id=wanjiru)
    load(ctx, "groups", [
        {"name": "Umoja", "office": "Nairobi East", "center": "Kilimani"},
        {"name": "Nguvu", "office": "Kisumu", "staff": "Mwangi Njoroge",
         "meeting_start": dt.date(2026, 1, 5), "frequency": "Weekly", "weekday": "Mon"}],
        work, by="Grace Wambui", actor_id=wanjiru)
    load(ctx, "products", {
        "Loan products": [{"name": "Biashara", "short_name": "BIA", "currency": "KES",
                           "annual_interest_rate": 24, "interest_method": "Flat",
                           "repayment_every": 2, "repayment_unit": "Weeks",
                           "number_of_repayments": 12}],
        "Savings products": [{"name": "Lazima", "short_name": "LAZ", "currency": "KES",
                              "deposit_type": "Mandatory", "recommended_deposit": 50,
                              "deposit_unit": "Per client"}]}, work, by="Grace Wambui")


def _loan_rows(amina: int) -> list[dict[str, object]]:
    common = {"as_of": AS_OF, "product": "Biashara"}
    return [
        # docs/migration.md's worked example: 10,000 disbursed, 6,000 + 600 owed, the
        # installments of 02-03 and 02-17 (1,100 each) unpaid, 4 to come from 03-03.
        {**common, "office": "Nairobi East", "borrower": f"Amina Wanjiku #{amina}",
         "loan_officer": "Wanjiru Kamau", "principal_outstanding": 6000,
         "interest_outstanding": 600, "arrears_amount": 2200,
         "arrears_since": dt.date(2026, 2, 3), "remaining_installments": 4,
         "next_due_date": TODAY, "original_principal": 10000, "interest_paid": 400,
         "disbursed_on": dt.date(2025, 11, 25), "external_id": "OLD-L-1"},
        # Disbursed a fortnight ago, nothing due yet: 3 x (1,000 + 100) from 03-03.
        {**common, "office": "Nairobi East", "borrower": "Baraka Otieno",
         "principal_outstanding": 3000, "interest_outstanding": 300,
         "remaining_installments": 3, "next_due_date": TODAY,
         "disbursed_on": dt.date(2026, 2, 17), "external_id": "OLD-L-2"},
        # Nguvu meets on Mondays: 500 + 50 unpaid since 02-23, then 3 x (500 + 50).
        {**common, "office": "Kisumu", "borrower": "Chausiku Akinyi",
         "client_external_id": "K-1", "principal_outstanding": 2000,
         "interest_outstanding": 200, "arrears_amount": 550, "arrears_interest": 50,
         "arrears_since": dt.date(2026, 2, 23), "remaining_installments": 3,
         "next_due_date": dt.date(2026, 3, 2), "original_principal": 2500,
         "interest_paid": 50, "disbursed_on": dt.date(2026, 1, 5)}]


def _totals(ctx: AppContext) -> dict[str, dict[str, object]]:
    return {office: {k: v for k, v in t.as_dict().items() if k != "office"}
            for office, t in database_totals(ctx, AS_OF).items()}


def test_an_institution_moves_in_through_workbooks(empty: AppContext, tmp_path: Path) -> None:
    ctx = empty
    with ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(Office)) == 0
    _setup(ctx, tmp_path / "setup")
    _clients(ctx, tmp_path / "clients")
    amina = _id(ctx, Client, first_name="Amina")
    wanjiru = _id(ctx, Staff, first_name="Wanjiru")

    # Live loans: the dry run's reconciliation is what posting then creates.
    before = _totals(ctx)
    loans = submit(ctx, "loans", _loan_rows(amina), tmp_path / "loans", actor_id=wanjiru)
    assert loans.status == "awaiting_approval", loans.errors
    with ctx.session_factory() as s:
        from workbook_engine.domain import Submission

        dry_run = s.get(Submission, loans.submission_id).content["reconciliation"]
    approve_submission(ctx, submission_id=loans.submission_id, by="Grace Wambui")
    after = _totals(ctx)
    expected_file = {
        "Nairobi East": {"loans": 2, "principal_outstanding": "9000",
                         "interest_outstanding": "900", "arrears": "2200"},
        "Kisumu": {"loans": 1, "principal_outstanding": "2000",
                   "interest_outstanding": "200", "arrears": "550"}}
    for office, figures in expected_file.items():
        row = next(r for r in dry_run if r["office"] == office)
        for key, value in figures.items():
            assert D(str(row["file"][key])) == D(str(value)), (office, key)
            # what posting created = the dry run's "after", = before + the file
            assert D(str(row["after"][key])) == D(str(after[office][key])), (office, key)
            assert D(str(after[office][key])) - D(str(before.get(office, {}).get(key, 0))) \
                == D(str(value)), (office, key)
        assert row["after"]["clients"] == after[office]["clients"]

    # Savings balances, the same way.
    savings = submit(ctx, "savings", [
        {"as_of": AS_OF, "office": "Nairobi East", "owner": f"Amina Wanjiku #{amina}",
         "product": "Lazima", "balance": 1500},
        {"as_of": AS_OF, "office": "Nairobi East", "owner": "Baraka Otieno",
         "product": "Lazima", "balance": 700},
        {"as_of": AS_OF, "office": "Kisumu", "owner": "Chausiku Akinyi", "product": "LAZ",
         "balance": 300}], tmp_path / "savings", actor_id=wanjiru)
    assert savings.status == "awaiting_approval", savings.errors
    approve_submission(ctx, submission_id=savings.submission_id, by="Grace Wambui")
    totals = _totals(ctx)
    assert (totals["Nairobi East"]["savings_accounts"], totals["Kisumu"]["savings_accounts"]) \
        == (2, 1)
    assert D(str(totals["Nairobi East"]["savings_balance"])) == D(2200)
    assert D(str(totals["Kisumu"]["savings_balance"])) == D(300)
    assert totals["Nairobi East"]["clients"] == 2 and totals["Kisumu"]["clients"] == 1

    # The first collection sheet after the move shows what the old system said was due.
    kilimani = _id(ctx, Center, name="Kilimani")
    nguvu = _id(ctx, Group, name="Nguvu")
    with ctx.session_factory() as s:
        sheet = compute_due(s, center_id=kilimani, meeting_date=TODAY, today=TODAY)
        monday = compute_due(s, group_id=nguvu, meeting_date=dt.date(2026, 3, 2), today=TODAY)
    rows = {r.name: r for r in sheet.rows if r.repayments or r.savings}
    assert set(rows) == {"Amina Wanjiku", "Baraka Otieno"}
    amina_loan = next(iter(rows["Amina Wanjiku"].repayments.values()))
    assert amina_loan.amount == D(3300)  # 2,200 arrears + the 1,100 installment of 03-03
    assert amina_loan.days_in_arrears == 28  # since 2026-02-03
    baraka_loan = next(iter(rows["Baraka Otieno"].repayments.values()))
    assert (baraka_loan.amount, baraka_loan.days_in_arrears) == (D(1100), 0)
    for name in rows:  # mandatory savings are due from the first meeting after the move
        deposit = next(iter(rows[name].savings.values()))
        assert deposit.amount == D(50)
    assert next(iter(rows["Amina Wanjiku"].savings.values())).balance == D(1500)
    chausiku = next(r for r in monday.rows if r.repayments)
    loan = next(iter(chausiku.repayments.values()))
    assert (loan.amount, loan.days_in_arrears) == (D(1100), 7)  # 550 arrears + 550 of 03-02

    written = generate_collection_sheets(ctx, actor_id=wanjiru, out_dir=tmp_path / "sheets",
                                         center_id=kilimani, meeting_date=TODAY)
    assert written[0].total_collected == D(3300 + 1100 + 50 + 50)

    # Every posted row is in the ledger: a re-upload of the loans report skips them all.
    with ctx.session_factory() as s:
        ledger = s.scalar(select(func.count()).select_from(SetupImportRow))
    assert ledger == 3 + 3 + 1 + 2 + 2 + 3 + 3
    report = Path(show_submission(ctx, loans.submission_id)["report_xlsx"])
    with ctx.session_factory() as s:
        from workbook_engine.domain import Loan

        loan_ids = set(s.scalars(select(Loan.id)))
    assert {int(text.rsplit(" ", 1)[1]) for text in statuses(report, "Loans").values()
            if text.startswith("Imported: loan ")} == loan_ids
    again = process_file(ctx, report, actor_id=wanjiru)
    assert again.status == "invalid" and "3 already imported" in again.message
