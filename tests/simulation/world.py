"""The simulated institution: an engine on a fresh database, the demo loaded as of a date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tests.conftest import make_context
from tests.support.databases import fresh_database
from workbook_engine.domain import Center, Group, Staff
from workbook_engine.domain.calendar import is_meeting_date
from workbook_engine.domain.enums import GroupStatus
from workbook_engine.services.collection.calendars import office_holidays
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.approval_queue import supervises
from workbook_engine.services.setup.system import initialise


@dataclass(frozen=True)
class Unit:
    """What one collection sheet is for: a center, or a group meeting on its own."""

    center_id: int | None
    group_id: int | None
    name: str
    office_id: int
    officer_id: int

    @property
    def label(self) -> str:
        return f"center {self.center_id}" if self.center_id is not None \
            else f"group {self.group_id}"

    def selection(self) -> dict[str, int]:
        """The keyword that selects this unit in ``generate_collection_sheets``."""
        return {"center_id": self.center_id} if self.center_id is not None \
            else {"group_id": self.group_id}  # type: ignore[dict-item]


@dataclass
class World:
    """An engine whose clock the simulation moves, with the demo institution in it."""

    ctx: AppContext
    home: Path

    def set_today(self, day: dt.date) -> None:
        self.ctx.settings.clock.fixed_today = day

    def meeting_units(self, day: dt.date) -> list[Unit]:
        """Every active center, and every active group without a center, meeting on ``day``."""
        units: list[Unit] = []
        holidays: dict[int, frozenset[dt.date]] = {}
        with self.ctx.session_factory() as s:
            owners: list[Center | Group] = list(s.scalars(
                select(Center).where(Center.status == GroupStatus.ACTIVE).order_by(Center.id)))
            owners += list(s.scalars(select(Group).where(
                Group.status == GroupStatus.ACTIVE, Group.center_id.is_(None))
                .order_by(Group.id)))
            for owner in owners:
                rule = owner.meeting_rule
                if rule is None or owner.staff_id is None:
                    continue
                if owner.office_id not in holidays:
                    holidays[owner.office_id] = office_holidays(s, owner.office_id)
                if is_meeting_date(rule, day, holidays[owner.office_id]):
                    is_center = isinstance(owner, Center)
                    units.append(Unit(owner.id if is_center else None,
                                      None if is_center else owner.id, owner.name,
                                      owner.office_id, owner.staff_id))
        return units

    def supervisor_for(self, office_id: int, *, not_ids: tuple[int | None, ...] = ()) -> str:
        """The name of an active supervisor who may approve a sheet of this office."""
        with self.ctx.session_factory() as s:
            for staff in s.scalars(select(Staff).where(Staff.is_supervisor, Staff.active)
                                   .order_by(Staff.id)):
                if staff.id not in not_ids and supervises(s, staff, office_id):
                    return staff.display_name
        raise LookupError(f"no supervisor for office {office_id}")


@contextmanager
def demo_world(tmp_path: Path, start: dt.date, *, backend: str = "sqlite",
               scale: int = 1) -> Iterator[World]:
    """A fresh engine on ``backend`` with ``init --demo`` run as of ``start``."""
    with fresh_database(backend, tmp_path) as url:
        ctx = make_context(tmp_path, url, start)
        try:
            initialise(ctx, demo=True, scale=scale)
            yield World(ctx, tmp_path)
        finally:
            ctx.dispose()
