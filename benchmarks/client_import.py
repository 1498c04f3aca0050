"""Client import of N rows (default 100,000): read+validate, posting, report, peak memory.

Usage: PYTHONPATH=. python3 benchmarks/client_import.py [ROWS]

Makes a filled template of ROWS distinct valid clients (the engine's own writer) in a fresh
SQLite database, then runs each measurement in a fresh Python process, so that one's memory
does not count in another's:

1. ``phases``: the import step by step, as the services do it: the safe read (a child process
   with limits), the reader, validation; the streamed report; posting on SQLite.
2. ``baseline``: a plain ``pandas.read_excel(engine="openpyxl")`` of the Clients sheet and
   the pandera schema of the same declaration (``client_import_sheet.pandera_schema``).
3. ``services``: the whole import through the real entry points: ``process_file`` (read,
   validate, preview report) then ``approve_submission`` (read and validate again, post,
   posted report).

Times are CPU seconds (``time.process_time`` of the process plus ``RUSAGE_CHILDREN`` for the
safe-read child): the machine is shared, so wall time would measure the neighbours too. Wall
time is shown in brackets where the database's own waiting matters (posting). Peak memory is
the max RSS of the measuring process and of its largest child (the safe-read parser).
"""

from __future__ import annotations

import datetime as dt
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TODAY = dt.date(2026, 3, 3)


def cpu() -> float:
    """CPU seconds of this process and of its finished children (the safe-read parser)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def peak_mb() -> dict[str, float]:
    """Max RSS so far of this process and of its largest finished child, in MB."""
    return {"parent_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "child_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def context(home: str, url: str) -> Any:
    from tests.conftest import make_context

    return make_context(Path(home), url, TODAY)


def make_file(ctx: Any, path: Path, rows: int) -> None:
    """A filled template of ``rows`` distinct valid clients, written by the engine's writer."""
    from workbook_engine.domain import Office
    from workbook_engine.services.imports.client_import import (
        _template_data,
        generate_client_template,
        load_reference,
    )
    from workbook_engine.workbooks.client_import_writer import (
        ReportContent,
        ReportRow,
        write_client_workbook,
    )
    from workbook_engine.workbooks.metadata import SignedMetadata, read_and_verify
    from workbook_engine.workbooks.signing import load_key_ring

    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=path.parent / "t")
    ring = load_key_ring(ctx.settings.secret_file)
    meta = read_and_verify(template.path, ring)
    _, signature = ring.sign(meta.payload())
    with ctx.session_factory() as s:
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


def timed(what: Callable[[], Any]) -> tuple[Any, float, float]:
    """(result, CPU seconds, wall seconds)."""
    start_cpu, start_wall = cpu(), time.perf_counter()
    result = what()
    return result, cpu() - start_cpu, time.perf_counter() - start_wall


def run_phases(home_dir: str, url: str, file: str) -> dict[str, Any]:
    """The import step by step, with the services' own functions and data lifetimes."""
    from workbook_engine.domain import Office, Submission
    from workbook_engine.reports.client_import_report import report_content
    from workbook_engine.services.imports.client_import import (
        _identify,
        _template_data,
        load_reference,
        post_rows,
    )
    from workbook_engine.services.imports.common import archived_metadata
    from workbook_engine.validation.client_import import VALID, validate_import
    from workbook_engine.workbooks.client_import_sheet import CLIENT_IMPORT
    from workbook_engine.workbooks.client_import_writer import write_client_workbook
    from workbook_engine.workbooks.metadata import SignedMetadata
    from workbook_engine.workbooks.safe_read import read_workbook
    from workbook_engine.workbooks.signing import load_key_ring

    ctx = context(home_dir, url)
    home, path = Path(home_dir), Path(file)
    out: dict[str, Any] = {}

    def read() -> Any:
        raw = read_workbook(path)
        out["read_cpu"] = cpu() - start
        metadata = archived_metadata(ctx, raw, path.name, CLIENT_IMPORT.metadata_sheet)
        with ctx.session_factory() as s:
            found = _identify(s, raw, metadata, path.name)  # releases raw
            ref = load_reference(ctx, s, office_id=found.office_id,
                                 legal_form=found.legal_form, workbook_id=found.workbook.id)
        return found, ref, metadata, validate_import(found.book, ref, file_name=path.name)

    start = cpu()
    (found, ref, metadata, validation), out["read_validate_cpu"], _ = timed(read)
    valid = validation.indices(VALID)
    assert len(valid) == len(validation.states), validation.problems[:3]
    out["rows"] = len(valid)

    def report() -> None:
        ring = load_key_ring(ctx.settings.secret_file)
        _, signature = ring.sign(metadata.payload())
        with ctx.session_factory() as s:
            data = _template_data(ref, found.legal_form, s.get(Office, found.office_id),
                                  None, 0)
        write_client_workbook(home / "report.xlsx", data, SignedMetadata(metadata, signature),
                              report=report_content(found.book, validation, summary="done"))

    _, out["report_cpu"], out["report_wall"] = timed(report)
    out["report_mb"] = (home / "report.xlsx").stat().st_size / 2**20

    def post() -> None:
        with ctx.unit_of_work(None) as uow:
            sub = Submission(kind="client_import", file_sha256="0" * 64,
                             original_name=path.name)
            uow.session.add(sub)
            uow.session.flush()
            post_rows(uow.session, validation, valid, submission_id=sub.id,
                      workbook_id=found.workbook.id, actor_id=None, now=uow.now)
            uow.commit()

    _, out["post_cpu"], out["post_wall"] = timed(post)
    ctx.dispose()
    return {**out, **peak_mb()}


