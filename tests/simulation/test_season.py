"""A short season of the demo institution through the real pipeline (the long one is
``benchmarks/season.py``): loan officers' slips, corrected reports, --exclude-invalid, office
work between meetings; after every day, every valid sheet posted exactly what was typed, no
account was posted twice for a meeting, the cash to hand over is what was posted, and
``check`` is clean. A failure names the seed and the day, and the command that replays it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from tests.simulation.officers import AS_DUE, BUSY, Filled, Officer
from tests.simulation.season import Plan, SeasonFault, run_season
from tests.support.databases import BACKENDS
from tests.support.libreoffice import SOFFICE

START = dt.date(2026, 12, 7)
EXERCISED = ("reported with errors", "reports corrected and sent again",
             "posted without its invalid rows", "excluded-rows sheets returned",
             "rows sorted", "files sent twice", "sheets generated twice", "returned late",
             "stale at approval", "office: new loan",
             "office: loan not fitting the calendar refused as expected",
             "office: disbursal at the office", "office: repayment at the office in full",
             "office: transfer accepted", "office: client closed")


def test_a_season_on_sqlite_keeps_the_books(tmp_path: Path) -> None:
    plan = Plan(seed=20261207, start=START, days=60, habits=BUSY,
                resaves=1 if Path(SOFFICE).exists() else 0)
    result = run_season(plan, tmp_path)
    counts = result.tally.counts
    assert counts["sheets generated"] >= 70
    assert counts["posted"] >= counts["sheets generated"]  # and each excluded-rows sheet
    assert [outcome for outcome in EXERCISED if not counts[outcome]] == [], counts
    assert counts["re-saved by LibreOffice"] == plan.resaves
    assert "sheets per CPU second" in result.lines()[0]


@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "sqlite"])
def test_a_shorter_season_on_a_database_server(tmp_path: Path, backend: str) -> None:
    result = run_season(Plan(seed=7, start=START, days=14, backend=backend, habits=BUSY,
                             resaves=0), tmp_path)
    assert result.tally.counts["posted"] >= 14


def test_a_posting_that_differs_from_what_was_typed_stops_the_season_with_its_replay(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The season's own check: the officer model is told one cent more than was typed in
    one repayment cell, so the posting no longer matches, and the day fails."""
    fill = Officer.fill

    def misremembered(self: Officer, expected: dict, header: dict) -> Filled:
        filled = fill(self, expected, header)
        for cell, amount in filled.amounts.items():
            if cell[1].startswith("repayment:") and amount:
                filled.amounts[cell] = amount + Decimal("0.01")
                break
        return filled

    monkeypatch.setattr(Officer, "fill", misremembered)
    plan = Plan(seed=3, start=START, days=3, habits=AS_DUE, office_work=False,
                resaves=0)
    with pytest.raises(SeasonFault) as fault:
        run_season(plan, tmp_path)
    message = str(fault.value)
    assert message.startswith(f"seed 3, day {START} (1 of 3)")
    assert "typed" in message and "but posted" in message
    assert message.endswith(f"replay: python -m tests.simulation.season --seed 3 --start "
                            f"{START} --days 1 --scale 1 --backend sqlite --habits as-due --resaves 0 "
                            "--no-office-work")
