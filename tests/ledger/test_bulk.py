"""The set-based ledger (services/ledger/bulk.py): rehearsal writes nothing and promises what
posting does; a cell undone leaves the others' writes whole; on every database engine."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select

from tests.conftest import KILIMANI_MEETING
from tests.returned.helpers import entries, record_expected
from tests.returned.test_posting import ALL_DUE
from workbook_engine.domain import (
    Attendance,
    ChargePayment,
    Client,
    Loan,
    LoanAllocation,
    LoanInstallment,
    LoanTransaction,
    SavingsTransaction,
)
from workbook_engine.domain.enums import LoanStatus
from workbook_engine.domain.posting_plan import plan_posting
from workbook_engine.errors import EngineError
from workbook_engine.services.collection import posting
from workbook_engine.services.collection.posting import (
    PostingRefused,
    post_plan,
    rehearse_posting,
)
from workbook_engine.services.ledger.bulk import Draft, load_books, write_draft
from workbook_engine.services.ledger.integrity import INVARIANTS, check_session
from workbook_engine.services.ledger.loans import MoneyMovementSource

D = Decimal
MOVED = (LoanTransaction, LoanAllocation, LoanInstallment, SavingsTransaction, ChargePayment,
         Attendance)


def _books_agree(ctx) -> list:
    """The broken rows of every invariant of ``check`` but the one that wants a submission
    behind each movement (these tests post without one)."""
    with ctx.session_factory() as s:
        report = check_session(s, codes=[i.code for i in INVARIANTS
                                         if i.code != "transaction-source"])
    return [(r.code, r.broken) for r in report.results if r.broken]


def _rows(ctx) -> dict[str, int]:
    with ctx.session_factory() as s:
        return {m.__name__: s.scalar(select(func.count()).select_from(m)) for m in MOVED}


def _figures(result):
    return ([(m.kind, m.source_cell, m.account, m.amount, m.client_id) for m in result.movements],
            [c.to_json() for c in result.changes], result.collected, result.paid_out,
            result.attendance_written)


def test_rehearsal_writes_nothing_and_posting_does_what_it_promised(any_kilimani):
    world = any_kilimani
    wb = record_expected(world)
    plan = plan_posting(wb.expected, entries(wb.expected, ALL_DUE, {"Amina Wanjiku": "P"}))
    before = _rows(world.ctx)
    with world.ctx.unit_of_work(None) as uow:
        rehearsal = rehearse_posting(uow.session, plan, expected=wb.expected,
                                     workbook_id=wb.id)
        uow.commit()
    assert rehearsal.failures == [] and _rows(world.ctx) == before
    assert {m.transaction_id for m in rehearsal.result.movements} == {None}
    with world.ctx.unit_of_work(None) as uow:
        posted = post_plan(uow.session, plan, expected=wb.expected, workbook_id=wb.id,
                           submission_id=None, actor_id=None)
        uow.commit()
    assert _figures(posted) == _figures(rehearsal.result)
    assert rehearsal.result.collected == D("3769.74")  # docs/domain's worked example
    assert len({m.transaction_id for m in posted.movements}) == len(posted.movements)
    assert None not in {m.transaction_id for m in posted.movements}
    after = _rows(world.ctx)
    assert after["LoanTransaction"] - before["LoanTransaction"] == 4  # 3 repayments, 1 disbursal
    assert after["Attendance"] - before["Attendance"] == 1
    assert _books_agree(world.ctx) == []


def test_the_books_hold_the_lines_a_loan_still_owes_on_and_what_it_owes(any_kilimani):
    """A line paid in full is not loaded (it never moves again); a line that owes, or was
    paid more than it was due, is; each loan owes what its records say."""
    world = any_kilimani
    with world.ctx.unit_of_work(None) as uow:
        s = uow.session
        loans = s.scalars(select(Loan).order_by(Loan.id)).all()
        overpaid = next(i for loan in loans for i in loan.installments if i.outstanding > 0)
        for part in ("principal", "interest", "fees", "penalties"):
            setattr(overpaid, f"{part}_paid", getattr(overpaid, part))
        overpaid.principal_paid += D("0.01")  # owes -0.01
        s.flush()
        keys = {f"loan:{loan.id}" for loan in loans}
        books = load_books(s, keys, meeting=KILIMANI_MEETING, workbook_id=None)
        paid_lines = 0
        for loan in loans:
            state = books.accounts[f"loan:{loan.id}"]
            assert [i.number for i in state.installments] == [
                i.number for i in loan.installments if i.outstanding != 0]
            assert state.outstanding == loan.outstanding
            assert books.balance(f"loan:{loan.id}")[0] == loan.outstanding
            paid_lines += sum(1 for i in loan.installments if i.outstanding == 0)
        assert paid_lines > 0 and overpaid.outstanding == D("-0.01")


def test_a_cell_undone_leaves_the_new_schedule_of_an_earlier_cell_whole(any_kilimani):
    """A loan disbursed and repaid by two cells, then a third cell on it refused: what the
    first two computed is written, the repayment allocated to the new schedule's line."""
    world = any_kilimani
    with world.ctx.unit_of_work(None) as uow:
        s = uow.session
        chiku = s.scalar(select(Client.id).where(Client.first_name == "Chiku"))
        loan_id = s.scalar(select(Loan.id).where(Loan.client_id == chiku,
                                                 Loan.status == LoanStatus.APPROVED))
        key = f"loan:{loan_id}"
        books = load_books(s, {key}, meeting=KILIMANI_MEETING, workbook_id="test-sheet",
                           disbursed={key})
        draft = Draft(books)
        draft.begin()
        draft.disburse(key, KILIMANI_MEETING, MoneyMovementSource(workbook_id="test-sheet",
                                                                  cell="a/disbursal"))
        draft.commit()
        first = draft.state(key).installments[0]
        draft.begin()
        draft.repay(key, first.outstanding, KILIMANI_MEETING,
                    MoneyMovementSource(workbook_id="test-sheet", cell="a/repayment"))
        draft.commit()
        draft.begin()
        draft.repay(key, D("1.00"), KILIMANI_MEETING,
                    MoneyMovementSource(workbook_id="test-sheet", cell="b/repayment"))
        with pytest.raises(EngineError):
            draft.repay(key, D("99999999"), KILIMANI_MEETING,
                        MoneyMovementSource(workbook_id="test-sheet", cell="c/repayment"))
        draft.rollback()
        assert [e.source.cell for e in draft.entries] == ["a/disbursal", "a/repayment"]
        write_draft(s, draft, KILIMANI_MEETING, None)
        uow.commit()
    with world.ctx.session_factory() as s:
        loan = s.get(Loan, loan_id)
        assert loan.status == LoanStatus.ACTIVE and loan.disbursed_on == KILIMANI_MEETING
        paid = [i.number for i in loan.installments if i.outstanding == 0]
        assert paid == [loan.installments[0].number]
        allocation = s.scalar(select(LoanAllocation).join(LoanTransaction).where(
            LoanTransaction.loan_id == loan_id))
        assert allocation.installment_id == loan.installments[0].id
    assert _books_agree(world.ctx) == []


