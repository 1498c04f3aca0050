"""Set-up services: refusals the CLI does not reach, and one command group per name."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from workbook_engine.errors import EngineError
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.demo import build_reference
from workbook_engine.services.imports.migration import SavingsMigration, migrate_savings


def test_command_groups_are_declared_once() -> None:
    from workbook_engine.cli.app import COMMANDS, area_app

    everything = area_app(tuple(sorted({m for names in COMMANDS.values() for m in names})))
    names = [g.name for g in everything.registered_groups]
    assert len(names) == len(set(names))
    offices = next(g.typer_instance for g in everything.registered_groups
                   if g.name == "offices")
    assert {c.name for c in offices.registered_commands} == {"list", "show", "add"}


def test_inactive_officer_and_closed_client_are_refused(any_ctx: AppContext) -> None:
    ref = build_reference(any_ctx)
    office = ref.branches["Nairobi East"]
    otieno = ref.loan_officers["Otieno"]
    setup.set_staff_active(any_ctx, actor_id=ref.supervisors["Grace"], staff_id=otieno,
                           active=False)
    with pytest.raises(EngineError, match=r"Otieno Odhiambo \(id 2\), is not an active") as e:
        setup.create_center(any_ctx, actor_id=None, office_id=office, name="X",
                            staff_id=otieno, meeting_start=dt.date(2026, 1, 6))
    assert e.value.code == "staff-not-usable"
    group = setup.create_group(any_ctx, actor_id=None, office_id=office, name="Solo",
                               staff_id=ref.loan_officers["Wanjiru"],
                               meeting_start=dt.date(2026, 3, 10),
                               meeting_frequency="monthly")
    client = create_client(any_ctx, actor_id=None, office_id=office, first_name="Pending",
                           last_name="Person")
    setup.add_group_member(any_ctx, actor_id=None, group_id=group, client_id=client)
    with pytest.raises(EngineError, match="joining date 2026-03-04 is in the future"):
        setup.add_group_member(any_ctx, actor_id=None, group_id=group, client_id=client,
                               joined_on=dt.date(2026, 3, 4))


def test_a_staff_member_cannot_deactivate_themselves(ctx: AppContext) -> None:
    ref = build_reference(ctx)
    grace = ref.supervisors["Grace"]
    with pytest.raises(EngineError, match="cannot deactivate themselves"):
        setup.set_staff_active(ctx, actor_id=grace, staff_id=grace, active=False)


def test_code_values_and_holiday_overlap(ctx: AppContext) -> None:
    ref = build_reference(ctx)
    setup.add_code_value(ctx, actor_id=None, code_name="gender", value="Other")
    with pytest.raises(EngineError, match="'other' is already a value of 'Gender'"):
        setup.add_code_value(ctx, actor_id=None, code_name="gender", value="other")
    setup.create_holiday(ctx, actor_id=None, office_id=ref.head_office, name="Easter",
                         from_date=dt.date(2026, 4, 3), to_date=dt.date(2026, 4, 6))
    with pytest.raises(EngineError, match="already has a holiday between 2026-04-06"):
        setup.create_holiday(ctx, actor_id=None, office_id=ref.head_office, name="Again",
                             from_date=dt.date(2026, 4, 6))


def test_migrated_savings_row_of_the_wrong_office_is_refused(ctx: AppContext) -> None:
    ref = build_reference(ctx)
    client = create_client(ctx, actor_id=None, office_id=ref.branches["Kisumu"],
                           first_name="Juma", last_name="Otieno", active=True,
                           submitted_on=dt.date(2026, 1, 5))
    with pytest.raises(EngineError, match="says office 'Nairobi East' but the account's "
                       "owner belongs to office 'Kisumu'"):
        migrate_savings(ctx, actor_id=None, migration_date=dt.date(2026, 2, 27),
                        row=SavingsMigration(office="Nairobi East",
                                             product_id=ref.savings_products["Hiari"],
                                             client_id=client, balance=Decimal(100)))
