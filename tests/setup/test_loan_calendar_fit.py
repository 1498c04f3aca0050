"""A loan's repayments follow its center's or group's meetings (the Mifos rule), in every
path a loan comes in by: submitted, approved, disbursed (services and CLI), set-up and
Fineract loan workbooks, the migration service, and the demo institution."""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import KilimaniWorld, make_context
from tests.setup.test_cli_setup import Cli
from tests.setup_import.filling import submit
from tests.support.databases import fresh_database
from workbook_engine.domain import Center, Client, Group, Loan, LoanProduct
from workbook_engine.domain.enums import LoanStatus
from workbook_engine.domain.schedule import calendar_misfit
from workbook_engine.errors import EngineError
from workbook_engine.services.clients import lifecycle
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.imports.migration import LoanMigration, migrate_loan
from workbook_engine.services.ledger.loans import (
    approve_loan,
    disburse_loan,
    repayment_calendar,
    submit_loan,
)
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.setup.demo import _Builder
from workbook_engine.services.setup.system import initialise

D = Decimal
TODAY = dt.date(2026, 3, 3)


def _client(world: KilimaniWorld, first_name: str) -> int:
    with world.ctx.session_factory() as s:
        return s.scalar(select(Client.id).where(Client.first_name == first_name))


def _submit(world: KilimaniWorld, product: str, **owner: int) -> int:
    return submit_loan(world.ctx, actor_id=None,
                       product_id=world.ref.loan_products[product],  # type: ignore[attr-defined]
                       principal=D(5000), submitted_on=TODAY, expected_disbursement_date=TODAY,
                       **owner)


def test_a_weekly_loan_at_a_fortnightly_center_is_refused_at_submission(
        kilimani: KilimaniWorld) -> None:
    amina = _client(kilimani, "Amina")
    with pytest.raises(EngineError) as refused:
        _submit(kilimani, "Kilimo", client_id=amina)
    assert refused.value.code == "loan-calendar-mismatch"
    assert refused.value.message == (
        "Amina Wanjiku repays at the meetings of center Kilimani, so a Kilimo loan cannot be "
        "scheduled: repayments every week cannot follow meetings held every 2 weeks on "
        "Tuesday: a loan there must be repaid every 2 weeks (or a multiple of 2 weeks).")
    assert "every 2 or 4 weeks" in refused.value.error.how_to_fix
    with kilimani.ctx.session_factory() as s:
        umoja = s.scalar(select(Client).where(Client.id == amina)).memberships[0].group_id
    with pytest.raises(EngineError, match="group Umoja repays at the meetings of center "
                       "Kilimani") as group_refused:
        _submit(kilimani, "Kilimo", group_id=umoja)
    assert group_refused.value.code == "loan-calendar-mismatch"
    assert _submit(kilimani, "Biashara", client_id=amina)  # every 2 weeks: every meeting


def test_approval_refuses_a_loan_the_calendar_no_longer_fits(
        kilimani: KilimaniWorld) -> None:
    ctx = kilimani.ctx
    ref = kilimani.ref
    weekly = setup.create_center(ctx, actor_id=None, office_id=ref.branches["Nairobi East"],
                                 name="Soko", staff_id=ref.loan_officers["Otieno"],
                                 meeting_start=dt.date(2026, 1, 5))
    group = setup.create_group(ctx, actor_id=None, office_id=ref.branches["Nairobi East"],
                               name="Soko A", staff_id=None, center_id=weekly)
    loan = _submit(kilimani, "Kilimo", group_id=group)  # weekly at a weekly center: fits
    with ctx.unit_of_work(None) as uow:  # the center now meets every other week
        uow.session.get(Center, weekly).meeting_interval = 2
        uow.commit()
    with pytest.raises(EngineError, match="must be repaid every 2 weeks") as refused:
        approve_loan(ctx, actor_id=None, loan_id=loan, approved_on=TODAY)
    assert refused.value.code == "loan-calendar-mismatch"
    with ctx.session_factory() as s:
        assert s.get(Loan, loan).status == LoanStatus.SUBMITTED


