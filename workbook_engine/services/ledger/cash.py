"""Cash reconciliation: the cash a loan officer hands over for each posted sheet.

A supervisor counts the cash and records it against the sheet's cash to hand over
(collected minus paid out). A difference beyond ``rules/web.yaml``'s tolerance stays open,
and on the daily per-officer summary, until a supervisor resolves it with a note.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from workbook_engine.domain import CashHandover, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE, MISSING_VALUE, NOT_ALLOWED, WRONG_STATE
from workbook_engine.money import round_money, to_decimal
from workbook_engine.services.pipeline.approval_queue import cash_to_hand_over, visible_to
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.access.web_rules import web_rules


def _currency_digits(ctx: AppContext) -> int:
    return int(ctx.rules.value("general", "default_currency_digits", 2))


def _supervisor(s: Any, actor_id: int | None, what: str) -> Staff:
    actor = get_or_fail(s, Staff, actor_id, "member of staff") if actor_id else None
    if actor is None or not actor.is_supervisor:
        raise EngineError(NOT_ALLOWED, f"Only a supervisor may {what}.")
    return actor


def parse_amount(text: str | Decimal, digits: int, field: str) -> Decimal:
    """An amount typed by a person ("1,200.50", " 300 "), refused in one sentence if not one."""
    raw = text if isinstance(text, Decimal) else str(text).strip().replace(",", "")
    try:
        amount = to_decimal(raw)
    except (TypeError, ValueError):
        raise EngineError(INVALID_VALUE, f"{field} '{text}' is not an amount; type digits "
                          "with an optional decimal point, e.g. 3769.74.") from None
    if amount != round_money(amount, digits):
        raise EngineError(INVALID_VALUE, f"{field} {text} has more than {digits} decimals.")
    return round_money(amount, digits)


def record_handover(ctx: AppContext, *, actor_id: int | None, submission_id: int,
                    amount: Decimal | str, note: str | None = None) -> int:
    """Record (or correct, while unresolved) the cash handed over for a posted sheet."""
    digits = _currency_digits(ctx)
    handed = parse_amount(amount, digits, "Cash handed over")
    tolerance = web_rules(ctx).cash_difference_tolerance
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        actor = _supervisor(s, actor_id, "record the cash a loan officer handed over")
        submission = get_or_fail(s, Submission, submission_id, "submission")
        if submission.status != SubmissionStatus.POSTED:
            raise EngineError(WRONG_STATE, f"Submission {submission_id} is "
                              f"{submission.status.value}; cash is counted only for posted "
                              "sheets.")
        if actor.id == submission.loan_officer_id:
            raise EngineError(NOT_ALLOWED, "A loan officer may not count their own cash; "
                              "ask another supervisor.")
        row = s.scalar(select(CashHandover).where(CashHandover.submission_id == submission_id))
        before = None
        if row is None:
            row = CashHandover(submission_id=submission_id, recorded_by_id=actor.id)
            s.add(row)
        elif row.resolved_at is not None and row.difference != 0:
            raise EngineError(WRONG_STATE, f"The cash of submission {submission_id} was "
                              "already counted and its difference resolved.")
        else:
            before = {"handed_over": str(row.handed_over), "difference": str(row.difference)}
        expected = round_money(cash_to_hand_over(submission), digits)
        row.loan_officer_id = submission.loan_officer_id
        row.office_id = submission.office_id
        row.meeting_date = submission.meeting_date
        row.expected = expected
        row.handed_over = handed
        row.difference = handed - expected
        row.recorded_by_id = actor.id
        row.recorded_at = uow.now
        row.note = (note or "").strip()[:500] or None
        row.resolved_at = row.resolved_by_id = row.resolution_note = None
        if row.difference != 0 and abs(row.difference) <= tolerance:
            row.resolved_at, row.resolved_by_id = uow.now, actor.id
            row.resolution_note = f"Within the tolerance of {tolerance}."
        uow.audit("record_cash_handover", row, before=before)
        uow.commit()
        return row.id


def resolve_difference(ctx: AppContext, *, actor_id: int | None, handover_id: int,
                       note: str) -> None:
    """Close an open cash difference with the supervisor's explanation."""
    with ctx.unit_of_work(actor_id) as uow:
        actor = _supervisor(uow.session, actor_id, "resolve a cash difference")
        row = get_or_fail(uow.session, CashHandover, handover_id, "cash count")
        if not note or not note.strip():
            raise EngineError(MISSING_VALUE, "Say how the cash difference was resolved "
                              "(e.g. 'balance brought next morning, receipt 123').")
        if not row.is_open:
            raise EngineError(WRONG_STATE, f"Cash count {handover_id} has no open difference.")
        if actor.id == row.loan_officer_id:
            raise EngineError(NOT_ALLOWED, "A loan officer may not resolve a difference in "
                              "their own cash; ask another supervisor.")
        row.resolved_at, row.resolved_by_id = uow.now, actor.id
        row.resolution_note = note.strip()[:500]
        uow.audit("resolve_cash_difference", row)
        uow.commit()


def reconciliation(ctx: AppContext, *, viewer_id: int,
                   day: dt.date | None = None) -> dict[str, Any]:
    """The page of cash reconciliation for ``viewer_id``.

    ``sheets``: the posted sheets of ``day`` (default today) and every posted sheet whose
    cash is not counted yet or whose difference is open; ``summary``: per meeting day and
    loan officer, the totals, with the open differences of earlier days kept on it.
    """
    day = day or ctx.today()
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        rows = s.execute(
            select(Submission, CashHandover, Staff)
            .outerjoin(CashHandover, CashHandover.submission_id == Submission.id)
            .outerjoin(Staff, Staff.id == Submission.loan_officer_id)
            .where(Submission.status == SubmissionStatus.POSTED)
            .where(visible_to(s, viewer))
            .order_by(Submission.meeting_date, Submission.id)).all()
    sheets = []
    for submission, handover, officer in rows:
        meeting = submission.meeting_date or (submission.posted_at or submission.received_at).date()
        pending = handover is None or handover.is_open
        if meeting != day and not pending:
            continue
        sheets.append({
            "submission_id": submission.id, "meeting_date": meeting,
            "loan_officer": officer.display_name if officer else "(unknown)",
            "loan_officer_id": submission.loan_officer_id,
            "expected": cash_to_hand_over(submission),
            "handover_id": handover.id if handover else None,
            "handed_over": handover.handed_over if handover else None,
            "difference": handover.difference if handover else None,
            "open": bool(handover and handover.is_open), "counted": handover is not None,
            "note": handover.note if handover else None,
            "resolution_note": handover.resolution_note if handover else None,
            "may_count": viewer.is_supervisor and viewer.id != submission.loan_officer_id,
        })
    groups: dict[tuple[dt.date, str], dict[str, Any]] = defaultdict(
        lambda: {"sheets": 0, "expected": Decimal(0), "handed_over": Decimal(0),
                 "open_difference": Decimal(0), "open": 0, "not_counted": 0})
    for sheet in sheets:
        g = groups[(sheet["meeting_date"], sheet["loan_officer"])]
        g["sheets"] += 1
        g["expected"] += sheet["expected"]
        if sheet["counted"]:
            g["handed_over"] += sheet["handed_over"]
        else:
            g["not_counted"] += 1
        if sheet["open"]:
            g["open"] += 1
            g["open_difference"] += sheet["difference"]
    summary = [{"meeting_date": d, "loan_officer": name, **totals}
               for (d, name), totals in sorted(groups.items())]
    return {"day": day, "sheets": sheets, "summary": summary,
            "may_count": viewer.is_supervisor}
