"""Submissions of returned workbooks: list, show, approve (and post), reject, history.

A submission moves through ``received`` -> ``invalid`` | ``awaiting_approval`` ->
``posted`` (through ``approved``) | ``rejected``; a newer version of the same sheet makes an
older, unposted one ``superseded``. Every change of status is an audit record
(``submission.<status>``) with who and when: that is the submission's history.

Approval is maker-checker: the approver must be an active supervisor of the sheet's office or
of an office above it, and neither the person who submitted the sheet nor the loan officer of
the sheet (who handled the cash). Approving posts, in the same transaction, the plan that
processing rehearsed (:mod:`services.collection.posting`), on the database as it is now; if
any cell cannot be posted now (its account changed since the sheet was generated, or the
ledger refuses it), nothing is posted and the submission becomes ``invalid`` with those
cells as its errors.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Row, bindparam, insert, select
from sqlalchemy.orm import Session

from workbook_engine.intake.faults import fault_point
from workbook_engine.money import round_money
from workbook_engine.db.engine import HotStatement
from workbook_engine.db.uow import UnitOfWork
from workbook_engine.domain import AuditRecord, GeneratedWorkbook, Office, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError, lookup
from workbook_engine.errors.returned import (
    ALREADY_POSTED,
    NOT_OFFICE_SUPERVISOR,
    NOT_SUPERVISOR,
    NOT_VALID,
    SAME_PERSON,
    STALE,
)
from workbook_engine.errors.general import INVALID_VALUE, NOT_FOUND, WRONG_STATE
from workbook_engine.domain.posting_plan import PostingPlan, SheetEntries, plan_posting
from workbook_engine.services.collection.posting import CellFailure, PostingRefused, post_plan
from workbook_engine.services.collection.rules import collection_rules
from workbook_engine.services.pipeline.approval_queue import supervises, visible_to
from workbook_engine.services.pipeline.import_kinds import signed_import
from workbook_engine.rules import Rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail, resolve_staff
from workbook_engine.validation.values import office_locale

ExcludedSheetWriter = Callable[[AppContext, int, list[str]], str | None]
"""Writes a new sheet holding only some rows of a submission; returns its path."""


def set_status(uow: UnitOfWork, submission: Submission, status: SubmissionStatus,
               note: str | None = None, *, flush: bool = True) -> None:
    """Change a submission's status, recording who and when in the audit log.

    ``flush=False`` (a submission that has its id) leaves the change and its record to be
    written with the rest of the use case's changes."""
    before = submission.status.value if submission.status else None
    submission.status = status
    uow.audit(f"submission.{status.value}", submission, before={"status": before},
              after={"status": status.value}, note=note[:500] if note else None,
              flush=flush or submission.id is None)


_STATUS_RECORD = insert(AuditRecord.__table__)


def record_status_changes(session: Session, *, actor_id: int | None, at: dt.datetime,
                          changes: Iterable[tuple[int, SubmissionStatus | None,
                                                  SubmissionStatus, str | None]]) -> None:
    """Record changes of status written to submissions by SQL rather than through
    :func:`set_status` (the same audit records: ``submission.<status>``, before, after,
    note), in one statement; ``changes``: submission id, status before, status after, note,
    in the order they happened."""
    session.connection().execute(_STATUS_RECORD, [
        {"at": at, "actor_id": actor_id, "action": f"submission.{after.value}",
         "entity_type": Submission.__tablename__, "entity_id": str(submission_id),
         "before": {"status": before.value if before else None},
         "after": {"status": after.value}, "note": note[:500] if note else None}
        for submission_id, before, after, note in changes])


_DUPLICATE = (select(Submission.id, Submission.status, Submission.error_count,
                      Submission.report_xlsx_path, Submission.report_html_path)
              .where(Submission.file_sha256 == bindparam("sha256"))
              .order_by(Submission.id).limit(1))
