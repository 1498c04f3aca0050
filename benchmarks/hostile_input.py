"""What refusing a hostile file costs: CPU time and peak memory, next to plain baselines.

Usage: python3 benchmarks/hostile_input.py [--no-naive]

Each measurement runs in a fresh forked process; it reports CPU seconds (user + system of the
process and of the children it waited for: the safe reader parses in a child) and the peak
resident memory (ru_maxrss) of the process and of its children. Wall time is not used: the
machine is shared.

Files (generated here, as tests/hostile/corpus.py does): a valid 20-row sheet; a zip bomb whose
one part claims and inflates to 5 GiB; one that claims 1 KiB and inflates to 1 GiB; a sheet
with a million formatted empty cells (declared range A1:Q1000000, and one declaring A1:Q18);
a sheet with one stray value at Q1000000. Baselines: reading the valid sheet with
read_workbook; a naive reader on the same hostile files (inflating the bomb's part to the end;
python-calamine reading the sheet with the stray value; openpyxl loading the million-row
sheet, as the highlighted report did in the engine's own process before issue 8).
``--no-naive`` skips the naive readers (seconds of CPU and up to a gigabyte each).
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import openpyxl.styles

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tests.hostile.corpus import million_rows_member, rewrite_zip, zip_bomb_file  # noqa: E402, I001
from workbook_engine.workbooks.safe_read import UnreadableFile, read_workbook  # noqa: E402


def valid_sheet(path: Path, far_value: bool = False) -> Path:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Collection sheet"
    for r in range(1, 21):
        ws.append([f"client:{r}", f"Client {r}", r, *[100.25 * c for c in range(14)]])
    ws["A1"].font = openpyxl.styles.Font(bold=True)  # a second cell style: s="1"
    if far_value:
        ws["Q1000000"] = 1  # one stray value: the used range becomes A1:Q1000000
    book.save(path)
    return path


def _measure(fn: Callable[[], str], conn: object) -> None:
    try:
        outcome = fn()
    except UnreadableFile as refused:
        outcome = f"refused: {refused.code}"
    except MemoryError:
        outcome = "MemoryError"
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime
    peak = max(me.ru_maxrss, kids.ru_maxrss) / 1024
    conn.send((outcome, cpu, peak))  # type: ignore[attr-defined]


def measure(label: str, fn: Callable[[], str]) -> None:
    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    child = ctx.Process(target=_measure, args=(fn, send))
    child.start()
    child.join()
    if recv.poll():
        outcome, cpu, peak = recv.recv()
        print(f"{label:58} {cpu:7.2f} s CPU  {peak:8.0f} MB peak  {outcome}")
    else:
        print(f"{label:58} died (exit code {child.exitcode})")


def inflate_all(path: Path) -> str:
    total = 0
    try:
        with zipfile.ZipFile(path) as book, book.open("xl/media/image1.png") as part:
            while chunk := part.read(1 << 20):
                total += len(chunk)
    except zipfile.BadZipFile:  # the bomb's CRC is not even right: noticed at the very end
        pass
    return f"inflated {total / 2**30:.1f} GiB"


def calamine_all(path: Path) -> str:
    import python_calamine

    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_index(0)
    return f"{len(sheet.to_python())} rows"


def openpyxl_all(path: Path) -> str:
    book = openpyxl.load_workbook(path)  # as the highlighted report used to, in the engine
    return f"{book.worksheets[0].max_row} rows"


def main() -> None:
    naive = "--no-naive" not in sys.argv
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        valid = valid_sheet(folder / "valid.xlsx")
        bomb = zip_bomb_file(valid, folder / "bomb.xlsx", inflated=5 * 2**30)
        liar = zip_bomb_file(valid, folder / "liar.xlsx", inflated=2**30, declared=1024)
        honest = rewrite_zip(valid, folder / "rows.xlsx",
                             {"xl/worksheets/sheet1.xml": million_rows_member(True)})
        hidden = rewrite_zip(valid, folder / "rows-hidden.xlsx",
                             {"xl/worksheets/sheet1.xml": million_rows_member(False)})
        far = valid_sheet(folder / "far.xlsx", far_value=True)
        for path in (valid, bomb, liar, honest, hidden, far):
            print(f"{path.name:16} {path.stat().st_size / 2**20:8.2f} MB on disk")
        print("CPU = user + system of the process and its children; memory = ru_maxrss.")
        measure("baseline: read_workbook, valid 20-row sheet",
                lambda: f"{len(read_workbook(valid).sheets)} sheet(s)")
        measure("read_workbook, zip bomb (5 GiB declared)", lambda: str(read_workbook(bomb)))
        measure("read_workbook, zip bomb (1 KiB declared, 1 GiB real)",
                lambda: str(read_workbook(liar)))
        measure("read_workbook, 1M empty rows (range A1:Q1000000)",
                lambda: str(read_workbook(honest)))
        measure("read_workbook, 1M empty rows (range A1:Q18)",
                lambda: str(read_workbook(hidden)))
        measure("read_workbook, one stray value at Q1000000", lambda: str(read_workbook(far)))
        if naive:
            measure("naive: inflate the 5 GiB part to the end", lambda: inflate_all(bomb))
            measure("naive: python-calamine, one stray value at Q1000000",
                    lambda: calamine_all(far))
            measure("naive: openpyxl load, 1M empty rows (A1:Q18)",
                    lambda: openpyxl_all(hidden))


if __name__ == "__main__":
    main()
