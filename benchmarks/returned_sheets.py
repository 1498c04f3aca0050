"""Processing returned 40-row collection sheets: read + validate + preview, ms per sheet.

Builds a center of 37 clients (40 rows with center, group... and totals), generates its sheet,
fills it, then times N sheets through the engine's path (safe_read in a child process ->
reader by keys -> pandera + business rules -> preview rows; the .xlsx/HTML report writing is
timed separately), next to a plain ``pandas.read_excel`` + pandera baseline on the same file.

    PYTHONPATH=$PWD python3 benchmarks/returned_sheets.py [N]
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from tests.conftest import KILIMANI_MEETING, _kilimani, make_context
from tests.support.databases import fresh_database
from workbook_engine.domain import GeneratedWorkbook, Group
from workbook_engine.reports.collection_report import ReportData, write_html_report
from workbook_engine.services.collection_rules import collection_rules
from workbook_engine.services.collection_sheets import generate_collection_sheets
from workbook_engine.services.processing import _preview_rows
from workbook_engine.validation.collection import validate_sheet
from workbook_engine.workbooks.collection_reader import read_collection_sheet
from workbook_engine.workbooks.collection_sheet import COLLECTION_SHEET
from workbook_engine.workbooks.filling import fill_sheet
from workbook_engine.workbooks.safe_read import read_workbook


def main(n: int) -> None:
    tmp = Path(tempfile.mkdtemp())
    with fresh_database("sqlite", tmp) as url:
        ctx = make_context(tmp, url, KILIMANI_MEETING)
        world = _kilimani(ctx)
        with ctx.unit_of_work(None) as uow:  # grow Umoja to 37 clients (40 rows)
            from workbook_engine.services.demo import _Builder

            builder = _Builder(uow.session)
            group = uow.session.query(Group).first()
            for i in range(33):
                builder.client(group, f"Client{i}", "Bench", KILIMANI_MEETING.replace(day=1),
                               mobile=f"07990{i:05d}")
            uow.commit()
        sheet = generate_collection_sheets(ctx, actor_id=None, out_dir=tmp / "gen",
                                           center_id=world.center_id)[0]
        with ctx.session_factory() as s:
            expected = s.get(GeneratedWorkbook, sheet.workbook_id).expected
        filled = fill_sheet(sheet.path, tmp / "filled.xlsx", expected, header={
            "payment_type": "Cash", "receipt_number": "R1", "receipt_date": "2026-03-03"},
            cells={("Amina Wanjiku", "repayment"): 925.64})
        rules = collection_rules(ctx.rules)
        rows = len(expected["rows"])
        engine_times, report_times = [], []
        with ctx.session_factory() as s:
            for _ in range(n):
                t0 = time.perf_counter()
                book = read_workbook(filled)
                returned = read_collection_sheet(book, COLLECTION_SHEET, expected)
                result = validate_sheet(s, returned, expected, kind=COLLECTION_SHEET,
                                        rules=rules, today=KILIMANI_MEETING)
                preview = _preview_rows(expected, result)
                t1 = time.perf_counter()
                write_html_report(ReportData(
                    "bench", "f", 1, "invalid", 1, None, None, None, None,
                    __import__("datetime").datetime.now(), [p.as_dict() for p in
                                                             result.problems],
                    preview, [], result.collected, result.paid_out, "m"), tmp / "r.html")
                report_times.append(time.perf_counter() - t1)
                engine_times.append(t1 - t0)
        money = [c["key"] for c in expected["columns"] if c["input"]
                 and c["family"] != "attendance"]
        schema = pa.DataFrameSchema({k: pa.Column(float, pa.Check.ge(0), nullable=True)
                                     for k in money}, strict=False)
        base_times = []
        for _ in range(n):
            t0 = time.perf_counter()
            frame = pd.read_excel(filled, sheet_name=COLLECTION_SHEET.data_sheet, header=None,
                                  skiprows=expected["key_row"] - 1, engine="calamine")
            frame.columns = [str(c) for c in frame.iloc[0]]
            frame = frame.iloc[1:rows + 1]
            frame = frame[[k for k in money if k in frame.columns]].apply(
                pd.to_numeric, errors="coerce")
            try:
                schema.validate(frame, lazy=True)
            except pa.errors.SchemaErrors:
                pass
            base_times.append(time.perf_counter() - t0)
    ms = lambda xs: sorted(xs)[len(xs) // 2] * 1000  # noqa: E731 - median
    print(f"{n} returned sheets of {rows} rows (median per sheet):")
    print(f"  engine read (child process) + validate + preview : {ms(engine_times):7.1f} ms")
    print(f"  HTML report                                      : {ms(report_times):7.1f} ms")
    print(f"  baseline pandas.read_excel(calamine) + pandera    : {ms(base_times):7.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 1000)