HOT_STATEMENTS: tuple[HotStatement, ...] = (
    (_DUPLICATE, ("sha256",)),
    # the records of record_status_changes: two or more at once (an executemany)
    (_STATUS_RECORD, ("at", "actor_id", "action", "entity_type", "entity_id", "before",
                      "after", "note"), True))
"""The statements run for every file received, with their parameters' names (for
:func:`db.engine.compile_into_cache`)."""


def find_duplicate(connection: Connection, sha256: str) -> Row[Any] | None:
    """The earliest submission of a file with exactly this content, if any: its id, status,
    error count and reports (a plain row: it is checked for every file received)."""
    return connection.execute(_DUPLICATE, {"sha256": sha256}).first()


def history(session: Session, submission_id: int) -> list[dict[str, Any]]:
    """The status changes of a submission, oldest first: what, who, when, note."""
    records = session.execute(
        select(AuditRecord, Staff).outerjoin(Staff, Staff.id == AuditRecord.actor_id)
        .where(AuditRecord.entity_type == "submissions",
               AuditRecord.entity_id == str(submission_id))
        .order_by(AuditRecord.id)).all()
    return [{"at": rec.at, "action": rec.action.removeprefix("submission."),
             "by_id": rec.actor_id, "by": staff.display_name if staff else "system",
             "note": rec.note} for rec, staff in records]


def _names(session: Session, *ids: int | None) -> list[str | None]:
    result = []
    for staff_id in ids:
        staff = session.get(Staff, staff_id) if staff_id is not None else None
        result.append(staff.display_name if staff else None)
    return result


def currency_digits(session: Session, workbook_ids: Iterable[str | None]) -> dict[str, int]:
    """The currency's digits of each generated workbook named (a collection sheet's amounts
    are in one currency; an import workbook's, none: 2), in one query."""
    wanted = {i for i in workbook_ids if i is not None}
    if not wanted:
        return {}
    digits = GeneratedWorkbook.expected["currency_digits"].as_integer()
    return {workbook_id: DEFAULT_DIGITS if value is None else int(value)
            for workbook_id, value in session.execute(
                select(GeneratedWorkbook.id, digits).where(GeneratedWorkbook.id.in_(wanted)))}


DEFAULT_DIGITS = 2
"""The digits of an amount of a workbook that names no currency."""


def _at_digits(value: Any, digits: int) -> Any:
    """An amount (Decimal, or text in a submission's stored JSON) rounded to the currency's
    digits, of the same type; anything else as it is."""
    if isinstance(value, Decimal | str) and value != "":
        try:
            rounded = round_money(value, digits)
        except (TypeError, ValueError):
            return value
        return rounded if isinstance(value, Decimal) else str(rounded)
    return value


def _posting_at(posting: Any, digits: int) -> Any:
    """What a submission posted, its amounts and balances at the currency's digits (the
    balances before and after were stored at the database's scale)."""
    if not isinstance(posting, dict):
        return posting
    view = {k: _at_digits(v, digits) if k in ("collected", "paid_out") else v
            for k, v in posting.items()}
    for key, fields in (("movements", ("amount",)), ("accounts", ("before", "after"))):
        if isinstance(posting.get(key), list):
            view[key] = [{k: _at_digits(v, digits) if k in fields else v
                          for k, v in item.items()} if isinstance(item, dict) else item
                         for item in posting[key]]
    if isinstance(posting.get("typed"), dict):
        view["typed"] = {k: _at_digits(v, digits) for k, v in posting["typed"].items()}
    return view


