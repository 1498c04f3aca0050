"""Client import of N rows (default 100,000): read+validate, posting, report, peak memory.

Usage: python3 benchmarks/client_import.py [ROWS]

Prints, on the same file:
* read+validate rows/s: the engine (safe_read child process + reader + the client validators)
  next to a plain ``pandas.read_excel(engine="openpyxl")`` + the pandera schema of the same
  declaration (run in a separate process so it does not count in our memory);
* posting rows/s on SQLite (set-based inserts: clients, status history, audit, ledger);
* the time to write the row-by-row report (streamed with xlsxwriter);
* peak memory (max RSS) of the whole import, the reader's child process included.
"""

from __future__ import annotations

import datetime as dt
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.conftest import make_context  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from workbook_engine.reports.client_import_report import report_content  # noqa: E402
from workbook_engine.services.client_import import (  # noqa: E402
    _template_data,
    generate_client_template,
    load_reference,
    post_rows,
)
from workbook_engine.services.demo import build_reference  # noqa: E402
from workbook_engine.validation.client_import import validate_import  # noqa: E402
from workbook_engine.workbooks.client_import_reader import read_client_import  # noqa: E402
from workbook_engine.workbooks.client_import_writer import (  # noqa: E402
    ReportContent,
    ReportRow,
    write_client_workbook,
)
from workbook_engine.workbooks.metadata import read_and_verify  # noqa: E402
from workbook_engine.workbooks.safe_read import read_workbook  # noqa: E402
from workbook_engine.workbooks.signing import load_key_ring  # noqa: E402

BASELINE = """
import sys, time
import pandas as pd
sys.path.insert(0, {root!r})
from workbook_engine.workbooks.client_import_sheet import pandera_schema
t = time.perf_counter()
df = pd.read_excel({path!r}, sheet_name="Clients", engine="openpyxl", skiprows=[1],
                   dtype={{"Mobile number": str}})
df = df.dropna(how="all", subset=[c for c in df.columns if c not in ("Row key *",)])
pandera_schema("person").validate(df, lazy=True)
print(len(df), time.perf_counter() - t)
"""


def _rss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def make_file(ctx, path: Path, rows: int) -> None:  # noqa: ANN001
    """A filled template of ``rows`` distinct valid clients, written by the engine's writer."""
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=path.parent / "t")
    ring = load_key_ring(ctx.settings.secret_file)
    meta = read_and_verify(template.path, ring)
    from workbook_engine.workbooks.metadata import SignedMetadata

    key_id, signature = ring.sign(meta.payload())
    with ctx.session_factory() as s:
        from workbook_engine.domain import Office

        ref = load_reference(ctx, s, office_id=2, legal_form="person", workbook_id=None)
        data = _template_data(ref, "person", s.get(Office, 2), None, 0)
    genders = ("Female", "Male")
    content = ReportContent({"Clients": [ReportRow(3 + i, str(i + 1), {
        "office": "Nairobi East", "first_name": f"First{i}", "last_name": f"Last{i}",
        "mobile_no": f"07{i:08d}", "gender": genders[i % 2], "client_type": "Individual",
        "external_id": f"X{i:07d}", "staff": "Wanjiru Kamau",
        "date_of_birth": dt.date(1970 + i % 30, 1 + i % 12, 1 + i % 28),
        "submitted_on": dt.date(2026, 3, 1), "active": "Yes",
        "activation_date": dt.date(2026, 3, 2)}, "", True) for i in range(rows)]}, [], "")
    write_client_workbook(path, data, SignedMetadata(meta, signature), report=content)


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        with fresh_database("sqlite", tmp) as url:
            ctx = make_context(tmp, url, dt.date(2026, 3, 3))
            build_reference(ctx)
            path = tmp / "clients.xlsx"
            t = time.perf_counter()
            make_file(ctx, path, rows)
            print(f"{rows:,} client rows, file {path.stat().st_size / 2**20:.1f} MB "
                  f"(written in {time.perf_counter() - t:.1f} s)")

            t0 = time.perf_counter()
            raw = read_workbook(path)
            t1 = time.perf_counter()
            book = read_client_import(raw, "person")
            del raw
            with ctx.session_factory() as s:
                ref = load_reference(ctx, s, office_id=2, legal_form="person",
                                     workbook_id=None)
            validation = validate_import(book, ref, file_name=path.name)
            t2 = time.perf_counter()
            valid = [o for o in validation.outcomes if o.state == "valid"]
            assert len(valid) == rows, (len(valid), validation.problems[:3])
            ours = rows / (t2 - t0)
            print(f"engine read+validate: {t2 - t0:6.1f} s  {ours:9,.0f} rows/s  "
                  f"(safe read {t1 - t0:.1f} s, reader+validators {t2 - t1:.1f} s)")

            out = subprocess.run([sys.executable, "-c", BASELINE.format(
                root=str(Path(__file__).resolve().parent.parent), path=str(path))],
                capture_output=True, text=True, check=True)
            n, seconds = out.stdout.split()
            base = int(n) / float(seconds)
            print(f"pandas(openpyxl)+pandera: {float(seconds):6.1f} s  {base:9,.0f} rows/s  "
                  f"-> engine is {ours / base:.1f}x faster (target 5x)")

            with ctx.unit_of_work(None) as uow:
                from workbook_engine.domain import Submission

                sub = Submission(kind="client_import", file_sha256="0" * 64,
                                 original_name=path.name)
                uow.session.add(sub)
                uow.session.flush()
                t = time.perf_counter()
                post_rows(uow.session, valid, submission_id=sub.id, workbook_id=None,
                          actor_id=None, now=uow.now)
                uow.commit()
                seconds = time.perf_counter() - t
            print(f"posting on SQLite:    {seconds:6.1f} s  {rows / seconds:9,.0f} rows/s  "
                  "(target: 100k in < 60 s)")

            t = time.perf_counter()
            with ctx.session_factory() as s:
                from workbook_engine.domain import Office

                data = _template_data(ref, "person", s.get(Office, 2), None, 0)
            meta = read_and_verify(path, load_key_ring(ctx.settings.secret_file))
            from workbook_engine.workbooks.metadata import SignedMetadata

            key_id, sig = load_key_ring(ctx.settings.secret_file).sign(meta.payload())
            write_client_workbook(tmp / "report.xlsx", data, SignedMetadata(meta, sig),
                                  report=report_content(book, validation, summary="done"))
            print(f"report written:       {time.perf_counter() - t:6.1f} s  (streamed, "
                  f"{(tmp / 'report.xlsx').stat().st_size / 2**20:.1f} MB)")
            print(f"peak memory: engine process {_rss_mb(resource.RUSAGE_SELF):.0f} MB, "
                  f"largest child (safe-read parser or pandas baseline) "
                  f"{_rss_mb(resource.RUSAGE_CHILDREN):.0f} MB (target < 500 MB)")
            ctx.dispose()


if __name__ == "__main__":
    main()
