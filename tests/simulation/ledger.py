"""What must hold: each posting is what was typed, no account is posted twice for one
meeting, the cash to hand over is what was posted, and the books agree (``check``)."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from workbook_engine.domain import (
    ChargePayment,
    LoanTransaction,
    SavingsTransaction,
    Submission,
)
from workbook_engine.services.ledger.integrity import run_check, summary_lines

from tests.simulation.world import World

ZERO = Decimal(0)
MOVEMENTS = (
    (LoanTransaction, LoanTransaction.loan_id, LoanTransaction.type, "loan"),
    (SavingsTransaction, SavingsTransaction.account_id, SavingsTransaction.type, "savings"),
    (ChargePayment, ChargePayment.charge_id, None, "charge"),
)


def books_faults(world: World) -> list[str]:
    """The lines of ``check`` that say what is broken (none when the books agree)."""
    report = run_check(world.ctx)
    if report.ok:
        return []
    return [line for line in summary_lines(report) if not line.startswith("ok")][:20]


def _posted_by_cell(world: World, submission_id: int) -> dict[tuple[str, str], Decimal]:
    """What a submission posted, by (row key, column key) of its sheet."""
    posted: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
    with world.ctx.session_factory() as s:
        for model, *_ in MOVEMENTS:
            for cell, amount in s.execute(select(model.source_cell, model.amount)  # type: ignore[attr-defined]
                                          .where(model.submission_id == submission_id)):  # type: ignore[attr-defined]
                row_key, _, column_key = str(cell).split("#", 1)[0].partition("/")
                posted[(row_key, column_key)] += Decimal(str(amount))
    return {cell: amount.quantize(Decimal("0.01")) for cell, amount in posted.items()}


def posting_faults(world: World, submission_id: int, expected: dict[str, Any],
                   typed: dict[tuple[str, str], Decimal]) -> list[str]:
    """How a posted submission differs from what the officer typed, cell by cell, and
    whether its cash (collected - paid out) is what it posted."""
    posted = _posted_by_cell(world, submission_id)
    typed = {cell: amount.quantize(Decimal("0.01")) for cell, amount in typed.items()}
    faults = [f"submission {submission_id}: cell {row}/{column} typed {typed.get((row, column))}"
              f" but posted {posted.get((row, column))}"
              for row, column in sorted(set(posted) | set(typed))
              if posted.get((row, column)) != typed.get((row, column))]
    flows = {c["key"]: c.get("flow") for c in expected["columns"]}
    cash = sum((a if flows.get(c) == "collected" else -a for (_, c), a in posted.items()),
               ZERO)
    with world.ctx.session_factory() as s:
        sub = s.get(Submission, submission_id)
        assert sub is not None
        declared = Decimal(str(sub.cash_collected)) - Decimal(str(sub.cash_paid_out))
    if declared.quantize(Decimal("0.01")) != cash:
        faults.append(f"submission {submission_id}: cash to hand over {declared} but the "
                      f"postings come to {cash}")
    return faults


def double_postings(world: World) -> list[str]:
    """Accounts posted by more than one submission for the same meeting and kind (a
    member's share of a per-client group account counting as an account of its own: the
    members' rows of one meeting may come on two sheets, e.g. the excluded-rows sheet)."""
    found = []
    with world.ctx.session_factory() as s:
        for model, account, kind, what in MOVEMENTS:
            kind_column = kind if kind is not None else func.min("payment")
            share = [SavingsTransaction.client_id] if model is SavingsTransaction else []
            query = (select(account, kind_column, Submission.meeting_date,
                            func.count(func.distinct(model.submission_id)), *share)  # type: ignore[attr-defined]
                     .join(Submission, Submission.id == model.submission_id)  # type: ignore[attr-defined]
                     .where(Submission.kind == "collection_sheet")
                     .group_by(account, *([kind] if kind is not None else []),
                               Submission.meeting_date, *share)
                     .having(func.count(func.distinct(model.submission_id)) > 1))  # type: ignore[attr-defined]
            for account_id, kind_value, meeting, count, *client in s.execute(query):
                whose = f" (client {client[0]}'s share)" if client and client[0] else ""
                found.append(f"{what} {account_id}{whose}: "
                             f"{getattr(kind_value, 'value', kind_value)} posted by {count} "
                             f"sheets for the meeting of {meeting}")
    return found
