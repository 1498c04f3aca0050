"""Which holidays apply to an office, and which group a client meets with."""

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
        .where(GroupMembership.client_id == client_id).order_by(GroupMembership.id).limit(1))

