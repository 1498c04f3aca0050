"""Processing returned 40-row collection sheets, ms per sheet, next to a plain baseline.

Builds Kilimani (docs/domain) grown to 37 clients, each new one with a loan being repaid and
mandatory savings, so its sheet has 40 rows (center, group, clients), then generates N distinct sheets of it (each its own signed workbook id) and fills
each as a loan officer would, from a seeded random draw: most repayments exact, some zero,
a few partial (errors), some clients absent, a receipt number of its own. Then, on the same
N files:

* **engine, read + validate + preview**: ``safe_read`` (worker process) -> signed metadata
  verified -> reader by keys -> pandera schema + business rules + the posting plan -> the
  preview .xlsx and HTML reports;
* **engine, rehearsal of the posting**: what ``process`` adds to that since issue 15: the
  plan posted against the database in savepoints that are rolled back (stale accounts,
  one posting per meeting, every ledger rule), SQLite here;
* **engine, posting**: what approval does with the plan (``post_plan``: the same loading
  and computing, then the writes), of the rows without errors, rolled back after each sheet;
* **engine, process_file**: the whole service of ``workbook-engine process`` (content hash,
  archive, all of the above, the rehearsal, and recording the submission in the database);
* **baseline**: ``pandas.read_excel`` of the grid + a pandera schema (money >= 0, attendance
  codes) on the same files, with calamine and with pandas' default engine (openpyxl). It
  validates types only: no business rules, no database, no report.

Each path runs once on the first sheet before the timed phases, so that no phase pays the
process's one-time costs (imports, pandera's backends, compiled templates) for the others.
The engine's path and the calamine baseline also run side by side, alternately sheet by
sheet: on a loaded machine the load changes between phases a minute apart, and the ratio of
that pass is the steadier one.
The machine is shared, so CPU time (``time.process_time()`` of this process plus
``RUSAGE_CHILDREN``: the reader's worker processes are stopped at the end of each phase so
their time is counted) is the figure to compare; wall time is printed beside it.

    PYTHONPATH=$PWD python3 benchmarks/returned_sheets.py [N]    # N = 1000 by default
"""

from __future__ import annotations

import datetime as dt
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pandera.pandas as pa


sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the tests' helpers

from tests.conftest import KILIMANI_MEETING
from tests.support.kilimani40 import build_world
from tests.support.databases import fresh_database
from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.reports.collection_report import ReportData, write_html_report, \
    write_xlsx_report
