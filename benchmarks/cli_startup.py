"""How fast the command line answers: `workbook-engine version` and `clients show 1`, next to
`python -c pass`, in the same run.

Each command is run ``--runs`` times as a user runs it (a new process each time, on a demo
home made for the run) and the best and median are printed: CPU seconds (the process and its
children, plus, when the command server ran the command, the copy of the server that ran it)
and wall seconds. Three ways are measured:

* ``served``: the default: the command server (started by the first command) runs it;
* ``own process``: ``WORKBOOK_ENGINE_SERVER=off``, every command loads the engine itself;
* ``python -c pass``: the plain baseline, an interpreter that does nothing.

    python benchmarks/cli_startup.py [--runs 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _timed(command: list[str], env: dict[str, str], report: Path) -> tuple[float, float]:
    """(CPU seconds, wall seconds) of one run of ``command``."""
    report.unlink(missing_ok=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if report.exists():  # the server's copy that ran the command
        cpu += float(report.read_text(encoding="utf-8") or 0)
    return cpu, wall


def _row(label: str, samples: list[tuple[float, float]]) -> str:
    cpu = [c for c, _ in samples]
    wall = [w for _, w in samples]
    return (f"{label:<42} CPU best {min(cpu):.3f} s  median {statistics.median(cpu):.3f} s"
            f"   wall best {min(wall):.3f} s  median {statistics.median(wall):.3f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="we-bench-", dir="/tmp"))
    runtime = work / "run"
    runtime.mkdir(mode=0o700)
    report = work / "cpu.txt"
    env = {**os.environ, "WORKBOOK_ENGINE_HOME": str(work / "home"),
           "XDG_RUNTIME_DIR": str(runtime), "WORKBOOK_ENGINE_CPU_REPORT": str(report),
           "WORKBOOK_ENGINE_SERVER": "on", "PYTHONPATH": str(ROOT)}
    for name in ("WORKBOOK_ENGINE_DB", "WORKBOOK_ENGINE_AS", "PYTHONDONTWRITEBYTECODE"):
        env.pop(name, None)  # a user's own machine keeps its compiled bytecode
    engine = [sys.executable, "-m", "workbook_engine.cli.main"]
    server = None
    try:
        subprocess.run([*engine, "init", "--demo"], env={**env, "WORKBOOK_ENGINE_SERVER": "off"},
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        server = subprocess.Popen([sys.executable, "-m", "workbook_engine.cli.server"],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while not list(runtime.glob("workbook-engine/*.sock")):
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the command server did not start")
            time.sleep(0.1)
        alone = {**env, "WORKBOOK_ENGINE_SERVER": "off"}
        cases = [
            ("python -c pass", [sys.executable, "-c", "pass"], env),
            ("workbook-engine version (served)", [*engine, "version"], env),
            ("workbook-engine clients show 1 (served)", [*engine, "clients", "show", "1"], env),
            ("workbook-engine version (own process)", [*engine, "version"], alone),
            ("workbook-engine clients show 1 (own process)", [*engine, "clients", "show", "1"],
             alone),
        ]
        for _label, command, case_env in cases:  # warm the caches and compiled bytecode
            _timed(command, case_env, report)
        print(f"{args.runs} runs each; CPU = process + children (+ the server's copy)")
        for label, command, case_env in cases:
            print(_row(label, [_timed(command, case_env, report) for _ in range(args.runs)]))
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
