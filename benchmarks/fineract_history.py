"""A Mifos X / Fineract repayment history of 3 x N rows (default N = 100 loans): dry run,
approval, and a plain baseline.

Usage: python3 benchmarks/fineract_history.py [LOANS]

On a fresh SQLite database with the demo's Kilimani world, one client gets N loans through a
Fineract Loans workbook (issue 16's 10,000 at 2 % a month, 5 monthly repayments; not timed);
then prints CPU seconds (this process and the safe reader's child) and rows per CPU second of:

* ``process_file`` of Fineract's LoanRepayment workbook (its layout: 3,000 formula rows with
  cached zeros, look-up table) with 3 repayments per loan: read, the dry run (every row
  replayed by ``replay_repayment_in`` in its own savepoint, then rolled back), the report;
* approving it: the same run committed;
* the baseline: the same repayments replayed one by one with ``replay_repayment_in`` (one
  transaction each, no workbook), on another fresh database with the same loans.

CPU time, not wall time: the machine is shared.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select  # noqa: E402

from tests.conftest import KILIMANI_MEETING, make_context  # noqa: E402
from tests.fixtures.fineract.populators import (  # noqa: E402
    FineractRepayment,
    loans_workbook_of,
    repayments_workbook,
    two_percent_a_month,
)
from benchmarks.setup_import import cpu, process_and_approve  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from workbook_engine.domain import Loan, Office  # noqa: E402
from workbook_engine.services.clients.lifecycle import create_client  # noqa: E402
from workbook_engine.services.context import AppContext  # noqa: E402
from workbook_engine.services.imports.migration import replay_repayment_in  # noqa: E402
from workbook_engine.services.pipeline.processing import process_file  # noqa: E402
from workbook_engine.services.pipeline.submissions import approve_submission  # noqa: E402
from workbook_engine.services.setup.demo import build_kilimani, build_reference  # noqa: E402

PAID = ((dt.date(2025, 11, 6), 2200), (dt.date(2025, 12, 8), 2200), (dt.date(2026, 1, 10), 1600))


def loans(ctx: AppContext, n: int, work: Path) -> str:
    """Kilimani, a client with ``n`` Fineract loans (external ids F-1..F-n); her label."""
    build_kilimani(ctx, build_reference(ctx))
    with ctx.session_factory() as s:
        office = s.scalar(select(Office.id).where(Office.name == "Nairobi East"))
    amani = create_client(ctx, actor_id=None, office_id=office, first_name="Amani",
                          last_name="Otieno", submitted_on=dt.date(2025, 9, 1), active=True,
                          activation_date=dt.date(2025, 9, 1))
    label = f"Amani Otieno({amani + 300})"
    book = loans_workbook_of(work / "Loans.xlsx", [two_percent_a_month(
        label, dt.date(2025, 10, 6), external_id=f"F-{i}") for i in range(1, n + 1)])
    result = process_file(ctx, book, actor_id=None)
    assert result.status == "awaiting_approval", result.errors[:3]
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    return label


def main(n: int) -> None:
    rows = 3 * n
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with fresh_database("sqlite", work / "a") as url:
            ctx = make_context(work / "a", url, KILIMANI_MEETING)
            label = loans(ctx, n, work)
            history = repayments_workbook(work / "LoanRepayment.xlsx", [
                FineractRepayment(amount, on, label, f"F-{i}", "Nairobi East")
                for i in range(1, n + 1) for on, amount in PAID],
                offices=["Nairobi East"], loans=[])
            dry, approve = process_and_approve(ctx, history)
            ctx.dispose()
        with fresh_database("sqlite", work / "b") as url:
            ctx = make_context(work / "b", url, KILIMANI_MEETING)
            loans(ctx, n, work)
            start = cpu()
            for i in range(1, n + 1):
                for on, amount in PAID:
                    with ctx.unit_of_work(None) as uow:
                        loan = uow.session.scalar(select(Loan).where(Loan.external_id == f"F-{i}"))
                        replay_repayment_in(uow.session, loan, Decimal(amount), on,
                                            KILIMANI_MEETING, None)
                        uow.commit()
            baseline = cpu() - start
            ctx.dispose()
    print(f"Fineract repayment history, {rows} rows ({n} loans x 3), SQLite, CPU seconds:")
    for what, seconds in (("process (read, dry run, report)", dry), ("approve", approve),
                          ("baseline: replay_repayment_in one by one", baseline)):
        print(f"  {what:<42} {seconds:7.2f} s  {rows / seconds:7.0f} rows/s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