from workbook_engine.services.collection.posting import (
    PostingRefused,
    post_plan,
    rehearse_posting,
)
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline import processing
from workbook_engine.services.pipeline.processing import (
    _marks,
    _metadata_of,
    _preview_columns,
    _preview_rows,
    process_file,
)
from workbook_engine.validation.collection import validate_sheet
from workbook_engine.workbooks._isolation import shutdown_workers
from workbook_engine.workbooks.collection_reader import read_collection_sheet
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.filling import fill_sheet
from workbook_engine.workbooks.metadata import resign, verify_metadata
from workbook_engine.workbooks.safe_read import read_workbook
from workbook_engine.workbooks.signing import load_key_ring


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def officer_values(expected: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """What one loan officer typed: cell address -> value."""
    typed: dict[str, Any] = {}
    for row in expected["rows"]:
        for key, cell in row["cells"].items():
            family = key.split(":", 1)[0]
            if family == "attendance":
                typed[cell["cell"]] = "P" if rng.random() < 0.9 else "A"
            elif family == "repayment":
                due = Decimal(cell.get("due") or 0)
                draw = rng.random()
                typed[cell["cell"]] = (float(due) if draw < 0.8 else 0 if draw < 0.97
                                       else float((due / 2).quantize(Decimal("0.01"))))
    return typed


def make_sheets(ctx: AppContext, world: Any, tmp: Path, n: int
                ) -> list[tuple[Path, dict[str, Any]]]:
    rng = random.Random(20260303)
    sheets = []
    for i in range(n):
        generated = generate_collection_sheets(ctx, actor_id=None, out_dir=tmp / "gen" / str(i),
                                               center_id=world.center_id)[0]
        with ctx.session_factory() as s:
            expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
        filled = fill_sheet(generated.path, tmp / "returned" / f"kilimani-{i:04d}.xlsx",
                            expected, addresses=officer_values(expected, rng), header={
                                "payment_type": "Cash", "receipt_number": f"R-{i:05d}",
                                "receipt_date": "2026-03-03"})
        sheets.append((filled, expected))
        if (i + 1) % 100 == 0:
            print(f"  generated and filled {i + 1} sheets", flush=True)
    return sheets


def read_validate_preview(ctx: AppContext, path: Path, expected: dict[str, Any],
                          out: Path) -> int:
    """The engine's own path without the database record: returns the error count."""
    rules = collection_rules(ctx.rules)
    ring = load_key_ring(ctx.settings.secret_file)
    book = read_workbook(path)
    metadata = verify_metadata(_metadata_of(book, path.name), ring, path.name)
    sheet = read_collection_sheet(book, COLLECTION_SHEET, expected)
    result = validate_sheet(sheet, expected, kind=COLLECTION_SHEET, rules=rules,
                            today=KILIMANI_MEETING, file_name=path.name)
    errors = [p.as_dict() for p in result.problems]
    data = ReportData("bench", path.name, None, "preview", 1, KILIMANI_MEETING, "Kilimani",
                      None, None, dt.datetime.now(), errors, _preview_rows(expected, result),
                      _preview_columns(expected), result.collected, result.paid_out, "")
    write_html_report(data, out / f"{path.stem}.html")
    write_xlsx_report(path, out / f"{path.stem}.xlsx", data, sheet_name=sheet.sheet_name,
                      metadata_sheet=COLLECTION_SHEET.metadata_sheet,
                      cells=_marks(result, errors, sheet, expected), signed=resign(ring, metadata, version=2))
    return len(errors)


def read_and_validate(ctx: AppContext, path: Path, expected: dict[str, Any]
                      ) -> tuple[Any, set[str]]:
    """A sheet read and validated as ``process_file`` does it, and the keys of its rows in
    error (named to the rehearsal and left out of an ``--exclude-invalid`` posting)."""
    rules = collection_rules(ctx.rules)
    sheet = read_collection_sheet(read_workbook(path), COLLECTION_SHEET, expected)
    result = validate_sheet(sheet, expected, kind=COLLECTION_SHEET, rules=rules,
                            today=KILIMANI_MEETING)
    return result, {p.details["row_key"] for p in result.problems if p.details.get("row_key")}


def rehearse(ctx: AppContext, path: Path, expected: dict[str, Any]) -> int:
    """The rehearsal alone, on a sheet read and validated beforehand: the failures found.

    As in ``process_file``, the rows with errors are named, so a sheet with a row error also
    rehearses what ``approve --exclude-invalid`` would post (a second pass when the rows
    share an account, as Kilimani's group savings do)."""
    result, in_error = read_and_validate(ctx, path, expected)
    assert result.plan is not None
    cpu0 = cpu_seconds()
    with ctx.unit_of_work(None) as uow:
        found = rehearse_posting(uow.session, result.plan, expected=expected,
                                 workbook_id=expected["workbook_id"], rows_in_error=in_error)
    REHEARSAL_CPU.append(cpu_seconds() - cpu0)
    return len(found.failures)


REHEARSAL_CPU: list[float] = []
REHEARSAL_IN_PROCESS_CPU: list[float] = []
POSTING_CPU: list[float] = []


def post(ctx: AppContext, path: Path, expected: dict[str, Any]) -> int:
    """Approval's posting alone (``post_plan``) of the rows without errors, as ``approve
    --exclude-invalid`` posts them, on a sheet read and validated beforehand; rolled back,
    so that every sheet posts on the same books. Returns the cells refused."""
    result, in_error = read_and_validate(ctx, path, expected)
    assert result.plan is not None
    plan = result.plan.only_rows(r["key"] for r in expected["rows"]
                                 if r["key"] not in in_error)
    cpu0 = cpu_seconds()
    with ctx.unit_of_work(None) as uow:  # not committed: rolled back
        try:
            post_plan(uow.session, plan, expected=expected,
                      workbook_id=expected["workbook_id"], submission_id=None, actor_id=None)
            refused = 0
        except PostingRefused as exc:
            refused = len(exc.cells)
    POSTING_CPU.append(cpu_seconds() - cpu0)
    return refused


def timing_the_rehearsal_inside_process_file() -> None:
    """Count the CPU time of the rehearsal that ``process_file`` runs (its own, with the
    rows in error), to tell it from the rest of ``process_file``."""
    rehearse_in_process = processing._rehearse

    def timed_rehearsal(*args: Any, **kwargs: Any) -> Any:
        cpu0 = cpu_seconds()
        try:
            return rehearse_in_process(*args, **kwargs)
        finally:
            REHEARSAL_IN_PROCESS_CPU.append(cpu_seconds() - cpu0)

    processing._rehearse = timed_rehearsal  # type: ignore[assignment]


def baseline_schema(expected: dict[str, Any], codes: dict[str, str]) -> pa.DataFrameSchema:
    columns = {}
    for c in expected["columns"]:
        if not c["input"]:
            continue
        if c["family"] == "attendance":
            columns[c["key"]] = pa.Column(object, pa.Check.isin(list(codes)), nullable=True)
        else:
            columns[c["key"]] = pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True)
    return pa.DataFrameSchema(columns, strict=False)