def _summary(session: Session, sub: Submission, rules: Rules,
             digits: int = DEFAULT_DIGITS) -> dict[str, Any]:
    submitted_by, officer, decided_by = _names(session, sub.submitted_by_id,
                                               sub.loan_officer_id, sub.decided_by_id)
    office = session.get(Office, sub.office_id) if sub.office_id else None
    locale = office_locale(rules, external_id=office.external_id if office else None,
                           name=office.name if office else None,
                           own_locale=office.locale if office else None)
    return {
        "id": sub.id, "status": sub.status.value, "kind": sub.kind,
        "workbook_id": sub.workbook_id, "version": sub.version,
        "original_name": sub.original_name, "received_at": sub.received_at,
        "submitted_by": submitted_by, "loan_officer": officer, "center_id": sub.center_id,
        "meeting_date": sub.meeting_date, "error_count": sub.error_count,
        "cash_collected": round_money(sub.cash_collected, digits),
        "cash_paid_out": round_money(sub.cash_paid_out, digits),
        "decided_by": decided_by, "decided_at": sub.decided_at,
        "report_xlsx": sub.report_xlsx_path, "report_html": sub.report_html_path,
        "decimal_comma": locale.decimal_comma,  # how its office writes amounts
    }


def list_submissions(ctx: AppContext, *, status: str | None = None,
                     viewer_id: int | None = None) -> list[dict[str, Any]]:
    """Submissions, newest first, optionally of one status; with ``viewer_id``, only those
    that member of staff may see (the approval queue's rule)."""
    if status is not None and status not in {s.value for s in SubmissionStatus}:
        raise EngineError(INVALID_VALUE, f"Status '{status}' is not one of "
                          + ", ".join(s.value for s in SubmissionStatus) + ".")
    with ctx.session_factory() as session:
        query = select(Submission).order_by(Submission.id.desc())
        if viewer_id is not None:
            viewer = get_or_fail(session, Staff, viewer_id, "member of staff")
            query = query.where(visible_to(session, viewer))
        if status is not None:
            query = query.where(Submission.status == SubmissionStatus(status))
        found = list(session.scalars(query))
        digits = currency_digits(session, (sub.workbook_id for sub in found))
        return [_summary(session, sub, ctx.rules,
                         digits.get(sub.workbook_id or "", DEFAULT_DIGITS)) for sub in found]


def show_submission(ctx: AppContext, submission_id: int,
                    viewer_id: int | None = None) -> dict[str, Any]:
    """One submission: its summary, errors, posting result and history; with ``viewer_id``,
    refused as not found when that member of staff may not see it."""
    with ctx.session_factory() as session:
        sub = get_or_fail(session, Submission, submission_id, "submission")
        if viewer_id is not None and not session.scalar(
                select(Submission.id).where(Submission.id == submission_id, visible_to(
                    session, get_or_fail(session, Staff, viewer_id, "member of staff")))):
            raise EngineError(NOT_FOUND, f"There is no submission with id {submission_id} "
                              "that you may see.", entity="submission", id=str(submission_id))
        content = sub.content or {}
        digits = currency_digits(session, [sub.workbook_id]).get(sub.workbook_id or "",
                                                                 DEFAULT_DIGITS)
        return {**_summary(session, sub, ctx.rules, digits), "sha256": sub.file_sha256,
                "sender_email": sub.sender_email, "decision_reason": sub.decision_reason,
                "posted_at": sub.posted_at, "errors": content.get("errors", []),
                "posting": _posting_at(content.get("posting"), digits),
                "history": history(session, sub.id)}


def check_decider(session: Session, reference: str, sub: Submission, what: str) -> Staff:
    """The supervisor who may approve or reject ``sub`` (maker-checker), or a refusal."""
    staff = resolve_staff(session, reference)
    if not (staff.is_supervisor and staff.active):
        raise EngineError(NOT_SUPERVISOR, f"{staff.display_name} is not an active supervisor, "
                          f"so cannot {what} submission {sub.id}; ask a supervisor.")
    if not supervises(session, staff, sub.office_id):
        office = session.get(Office, sub.office_id)
        raise EngineError(NOT_OFFICE_SUPERVISOR, f"{staff.display_name} supervises "
                          f"{staff.office.name}, not {office.name if office else 'its office'} "
                          f"where submission {sub.id} belongs, so cannot {what} it; ask a "
                          "supervisor of that branch or of an office above it.")
    if staff.id in (sub.submitted_by_id, sub.loan_officer_id):
        role = "submitted" if staff.id == sub.submitted_by_id else "is the loan officer of"
        raise EngineError(SAME_PERSON, f"{staff.display_name} {role} submission {sub.id} and "
                          f"so cannot {what} it; ask another supervisor.")
    return staff


