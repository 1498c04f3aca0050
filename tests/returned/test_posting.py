"""Posting a collection sheet: the domain figures, all-or-nothing, staleness, once only."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import KILIMANI_MEETING
from tests.returned.helpers import entries, record_expected
from workbook_engine.domain import (
    Attendance,
    Charge,
    Client,
    Loan,
    LoanTransaction,
    SavingsAccount,
    SavingsTransaction,
)
from workbook_engine.domain.enums import ChargeStatus, LoanStatus
from workbook_engine.domain.posting_plan import plan_posting
from workbook_engine.services.collection.posting import PostingRefused, post_plan
from workbook_engine.services.ledger import bulk
from workbook_engine.services.ledger.loans import repay_loan

D = Decimal
MEMBERS = ("Amina Wanjiku", "Baraka Mutua", "Chiku Akinyi", "Dalia Njeri")
ALL_DUE = {("Kilimani", "deposit"): "50",
           ("Amina Wanjiku", "repayment"): "1851.28", ("Amina Wanjiku", "deposit"): "100",
           ("Baraka Mutua", "repayment"): "1388.46", ("Baraka Mutua", "deposit"): "100",
           ("Chiku Akinyi", "disbursal"): "8000", ("Chiku Akinyi", "charges"): "200",
           # the Group Fund is per client: each member's share on the member's row
           **{(name, "deposit:Group Fund"): "20" for name in MEMBERS}}


def _post(world, wb, sheet_entries, submission_id=None):
    with world.ctx.unit_of_work(None) as uow:
        plan = plan_posting(wb.expected, sheet_entries)
        assert plan.problems == ()
        result = post_plan(uow.session, plan, expected=wb.expected, workbook_id=wb.id,
                           submission_id=submission_id, actor_id=None)
        uow.commit()
    return result


def _client(s, first):
    return s.scalar(select(Client).where(Client.first_name == first))


def test_everything_as_due_posts_the_domain_totals(kilimani):
    wb = record_expected(kilimani)
    result = _post(kilimani, wb, entries(wb.expected, ALL_DUE, {"Amina Wanjiku": "P",
                                                                "Dalia Njeri": "A"}))
    assert result.collected == D("3769.74")
    assert result.paid_out == D("8000")
    assert result.attendance_written == 2
    with kilimani.ctx.session_factory() as s:
        baraka = _client(s, "Baraka")
        older, newer = s.scalars(select(Loan).where(Loan.client_id == baraka.id)
                                 .order_by(Loan.id)).all()
        # domain.md: 925.64 to the older loan's installment 4, 462.82 to the newer's 2.
        assert [i.number for i in older.installments if i.outstanding == 0] == [1, 2, 3, 4]
        assert [i.number for i in newer.installments if i.outstanding == 0] == [1, 2]
        tx = s.scalars(select(LoanTransaction).where(
            LoanTransaction.source_workbook_id == wb.id,
            LoanTransaction.loan_id.in_([older.id, newer.id]))).all()
        assert sorted(t.amount for t in tx) == [D("462.82"), D("925.64")]
        assert {t.on_date for t in tx} == {KILIMANI_MEETING}
        assert {t.receipt_number for t in tx} == {"R-1"}
        chiku = _client(s, "Chiku")
        loan = s.scalar(select(Loan).where(Loan.client_id == chiku.id))
        assert loan.status == LoanStatus.ACTIVE and loan.disbursed_on == KILIMANI_MEETING
        assert loan.installments[0].due_date > KILIMANI_MEETING
        assert s.scalar(select(Charge).where(Charge.client_id == chiku.id)).status \
            == ChargeStatus.PAID
        group_fund = s.scalar(select(SavingsAccount).where(SavingsAccount.group_id.isnot(None)))
        assert group_fund.balance == D("160")
        shares = s.scalars(select(SavingsTransaction).where(
            SavingsTransaction.account_id == group_fund.id,
            SavingsTransaction.source_workbook_id == wb.id)).all()
        assert len(shares) == 4 and {t.amount for t in shares} == {D("20")}
        assert len({t.client_id for t in shares}) == 4
        codes = {a.client_id: a.code.value for a in s.scalars(select(Attendance))}
        assert codes == {_client(s, "Amina").id: "P", _client(s, "Dalia").id: "A"}


def test_half_way_failure_leaves_no_trace(kilimani, monkeypatch):
    wb = record_expected(kilimani)
    with kilimani.ctx.session_factory() as s:
        chiku = _client(s, "Chiku").id
        group_fund = s.scalar(select(SavingsAccount.id).where(
            SavingsAccount.group_id.isnot(None)))
    real = bulk.Draft.save

    def failing(draft, key, kind, amount, source, client_id):  # Chiku's Group Fund share
        if client_id == chiku and key == f"savings:{group_fund}":
            raise RuntimeError("disk full")
        return real(draft, key, kind, amount, source, client_id)

    monkeypatch.setattr(bulk.Draft, "save", failing)
    with pytest.raises(PostingRefused) as caught:  # the defect is reported on its cell
        _post(kilimani, wb, entries(wb.expected, ALL_DUE, {"Amina Wanjiku": "P"}))
    assert [(c.error.code, c.name) for c in caught.value.cells] == [
        ("posting-defect", "Chiku Akinyi")]  # the cell of her Group Fund share
    assert "RuntimeError: disk full" in caught.value.cells[0].message
    with kilimani.ctx.session_factory() as s:
        for model in (LoanTransaction, SavingsTransaction):
            assert s.scalar(select(func.count()).select_from(model).where(
                model.source_workbook_id == wb.id)) == 0
        assert s.scalar(select(func.count()).select_from(Attendance)) == 0
        chiku_loan = s.scalar(select(Loan).where(Loan.status == LoanStatus.APPROVED))
        assert chiku_loan is not None


def test_stale_account_stops_everything(kilimani):
    wb = record_expected(kilimani)
    with kilimani.ctx.session_factory() as s:
        amina_loan = s.scalar(select(Loan).where(Loan.client_id == _client(s, "Amina").id))
    repay_loan(kilimani.ctx, actor_id=None, loan_id=amina_loan.id, amount=D("925.64"),
               on_date=KILIMANI_MEETING)
    with pytest.raises(PostingRefused) as caught:
        _post(kilimani, wb, entries(wb.expected, ALL_DUE))
    assert [(c.name, c.column_key.split(":")[0], c.error.code)
            for c in caught.value.cells] == [("Amina Wanjiku", "repayment", "stale")]
    with kilimani.ctx.session_factory() as s:
        assert s.scalar(select(func.count()).select_from(LoanTransaction).where(
            LoanTransaction.source_workbook_id == wb.id)) == 0


def test_the_same_cells_never_post_twice(kilimani):
    wb = record_expected(kilimani)
    sheet = entries(wb.expected, {("Baraka Mutua", "deposit"): "100"})
    _post(kilimani, wb, sheet)
    # The staleness check catches it first; the database's unique key is the last guard.
    with pytest.raises(PostingRefused) as caught:
        _post(kilimani, wb, sheet)
    assert {c.error.code for c in caught.value.cells} == {"stale", "posted-for-meeting"} \
        & {c.error.code for c in caught.value.cells}
    with kilimani.ctx.unit_of_work(None) as uow:
        from workbook_engine.services.ledger.savings import move_money
        from workbook_engine.services.ledger.loans import MoneyMovementSource
        from workbook_engine.domain.enums import SavingsTransactionType
        account = uow.session.scalar(select(SavingsAccount).where(
            SavingsAccount.client_id == _client(uow.session, "Baraka").id)
            .order_by(SavingsAccount.id))
        key = f"client:{account.client_id}/" + next(iter(sheet.amounts[f"client:{account.client_id}"]))
        with pytest.raises(IntegrityError):
            move_money(uow.session, account, SavingsTransactionType.DEPOSIT, D(100),
                       KILIMANI_MEETING, None, MoneyMovementSource(workbook_id=wb.id, cell=key))


def test_attendance_overwritten_by_a_later_submission(kilimani):
    wb = record_expected(kilimani)
    _post(kilimani, wb, entries(wb.expected, {}, {"Dalia Njeri": "A"}))
    _post(kilimani, wb, entries(wb.expected, {}, {"Dalia Njeri": "AA"}))
    with kilimani.ctx.session_factory() as s:
        assert [a.code.value for a in s.scalars(select(Attendance))] == ["AA"]