def baseline(path: Path, expected: dict[str, Any], schema: pa.DataFrameSchema,
             engine: str) -> int:
    """pandas.read_excel of the grid by its key row, then pandera: returns the failures."""
    frame = pd.read_excel(path, sheet_name=COLLECTION_SHEET.data_sheet, header=None,
                          skiprows=expected["key_row"] - 1, engine=engine)
    frame.columns = [str(c) for c in frame.iloc[0]]
    frame = frame.iloc[1:len(expected["rows"]) + 1]
    money = [k for k, col in schema.columns.items() if col.dtype is not None
             and str(col.dtype) != "object" and k in frame.columns]
    frame = frame.assign(**{k: pd.to_numeric(frame[k], errors="coerce") for k in money})
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        return len(exc.failure_cases)
    return 0


def timed(label: str, items: list[Any], run: Callable[[Any], Any]) -> dict[str, float]:
    shutdown_workers()
    walls = []
    cpu0, wall0 = cpu_seconds(), time.perf_counter()
    for item in items:
        t0 = time.perf_counter()
        run(item)
        walls.append(time.perf_counter() - t0)
    shutdown_workers()  # so the workers' CPU time is in RUSAGE_CHILDREN
    cpu = (cpu_seconds() - cpu0) / len(items) * 1000
    total = time.perf_counter() - wall0
    walls.sort()
    figures = {"cpu": cpu, "median": statistics.median(walls) * 1000,
               "p95": walls[int(len(walls) * 0.95) - 1] * 1000,
               "mean": total / len(items) * 1000}
    print(f"  {label:48s} cpu {figures['cpu']:6.1f}   wall median {figures['median']:6.1f}"
          f"  p95 {figures['p95']:6.1f}  mean {figures['mean']:6.1f}", flush=True)
    return figures


