"""A long season of field operations (issue #15): the demo institution at --scale N, day by
day for --days (90 by default), through the real pipeline, on SQLite and PostgreSQL.

Every center and group that meets gets its sheet; the loan officer model fills it (as due,
late, absent, paid nothing or part, withdrawals within and over the balance, disbursals not
taken, typos, amounts as text, rows sorted, a LibreOffice re-save now and then, a file sent
twice, a sheet generated twice, a repayment entered at the office meanwhile); it is processed
as the inbox does, its report corrected, approved (sometimes with --exclude-invalid), and the
office works between meetings. After every day the books are checked (see
docs/simulation.md); the first faulty day stops the run with its seed and the command that
replays it.

Printed per database: sheets per CPU second end to end (generation to posting: generating,
filling, processing, correcting, approving, and the day's checks), the count of each
outcome, and peak memory; beside it, the plain baseline measured on the same sheets in the
same run: each generated file opened, typed into and saved with openpyxl and read back with
pandas (what a hand-made script does: no validation, no database, no report).

CPU time (process + finished children) is the figure to compare: the machine is shared.

    PYTHONPATH=$PWD python3 benchmarks/season.py [--days 90] [--scale 3] [--seed 1]
        [--start YYYY-MM-DD] [--backend sqlite|postgresql|mariadb|all]
"""

from __future__ import annotations

import argparse
import datetime as dt
import resource
import sys
import tempfile
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' simulation

from tests.simulation.season import Plan, SeasonFault, cpu_seconds, run_season  # noqa: E402
from tests.support.databases import SERVER_URLS  # noqa: E402


def baseline(files: list[Path], work: Path) -> float:
    """CPU seconds of the plain loop over ``files`` (see the module docstring)."""
    start = cpu_seconds()
    for n, path in enumerate(files):
        book = load_workbook(path)
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(min_row=10, max_row=sheet.max_row):
            for cell in row:
                if isinstance(cell.value, int | float):
                    cell.value = cell.value
        target = work / f"plain-{n}.xlsx"
        book.save(target)
        pd.read_excel(target, sheet_name=0, header=7, engine="calamine")
    return cpu_seconds() - start


def reachable(backend: str) -> bool:
    if backend == "sqlite":
        return True
    from sqlalchemy import create_engine, text

    try:
        engine = create_engine(SERVER_URLS[backend], connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - unreachable, whatever the reason
        return False


def run(plan: Plan) -> int:
    print(f"== {plan.backend}: seed {plan.seed}, {plan.days} days from {plan.start}, "
          f"scale {plan.scale}", flush=True)
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        try:
            result = run_season(plan, home, progress=lambda day, tally: print(
                f"   {day}: {tally.counts['posted']} sheets posted", flush=True)
                if day.day == 1 else None)
        except SeasonFault as fault:
            print(fault, file=sys.stderr)
            return 1
        print("\n".join(result.lines()))
        files = sorted((home / "field").rglob("*.xlsx"))
        plain = baseline(files, home)
        print(f"   baseline (openpyxl type + save, pandas read; no checks, no database): "
              f"{len(files) / plain:.2f} sheets per CPU second ({plain:.1f} s CPU)")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"   peak memory of this process: {peak:.0f} MB", flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--scale", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--backend", default="all",
                        choices=["sqlite", "postgresql", "mariadb", "all"])
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "all" else [args.backend]
    status = 0
    for backend in backends:
        if not reachable(backend):
            print(f"== {backend}: not reachable at {SERVER_URLS[backend]}; skipped")
            continue
        status |= run(Plan(seed=args.seed, start=args.start, days=args.days,
                           scale=args.scale, backend=backend, resaves=2))
    return status


if __name__ == "__main__":
    sys.exit(main())
