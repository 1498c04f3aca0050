"""Cash reconciliation: the cash a loan officer hands over for each posted sheet.

A supervisor counts the cash and records it against the sheet's cash to hand over
(collected minus paid out). A difference beyond ``rules/web.yaml``'s tolerance stays open,
and on the daily per-officer summary, until a supervisor resolves it with a note.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from workbook_engine.domain import (
    CashHandover,
    Center,
    GeneratedWorkbook,
    Group,
    Staff,
    Submission,
)
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE, MISSING_VALUE, NOT_ALLOWED, WRONG_STATE
from workbook_engine.money import round_money
from workbook_engine.services.pipeline.approval_queue import cash_to_hand_over, visible_to
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.amounts import typed_amount
from workbook_engine.services.setup.lookup import get_or_fail
from workbook_engine.services.access.web_rules import web_rules


def _currency_digits(ctx: AppContext) -> int:
    return int(ctx.rules.value("general", "default_currency_digits", 2))


def _supervisor(s: Any, actor_id: int | None, what: str) -> Staff:
    actor = get_or_fail(s, Staff, actor_id, "member of staff") if actor_id else None
    if actor is None or not actor.is_supervisor:
        raise EngineError(NOT_ALLOWED, f"Only a supervisor may {what}.")
    return actor


def record_handover(ctx: AppContext, *, actor_id: int | None, submission_id: int,
                    amount: Decimal | str, note: str | None = None) -> int:
    """Record (or correct, while unresolved) the cash handed over for a posted sheet."""
    digits = _currency_digits(ctx)
    handed = typed_amount(amount, digits, "Cash handed over")
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


def _pending_or_on(day: dt.date) -> Any:
    """A posted sheet of ``day`` (its meeting, else the day posted), or one whose cash is not
    counted yet or whose difference is open (those stay on the page until done)."""
    start = dt.datetime.combine(day, dt.time())
    end = start + dt.timedelta(days=1)
    posted = func.coalesce(Submission.posted_at, Submission.received_at)
    on_day = or_(Submission.meeting_date == day,
                 and_(Submission.meeting_date.is_(None), posted >= start, posted < end))
    return or_(on_day, CashHandover.id.is_(None),
               and_(CashHandover.difference != 0, CashHandover.resolved_at.is_(None)))


def reconciliation(ctx: AppContext, *, viewer_id: int, day: dt.date | None = None,
                   loan_officer_id: int | None = None, page: int = 1,
                   per_page: int | None = 50) -> dict[str, Any]:
    """The page of cash reconciliation for ``viewer_id``, selected and paged in the database.

    ``sheets``: one page (``per_page`` None: all) of the posted sheets of ``day`` (default
    today) and every posted sheet whose cash is not counted yet or whose difference is open,
    each with who counted it and who resolved its difference, with their notes; ``summary``:
    per meeting day and loan officer, the totals of all of them (not only the page), with the
    open differences of earlier days kept on it; ``total``: how many sheets in all.
    """
    day = day or ctx.today()
    officer, counter, resolver = aliased(Staff), aliased(Staff), aliased(Staff)
    sheet_group = aliased(Group)
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        conditions = [Submission.status == SubmissionStatus.POSTED, visible_to(s, viewer),
                      _pending_or_on(day)]
        if loan_officer_id is not None:
            conditions.append(Submission.loan_officer_id == loan_officer_id)
        joined = (select(Submission)
                  .outerjoin(CashHandover, CashHandover.submission_id == Submission.id)
                  .outerjoin(officer, officer.id == Submission.loan_officer_id)
                  .where(*conditions))
        total = s.scalar(joined.with_only_columns(func.count(Submission.id))) or 0
        per = per_page or max(total, 1)
        pages = max(1, -(-total // per))
        page = min(max(1, page), pages)
        rows = s.execute(
            joined.add_columns(CashHandover, officer, counter, resolver, Center.name,
                               sheet_group.name)
            .outerjoin(counter, counter.id == CashHandover.recorded_by_id)
            .outerjoin(resolver, resolver.id == CashHandover.resolved_by_id)
            .outerjoin(Center, Center.id == Submission.center_id)
            .outerjoin(GeneratedWorkbook, GeneratedWorkbook.id == Submission.workbook_id)
            .outerjoin(sheet_group, sheet_group.id == GeneratedWorkbook.group_id)
            .order_by(Submission.meeting_date, Submission.id)
            .limit(per).offset((page - 1) * per)).all()
        summary = _summary(s, joined, officer)
    sheets = [_sheet(viewer, *row) for row in rows]
    return {"day": day, "sheets": sheets, "summary": summary, "total": total, "page": page,
            "per_page": per, "may_count": viewer.is_supervisor}


def _sheet(viewer: Staff, submission: Submission, handover: CashHandover | None,
           officer: Staff | None, counter: Staff | None, resolver: Staff | None,
           center: str | None, group: str | None) -> dict[str, Any]:
    meeting = submission.meeting_date or (submission.posted_at or submission.received_at).date()
    return {
        "submission_id": submission.id, "meeting_date": meeting,
        "loan_officer": officer.display_name if officer else "(unknown)",
        "loan_officer_id": submission.loan_officer_id, "center": center, "group": group,
        "expected": cash_to_hand_over(submission),
        "handover_id": handover.id if handover else None,
        "handed_over": handover.handed_over if handover else None,
        "difference": handover.difference if handover else None,
        "open": bool(handover and handover.is_open), "counted": handover is not None,
        "counted_by": counter.display_name if counter else None,
        "counted_at": handover.recorded_at if handover else None,
        "note": handover.note if handover else None,
        "resolved_by": resolver.display_name if resolver else None,
        "resolved_at": handover.resolved_at if handover else None,
        "resolution_note": handover.resolution_note if handover else None,
        "may_count": viewer.is_supervisor and viewer.id != submission.loan_officer_id,
    }


def _summary(s: Any, joined: Any, officer: Any) -> list[dict[str, Any]]:
    """Per meeting day and loan officer: sheets, cash to hand over, handed over, sheets not
    counted, open differences (count and amount); one grouped query."""
    is_open = and_(CashHandover.difference != 0, CashHandover.resolved_at.is_(None))
    zero = Decimal(0)
    grouped = s.execute(joined.with_only_columns(
        Submission.meeting_date, Submission.loan_officer_id, officer.first_name,
        officer.last_name, func.count(Submission.id),
        func.sum(Submission.cash_collected - Submission.cash_paid_out),
        func.sum(func.coalesce(CashHandover.handed_over, 0)),
        func.sum(case((CashHandover.id.is_(None), 1), else_=0)),
        func.sum(case((is_open, 1), else_=0)),
        func.sum(case((is_open, CashHandover.difference), else_=0)))
        .group_by(Submission.meeting_date, Submission.loan_officer_id, officer.first_name,
                  officer.last_name)).all()
    summary = [{"meeting_date": meeting, "loan_officer":
                " ".join(p for p in (first, last) if p) or "(unknown)",
                "sheets": sheets, "expected": _money(expected), "handed_over": _money(handed),
                "not_counted": int(not_counted or 0), "open": int(open_count or 0),
                "open_difference": _money(open_amount) if open_count else zero}
               for (meeting, _, first, last, sheets, expected, handed, not_counted,
                    open_count, open_amount) in grouped]
    return sorted(summary, key=lambda g: (g["meeting_date"] or dt.date.min,
                                          g["loan_officer"]))


def _money(value: Any) -> Decimal:
    """A sum from the database (Decimal, or float/int on some drivers) as money."""
    return round_money(Decimal(str(value or 0)), 2)