def side_by_side(items: list[Any], engine: Callable[[Any], Any],
                 plain: Callable[[Any], Any]) -> tuple[float, float]:
    """The engine's path and the baseline's, alternately sheet by sheet, so that both see
    the same load of a shared machine: CPU ms per sheet of each (the engine's with its
    reader worker's, counted when the worker is stopped at the end; the baseline has none)."""
    shutdown_workers()
    spent = [0.0, 0.0]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    for item in items:
        for side, run in enumerate((engine, plain)):
            cpu0 = time.process_time()
            run(item)
            spent[side] += time.process_time() - cpu0
    shutdown_workers()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    spent[0] += (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    engine_ms, plain_ms = (x / len(items) * 1000 for x in spent)
    print(f"  {'side by side, sheet by sheet: engine':48s} cpu {engine_ms:6.1f}   baseline "
          f"(calamine) {plain_ms:6.1f}   ratio {engine_ms / plain_ms:.2f}", flush=True)
    return engine_ms, plain_ms


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="returned-bench-"))
    with fresh_database("sqlite", tmp) as url:
        ctx, world = build_world(tmp, url)
        print(f"Generating and filling {n} distinct returned sheets ...", flush=True)
        t0 = time.perf_counter()
        sheets = make_sheets(ctx, world, tmp, n)
        rows = {len(e["rows"]) for _, e in sheets}
        print(f"  done in {time.perf_counter() - t0:.0f} s; rows per sheet: {sorted(rows)}")
        codes = collection_rules(ctx.rules).attendance_codes
        schema = baseline_schema(sheets[0][1], codes)
        out = tmp / "preview"
        out.mkdir()
        # Each path once, untimed: the first phase would otherwise pay alone what a process
        # does once and the phases after it share (imports, pandera's backends, compiled
        # templates, cached schemas): pandera's first validation alone imports about 1 s of
        # modules where hypothesis is installed (the test extras), 10 ms a sheet of 100.
        warm = tmp / "warm"
        warm.mkdir()
        read_validate_preview(ctx, *sheets[0], warm)
        for engine_name in ("calamine", "openpyxl"):
            baseline(sheets[0][0], sheets[0][1], schema, engine_name)
        errors = [0]
        print(f"\n{n} returned sheets of {sorted(rows)} rows, ms per sheet "
              "(CPU = this process + reader workers):")
        engine = timed("engine: read + validate + preview (.xlsx, .html)", sheets,
                       lambda item: errors.append(read_validate_preview(ctx, *item, out)))
        again = tmp / "preview-again"
        again.mkdir()
        paired = side_by_side(
            sheets, lambda item: read_validate_preview(ctx, *item, again),
            lambda item: baseline(item[0], item[1], schema, "calamine"))
        rehearsed = [0]
        timed("(reading again, for the rehearsal below)", sheets,
              lambda item: rehearsed.append(rehearse(ctx, *item)))
        rehearsal = sum(REHEARSAL_CPU) / len(REHEARSAL_CPU) * 1000
        print(f"  {'engine: rehearsal of the posting (part of process)':48s} cpu "
              f"{rehearsal:6.1f}", flush=True)
        refused = [0]
        timed("(reading again, for the posting below)", sheets,
              lambda item: refused.append(post(ctx, *item)))
        posting = sum(POSTING_CPU) / len(POSTING_CPU) * 1000
        print(f"  {'engine: posting (approval, rolled back)':48s} cpu {posting:6.1f}"
              f"   (cells refused: {sum(refused)})", flush=True)
        timing_the_rehearsal_inside_process_file()
        full = timed("engine: process_file (+ rehearsal, hash, archive, DB)", sheets,
                     lambda item: process_file(ctx, item[0], actor_id=None))
        calamine = timed("baseline: pandas.read_excel(calamine) + pandera", sheets,
                         lambda item: baseline(item[0], item[1], schema, "calamine"))
        default = timed("baseline: pandas.read_excel(openpyxl) + pandera", sheets,
                        lambda item: baseline(item[0], item[1], schema, "openpyxl"))
    invalid = sum(1 for e in errors[1:] if e)
    print(f"\n  sheets with errors: {invalid} of {n} (the partial repayments drawn); cells the "
          f"rehearsal refused: {sum(rehearsed[1:])}")
    base = calamine["cpu"]
    inside = sum(REHEARSAL_IN_PROCESS_CPU) / n * 1000
    print(f"  target (issue 19), ratios to the calamine + pandera baseline in this run "
          f"({base:.1f} ms; openpyxl + pandera {default['cpu']:.1f} ms):")
    print(f"    read + validate + preview no slower than it: "
          f"{'met' if engine['cpu'] <= base else 'NOT met'} ({engine['cpu']:.1f} ms, "
          f"{engine['cpu'] / base:.2f}x); side by side, sheet by sheet: "
          f"{'met' if paired[0] <= paired[1] else 'NOT met'} ({paired[0]:.1f} against "
          f"{paired[1]:.1f} ms, {paired[0] / paired[1]:.2f}x)")
    print(f"    process_file within 1.3x of it: "
          f"{'met' if full['cpu'] <= 1.3 * base else 'NOT met'} ({full['cpu']:.1f} ms, "
          f"{full['cpu'] / base:.2f}x; of which its own rehearsal {inside:.1f} ms, the rest "
          f"{full['cpu'] - inside:.1f} ms: read + validate + preview, identification, "
          f"archive, records)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
