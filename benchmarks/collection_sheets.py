"""Benchmark: collection sheets for the demo institution, next to a plain openpyxl writer.

    PYTHONPATH=. python3 benchmarks/collection_sheets.py --scale 100

Loads the demo at ``--scale`` (9 centers and 3 center-less groups per copy) into a fresh
SQLite database, then measures in one run:

1. the engine, end to end: ``generate_collection_sheets`` for the whole branch of each
   center at its last meeting on or before today (database queries, xlsxwriter, signing, recording);
2. the engine's writer alone (xlsxwriter) on the same, precomputed due sheets;
3. a plain openpyxl writer of the same layout (cells, fills, locks, validations, formulas,
   protection) on the same due sheets: the baseline.

Sheets/second are timed without tracing; peak memory is measured by tracemalloc in a
separate pass over the first sheets.
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from openpyxl.styles import PatternFill, Protection  # noqa: E402
from openpyxl.worksheet.datavalidation import DataValidation  # noqa: E402
from sqlalchemy import select  # noqa: E402

from workbook_engine.config import Settings  # noqa: E402
from workbook_engine.db.engine import make_engine  # noqa: E402
from workbook_engine.db.migrate import upgrade  # noqa: E402
from workbook_engine.domain import Center  # noqa: E402
from workbook_engine.domain.calendar import previous_meeting_on_or_before  # noqa: E402
from workbook_engine.services.collection_due import compute_due  # noqa: E402
from workbook_engine.services.collection_sheets import generate_collection_sheets  # noqa: E402
from workbook_engine.services.context import AppContext  # noqa: E402
from workbook_engine.services.demo import load_demo  # noqa: E402
from workbook_engine.workbooks.collection_sheet import (  # noqa: E402
    CASH_LABEL,
    COLLECTION_SHEET,
    cell_due,
    layout,
)
from workbook_engine.workbooks.collection_writer import write_collection_sheet  # noqa: E402
from workbook_engine.workbooks.declaration import CellType, Flow  # noqa: E402
from workbook_engine.workbooks.metadata import sign_metadata  # noqa: E402
from workbook_engine.workbooks.signing import ensure_secret_file, load_key_ring  # noqa: E402

TODAY = dt.date(2026, 3, 3)


def openpyxl_write(path: Path, sheet, grid) -> None:  # noqa: ANN001
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
    for number, row in grid.rows:
        ws.cell(number, 1, row.key)
        ws.cell(number, 2, row.name).data_type = "s"
        ws.cell(number, 3, row.entity_id)
        for column in grid.columns:
            if not column.spec.input:
                continue
            cell = ws.cell(number, column.index + 1)
            due = cell_due(row, column, sheet.currency_digits)
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
            cells = ",".join(f"{c.letter}{number}" for c in cols)
            ws.cell(number, grid.column(total).index + 1, f"=SUM({cells})")
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


def timed(label: str, count: int, rows: int, work: Callable[[], None]) -> float:
    start, cpu = time.perf_counter(), time.process_time()
    work()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    _line(label, count, rows, seconds, cpu)
    return seconds


def _line(label: str, count: int, rows: int, seconds: float, cpu: float) -> None:
    # CPU time is shown too: on a shared machine the wall clock includes waiting for a core.
    print(f"  {label:<52} {count:5d} sheets {seconds:6.2f} s wall {count / seconds:6.1f}/s"
          f"  {cpu:6.2f} s CPU {count / cpu:6.1f}/s  {rows / cpu:6.0f} rows/CPU-s")


def peak_mb(work: Callable[[], None]) -> float:
    tracemalloc.start()
    work()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100,
                        help="copies of the demo's branch network (default 100)")
    parser.add_argument("--memory-sample", type=int, default=20,
                        help="sheets traced for peak memory (default 20)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="wbe-bench-"))
    try:
        db = work / "bench.sqlite3"
        engine = make_engine(f"sqlite:///{db}")
        upgrade(engine)
        settings = Settings.resolve(home=work, database_url=f"sqlite:///{db}", today=TODAY,
                                    secret_file=work / "signing.key")
        ensure_secret_file(settings.secret_file)
        ctx = AppContext(settings, engine)
        t0 = time.perf_counter()
        load_demo(ctx, scale=args.scale)
        print(f"demo loaded at scale {args.scale} in {time.perf_counter() - t0:.1f} s")
        with ctx.session_factory() as s:
            centers = [(c.id, previous_meeting_on_or_before(c.meeting_rule, TODAY))
                       for c in s.scalars(select(Center).order_by(Center.id))]
            sheets = [compute_due(s, center_id=cid, meeting_date=date, today=TODAY)
                      for cid, date in centers]
        rows = sum(len(sh.rows) for sh in sheets)
        print(f"{len(sheets)} centers, {rows} rows ({rows / len(sheets):.1f} rows a sheet)")
        ring = load_key_ring(settings.secret_file)
        grids = [layout(sh) for sh in sheets]
        signed = [sign_metadata(ring, workbook_id=f"bench-{i}", kind="collection_sheet",
                                template_version=1, center_id=sh.center_id, group_id=None,
                                meeting_date=sh.meeting_date,
                                generated_at=dt.datetime(2026, 3, 2))
                  for i, sh in enumerate(sheets)]
        names = ["Cash", "M-Pesa", "Bank transfer"]
        codes = {"P": "Present", "L": "Late", "A": "Absent", "AA": "Approved absence"}
        out = work / "out"
        out.mkdir()

        produced: list = []

        def engine_end_to_end() -> None:
            # As `sheets collection --office ID`: every center and group of each branch at
            # its next meeting within the horizon, in one unit of work per branch.
            for office_id in offices:
                produced.extend(generate_collection_sheets(
                    ctx, actor_id=None, out_dir=out / "engine", office_id=office_id))

        def xlsxwriter_only(n: int = len(sheets)) -> None:
            for i in range(n):
                write_collection_sheet(out / f"x{i}.xlsx", sheets[i], grids[i], signed[i],
                                       payment_types=names, attendance_codes=codes)

        def due_only() -> None:
            with ctx.session_factory() as s:
                for cid, date in centers:
                    compute_due(s, center_id=cid, meeting_date=date, today=TODAY)

        def openpyxl_only(n: int = len(sheets)) -> None:
            for i in range(n):
                openpyxl_write(out / f"o{i}.xlsx", sheets[i], grids[i])

        with ctx.session_factory() as s:
            offices = sorted({c.office_id for c in s.scalars(select(Center))})
        print("timings (one process, one core):")
        start, cpu = time.perf_counter(), time.process_time()
        engine_end_to_end()
        _line("engine end to end, --office (DB+write+sign+record)", len(produced),
              sum(g.rows for g in produced), time.perf_counter() - start,
              time.process_time() - cpu)
        timed("what is due only (DB queries)", len(sheets), rows, due_only)
        timed("engine writer only (xlsxwriter)", len(sheets), rows, xlsxwriter_only)
        timed("baseline: plain openpyxl writer", len(sheets), rows, openpyxl_only)
        n = min(args.memory_sample, len(sheets))
        print(f"peak traced memory over {n} sheets:")
        print(f"  engine writer (xlsxwriter)  {peak_mb(lambda: xlsxwriter_only(n)):7.1f} MB")
        print(f"  baseline openpyxl writer    {peak_mb(lambda: openpyxl_only(n)):7.1f} MB")
        import resource

        print(f"process max RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3:.0f}"
              " MB")
        ctx.dispose()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