def test_a_cell_written_meanwhile_by_another_posting_is_refused_not_posted_twice(
        any_kilimani, monkeypatch):
    """Between the loading and the writing another posting wrote the same cell: the
    database's unique key stops the write, the books are loaded again, the cell is refused
    and nothing of this posting is written."""
    world = any_kilimani
    wb = record_expected(world)
    plan = plan_posting(wb.expected, entries(wb.expected, {("Baraka Mutua", "deposit"): "100"}))
    with world.ctx.unit_of_work(None) as uow:
        post_plan(uow.session, plan, expected=wb.expected, workbook_id=wb.id,
                  submission_id=None, actor_id=None)
        uow.commit()
    before = _rows(world.ctx)
    real = posting._load
    loads = []

    def as_before_the_other_posting(session, chosen, workbook_id):
        books = real(session, chosen, workbook_id)
        loads.append(books)
        if len(loads) == 1:  # loaded before the other posting wrote its cell
            books.cells.clear()
            books.last_transaction = {k: wb.expected["accounts"].get(k, {}).get(
                "last_transaction_id") for k in books.last_transaction}
        return books

    monkeypatch.setattr(posting, "_load", as_before_the_other_posting)
    with world.ctx.unit_of_work(None) as uow:
        with pytest.raises(PostingRefused) as caught:
            post_plan(uow.session, plan, expected=wb.expected, workbook_id=wb.id,
                      submission_id=None, actor_id=None)
        uow.commit()
    assert len(loads) == 2
    assert [c.name for c in caught.value.cells] == ["Baraka Mutua"]
    assert _rows(world.ctx) == before


@pytest.mark.parametrize("in_error", [(), ("Dalia Njeri",), ("Baraka Mutua", "Kilimani")])
def test_each_pass_of_the_rehearsal_is_what_posting_the_rows_kept_does(any_kilimani, in_error,
                                                                       monkeypatch):
    """Amina's withdrawal is refused (first pass); without her share of the Group Fund,
    Umoja's withdrawal from it no longer fits (second pass); the third posts the rest. Each
    pass computes again only the cells tied to the rows it leaves out: what it promises is
    what posting the rows kept does, from scratch."""
    world = any_kilimani
    wb = record_expected(world)
    typed = {**ALL_DUE, ("Amina Wanjiku", "withdrawal:Lazima"): "300",
             ("Umoja", "withdrawal:Group Fund"): "158", ("Kilimani", "withdrawal"): "20"}
    plan = plan_posting(wb.expected, entries(wb.expected, typed, {"Amina Wanjiku": "P"}))
    keys = {r["name"]: r["key"] for r in wb.expected["rows"]}
    results = []  # the passes whose result (movements, balances) was made
    made = posting._Posting.result  # noqa: SLF001
    monkeypatch.setattr(posting._Posting, "result",  # noqa: SLF001
                        lambda self, plan, *rest: results.append(plan) or made(self, plan, *rest))
    with world.ctx.unit_of_work(None) as uow:
        rehearsal = rehearse_posting(uow.session, plan, expected=wb.expected,
                                     workbook_id=wb.id,
                                     rows_in_error={keys[name] for name in in_error})
    assert len(results) == 1  # only the last pass's: the others' failures are all it keeps
    failed = {keys[name]: name for name in keys}
    assert sorted(failed[f.row_key] for f in rehearsal.failures) == ["Amina Wanjiku", "Umoja"]
    assert rehearsal.rows == {keys[name] for name in keys} - {
        keys[name] for name in ("Amina Wanjiku", "Umoja", *in_error)}
    with world.ctx.unit_of_work(None) as uow:
        posted = post_plan(uow.session, plan.only_rows(rehearsal.rows), expected=wb.expected,
                           workbook_id=wb.id, submission_id=None, actor_id=None)
    assert _figures(posted) == _figures(rehearsal.result)
    assert rehearsal.result.movements
