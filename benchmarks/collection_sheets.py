"""Benchmark: collection sheets for the demo institution, next to a plain openpyxl writer.

    PYTHONPATH=. python3 benchmarks/collection_sheets.py --scale 100

The demo at ``--scale`` (9 centers and 3 center-less groups per copy, about 18 rows a
sheet), plus a branch of ``--large`` centers of about 40 rows (4 groups of 9-10 clients:
the size the target is stated for), is loaded once into a SQLite file kept in
``--cache`` (loading scale 100 takes minutes); each run works on a copy of it. Measured:

1. the engine end to end, as ``sheets collection --office ID`` for every branch:
   ``generate_collection_sheets`` (reading what is due, writing, signing, recording the
   workbooks and their expected amounts, committing);
2. what is due only (``compute_due_many``, the database work), batched as the engine does
   (50 sheets, the garbage collector paused);
3. the engine's writer alone on the same, precomputed sheets (batched the same way);
4. a plain openpyxl writer of the same layout (cells, fills, locks, validations with the
   same input messages, formulas, protection) on the same sheets: the baseline.

Times are CPU seconds of this process (``time.process_time``, plus any child processes):
the machine is shared, so wall time would include waiting for a core; each figure is the
best of ``--repeat`` runs (3), the baseline's too. Everything runs in
one process, on one core. Peak memory is measured by tracemalloc in separate passes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import resource
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import PatternFill, Protection  # noqa: E402
from openpyxl.worksheet.datavalidation import DataValidation  # noqa: E402
from sqlalchemy import select  # noqa: E402

from workbook_engine.bulk import paused_gc  # noqa: E402
from workbook_engine.config import Settings  # noqa: E402
from workbook_engine.db.engine import make_engine  # noqa: E402
from workbook_engine.db.migrate import upgrade  # noqa: E402
from workbook_engine.domain import Center, Group, Office, PaymentType  # noqa: E402
from workbook_engine.domain.due import DueSheet  # noqa: E402
from workbook_engine.services.setup import demo  # noqa: E402
from workbook_engine.services.collection.due import DueRequest, compute_due_many  # noqa: E402
from workbook_engine.services.collection.rules import collection_rules  # noqa: E402
from workbook_engine.services.collection.sheets import (  # noqa: E402
    BATCH,
    GeneratedSheet,
    generate_collection_sheets,
)
from workbook_engine.services.context import AppContext  # noqa: E402
from workbook_engine.workbooks.collection_sheet import (  # noqa: E402
    CASH_LABEL,
    COLLECTION_SHEET,
    SheetLayout,
    layout,
)
from workbook_engine.workbooks.collection_writer import write_collection_sheet  # noqa: E402
from workbook_engine.workbooks.declaration import CellType, Flow  # noqa: E402
from workbook_engine.workbooks.metadata import SignedMetadata, sign_metadata  # noqa: E402
from workbook_engine.workbooks.signing import ensure_secret_file, load_key_ring  # noqa: E402

TODAY = dt.date(2026, 3, 3)
LARGE_BRANCH = "Benchmark 40 rows"
LARGE_SHAPE = (4, (9, 10))  # groups a center, clients a group: about 40 active rows
TARGET = 100  # sheets of 40 rows per CPU-second, end to end


def openpyxl_write(path: Path, sheet: DueSheet, grid: SheetLayout) -> None:
    """The same layout with openpyxl (the baseline)."""
    book = Workbook()
    ws = book.active
    ws.title = COLLECTION_SHEET.data_sheet
    na = PatternFill("solid", fgColor="D9D9D9")
    inp = PatternFill("solid", fgColor="FFF9DB")
    unlocked = Protection(locked=False)
    ws["B1"] = f"Collection sheet: {sheet.title}"
    for field in COLLECTION_SHEET.header_fields:
        ws[field.label_cell.split(":")[0]] = field.label
    ws["C2"], ws["C3"], ws["C4"] = sheet.office_name, sheet.staff_name, sheet.title
    ws["C5"] = sheet.meeting_date
    for column in grid.columns:
        ws.cell(COLLECTION_SHEET.section_row, column.index + 1, column.spec.section)
        ws.cell(COLLECTION_SHEET.header_row, column.index + 1, column.header)
        ws.cell(COLLECTION_SHEET.key_row, column.index + 1, column.key)
    collected = [c for c in grid.columns if c.spec.flow is Flow.COLLECTED]
    paid = [c for c in grid.columns if c.spec.flow is Flow.PAID_OUT]
    for (number, row), cells in zip(grid.rows, grid.cells, strict=True):
        ws.cell(number, 1, row.key)
        ws.cell(number, 2, row.name).data_type = "s"
        ws.cell(number, 3, row.entity_id)
        for column, due in cells:
            cell = ws.cell(number, column.index + 1)
            if due is None:
                cell.fill = na
                continue
            cell.fill, cell.protection = inp, unlocked
            if column.spec.type is CellType.CHOICE:
                cell.value = due.prefill
                continue
            cell.value = float(due.prefill) if due.prefill is not None else None
            cell.number_format = "#,##0.00"
            dv = DataValidation(type="decimal", operator="greaterThanOrEqual", formula1="0",
                                promptTitle=column.header[:32], prompt=due.message[:255],
                                showInputMessage=True)
            dv.add(cell.coordinate)
            ws.add_data_validation(dv)
        for total, cols in (("collected", collected), ("paid_out", paid)):
            refs = ",".join(f"{c.letter}{number}" for c in cols)
            ws.cell(number, grid.column(total).index + 1, f"=SUM({refs})")
    first, last = COLLECTION_SHEET.first_data_row, grid.totals_row - 1
    for column in grid.columns[3:]:
        if column.spec.type is CellType.MONEY:
            ws.cell(grid.totals_row, column.index + 1,
                    f"=SUM({column.letter}{first}:{column.letter}{last})")
    ws.cell(grid.cash_row, 2, CASH_LABEL)
    c, p = grid.column("collected").letter, grid.column("paid_out").letter
    ws.cell(grid.cash_row, grid.column("collected").index + 1,
            f"={c}{grid.totals_row}-{p}{grid.totals_row}")
    ws.protection.sheet = True
    ws.freeze_panes = f"D{COLLECTION_SHEET.first_data_row}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    meta = book.create_sheet(COLLECTION_SHEET.metadata_sheet)
    meta.sheet_state = "veryHidden"
    book.save(path)


def cpu_seconds() -> float:
    """CPU time of this process and of its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def best_cpu(work: Callable[[], object], repeat: int) -> float:
    """The least CPU time ``work`` took in ``repeat`` runs (the machine is shared: a run
    that a neighbour slowed down says nothing about the code)."""
    best = float("inf")
    for _ in range(repeat):
        start = cpu_seconds()
        work()
        best = min(best, cpu_seconds() - start)
    return best