def test_disbursing_a_misfit_loan_of_an_older_database_is_refused_not_crashed(
        kilimani: KilimaniWorld) -> None:
    """Issue #15: `installments 1 and 2 would both be due on ...` reached the user."""
    ctx = kilimani.ctx
    amina_id = _client(kilimani, "Amina")
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        kilimo = s.get(LoanProduct, kilimani.ref.loan_products["Kilimo"])  # type: ignore[attr-defined]
        amina = s.get(Client, amina_id)
        loan = _Builder(s).loan(kilimo, D(5000), client=amina, approved_on=TODAY,
                                expected=TODAY, officer=None).id
        uow.commit()
    with pytest.raises(EngineError) as refused:
        disburse_loan(ctx, actor_id=None, loan_id=loan, disbursed_on=TODAY)
    assert refused.value.code == "loan-calendar-mismatch"
    assert "loan L" in refused.value.message and "(Kilimo)" in refused.value.message
    with ctx.session_factory() as s:
        stored = s.get(Loan, loan)
        assert stored.status == LoanStatus.APPROVED and not stored.installments


def test_the_cli_refuses_with_the_catalogued_error(kilimani: KilimaniWorld) -> None:
    cli = Cli(kilimani.ctx)
    refused = cli.refused("loans", "submit", "--product", "Kilimo", "--client",
                          str(_client(kilimani, "Baraka")), "--principal", "5000")
    assert refused.code == "loan-calendar-mismatch"
    assert "Baraka Mutua repays at the meetings of center Kilimani" in refused.message


def test_the_migration_service_refuses_a_misfit_loan(kilimani: KilimaniWorld) -> None:
    row = LoanMigration(office="Nairobi East", client_id=_client(kilimani, "Chiku"),
                        product_id=kilimani.ref.loan_products["Kilimo"],  # type: ignore[attr-defined]
                        principal_outstanding=D(3000), interest_outstanding=D(150),
                        remaining_installments=6, next_due_date=TODAY)
    with pytest.raises(EngineError, match="Chiku Akinyi repays at the meetings of center "
                       "Kilimani") as refused:
        migrate_loan(kilimani.ctx, actor_id=None, migration_date=dt.date(2026, 2, 27),
                     row=row)
    assert refused.value.code == "loan-calendar-mismatch"


