"""Returned 40-row collection sheets taken in by the inbox watcher, ms of CPU a sheet, next to
``process_file`` in one process and the plain baseline, in the same run.

The watcher (``workbook-engine watch``) claims each file, archives it, and processes it in a
process of its own (``intake/isolation.py``), which forks its own reader worker: the
figure is the CPU time of the watcher's process and of every process it started (the
file's process and its reader worker: this process adopts the orphaned workers, Linux's
``PR_SET_CHILD_SUBREAPER``, so that their time is counted). The same intake in one process
runs the same sheets through the same intake without a process per file (claim, archive,
``process_file``), one after another, with its reader worker kept. Both run in a fresh
process of their own (so neither carries this process's heap of generated sheets), on
copies of one database, alternately, ``--rounds`` times; the first file of each run (the
imports and what the watcher prepares once) is reported apart. The baseline is
``pandas.read_excel(calamine)`` + pandera (``benchmarks/returned_sheets.py``) on the same
files, here.

    PYTHONPATH=$PWD python3 benchmarks/returned_by_watcher.py [N] [--rounds R]
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers
sys.path.insert(0, str(Path(__file__).resolve().parent))

from returned_sheets import baseline, baseline_schema, cpu_seconds, make_sheets  # noqa: E402
from tests.conftest import KILIMANI_MEETING, make_context  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from tests.support.kilimani40 import build_world  # noqa: E402


def _reap_orphans() -> None:
    """Wait for the adopted reader workers (they stop when their parent has gone)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            time.sleep(0.02)


def run(home: Path, mode: str, files: list[Path]) -> dict[str, float]:
    """Take ``files`` in as ``mode`` ("watcher" or "one process") says, in this (fresh)
    process: CPU ms of the first file and a file after it."""
    from workbook_engine.intake.watcher import Intake
    from workbook_engine.workbooks._isolation import shutdown_workers

    if hasattr(ctypes, "CDLL") and sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    ctx = make_context(home, f"sqlite:///{home / 'engine.sqlite3'}", KILIMANI_MEETING)
    inbox = home / "inbox"
    inbox.mkdir(exist_ok=True)
    intake = Intake(ctx, isolate=mode == "watcher", stop=threading.Event())
    first = 0.0
    cpu0 = cpu_seconds()
    for number, path in enumerate(files):
        dropped = inbox / path.name
        shutil.copyfile(path, dropped)
        outcome = intake.take_file(dropped, written_by_us=True)
        if outcome is None or outcome.state != "processed":
            raise SystemExit(f"{path.name}: {outcome}")
        if mode == "watcher":
            _reap_orphans()
        if number == 0:
            shutdown_workers()
            first, cpu0 = cpu_seconds() - cpu0, cpu_seconds()
    shutdown_workers()  # the kept reader worker of one process: its time is counted now
    return {"first": first * 1000, "rest": (cpu_seconds() - cpu0) / (len(files) - 1) * 1000}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("n", nargs="?", type=int, default=20, help="sheets a run")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--run", nargs=3, metavar=("HOME", "MODE", "FILES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        home, mode, files = args.run
        print(json.dumps(run(Path(home), mode, [Path(p) for p in json.loads(files)])))
        return
    tmp = Path(tempfile.mkdtemp(prefix="returned-watcher-"))
    world_home = tmp / "world"
    with fresh_database("sqlite", tmp / "template") as url:
        world_home.mkdir()
        shutil.copyfile(url.removeprefix("sqlite:///"), world_home / "engine.sqlite3")
    ctx, world = build_world(world_home, f"sqlite:///{world_home / 'engine.sqlite3'}")
    count = args.n * args.rounds * 2
    print(f"Generating and filling {count} distinct returned sheets ...", flush=True)
    sheets = make_sheets(ctx, world, tmp / "sheets", count)
    ctx.dispose()
    schema = baseline_schema(sheets[0][1], _attendance_codes(ctx))
    baseline(sheets[0][0], sheets[0][1], schema, "calamine")  # its one-time costs, untimed
    figures: dict[str, list[dict[str, float]]] = {"watcher": [], "one process": []}
    for round_number in range(args.rounds):
        for mode in ("watcher", "one process"):
            start = (round_number * 2 + (mode != "watcher")) * args.n
            home = tmp / f"{mode.replace(' ', '-')}-{round_number}"
            shutil.copytree(world_home, home, ignore=shutil.ignore_patterns("inbox"))
            files = [str(p) for p, _ in sheets[start:start + args.n]]
            done = subprocess.run([sys.executable, __file__, "--run", str(home), mode,
                                   json.dumps(files)], capture_output=True, text=True,
                                  check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(
                                      [str(Path(__file__).resolve().parent.parent),
                                       os.environ.get("PYTHONPATH", "")])})
            figures[mode].append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(f"  round {round_number + 1}, {mode:12s}: first file {figures[mode][-1]['first']:7.1f}"
                  f" ms, then {figures[mode][-1]['rest']:6.1f} ms a sheet", flush=True)
    cpu0 = cpu_seconds()
    for path, expected in sheets:
        baseline(path, expected, schema, "calamine")
    plain = (cpu_seconds() - cpu0) / len(sheets) * 1000
    watcher = min(f["rest"] for f in figures["watcher"])
    alone = min(f["rest"] for f in figures["one process"])
    print(f"\n{args.n} sheets a run, best of {args.rounds} runs, CPU ms a sheet after the first:")
    print(f"  inbox watcher: claim, archive, a process a file   {watcher:7.1f}  ({watcher / plain:.2f}x)")
    print(f"  the same intake in one process (no process a file) {alone:7.1f}  ({alone / plain:.2f}x)")
    print(f"  baseline pandas.read_excel(calamine) + pandera     {plain:7.1f}")


def _attendance_codes(ctx: object) -> dict[str, str]:
    from workbook_engine.services.collection.rules import collection_rules

    return collection_rules(ctx.rules).attendance_codes  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
