"""A stand-in for posting a returned collection sheet, built on the posting primitives.

Until the real posting service (issue 5) exists, the integrity tests post "sheets" with this
helper: it records a generated workbook and a POSTED submission, and applies each movement
with ``disburse`` / ``repay`` / ``move_money`` / ``pay``, keyed by its workbook cell, in one
unit of work. When issue 5 lands, the property test should drive the real generate -> fill ->
process -> approve -> post flow instead (see tests/integrity/test_properties.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy.orm import Session

from workbook_engine.domain import Charge, GeneratedWorkbook, Loan, SavingsAccount, Submission
from workbook_engine.domain.enums import SavingsTransactionType, SubmissionStatus
from workbook_engine.services.ledger.charges import pay
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.loans import NO_SOURCE, MoneyMovementSource, disburse, repay
from workbook_engine.services.ledger.savings import move_money


@dataclass(frozen=True)
class Movement:
    """One amount of a sheet: kind is repay, disburse, deposit, withdraw or charge."""

    kind: str
    account_id: int
    amount: Decimal
    cell: str
    client_id: int | None = None  # a client's share logged into a group/center account

    @property
    def money_in(self) -> Decimal:
        return self.amount if self.kind in ("repay", "deposit", "charge") else Decimal(0)

    @property
    def money_out(self) -> Decimal:
        return self.amount if self.kind in ("disburse", "withdraw") else Decimal(0)


@dataclass(frozen=True)
class PostedSheet:
    submission_id: int
    workbook_id: str


def post_sheet(ctx: AppContext, movements: list[Movement], on_date: dt.date,
               center_id: int | None = None, office_id: int | None = None) -> PostedSheet:
    """Post a sheet's movements at once (all or nothing), as a POSTED submission."""
    workbook_id = str(uuid.uuid4())
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        s.add(GeneratedWorkbook(id=workbook_id, kind="collection_sheet", template_version=1,
                                office_id=office_id, center_id=center_id,
                                meeting_date=on_date, key_id="test", expected={}))
        submission = Submission(
            kind="collection_sheet", workbook_id=workbook_id,
            file_sha256=hashlib.sha256(workbook_id.encode()).hexdigest(),
            original_name=f"sheet-{workbook_id[:8]}.xlsx", status=SubmissionStatus.POSTED,
            center_id=center_id, office_id=office_id, meeting_date=on_date,
            cash_collected=sum((m.money_in for m in movements), Decimal(0)),
            cash_paid_out=sum((m.money_out for m in movements), Decimal(0)))
        s.add(submission)
        s.flush()
        for m in movements:
            apply_movement(s, m, on_date, MoneyMovementSource(
                submission_id=submission.id, workbook_id=workbook_id, cell=m.cell))
        uow.audit("submission.post", submission)
        uow.commit()
        return PostedSheet(submission.id, workbook_id)


def apply_movement(s: Session, m: Movement, on_date: dt.date,
                   source: MoneyMovementSource = NO_SOURCE) -> None:
    """Apply one movement with the posting primitive of its kind (inside the caller's UoW)."""
    if m.kind in ("repay", "disburse"):
        loan = s.get(Loan, m.account_id)
        assert loan is not None
        if m.kind == "repay":
            repay(s, loan, m.amount, on_date, None, source)
        else:
            assert m.amount == loan.principal
            disburse(s, loan, on_date, None, source)
    elif m.kind in ("deposit", "withdraw"):
        account = s.get(SavingsAccount, m.account_id)
        assert account is not None
        kind = (SavingsTransactionType.DEPOSIT if m.kind == "deposit"
                else SavingsTransactionType.WITHDRAWAL)
        move_money(s, account, kind, m.amount, on_date, None, source, m.client_id)
    else:
        charge = s.get(Charge, m.account_id)
        assert charge is not None
        pay(s, charge, m.amount, on_date, None, source)


def post_at_office(ctx: AppContext, m: Movement, on_date: dt.date) -> None:
    """One movement made at the office (no sheet), in its own unit of work."""
    with ctx.unit_of_work(None) as uow:
        apply_movement(uow.session, m, on_date)
        uow.commit()
