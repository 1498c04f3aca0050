"""How long `check` takes on the demo at --scale N, next to a naive per-account loop.

    PYTHONPATH=. python3 benchmarks/check.py --scale 100 [--db URL]

Loads the demo institution (N copies of its branch network) into a fresh database (a SQLite
file in a temporary folder unless --db names an empty database), then times:
- `check`: every invariant, set-based (two queries each);
- the baseline: ONE invariant (savings balance = deposits - withdrawals) computed the naive
  way, a Python loop over the accounts that loads each one's transactions.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from workbook_engine.config import Settings
from workbook_engine.domain import Loan, LoanInstallment, SavingsAccount
from workbook_engine.domain.enums import SavingsTransactionType
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.setup.system import initialise


def naive_savings_balance(ctx: AppContext) -> tuple[int, int]:
    """The baseline: one account at a time, its transactions summed in Python."""
    checked = broken = 0
    with ctx.session_factory() as s:
        for account_id in s.scalars(select(SavingsAccount.id)).all():
            account = s.get(SavingsAccount, account_id)
            total = Decimal(0)
            for t in account.transactions:
                if not t.reversed:
                    total += t.amount if t.type == SavingsTransactionType.DEPOSIT else -t.amount
            checked += 1
            broken += abs(total - account.balance) > Decimal("0.00005")
    return checked, broken


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=100)
    parser.add_argument("--db", help="an EMPTY database's URL (default: a SQLite file)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        settings = Settings.resolve(home=home, database_url=args.db,
                                    today=dt.date(2026, 3, 3),
                                    secret_file=home / "secrets" / "signing.key")
        ctx = AppContext(settings)
        started = time.perf_counter()
        initialise(ctx, demo=True, scale=args.scale)
        loaded = time.perf_counter() - started
        with ctx.session_factory() as s:
            loans = s.scalar(select(func.count()).select_from(Loan))
            installments = s.scalar(select(func.count()).select_from(LoanInstallment))
            accounts = s.scalar(select(func.count()).select_from(SavingsAccount))
        print(f"database: {ctx.engine.dialect.name}, demo at scale {args.scale} loaded in "
              f"{loaded:.1f} s ({loans} loans, {installments} installments, {accounts} "
              "savings accounts)")
        best = float("inf")
        for _ in range(args.repeat):
            started = time.perf_counter()
            report = run_check(ctx)
            best = min(best, time.perf_counter() - started)
        rows = sum(r.checked for r in report.results)
        print(f"check, {len(report.results)} invariants, {rows} rows checked, "
              f"{report.broken_count} broken: {best:.2f} s (best of {args.repeat})")
        started = time.perf_counter()
        checked, broken = naive_savings_balance(ctx)
        naive = time.perf_counter() - started
        print(f"baseline, ONE invariant (savings-balance) as a per-account Python loop, "
              f"{checked} accounts, {broken} broken: {naive:.2f} s")
        ctx.dispose()


if __name__ == "__main__":
    main()
