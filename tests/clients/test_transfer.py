"""Client transfer as Fineract does it (issue 16): a member of a group must be given a group
of the new office, and its loans move with it to that office's loan officer, so they stay
on a collection sheet (the destination center's, no longer the old one's)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, KilimaniWorld
from workbook_engine.domain import AuditRecord, Client, Loan
from workbook_engine.errors import EngineError
from workbook_engine.services.clients import lifecycle
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.setup.institution import create_center, create_group

AMINA = 1  # an active member of Umoja (center Kilimani), with the active loan L000000001
NEXT_KISUMU_MEETING = dt.date(2026, 3, 5)  # a Thursday, every second week from 2026-01-08


def _kisumu_center(world: KilimaniWorld) -> tuple[int, int, int, int]:
    """Kisumu's center Nyanza (fortnightly, as Kilimani) and its group, also called Umoja."""
    kisumu = world.ref.branches["Kisumu"]  # type: ignore[attr-defined]
    mwangi = world.ref.loan_officers["Mwangi"]  # type: ignore[attr-defined]
    center = create_center(world.ctx, actor_id=None, office_id=kisumu, name="Nyanza",
                           staff_id=mwangi, meeting_start=dt.date(2026, 1, 8),
                           meeting_frequency="weekly", meeting_interval=2)
    group = create_group(world.ctx, actor_id=None, office_id=kisumu, name="Umoja",
                         staff_id=None, center_id=center)
    return kisumu, mwangi, center, group


def test_a_member_is_refused_without_a_destination_group(any_kilimani: KilimaniWorld) -> None:
    world = any_kilimani
    kisumu, _, _, group = _kisumu_center(world)
    lifecycle.propose_transfer(world.ctx, actor_id=None, client_id=AMINA,
                               to_office_id=kisumu)
    with pytest.raises(EngineError) as refused:
        lifecycle.accept_transfer(world.ctx, actor_id=None, client_id=AMINA)
    error = refused.value
    assert error.code == "client-transfer-not-allowed"
    assert "is a member of group Umoja (Kilimani)" in error.message
    assert "--to-group" in error.message
    assert f"Groups of Kisumu: Umoja (Nyanza) (group {group})" in error.message
    with world.ctx.session_factory() as s:
        client = s.get(Client, AMINA)
        assert client is not None
        assert (client.status.value, client.office_id) == ("transfer_in_progress",
                                                           world.ref.branches["Nairobi East"])  # type: ignore[attr-defined]
        assert [m.group.name for m in client.memberships] == ["Umoja"]


def test_the_loan_moves_to_the_destination_sheet(any_kilimani: KilimaniWorld) -> None:
    world = any_kilimani
    kisumu, mwangi, center, group = _kisumu_center(world)
    with world.ctx.session_factory() as s:
        loan_before = s.scalar(select(Loan).where(Loan.client_id == AMINA))
        assert loan_before is not None and loan_before.loan_officer_id != mwangi
        account = loan_before.account_no
    lifecycle.propose_transfer(world.ctx, actor_id=None, client_id=AMINA,
                               to_office_id=kisumu)
    lifecycle.accept_transfer(world.ctx, actor_id=None, client_id=AMINA, group_id=group)
    with world.ctx.session_factory() as s:
        client = s.get(Client, AMINA)
        assert client is not None
        assert (client.office_id, client.staff_id, client.status.value) == (
            kisumu, mwangi, "active")
        loan = s.scalar(select(Loan).where(Loan.client_id == AMINA))
        assert loan is not None and loan.loan_officer_id == mwangi
        new_sheet = compute_due(s, center_id=center, meeting_date=NEXT_KISUMU_MEETING,
                                today=KILIMANI_MEETING)
        old_sheet = compute_due(s, center_id=world.center_id,
                                meeting_date=KILIMANI_MEETING + dt.timedelta(weeks=2),
                                today=KILIMANI_MEETING)
        (row,) = [r for r in new_sheet.rows if r.name == "Amina Wanjiku"]
        due = [share for cell in row.repayments.values() for share in cell.loans]
        assert [share.account_no for share in due] == [account]
        assert due[0].amount > 0
        assert new_sheet.staff_id == mwangi
        assert "Amina Wanjiku" not in {r.name for r in old_sheet.rows}
        assert account not in {share.account_no for r in old_sheet.rows
                               for cell in r.repayments.values() for share in cell.loans}
        note = s.scalars(select(AuditRecord.note).where(
            AuditRecord.action == "client.accept_transfer")).all()[-1]
        assert note == f"left groups: Umoja (Kilimani); loans moved to the new loan officer: " \
                       f"{account}"
    assert run_check(world.ctx).ok


def test_staff_given_at_acceptance_takes_the_loans(kilimani: KilimaniWorld) -> None:
    world = kilimani
    kisumu, _, _, group = _kisumu_center(world)
    from workbook_engine.services.setup.institution import create_staff

    other = create_staff(world.ctx, actor_id=None, office_id=kisumu, first_name="Otieno",
                         last_name="Ouma", is_loan_officer=True)
    lifecycle.propose_transfer(world.ctx, actor_id=None, client_id=AMINA,
                               to_office_id=kisumu)
    lifecycle.accept_transfer(world.ctx, actor_id=None, client_id=AMINA, group_id=group,
                              staff_id=other)
    with world.ctx.session_factory() as s:
        assert s.scalar(select(Loan.loan_officer_id).where(Loan.client_id == AMINA)) == other
        assert s.get(Client, AMINA).staff_id == other  # type: ignore[union-attr]
    assert run_check(world.ctx).ok
