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


def test_an_office_name_differing_only_in_case_is_refused(ctx: AppContext) -> None:
    """Offices are found by name ignoring case, so 'AGENCE DE SÉGOU' beside 'Agence de Ségou'
    would make every name lookup of one of them pick either."""
    head = setup.create_office(ctx, actor_id=None, name="Siège Bamako",
                               opening_date=dt.date(2020, 1, 1))
    setup.create_office(ctx, actor_id=None, name="Agence de Ségou", parent_id=head,
                        opening_date=dt.date(2021, 1, 1))
    for spelling in ("AGENCE DE SÉGOU", " agence de ségou "):
        with pytest.raises(EngineError, match="An office named 'Agence de Ségou' already "
                                              "exists") as refused:
            setup.create_office(ctx, actor_id=None, name=spelling, parent_id=head,
                                opening_date=dt.date(2021, 1, 1))
        assert refused.value.code == "duplicate-value"


def test_a_name_given_on_the_command_line_is_never_guessed_among_namesakes(
        ctx: AppContext) -> None:
    """By name, ignoring case in any script (SQLite's lower() knows ASCII only); the exact
    spelling first; two records answering to a name are refused, never one picked."""
    from workbook_engine.domain import Group, Office
    from workbook_engine.services.setup.lookup import resolve_named, resolve_staff

    ref = build_reference(ctx)
    office = ref.branches["Nairobi East"]
    wanjiru = ref.loan_officers["Wanjiru"]
    for branch, officer in ((office, wanjiru),
                            (ref.branches["Kisumu"], ref.loan_officers["Mwangi"])):
        setup.create_group(ctx, actor_id=None, office_id=branch, name="Ushindi",
                           staff_id=officer, meeting_start=dt.date(2026, 3, 10),
                           meeting_frequency="monthly")
    setup.create_office(ctx, actor_id=None, name="Éléphant", parent_id=office,
                        opening_date=dt.date(2026, 1, 1))
    setup.create_staff(ctx, actor_id=None, office_id=office, first_name="Wanjiru",
                       last_name="Kamau")
    with ctx.session_factory() as s:
        assert resolve_named(s, Office, "ÉLÉPHANT", "office").name == "Éléphant"
        assert resolve_named(s, Office, "nairobi east", "office").id == office
        with pytest.raises(EngineError, match="2 groups are called 'ushindi'") as refused:
            resolve_named(s, Group, "ushindi", "group")
        assert refused.value.code == "ambiguous-name" and "id" in refused.value.message
        with pytest.raises(EngineError, match="2 members of staff are called 'Wanjiru Kamau'"):
            resolve_staff(s, "Wanjiru Kamau")
        assert resolve_staff(s, str(wanjiru)).id == wanjiru