def measure(label: str, sheets: int, rows: int, work: Callable[[], object],
            repeat: int) -> float:
    """Run ``work`` and print sheets and rows per CPU-second (the best of ``repeat``
    runs); returns sheets/CPU-s."""
    return report(label, sheets, rows, best_cpu(work, repeat))


def report(label: str, sheets: int, rows: int, cpu: float) -> float:
    print(f"  {label:<46} {sheets:5d} sheets {rows / sheets:5.1f} rows/sheet"
          f"  {cpu:6.2f} CPU-s  {sheets / cpu:7.1f} sheets/CPU-s  {rows / cpu:7.0f} rows/CPU-s")
    return sheets / cpu


def peak_mb(work: Callable[[], object]) -> float:
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def cached_database(cache: Path, scale: int, large: int) -> Path:
    """The demo at ``scale`` plus the large branch, built once (the key covers the code
    that builds it and the schema)."""
    sources = [Path(demo.__file__),
               *sorted((Path(upgrade.__code__.co_filename).parent / "migrations" / "versions")
                       .glob("*.py"))]
    digest = hashlib.sha256(repr(LARGE_SHAPE).encode() + b"".join(
        p.read_bytes() for p in sources)).hexdigest()[:12]
    path = cache / f"collection-demo-s{scale}-l{large}-{digest}.sqlite3"
    if path.exists():
        print(f"database: {path} (cached)")
        return path
    cache.mkdir(parents=True, exist_ok=True)
    building = path.with_suffix(".building")
    building.unlink(missing_ok=True)
    ctx = _context(building, cache)
    upgrade(ctx.engine)
    start = time.perf_counter()
    ref = demo.load_demo(ctx, scale=scale)
    groups, clients = LARGE_SHAPE
    demo.build_branch(ctx, ref, name=LARGE_BRANCH, centers=large, groups_per_center=groups,
                      clients_per_group=clients)
    ctx.dispose()
    building.rename(path)
    print(f"database: built {path} in {time.perf_counter() - start:.0f} s (reused next time)")
    return path


def _context(db: Path, home: Path) -> AppContext:
    url = f"sqlite:///{db}"
    settings = Settings.resolve(home=home, database_url=url, today=TODAY,
                                secret_file=home / "signing.key")
    ensure_secret_file(settings.secret_file)
    return AppContext(settings, make_engine(url))


@dataclass
class Workload:
    """The sheets the engine generated, recomputed for the writers."""

    requests: list[DueRequest]
    sheets: list[DueSheet]
    grids: list[SheetLayout]
    signed: list[SignedMetadata]

    @property
    def rows(self) -> int:
        return sum(len(s.rows) for s in self.sheets)


