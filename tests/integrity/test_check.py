"""`check` on clean books (the demo, Kilimani after its meeting) and on corrupted ones."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from tests.integrity.world import PostedKilimani, build_posted_kilimani
from workbook_engine.domain import Submission
from workbook_engine.services.setup.demo import load_demo
from workbook_engine.services.ledger.integrity import INVARIANTS, check_session, run_check


@pytest.fixture
def posted(any_kilimani) -> PostedKilimani:
    return build_posted_kilimani(any_kilimani)


def test_the_demo_passes_check(any_ctx):
    load_demo(any_ctx)
    report = run_check(any_ctx)
    assert report.ok, report.as_dict()
    assert {r.code for r in report.results} == {i.code for i in INVARIANTS}
    assert report.result("loan-principal-scheduled").checked > 50
    assert report.result("savings-balance").checked > 100
    assert report.result("charge-balance").checked > 10


def test_the_posted_kilimani_meeting_passes_check(posted):
    ctx = posted.world.ctx
    report = run_check(ctx)
    assert report.ok, report.as_dict()
    with ctx.session_factory() as s:
        submission = s.get(Submission, posted.sheet.submission_id)
        # The domain notes' figures: 3,769.74 collected, 8,000 paid out.
        assert submission.cash_collected == Decimal("3769.74")
        assert submission.cash_paid_out == Decimal(8000)
    assert report.result("submission-cash").checked == 1
    assert report.result("transaction-source").checked == 12
    assert report.result("posted-once").checked == 11  # Baraka's clubbed cell feeds 2 loans
    assert report.result("savings-per-client-log").checked == 1
    assert report.result("loan-closed-owes-nothing").checked == 1  # Dalia's
    assert report.result("attendance-once").checked == 4


def test_office_scope(posted):
    ref = posted.world.ref
    nairobi = run_check(posted.world.ctx, office_id=ref.branches["Nairobi East"])
    kisumu = run_check(posted.world.ctx, office_id=ref.branches["Kisumu"])
    head = run_check(posted.world.ctx, office_id=ref.head_office)
    everything = run_check(posted.world.ctx)
    for code in ("loan-principal-scheduled", "savings-balance", "submission-cash",
                 "transaction-source", "attendance-once"):
        assert kisumu.result(code).checked == 0
        assert nairobi.result(code).checked == everything.result(code).checked > 0
        assert head.result(code).checked == everything.result(code).checked


# Each corruption: one figure changed in the database, the invariants it must break, and
# the account the report must name. Parameters are the ids of PostedKilimani.
CORRUPTIONS = [
    ("principal", "UPDATE loans SET principal = principal + 1 WHERE id = :amina_loan",
     {"loan-principal-scheduled"}, "amina_loan"),
    ("status back to approved", "UPDATE loans SET status = 'approved' WHERE id = :amina_loan",
     {"loan-principal-scheduled"}, "amina_loan"),
    ("flat interest", "UPDATE loan_installments SET interest = interest + 0.01 "
     "WHERE loan_id = :baraka_new AND number = 12", {"loan-principal-scheduled"}, "baraka_new"),
    ("installment paid", "UPDATE loan_installments SET interest_paid = interest_paid - 0.01 "
     "WHERE loan_id = :amina_loan AND number = 1", {"loan-installment-allocations"},
     "amina_loan"),
    ("installment overpaid", "UPDATE loan_installments SET principal_paid = principal + 1 "
     "WHERE loan_id = :baraka_old AND number = 12",
     {"loan-installment-within-due", "loan-installment-allocations"}, "baraka_old"),
    ("allocation", "UPDATE loan_allocations SET principal = principal - 0.01 WHERE id = "
     "(SELECT MIN(id) FROM loan_allocations)",
     {"loan-installment-allocations", "loan-repayments-allocated"}, "amina_loan"),
    ("repayment", "UPDATE loan_transactions SET principal_portion = principal_portion + 5 "
     "WHERE id = (SELECT MIN(id) FROM loan_transactions WHERE type = 'repayment')",
     {"loan-repayments-allocated"}, "amina_loan"),
    ("closed status", "UPDATE loans SET status = 'closed', closed_on = '2026-03-03' "
     "WHERE id = :amina_loan", {"loan-closed-owes-nothing"}, "amina_loan"),
    ("active status", "UPDATE loans SET status = 'active' WHERE id = :dalia_loan",
     {"loan-active-owes-something"}, "dalia_loan"),
    ("balance by one unit", "UPDATE savings_accounts SET balance = balance + 0.0001 "
     "WHERE id = :amina_lazima", {"savings-balance"}, "amina_lazima"),
    ("overdrawn", "UPDATE savings_accounts SET balance = -150 WHERE id = :amina_lazima",
     {"savings-not-overdrawn", "savings-balance"}, "amina_lazima"),
    ("per-client log", "UPDATE savings_transactions SET client_id = NULL "
     "WHERE account_id = :group_fund AND client_id = :chiku", {"savings-per-client-log"},
     "group_fund"),
    ("non-member", "UPDATE savings_transactions SET client_id = :eshe "
     "WHERE account_id = :group_fund AND client_id = :chiku", {"savings-per-client-log"},
     "group_fund"),
    ("cash collected", "UPDATE submissions SET cash_collected = cash_collected + 0.01",
     {"submission-cash"}, "submission"),
    ("source cell", "UPDATE savings_transactions SET source_cell = NULL "
     "WHERE account_id = :amina_lazima AND source_cell IS NOT NULL",
     {"transaction-source"}, "savings"),
    ("submission status", "UPDATE submissions SET status = 'approved'",
     {"transaction-source"}, "loan"),
    ("posted twice", "UPDATE charge_payments SET source_cell = 'Collection!G6' "
     "WHERE charge_id = :chiku_fee", {"posted-once"}, "cell"),
    ("posted again for the meeting", "INSERT INTO savings_transactions (account_id, type, "
     "on_date, amount, client_id, reversed, submission_id, source_workbook_id, source_cell, "
     "created_at) SELECT account_id, type, on_date, 0, client_id, reversed, submission_id, "
     "'another-sheet-of-the-meeting', source_cell, created_at FROM savings_transactions "
     "WHERE account_id = :amina_lazima AND source_cell IS NOT NULL",
     {"posted-once-per-meeting", "transaction-source"}, "savings"),
    ("waived", "UPDATE charges SET amount_waived = 0.01 WHERE id = :chiku_fee",
     {"charge-balance"}, "chiku_fee"),
    ("charge paid", "UPDATE charge_payments SET amount = 30 WHERE charge_id = :amina_penalty",
     {"charge-payments"}, "amina_penalty"),
]


def _names(posted: PostedKilimani, row: dict, who: str) -> bool:
    account = row["account"]
    if who in posted.accounts:
        return account == posted.accounts[who]
    if who in posted.ids:
        return account == posted.ids[who]
    if who == "submission":
        return account == posted.sheet.submission_id
    if who == "cell":
        return account == f"{posted.sheet.workbook_id} Collection!G6"
    return str(account).startswith(who + " ")


def test_each_corruption_is_named(posted):
    """One figure of each kind changed in the database (rolled back after each)."""
    engine = posted.world.ctx.engine
    for name, sql, expected, who in CORRUPTIONS:
        with engine.connect() as conn:
            transaction = conn.begin()
            try:
                params = {k: v for k, v in posted.ids.items() if f":{k}" in sql}
                conn.execute(text(sql), params)
                report = check_session(Session(bind=conn))
            finally:
                transaction.rollback()
        broken = {r.code for r in report.results if r.broken}
        assert broken == expected, (name, report.as_dict())
        named = [row for code in expected for row in report.result(code).broken
                 if _names(posted, row, who)]
        assert named, (name, who, report.as_dict())
    assert run_check(posted.world.ctx).ok


def test_attendance_twice_is_named(posted):
    """The unique constraint forbids it; check still catches it if the constraint is gone."""
    engine = posted.world.ctx.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("needs transactional DDL to drop the constraint and roll it back")
    with engine.connect() as conn:
        transaction = conn.begin()
        conn.execute(text("ALTER TABLE attendance DROP CONSTRAINT uq_attendance_client_id"))
        conn.execute(text("INSERT INTO attendance (client_id, meeting_date, code, recorded_at)"
                          " SELECT client_id, meeting_date, 'A', recorded_at FROM attendance"
                          " WHERE client_id = :c"), {"c": posted.ids["amina"]})
        report = check_session(Session(bind=conn))
        transaction.rollback()
    rows = report.result("attendance-once").broken
    assert [(r["account"], r["records"]) for r in rows] == [(posted.ids["amina"], 2)]
