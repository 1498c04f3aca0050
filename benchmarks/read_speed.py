"""Milliseconds per file: read_workbook vs plain openpyxl (read-only) vs plain python-calamine.

Usage: python3 benchmarks/read_speed.py [ROWS COLUMNS [REPEATS]]
Generates the workbook (text, numbers, dates, one formula column) in a temp dir.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import openpyxl
import python_calamine

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from workbook_engine.workbooks.safe_read import read_workbook  # noqa: E402


def make_file(path: Path, rows: int, cols: int, formulas: bool) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Collection"
    for r in range(1, rows + 1):
        row: list[object] = []
        for c in range(1, cols + 1):
            if c == 1:
                row.append(f"07{r:08d}")
            elif c == 2:
                row.append(date(2024, 1, 1) + timedelta(days=r))
            elif formulas and c == cols:
                row.append(f"=C{r}*2")
            elif c % 3 == 0:
                row.append(r * c + 0.25)
            else:
                row.append(f"client {r}-{c}")
        ws.append(row)
    wb.save(path)


def with_openpyxl(path: Path) -> None:
    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        for _row in ws.iter_rows(values_only=True):
            pass
    wb.close()


def with_calamine(path: Path) -> None:
    wb = python_calamine.CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()


def bench(fn: Callable[[Path], object], path: Path, repeats: int) -> tuple[float, float]:
    fn(path)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(path)
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), min(times)


def main() -> None:
    sizes = [(40, 20), (2000, 20), (20000, 20)]
    repeats = 20
    if len(sys.argv) >= 3:
        sizes = [(int(sys.argv[1]), int(sys.argv[2]))]
    if len(sys.argv) >= 4:
        repeats = int(sys.argv[3])
    with tempfile.TemporaryDirectory() as tmp:
        for rows, cols in sizes:
            for formulas in (False, True):
                path = Path(tmp) / f"b{rows}x{cols}{'f' if formulas else ''}.xlsx"
                make_file(path, rows, cols, formulas)
                label = f"{rows}x{cols}{' +formulas' if formulas else ''} ({path.stat().st_size / 1024:.0f} KiB)"
                reps = max(3, repeats if rows <= 2000 else repeats // 4)
                for name, fn in (("read_workbook", read_workbook), ("openpyxl read_only", with_openpyxl),
                                 ("python_calamine", with_calamine)):
                    med, best = bench(fn, path, reps)
                    print(f"{label:34} {name:20} median {med:8.2f} ms   min {best:8.2f} ms")


if __name__ == "__main__":
    main()