def workload(ctx: AppContext, made: list[GeneratedSheet]) -> Workload:
    """The same sheets as ``made``, with their layout and signed metadata."""
    ring = load_key_ring(ctx.settings.secret_file)
    requests = [DueRequest(m.meeting_date, m.center_id, None if m.center_id else m.group_id)
                for m in made]
    with ctx.session_factory() as s:
        sheets = compute_due_many(s, requests, today=TODAY)
    signed = [sign_metadata(ring, workbook_id=f"bench-{i}", kind=COLLECTION_SHEET.name,
                            template_version=COLLECTION_SHEET.template_version,
                            center_id=sh.center_id, group_id=sh.group_id,
                            meeting_date=sh.meeting_date, generated_at=dt.datetime(2026, 3, 2))
              for i, sh in enumerate(sheets)]
    return Workload(requests, sheets, [layout(sh) for sh in sheets], signed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100,
                        help="copies of the demo's branch network (default 100)")
    parser.add_argument("--large", type=int, default=200,
                        help="centers of about 40 rows in a further branch (default 200)")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "workbook-engine-bench",
                        help="where the loaded database is kept between runs")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measure, the best one reported (default 3)")
    parser.add_argument("--memory-sample", type=int, default=50,
                        help="sheets written for the writers' peak memory (default 50)")
    args = parser.parse_args()
    source = cached_database(args.cache, args.scale, args.large)
    work = Path(tempfile.mkdtemp(prefix="wbe-bench-"))
    try:
        db = work / "bench.sqlite3"
        shutil.copyfile(source, db)
        ctx = _context(db, work)
        with ctx.session_factory() as s:
            with_sheets = set(s.scalars(select(Center.office_id))) | set(s.scalars(
                select(Group.office_id).where(Group.center_id.is_(None))))
            offices = {o.name: o.id for o in s.scalars(select(Office)) if o.id in with_sheets}
            payment_types = list(s.scalars(select(PaymentType.name).where(PaymentType.active)
                                           .order_by(PaymentType.position, PaymentType.id)))
        large = [offices[LARGE_BRANCH]]
        demo_offices = [i for n, i in sorted(offices.items()) if n != LARGE_BRANCH]
        codes = collection_rules(ctx.rules).attendance_codes
        out = work / "out"
        out.mkdir()
        # One sheet first, not counted: SQL compilation and the styles are one-time costs.
        generate_collection_sheets(ctx, actor_id=None, out_dir=out / "warm",
                                   center_id=_first_center(ctx))
        print(f"demo at scale {args.scale} and {args.large} centers of ~40 rows; CPU time of "
              "one process on one core:")
        results = {}
        for label, branch in ((f"demo at scale {args.scale}", demo_offices),
                              ("40-row centers", large)):
            made: list[GeneratedSheet] = []

            def end_to_end(branch: list[int] = branch, made: list = made) -> None:
                made.clear()
                for office in branch:
                    made.extend(generate_collection_sheets(
                        ctx, actor_id=None, out_dir=out / "engine", office_id=office))

            cpu = best_cpu(end_to_end, args.repeat)
            load = workload(ctx, made)
            n, rows = len(made), load.rows
            print(f"{label}: {n} sheets (each center and group at its next meeting), "
                  f"{rows} rows ({rows / n:.1f} rows a sheet)")
            results[label] = report("engine end to end (DB, write, sign, record)", n, rows,
                                    cpu)

            def due_only(load: Workload = load) -> None:
                with ctx.session_factory() as s:
                    for i in range(0, len(load.requests), BATCH):  # as the engine batches
                        with paused_gc():
                            compute_due_many(s, load.requests[i:i + BATCH], today=TODAY)

            def engine_writer(load: Workload = load, count: int | None = None) -> None:
                n = len(load.sheets) if count is None else count
                for start in range(0, n, BATCH):  # as the engine batches
                    with paused_gc():
                        for i in range(start, min(n, start + BATCH)):
                            write_collection_sheet(
                                out / f"x{i}.xlsx", load.sheets[i], load.grids[i],
                                load.signed[i], payment_types=payment_types,
                                attendance_codes=codes)

            def baseline(load: Workload = load, count: int | None = None) -> None:
                for i in range(len(load.sheets) if count is None else count):
                    openpyxl_write(out / f"o{i}.xlsx", load.sheets[i], load.grids[i])

            measure("  what is due alone (the DB work)", n, rows, due_only, args.repeat)
            measure("engine writer alone", n, rows, engine_writer, args.repeat)
            measure("baseline: plain openpyxl writer", n, rows, baseline, args.repeat)
            sample = min(args.memory_sample, n)
            print(f"  peak traced memory: engine end to end {peak_mb(end_to_end):.1f} MB "
                  f"({n} sheets, one unit of work per branch); writing {sample} sheets: "
                  f"engine {peak_mb(lambda: engine_writer(count=sample)):.1f} MB, "
                  f"openpyxl {peak_mb(lambda: baseline(count=sample)):.1f} MB")
        rate = results["40-row centers"]
        print(f"target: {TARGET} sheets of 40 rows per CPU-second end to end: {rate:.0f} "
              f"({'met' if rate >= TARGET else 'NOT met'})")
        print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f}"
              " MB")
        ctx.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _first_center(ctx: AppContext) -> int:
    with ctx.session_factory() as s:
        return s.scalar(select(Center.id).order_by(Center.id).limit(1))  # type: ignore[return-value]


if __name__ == "__main__":
    main()
