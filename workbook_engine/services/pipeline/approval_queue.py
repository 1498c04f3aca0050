"""The supervisor's view of submissions: the queue and one submission, with who may see what.

Read-side only (approving, rejecting and processing are in ``services/pipeline/submissions.py`` and
``services/pipeline/processing.py``). Visibility is decided here so every caller obeys it:
supervisors and data-entry clerks see the submissions of their office and the offices below
it; a loan officer sees only the sheets that are theirs or that they submitted. The same
rule for clients, groups, loans and savings accounts is in ``services/access/visibility.py``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, aliased

from workbook_engine.domain import CashHandover, Center, Office, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.lookup import get_or_fail

STATUS_ORDER = [SubmissionStatus.AWAITING_APPROVAL, SubmissionStatus.RECEIVED,
                SubmissionStatus.INVALID, SubmissionStatus.APPROVED, SubmissionStatus.POSTED,
                SubmissionStatus.REJECTED, SubmissionStatus.SUPERSEDED,
                SubmissionStatus.QUARANTINED]
"""The queue's order: what needs a decision first."""


def office_subtree(s: Session, office_id: int) -> set[int]:
    """An office and every office below it."""
    parents = {oid: parent for oid, parent in s.execute(select(Office.id, Office.parent_id))}
    found = {office_id}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in found and child not in found:
                found.add(child)
                changed = True
    return found


def visible_to(s: Session, viewer: Staff) -> Any:
    """The condition selecting the submissions ``viewer`` may see."""
    own = or_(Submission.loan_officer_id == viewer.id, Submission.submitted_by_id == viewer.id)
    if viewer.is_supervisor or viewer.is_clerk:
        offices = office_subtree(s, viewer.office_id)
        return or_(own, Submission.office_id.in_(offices), Submission.office_id.is_(None))
    return own


def supervises(s: Session, staff: Staff, office_id: int | None) -> bool:
    """Whether ``staff`` belongs to this office or to an office above it (a sheet without an
    office is everyone's, as in :func:`visible_to`)."""
    return office_id is None or office_id in office_subtree(s, staff.office_id)


def may_decide(s: Session, viewer: Staff, submission: Submission) -> bool:
    """Whether this member of staff may approve or reject: a supervisor of the sheet's office
    (or of an office above it) who neither submitted the sheet nor is its loan officer, on a
    sheet awaiting approval."""
    return (viewer.is_supervisor and submission.status == SubmissionStatus.AWAITING_APPROVAL
            and viewer.id not in (submission.submitted_by_id, submission.loan_officer_id)
            and supervises(s, viewer, submission.office_id))


def _row(submission: Submission, names: dict[str, Any],
         handover: CashHandover | None) -> dict[str, Any]:
    return {
        "id": submission.id, "status": submission.status.value,
        "original_name": submission.original_name, "office": names.get("office"),
        "office_id": submission.office_id, "loan_officer": names.get("loan_officer"),
        "loan_officer_id": submission.loan_officer_id, "center": names.get("center"),
        "center_id": submission.center_id, "meeting_date": submission.meeting_date,
        "received_at": submission.received_at, "submitted_by": names.get("submitted_by"),
        "submitted_by_id": submission.submitted_by_id, "error_count": submission.error_count,
        "cash_collected": submission.cash_collected, "cash_paid_out": submission.cash_paid_out,
        "cash_to_hand_over": cash_to_hand_over(submission), "decided_by": names.get("decided_by"),
        "decided_at": submission.decided_at, "decision_reason": submission.decision_reason,
        "posted_at": submission.posted_at, "version": submission.version,
        "handed_over": handover.handed_over if handover else None,
        "cash_difference": handover.difference if handover else None,
        "cash_difference_open": bool(handover and handover.is_open),
    }


def _query(s: Session) -> Any:
    officer, submitter, decider = aliased(Staff), aliased(Staff), aliased(Staff)
    return (select(Submission, Office.name, officer, Center.name, submitter, decider,
                   CashHandover)
            .outerjoin(Office, Office.id == Submission.office_id)
            .outerjoin(officer, officer.id == Submission.loan_officer_id)
            .outerjoin(Center, Center.id == Submission.center_id)
            .outerjoin(submitter, submitter.id == Submission.submitted_by_id)
            .outerjoin(decider, decider.id == Submission.decided_by_id)
            .outerjoin(CashHandover, CashHandover.submission_id == Submission.id))


def _unpack(result: Any) -> dict[str, Any]:
    submission, office, officer, center, submitter, decider, handover = result
    names = {"office": office, "center": center,
             "loan_officer": officer.display_name if officer else None,
             "submitted_by": submitter.display_name if submitter else None,
             "decided_by": decider.display_name if decider else None}
    return _row(submission, names, handover)


def queue(ctx: AppContext, *, viewer_id: int, status: str | None = None,
          limit: int = 500) -> list[dict[str, Any]]:
    """The submissions ``viewer_id`` may see, awaiting approval first, newest first within."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        query = _query(s).where(visible_to(s, viewer))
        if status:
            query = query.where(Submission.status == SubmissionStatus(status))
        rows = [_unpack(r) for r in s.execute(
            query.order_by(Submission.received_at.desc(), Submission.id.desc()).limit(limit))]
    rank = {status.value: i for i, status in enumerate(STATUS_ORDER)}
    return sorted(rows, key=lambda r: rank.get(r["status"], len(rank)))


def submission_page(ctx: AppContext, submission_id: int, *, viewer_id: int) -> dict[str, Any]:
    """One submission as its page shows it; refused as not found when the viewer may not
    see it (so its existence is not revealed)."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        result = s.execute(_query(s).where(Submission.id == submission_id)
                           .where(visible_to(s, viewer))).first()
        if result is None:
            raise EngineError(NOT_FOUND, f"There is no submission with id {submission_id} "
                              "that you may see.", entity="submission", id=str(submission_id))
        view = _unpack(result)
        submission = result[0]
        view.update({
            "may_decide": may_decide(s, viewer, submission),
            "has_report_html": bool(submission.report_html_path),
            "has_report_xlsx": bool(submission.report_xlsx_path),
            "has_original": bool(submission.archive_path),
            "content": submission.content or {},
        })
        return view


def submission_file(ctx: AppContext, submission_id: int, which: str, *,
                    viewer_id: int) -> tuple[str, str]:
    """The path and download name of a submission's file (``report_html``, ``report_xlsx``
    or ``original``), for a viewer allowed to see the submission."""
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        submission = s.scalar(select(Submission).where(Submission.id == submission_id)
                              .where(visible_to(s, viewer)))
        if submission is None:
            raise EngineError(NOT_FOUND, f"There is no submission with id {submission_id} "
                              "that you may see.")
        path = {"report_html": submission.report_html_path,
                "report_xlsx": submission.report_xlsx_path,
                "original": submission.archive_path}[which]
        if not path:
            raise EngineError(NOT_FOUND, f"Submission {submission_id} has no "
                              f"{which.replace('_', ' ')} file.")
        stem = submission.original_name.rsplit(".", 1)[0]
        name = {"report_html": f"{stem}-report.html", "report_xlsx": f"{stem}-report.xlsx",
                "original": submission.original_name}[which]
        return path, name


def cash_to_hand_over(submission: Submission) -> Decimal:
    """Collected minus paid out: what the loan officer should bring back (negative: the
    officer was given loan money to pay out)."""
    return submission.cash_collected - submission.cash_paid_out