def test_a_loans_setup_workbook_row_that_does_not_fit_is_reported_on_its_cell(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    result = submit(kilimani.ctx, "loans", [
        {"as_of": dt.date(2026, 2, 27), "office": "Nairobi East", "product": "Kilimo",
         "borrower": "Amina Wanjiku", "remaining_installments": 2,
         "next_due_date": TODAY, "principal_outstanding": 1000,
         "interest_outstanding": 100}], tmp_path)
    assert [(e["code"], e["row"]) for e in result.errors] == [("loan-calendar-mismatch", 3)]
    assert "must be repaid every 2 weeks" in result.errors[0]["message"]


def test_a_fineract_loan_repaid_weekly_at_a_fortnightly_center_is_refused(
        kilimani: KilimaniWorld, tmp_path: Path) -> None:
    from tests.setup_import.test_fineract import _workbook

    dalia = _client(kilimani, "Dalia")
    loans = _workbook(tmp_path / "Loans.xlsx", "Loans", [
        "Office Name*", "Loan Type*", "Client/Group Name*", "Client ExternalID", "Product*",
        "Loan Officer*", "Submitted On*", "Approved On", "Disbursed Date", "Payment Type*",
        "Fund Name", "Principal*", "# of Repayments*", "Repaid Every*", "Loan Term*",
        "Nominal Interest %*", "Amortization*", "Interest Method*", "Amount Repaid",
        "Date-Last Repayment", "Repayment Type", "External Id"], [
        ["Nairobi East", "Individual", f"Dalia Njeri({dalia + 100})", None, "Biashara",
         "Wanjiru Kamau", dt.datetime(2026, 1, 5), dt.datetime(2026, 1, 5),
         dt.datetime(2026, 1, 6), "Cash", None, 6500, 8, 1, 8, 24, "Equal installments",
         "Flat", 0, None, None, "F-LN-78"]])
    result = process_file(kilimani.ctx, loans, actor_id=None)
    assert [(e["code"], e["column"]) for e in result.errors] == [
        ("loan-calendar-mismatch", "repaid_every")], result.errors
    assert "repayments every week cannot follow" in result.errors[0]["message"]


@settings(max_examples=4, deadline=None, suppress_health_check=list(HealthCheck))
@given(today=st.dates(min_value=dt.date(2020, 1, 1), max_value=dt.date(2040, 12, 31)))
def test_the_demo_builds_only_loans_that_fit_on_any_date(today: dt.date) -> None:
    with tempfile.TemporaryDirectory() as folder, \
            fresh_database("sqlite", Path(folder)) as url:
        ctx = make_context(Path(folder), url, today)
        try:
            initialise(ctx, demo=True)
            with ctx.session_factory() as s:
                loans = list(s.scalars(select(Loan)))
                assert len({loan.product.name for loan in loans}) == 3
                for loan in loans:
                    calendar = repayment_calendar(s, client_id=loan.client_id,
                                                  group_id=loan.group_id)
                    assert calendar_misfit(loan.repayment_every, loan.repayment_unit,
                                           calendar.rule) is None, loan.account_no
        finally:
            ctx.dispose()


def test_a_client_with_a_weekly_loan_cannot_join_a_fortnightly_group(
        kilimani: KilimaniWorld) -> None:
    ctx = kilimani.ctx
    ref = kilimani.ref
    nairobi, kisumu = ref.branches["Nairobi East"], ref.branches["Kisumu"]  # type: ignore[attr-defined]
    soko = setup.create_center(ctx, actor_id=None, office_id=nairobi, name="Soko",
                               staff_id=ref.loan_officers["Otieno"],  # type: ignore[attr-defined]
                               meeting_start=dt.date(2026, 1, 5))
    weekly = setup.create_group(ctx, actor_id=None, office_id=nairobi, name="Soko A",
                                staff_id=None, center_id=soko)
    zawadi = create_client(ctx, actor_id=None, office_id=nairobi, first_name="Zawadi",
                           last_name="Mwende", submitted_on=TODAY, active=True,
                           group_id=weekly)
    _submit(kilimani, "Kilimo", client_id=zawadi)
    with ctx.session_factory() as s:
        umoja = s.scalar(select(Group.id).where(Group.name == "Umoja"))
    with pytest.raises(EngineError, match="Zawadi Mwende cannot join group Umoja: loan L"
                       r"\S+ \(Kilimo\) would be repaid at the meetings of center Kilimani, "
                       "and repayments every week cannot follow") as refused:
        setup.add_group_member(ctx, actor_id=None, group_id=umoja, client_id=zawadi)
    assert refused.value.code == "loan-calendar-mismatch"
    fortnightly = setup.create_group(ctx, actor_id=None, office_id=kisumu, name="Pwani",
                                     staff_id=ref.loan_officers["Mwangi"],  # type: ignore[attr-defined]
                                     meeting_start=dt.date(2026, 1, 6),
                                     meeting_interval=2)
    lifecycle.propose_transfer(ctx, actor_id=None, client_id=zawadi, to_office_id=kisumu)
    with pytest.raises(EngineError, match="cannot join group Pwani") as moved:
        lifecycle.accept_transfer(ctx, actor_id=None, client_id=zawadi, group_id=fortnightly)
    assert moved.value.code == "loan-calendar-mismatch"
    with ctx.session_factory() as s:
        client = s.get(Client, zawadi)
        assert client.status.value == "transfer_in_progress" and client.office_id == nairobi
        assert [m.group_id for m in client.memberships] == [weekly]
