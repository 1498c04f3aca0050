"""A member who moves to another office leaves the group but keeps its history: what it paid
into the group's per-client savings stays logged to a (former) member, and `check` stays
clean (the season simulation found the membership deleted and `check` broken)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, KilimaniWorld
from tests.integrity.world import build_posted_kilimani
from workbook_engine.domain import Client, Group, GroupMembership, Office
from workbook_engine.services.clients import lifecycle
from workbook_engine.services.collection.due import compute_due
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.setup.institution import create_group


def test_a_member_who_moves_away_keeps_the_group_fund_history(
        any_kilimani: KilimaniWorld) -> None:
    world = any_kilimani
    ctx = world.ctx
    posted = build_posted_kilimani(world)  # 20 per member into Umoja's Group Fund, logged
    dalia = posted.ids["dalia"]
    with ctx.session_factory() as s:
        kisumu = s.scalar(select(Office.id).where(Office.name == "Kisumu"))
        umoja = s.scalar(select(Group.id).where(Group.name == "Umoja"))
    nguvu = create_group(ctx, actor_id=None, office_id=kisumu, name="Nguvu", staff_id=None,
                         meeting_start=KILIMANI_MEETING)
    lifecycle.propose_transfer(ctx, actor_id=None, client_id=dalia, to_office_id=kisumu)
    lifecycle.accept_transfer(ctx, actor_id=None, client_id=dalia, group_id=nguvu)
    assert run_check(ctx).ok
    next_meeting = KILIMANI_MEETING + dt.timedelta(weeks=2)
    with ctx.session_factory() as s:
        assert [m.group_id for m in s.get(Client, dalia).memberships] == [nguvu]
        assert [m.client.first_name for m in s.get(Group, umoja).memberships] == [
            "Amina", "Baraka", "Chiku"]
        sheet = compute_due(s, center_id=world.center_id, meeting_date=next_meeting,
                            today=KILIMANI_MEETING)
        assert "Dalia Njeri" not in {row.name for row in sheet.rows}
    # Back in Nairobi East, Dalia joins Umoja again: her membership is taken up again.
    nairobi = world.ref.branches["Nairobi East"]  # type: ignore[attr-defined]
    lifecycle.propose_transfer(ctx, actor_id=None, client_id=dalia, to_office_id=nairobi)
    lifecycle.accept_transfer(ctx, actor_id=None, client_id=dalia, group_id=umoja)
    with ctx.session_factory() as s:
        assert s.execute(select(GroupMembership.group_id, GroupMembership.left_on)
                         .where(GroupMembership.client_id == dalia)
                         .order_by(GroupMembership.id)).all() == [
            (umoja, None), (nguvu, KILIMANI_MEETING)]
    assert run_check(ctx).ok
