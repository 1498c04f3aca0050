"""The loop of issue #15: on a fresh demo, every sheet that meets, for 14 days, returned
exactly as generated (amounts as due, everyone present, the receipt filled), is reported
valid and posts, and the books stay clean every day, whatever the start date."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.simulation.officers import AS_DUE
from tests.simulation.season import Plan, run_season

START_DATES = {
    "today": None,  # the real date the suite runs on
    "kilimani": dt.date(2026, 3, 3),  # the worked center's own meeting (a Tuesday)
    "leap-day": dt.date(2028, 2, 29),
    "sunday-new-year": dt.date(2027, 1, 3),
}


@pytest.mark.parametrize("start", list(START_DATES.values()), ids=list(START_DATES))
def test_every_as_due_sheet_of_14_days_posts(tmp_path: Path, start: dt.date | None) -> None:
    plan = Plan(seed=0, start=start or dt.date.today(), days=14, habits=AS_DUE,
                office_work=False, resaves=0, expect_valid=True)
    result = run_season(plan, tmp_path)  # a faulty day raises SeasonFault with the replay
    counts = result.tally.counts
    assert counts["sheets generated"] >= 14
    assert counts["posted"] == counts["reported valid"] == counts["sheets generated"]
