"""The loop of issue #15: on a fresh demo, every sheet that meets, for 14 days, returned
exactly as generated, is reported valid and posts, and the books stay clean every day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.simulation.ledger import books_faults
from tests.simulation.meeting import Tally, as_due
from tests.simulation.world import demo_world

START_DATES = {
    "today": None,  # the real date the suite runs on
    "kilimani": dt.date(2026, 3, 3),  # the worked center's own meeting (a Tuesday)
    "leap-day": dt.date(2028, 2, 29),
    "sunday-new-year": dt.date(2027, 1, 3),
}


@pytest.mark.parametrize("start", list(START_DATES.values()), ids=list(START_DATES))
def test_every_as_due_sheet_of_14_days_posts(tmp_path: Path, start: dt.date | None) -> None:
    start = start or dt.date.today()
    tally = Tally()
    with demo_world(tmp_path, start) as world:
        for offset in range(14):
            day = start + dt.timedelta(days=offset)
            world.set_today(day)
            for unit in world.meeting_units(day):
                as_due(world, unit, day, tally)
            for line in books_faults(world):
                tally.fault(f"{day} check", line)
    assert tally.counts["posted"] > 0
    assert not tally.faults, (
        f"start {start}: {dict(tally.counts)}\n" + "\n".join(tally.faults[:15]))
