"""A season of field operations, simulated day by day through the real pipeline.

Every day: office work in the morning (new clients and loans, disbursals and repayments at
the office, transfers, closures), then every center and group that meets gets its sheet,
which travels as :mod:`journey` says; sheets returned late are processed on their day. After
every day the books are checked: every sheet reported valid posted (or was refused only
because an account changed at the office meanwhile), each posting is what was typed, the
cash to hand over is what was posted, no account is posted twice for one meeting, and
``check`` is clean. The first faulty day stops the season with the seed and the day, and the
command that replays it.

    python -m tests.simulation.season --seed 7 --days 30 [--start 2026-12-07] [--scale 2]
        [--backend postgresql] [--habits field|busy|as-due] [--expect-valid]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.simulation.journey import Journey
from tests.simulation.ledger import books_faults, double_postings
from tests.simulation.meeting import Sheet, Tally
from tests.simulation.office import Office
from tests.simulation.officers import HABITS, Habits, Officer
from tests.simulation.world import World, demo_world

@dataclass(frozen=True)
class Plan:
    """What to simulate; a plan and its seed replay exactly."""

    seed: int = 1
    start: dt.date = field(default_factory=dt.date.today)
    days: int = 30
    scale: int = 1
    backend: str = "sqlite"
    habits: Habits = Habits()
    office_work: bool = True
    resaves: int = 1
    """LibreOffice re-saves allowed (each costs seconds)."""
    expect_valid: bool = False
    """Every sheet must be reported valid as returned (sheets returned as due)."""

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.days - 1)

    def replay(self, day: dt.date) -> str:
        """The command that replays this plan up to ``day``."""
        days = (day - self.start).days + 1
        habits = next((name for name, value in HABITS.items() if value == self.habits),
                      "(custom habits)")
        return ("python -m tests.simulation.season "
                f"--seed {self.seed} --start {self.start} --days {days} --scale {self.scale} "
                f"--backend {self.backend} --habits {habits} --resaves {self.resaves}"
                + (" --expect-valid" if self.expect_valid else "")
                + ("" if self.office_work else " --no-office-work"))


class SeasonFault(AssertionError):
    """A day whose checks failed: what failed, and how to replay it."""


@dataclass
class Result:
    """The counts of each outcome, and the time it took."""

    tally: Tally
    sheets: int
    cpu_seconds: float
    wall_seconds: float

    @property
    def sheets_per_second(self) -> float:
        return self.sheets / self.cpu_seconds if self.cpu_seconds else 0.0

    def lines(self) -> list[str]:
        out = [f"{self.sheets} sheets generated, end to end (generation to posting): "
               f"{self.sheets_per_second:.2f} sheets per CPU second "
               f"({self.cpu_seconds:.1f} s CPU, {self.wall_seconds:.1f} s wall)"]
        out += [f"  {count:6d}  {outcome}" for outcome, count in
                sorted(self.tally.counts.items())]
        return out


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (reader workers, LibreOffice)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


class Season:
    """The days of one plan on one world."""

    def __init__(self, world: World, plan: Plan) -> None:
        self.world = world
        self.plan = plan
        self.rng = random.Random(plan.seed)
        self.tally = Tally()
        self.officer = Officer(self.rng, plan.habits)
        self.office = Office(world, self.rng, self.tally, plan.scale)
        self.today = plan.start
        self.pending: dict[dt.date, list[Callable[[], None]]] = {}
        self.serial = 0
        self.resaves_left = plan.resaves

    def next_serial(self) -> int:
        self.serial += 1
        return self.serial

    def take_resave(self) -> bool:
        if self.resaves_left <= 0:
            return False
        self.resaves_left -= 1
        return True

    def header(self, sheet: Sheet) -> dict[str, Any]:
        return {"payment_type": "Cash", "receipt_number": f"R-{self.next_serial():06d}",
                "receipt_date": sheet.meeting.isoformat()}

    def late_day(self, meeting: dt.date) -> dt.date | None:
        """When a late sheet comes back (within the season), or None: back today."""
        day = meeting + dt.timedelta(days=self.rng.randint(1, 3))
        return day if day <= self.plan.end else None

    def later(self, day: dt.date, work: Callable[[], None]) -> None:
        self.pending.setdefault(day, []).append(work)

    def regenerate_after_posting(self) -> bool:
        """Whether a sheet generated twice is generated the second time after the first one
        posted (half the time)."""
        return self.rng.random() < 0.5

    def day(self, day: dt.date) -> None:
        """One day; raises :class:`SeasonFault` when its checks fail."""
        self.today = day
        self.world.set_today(day)
        if self.plan.office_work:
            self.office.day(day)
        for work in self.pending.pop(day, []):
            work()
        for unit in self.world.meeting_units(day):
            Journey(self, unit, day).start()
        for line in double_postings(self.world):
            self.tally.fault(f"{day} postings", line)
        for line in books_faults(self.world):
            self.tally.fault(f"{day} check", line)
        if self.tally.faults:
            raise SeasonFault(
                f"seed {self.plan.seed}, day {day} ({(day - self.plan.start).days + 1} of "
                f"{self.plan.days}): {len(self.tally.faults)} fault(s)\n  "
                + "\n  ".join(self.tally.faults[:12])
                + f"\nreplay: {self.plan.replay(day)}")


def run_season(plan: Plan, home: Path,
               progress: Callable[[dt.date, Tally], None] | None = None) -> Result:
    """Build the demo (as of ``plan.start``) and run every day of the plan."""
    with demo_world(home, plan.start, backend=plan.backend, scale=plan.scale) as world:
        season = Season(world, plan)
        cpu, wall = cpu_seconds(), time.perf_counter()
        for offset in range(plan.days):
            day = plan.start + dt.timedelta(days=offset)
            season.day(day)
            if progress is not None:
                progress(day, season.tally)
        return Result(season.tally, season.tally.counts["sheets generated"],
                      cpu_seconds() - cpu, time.perf_counter() - wall)


def parse_plan(argv: list[str] | None = None) -> Plan:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "mariadb"],
                        default="sqlite")
    parser.add_argument("--resaves", type=int, default=1,
                        help="LibreOffice re-saves allowed (default 1)")
    parser.add_argument("--habits", choices=list(HABITS), default="field",
                        help="the loan officers' habits (as-due: every sheet returned exactly "
                        "as generated)")
    parser.add_argument("--expect-valid", action="store_true",
                        help="a sheet reported with errors is a fault (with --habits as-due)")
    parser.add_argument("--no-office-work", action="store_true")
    args = parser.parse_args(argv)
    return Plan(seed=args.seed, start=args.start, days=args.days, scale=args.scale,
                backend=args.backend, habits=HABITS[args.habits],
                expect_valid=args.expect_valid,
                office_work=not args.no_office_work, resaves=args.resaves)


def main(argv: list[str] | None = None) -> int:
    plan = parse_plan(argv)
    print(f"season: seed {plan.seed}, {plan.days} days from {plan.start}, scale {plan.scale}, "
          f"{plan.backend}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        try:
            result = run_season(plan, Path(folder), progress=lambda day, tally: print(
                f"  {day}: {tally.counts['posted']} sheets posted so far", flush=True))
        except SeasonFault as fault:
            print(fault, file=sys.stderr)
            return 1
    print("\n".join(result.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
