"""A live-loans migration workbook of N rows (default 1,000): dry run, approval, baseline.

Usage: python3 benchmarks/setup_import.py [ROWS]

On a fresh SQLite database with the demo's Kilimani center and N clients brought in by the
client import, prints CPU seconds (time.process_time() plus the children's, for the safe
reader's child process) and rows per CPU second of:

* ``process_file`` of a filled loans workbook: read, parse, the dry run (every row posted by
  ``migrate_loan_in`` in its own savepoint, then rolled back), the reconciliation and the
  report (xlsx and HTML);
* approving it: the same run committed, the ledger and the posted report;
* the baseline: the same N loans migrated one by one with ``migrate_loan`` (one transaction
  each, no workbook), on another fresh database.

CPU time, not wall time: the machine is shared.
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from tests.client_import.filling import fill as fill_clients  # noqa: E402
from tests.conftest import KILIMANI_MEETING, make_context  # noqa: E402
from tests.setup_import.filling import fill  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from workbook_engine.domain import Client, LoanProduct, Office  # noqa: E402
from workbook_engine.services.imports.client_import import generate_client_template  # noqa: E402
from workbook_engine.services.context import AppContext  # noqa: E402
from workbook_engine.services.setup.demo import build_kilimani, build_reference  # noqa: E402
from workbook_engine.services.imports.migration import LoanMigration, migrate_loan  # noqa: E402
from workbook_engine.services.pipeline.processing import process_file  # noqa: E402
from workbook_engine.services.imports.setup_import import generate_setup_template  # noqa: E402
from workbook_engine.services.pipeline.submissions import approve_submission  # noqa: E402

AS_OF = dt.date(2026, 2, 27)


def cpu() -> float:
    """CPU seconds of this process and its finished children."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def process_and_approve(ctx: AppContext, workbook: Path) -> tuple[float, float]:
    """CPU seconds to process a workbook (the dry run) and to approve it (the posting)."""
    start = cpu()
    result = process_file(ctx, workbook, actor_id=None)
    dry = cpu() - start
    assert result.status == "awaiting_approval", result.errors[:3]
    start = cpu()
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    return dry, cpu() - start


def world(ctx: AppContext, rows: int, work: Path) -> list[int]:
    """Kilimani and ``rows`` more clients in its group Umoja (through the client import)."""
    build_kilimani(ctx, build_reference(ctx))
    with ctx.session_factory() as s:
        office = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    template = generate_client_template(ctx, actor_id=None, office_id=office,
                                        legal_form="person", out_dir=work)
    filled = fill_clients(template.path, work / "clients.xlsx", [
        {"row_key": str(i), "office": "Nairobi East", "first_name": f"Client{i}",
         "last_name": "Migrated", "active": "Yes", "submitted_on": dt.date(2025, 6, 1),
         "activation_date": dt.date(2025, 6, 1), "group": "Umoja",
         "external_id": f"OLD-C-{i}"} for i in range(rows)])
    result = process_file(ctx, filled, actor_id=None)
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        return list(s.scalars(select(Client.id).where(Client.last_name == "Migrated")
                              .order_by(Client.id)))


def loan_figures(i: int) -> dict[str, object]:
    """The worked example of docs/migration.md, with arrears on every other loan."""
    arrears = 2200 if i % 2 else 0
    return {"principal_outstanding": 6000, "interest_outstanding": 600,
            "arrears_amount": arrears, "remaining_installments": 4 if arrears else 6,
            "next_due_date": KILIMANI_MEETING, "original_principal": 10000,
            "interest_paid": 400, "disbursed_on": dt.date(2025, 11, 25),
            "arrears_since": dt.date(2026, 2, 3) if arrears else None}


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with fresh_database("sqlite", work / "a") as url:
            ctx = make_context(work / "a", url, KILIMANI_MEETING)
            clients = world(ctx, rows, work / "a")
            template = generate_setup_template(ctx, actor_id=None, kind="loans",
                                               out_dir=work / "a")
            filled = fill(template.path, work / "loans.xlsx", {"Loans": [
                {"as_of": AS_OF, "office": "Nairobi East", "borrower": f"Client{i} Migrated",
                 "product": "Biashara", "external_id": f"OLD-L-{i}", **loan_figures(i)}
                for i in range(rows)]})
            dry, post = process_and_approve(ctx, filled)
            ctx.dispose()
        with fresh_database("sqlite", work / "b") as url:
            ctx = make_context(work / "b", url, KILIMANI_MEETING)
            clients = world(ctx, rows, work / "b")
            with ctx.session_factory() as s:
                product = s.scalar(select(LoanProduct.id).where(LoanProduct.name == "Biashara"))
            start = cpu()
            for i, client in enumerate(clients):
                figures = {k: Decimal(v) if isinstance(v, int) and k != "remaining_installments"
                           else v for k, v in loan_figures(i).items()}
                migrate_loan(ctx, actor_id=None, migration_date=AS_OF, row=LoanMigration(
                    office="Nairobi East", product_id=product, client_id=client,
                    external_id=f"OLD-L-{i}", **figures))  # type: ignore[arg-type]
            plain = cpu() - start
            ctx.dispose()
    print(f"live-loans workbook of {rows} rows, SQLite, CPU seconds (process + children):")
    print(f"  process_file (read, dry run, reconciliation, report): {dry:7.2f} s  "
          f"{rows / dry:8.0f} rows/s")
    print(f"  approve (post, ledger, report):                       {post:7.2f} s  "
          f"{rows / post:8.0f} rows/s")
    print(f"  baseline: migrate_loan one by one, no workbook:      {plain:7.2f} s  "
          f"{rows / plain:8.0f} rows/s")


if __name__ == "__main__":
    main()