def lock_submission(session: Session, submission_id: int) -> Submission:
    """The submission, locked for update until the caller's transaction ends."""
    sub = session.scalar(select(Submission).where(Submission.id == submission_id)
                         .with_for_update())
    if sub is None:
        raise EngineError(lookup("not-found"), f"There is no submission with id "
                          f"{submission_id}; list them with `submissions list`.")
    return sub


def _check_not_posted(session: Session, sub: Submission) -> None:
    if sub.status == SubmissionStatus.POSTED:
        raise EngineError(ALREADY_POSTED, f"Submission {sub.id} was already posted on "
                          f"{sub.posted_at:%Y-%m-%d %H:%M}; nothing more is posted.")
    if sub.workbook_id is not None:
        other = session.scalar(select(Submission.id).where(
            Submission.workbook_id == sub.workbook_id,
            Submission.status == SubmissionStatus.POSTED, Submission.id != sub.id))
        if other is not None:
            raise EngineError(ALREADY_POSTED, f"The sheet of submission {sub.id} was already "
                              f"posted with submission {other}; nothing more is posted.")


def row_errors(content: dict[str, Any]) -> tuple[set[str], list[dict[str, Any]]]:
    """(row keys with errors, errors of the sheet as a whole) of a submission's content."""
    rows: set[str] = set()
    whole: list[dict[str, Any]] = []
    for error in content.get("errors", []):
        if error.get("row_key"):
            rows.add(error["row_key"])
        else:
            whole.append(error)
    return rows, whole


def valid_rows_postable(content: dict[str, Any]) -> bool:
    """Whether the valid rows of a sheet with errors may be posted without the others
    (``approve --exclude-invalid``): its errors are all of rows, none of the whole sheet,
    and its entries were read."""
    return "entries" in content and not row_errors(content)[1]


