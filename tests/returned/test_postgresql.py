"""Processing and approval of a real filled sheet on PostgreSQL (skipped when unreachable)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import KILIMANI_MEETING, KilimaniWorld, _kilimani, make_context
from tests.returned.sheets import FILLED_HEADER, generate
from tests.support.databases import fresh_database
from workbook_engine.domain import Client, Loan, LoanTransaction
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.services.ledger.integrity import run_check
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.workbooks.filling import fill_sheet


@pytest.fixture
def pg_kilimani(tmp_path: Path) -> Iterator[KilimaniWorld]:
    """The worked center on PostgreSQL."""
    with fresh_database("postgresql", tmp_path) as url:
        context = make_context(tmp_path, url, KILIMANI_MEETING)
        yield _kilimani(context)
        context.dispose()


def test_process_and_approve_on_postgresql(pg_kilimani: KilimaniWorld, tmp_path: Path) -> None:
    ctx = pg_kilimani.ctx
    source, expected = generate(pg_kilimani, tmp_path / "generated")
    filled = fill_sheet(source, tmp_path / "returned" / "Kilimani.xlsx", expected,
                        header=FILLED_HEADER)
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == SubmissionStatus.AWAITING_APPROVAL.value, result.errors
    assert result.report_xlsx is not None and result.report_xlsx.exists()
    view = approve_submission(ctx, submission_id=result.submission_id or 0, by="Grace Wambui")
    assert view["status"] == SubmissionStatus.POSTED.value
    with ctx.session_factory() as s:
        baraka = s.scalar(select(Client).where(Client.first_name == "Baraka"))
        older, newer = s.scalars(select(Loan).where(Loan.client_id == baraka.id)
                                 .order_by(Loan.id)).all()
        paid = {t.loan_id: t.amount for t in s.scalars(select(LoanTransaction).where(
            LoanTransaction.submission_id == result.submission_id,
            LoanTransaction.loan_id.in_([older.id, newer.id])))}
        # domain.md: Baraka's 1,388.46 pays 925.64 to the older loan's installment 4 and
        # 462.82 to the newer loan's installment 2.
        assert paid == {older.id: Decimal("925.64"), newer.id: Decimal("462.82")}
        assert [i.number for i in older.installments if i.outstanding == 0] == [1, 2, 3, 4]
        assert [i.number for i in newer.installments if i.outstanding == 0] == [1, 2]
        assert older.installments[4].outstanding > 0 and newer.installments[2].outstanding > 0
    report = run_check(ctx)
    assert report.ok, report
