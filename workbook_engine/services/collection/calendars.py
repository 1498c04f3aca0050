"""Which holidays apply to an office, and which group a client meets with (and joins)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import Group, GroupMembership, Holiday, Office


def office_holidays(session: Session, office_id: int) -> frozenset[dt.date]:
    """The holidays of an office and of every office above it."""
    office = session.get(Office, office_id)
    ids = [office_id] + ([o.id for o in office.ancestors()] if office else [])
    days: set[dt.date] = set()
    for holiday in session.scalars(select(Holiday).where(Holiday.office_id.in_(ids))):
        days.update(holiday.days())
    return frozenset(days)


def client_group(session: Session, client_id: int) -> Group | None:
    """The group a client belongs to (the earliest membership when there are several)."""
    return session.scalar(
        select(Group).join(GroupMembership, GroupMembership.group_id == Group.id)
        .where(GroupMembership.client_id == client_id, GroupMembership.left_on.is_(None))
        .order_by(GroupMembership.id).limit(1))



def join_group(session: Session, group_id: int, client_id: int,
               joined_on: dt.date) -> GroupMembership:
    """Make a client a member of a group from ``joined_on``: a new membership, or the one it
    left, taken up again (its history of who paid what stays with it)."""
    membership = session.scalar(select(GroupMembership).where(
        GroupMembership.group_id == group_id, GroupMembership.client_id == client_id))
    if membership is None:
        membership = GroupMembership(group_id=group_id, client_id=client_id,
                                     joined_on=joined_on)
        session.add(membership)
    else:
        membership.joined_on, membership.left_on = joined_on, None
    return membership