def approve_submission(ctx: AppContext, *, submission_id: int, by: str,
                       exclude_invalid: bool = False,
                       write_excluded: ExcludedSheetWriter | None = None) -> dict[str, Any]:
    """Approve a valid submission and post it, all in one transaction.

    With ``exclude_invalid`` a submission with row errors posts its valid rows only; the
    excluded rows stay due and ``write_excluded`` writes them to a new sheet, and the
    submission's cash becomes what it posted (the amounts typed are kept in its posting).
    """
    with ctx.session_factory() as session:
        kind = session.scalar(select(Submission.kind).where(Submission.id == submission_id))
    imported = signed_import(kind) if kind is not None else None
    if imported is not None:  # each kind of import workbook posts its own way
        return imported.approve(ctx, submission_id=submission_id, by=by)
    excluded: list[str] = []
    moving: set[tuple[str, str]] = set()  # the cells the posting would move money for
    try:
        with ctx.unit_of_work(None) as uow:
            s = uow.session
            sub = lock_submission(s, submission_id)
            approver = check_decider(s, by, sub, "approve")
            uow.actor_id = approver.id
            _check_not_posted(s, sub)
            content = dict(sub.content or {})
            bad_rows, whole = row_errors(content)
            if sub.status not in (SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.INVALID):
                raise EngineError(WRONG_STATE, f"Submission {sub.id} is "
                                  f"{sub.status.value.replace('_', ' ')}; only a submission "
                                  "awaiting approval can be approved.")
            if sub.status == SubmissionStatus.INVALID and not (
                    exclude_invalid and valid_rows_postable(content)):
                raise EngineError(NOT_VALID, f"Submission {sub.id} has "
                                  f"{sub.error_count} error(s)"
                                  + (f", {len(whole)} of them about the whole sheet (no row "
                                     "can be posted until those are corrected)" if whole else "")
                                  + "; correct the report's red cells and send it again"
                                  + ("" if whole else ", or approve with --exclude-invalid")
                                  + ".")
            workbook = get_or_fail(s, GeneratedWorkbook, sub.workbook_id, "workbook")
            plan = _plan(ctx, content, workbook.expected)
            if bad_rows:
                excluded = sorted(bad_rows)
                plan = plan.only_rows(r["key"] for r in workbook.expected["rows"]
                                      if r["key"] not in bad_rows)
            moving = {(cell.row_key, cell.column_key) for cell, _ in plan.movements()}
            set_status(uow, sub, SubmissionStatus.APPROVED)
            result = post_plan(s, plan, expected=workbook.expected, workbook_id=workbook.id,
                               submission_id=sub.id, actor_id=approver.id)
            sub.decided_by_id = approver.id
            sub.decided_at = uow.now
            sub.posted_at = uow.now
            content["posting"] = {**result.to_json(), "excluded_rows": excluded}
            if excluded:
                # The excluded rows' money is not posted now: it comes back on the sheet of
                # excluded rows. This sheet's cash is what it posted (check: submission-cash).
                content["posting"]["typed"] = {"collected": str(sub.cash_collected),
                                               "paid_out": str(sub.cash_paid_out)}
                sub.cash_collected, sub.cash_paid_out = result.collected, result.paid_out
            sub.content = content
            set_status(uow, sub, SubmissionStatus.POSTED,
                       note=f"{len(result.movements)} transactions"
                       + (f"; {len(excluded)} rows excluded" if excluded else ""))
            fault_point("mid-posting")
            uow.commit()
    except PostingRefused as refused:
        _mark_refused(ctx, submission_id, refused.cells, by)
        first = refused.cells[0].error
        raise EngineError(first if all(c.error is first for c in refused.cells) else STALE,
                          _refusal_message(submission_id, refused.cells, moving),
                          submission_id=submission_id,
                          cells=[c.as_error() for c in refused.cells]) from None
    new_sheet = write_excluded(ctx, submission_id, excluded) if excluded and write_excluded \
        else None
    view = show_submission(ctx, submission_id)
    view["excluded_rows"] = excluded
    view["excluded_sheet"] = new_sheet
    return view


def _refusal_message(submission_id: int, cells: list[CellFailure],
                     moving: set[tuple[str, str]]) -> str:
    """What approval says when cells of a sheet cannot be posted (nothing was posted).

    When every cell that moves money was posted for the meeting already, by other copies of
    the sheet, nothing on this copy is left to post: it says which submission posted the
    meeting and to reject this one (``--exclude-invalid`` would post nothing either).
    """
    posted_by = sorted({c.posted_by for c in cells if c.posted_by is not None})
    if posted_by and all(c.posted_by is not None for c in cells) \
            and moving <= {(c.row_key, c.column_key) for c in cells}:
        others = ", ".join(str(n) for n in posted_by)
        return (f"Nothing was posted: this meeting was already posted from another copy of "
                f"its sheet (submission {others}), so nothing on submission {submission_id} "
                f"is left to post. Reject it: workbook-engine reject {submission_id} "
                "--reason \"meeting already posted\".")
    listed = "; ".join(c.message.rstrip(".") for c in cells[:5])
    return (f"Nothing was posted: {len(cells)} cell(s) of submission {submission_id} cannot "
            f"be posted now ({listed}). Correct those rows in the report and send it again, "
            "or approve with --exclude-invalid.")


def _plan(ctx: AppContext, content: dict[str, Any], expected: dict[str, Any]) -> PostingPlan:
    """The plan processing rehearsed and stored; a submission processed before plans were
    stored gets its plan from its entries, under today's rules."""
    if content.get("plan"):
        return PostingPlan.from_json(content["plan"])
    plan = plan_posting(expected, SheetEntries.from_json(content["entries"]),
                        excess=collection_rules(ctx.rules).excess)
    if plan.problems:
        raise EngineError(NOT_VALID, "This submission was checked by an earlier version of "
                          "the engine, and cannot be posted as it is: "
                          + "; ".join(p.message for p in plan.problems[:3])
                          + ". Correct its report and send it again.")
    return plan