def run_services(home: str, url: str, file: str) -> dict[str, Any]:
    """The whole import through process_file and approve_submission."""
    from workbook_engine.services.pipeline.processing import process_file
    from workbook_engine.services.pipeline.submissions import approve_submission

    ctx = context(home, url)
    result, process_cpu, _ = timed(lambda: process_file(ctx, Path(file), actor_id=None))
    assert result.status == "awaiting_approval", result.message
    view, approve_cpu, approve_wall = timed(lambda: approve_submission(
        ctx, submission_id=result.submission_id, by="Grace Wambui"))
    assert view["status"] == "posted", view
    ctx.dispose()
    return {"process_cpu": process_cpu, "approve_cpu": approve_cpu,
            "approve_wall": approve_wall, "imported": view["posting"]["imported"],
            **peak_mb()}


def run_baseline(file: str) -> dict[str, Any]:
    """pandas.read_excel (openpyxl) + the pandera schema of the same declaration."""
    import pandas as pd

    from workbook_engine.workbooks.client_import_sheet import pandera_schema

    def read() -> int:
        df = pd.read_excel(file, sheet_name="Clients", engine="openpyxl", skiprows=[1],
                           dtype={"Mobile number": str})
        df = df.dropna(how="all", subset=[c for c in df.columns if c not in ("Row key *",)])
        pandera_schema("person").validate(df, lazy=True)
        return len(df)

    rows, seconds, _ = timed(read)
    return {"rows": rows, "read_validate_cpu": seconds, **peak_mb()}


def in_process(mode: str, *args: str) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter; its JSON answer."""
    done = subprocess.run([sys.executable, __file__, f"--{mode}", *args], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1].startswith("--"):
        run = {"--phases": run_phases, "--services": run_services,
               "--baseline": run_baseline}[sys.argv[1]]
        print(json.dumps(run(*sys.argv[2:])))
        return
    from tests.support.databases import fresh_database
    from workbook_engine.services.setup.demo import build_reference

    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        home, path, other = tmp / "phases", tmp / "clients.xlsx", tmp / "services"
        start = time.perf_counter()
        with fresh_database("sqlite", home) as url:
            ctx = context(str(home), url)
            build_reference(ctx)
            make_file(ctx, path, rows)
            ctx.dispose()
        # The services post the same rows: their own copy of the database (which knows the
        # template) and of the signing key.
        shutil.copytree(home, other)
        print(f"{rows:,} client rows, file {path.stat().st_size / 2**20:.1f} MB (made in "
              f"{time.perf_counter() - start:.0f} s). Times are CPU seconds of the process "
              "and its children (the machine is shared); wall time in [brackets].")
        ours = in_process("phases", str(home), url, str(path))
        base = in_process("baseline", str(path))
        whole = in_process("services", str(other), f"sqlite:///{other / 'engine.sqlite3'}",
                           str(path))
    n = ours["rows"]
    ratio = base["read_validate_cpu"] / ours["read_validate_cpu"]
    print(f"read+validate  engine: {ours['read_validate_cpu']:6.2f} s {n / ours['read_validate_cpu']:9,.0f} "
          f"rows/s (safe read with its child {ours['read_cpu']:.2f} s; reader and validation "
          f"{ours['read_validate_cpu'] - ours['read_cpu']:.2f} s)")
    print(f"  pandas(openpyxl)+pandera: {base['read_validate_cpu']:6.2f} s "
          f"{base['rows'] / base['read_validate_cpu']:9,.0f} rows/s "
          f"-> engine is {ratio:.1f}x faster (target 5x)")
    print(f"posting on SQLite:     {ours['post_cpu']:6.2f} s {n / ours['post_cpu']:9,.0f} rows/s "
          f"[{ours['post_wall']:.1f} s wall] (target: 100k in < 60 s)")
    print(f"report (streamed xlsx): {ours['report_cpu']:5.2f} s [{ours['report_wall']:.1f} s "
          f"wall], {ours['report_mb']:.1f} MB")
    print(f"peak memory, step by step: engine process {ours['parent_mb']:.0f} MB, safe-read "
          f"child {ours['child_mb']:.0f} MB (target < 500 MB); baseline process "
          f"{base['parent_mb']:.0f} MB")
    print(f"whole import through the services: process_file {whole['process_cpu']:.1f} s, "
          f"approve_submission {whole['approve_cpu']:.1f} s [{whole['approve_wall']:.1f} s "
          f"wall], {whole['imported']:,} imported; peak memory: process "
          f"{whole['parent_mb']:.0f} MB, safe-read child {whole['child_mb']:.0f} MB")


if __name__ == "__main__":
    main()