def _mark_refused(ctx: AppContext, submission_id: int, cells: list[CellFailure],
                  by: str) -> None:
    """The submission becomes invalid, with the cells that cannot be posted as errors."""
    with ctx.unit_of_work(None) as uow:
        sub = get_or_fail(uow.session, Submission, submission_id, "submission")
        try:
            uow.actor_id = resolve_staff(uow.session, by).id
        except EngineError:
            pass
        content = dict(sub.content or {})
        content["errors"] = list(content.get("errors", [])) + [c.as_error() for c in cells]
        sub.content = content
        sub.error_count = len(content["errors"])
        codes = sorted({c.error.code for c in cells})
        set_status(uow, sub, SubmissionStatus.INVALID,
                   note=f"not posted at approval: {', '.join(codes)}")
        uow.commit()


def reject_submission(ctx: AppContext, *, submission_id: int, by: str,
                      reason: str) -> dict[str, Any]:
    """Reject a submission with a reason; nothing is posted."""
    if not reason or not reason.strip():
        raise EngineError(INVALID_VALUE, "Give the reason for rejecting with --reason TEXT; "
                          "the loan officer reads it.")
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sub = lock_submission(s, submission_id)
        staff = check_decider(s, by, sub, "reject")
        uow.actor_id = staff.id
        if sub.status == SubmissionStatus.POSTED:  # a copy of a posted sheet may go, though
            raise EngineError(ALREADY_POSTED, f"Submission {sub.id} was posted on "
                              f"{sub.posted_at:%Y-%m-%d %H:%M}, so it cannot be rejected. "
                              f"{ALREADY_POSTED.how_to_fix}")
        if sub.status in (SubmissionStatus.REJECTED, SubmissionStatus.SUPERSEDED):
            raise EngineError(WRONG_STATE, f"Submission {sub.id} is already "
                              f"{sub.status.value}.")
        sub.decided_by_id = staff.id
        sub.decided_at = uow.now
        sub.decision_reason = reason.strip()
        set_status(uow, sub, SubmissionStatus.REJECTED, note=reason.strip())
        uow.commit()
    return show_submission(ctx, submission_id)


def dismiss_submission(ctx: AppContext, *, submission_id: int, by: str,
                       reason: str) -> dict[str, Any]:
    """Set a quarantined file (not a workbook of the engine) aside with a reason: it is kept,
    with its original and history, and hidden from the queue unless asked for."""
    if not reason or not reason.strip():
        raise EngineError(INVALID_VALUE, "Say why the file is dismissed (e.g. 'a photo sent "
                          "by mistake'); it is kept with the reason.")
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sub = lock_submission(s, submission_id)
        staff = resolve_staff(s, by)
        uow.actor_id = staff.id
        if not (staff.is_supervisor and staff.active and supervises(s, staff, sub.office_id)):
            raise EngineError(NOT_SUPERVISOR, f"{staff.display_name} is not a supervisor of "
                              f"the office of submission {sub.id}, so cannot dismiss it; ask "
                              "a supervisor of that branch.")
        if sub.status != SubmissionStatus.QUARANTINED:
            raise EngineError(WRONG_STATE, f"Submission {sub.id} is "
                              f"{sub.status.value.replace('_', ' ')}; only a quarantined file "
                              "(not a workbook of the engine) can be dismissed.")
        sub.decided_by_id = staff.id
        sub.decided_at = uow.now
        sub.decision_reason = reason.strip()[:500]
        set_status(uow, sub, SubmissionStatus.DISMISSED, note=reason.strip())
        uow.commit()
    return show_submission(ctx, submission_id)


__all__ = ["approve_submission", "dismiss_submission", "find_duplicate", "history",
           "list_submissions", "reject_submission", "set_status", "show_submission",
           "valid_rows_postable"]
