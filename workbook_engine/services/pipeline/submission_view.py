"""A submission's whole page: the queue's row, and what a supervisor asks of it.

- its **history**: received (when, from whom), each version of the same sheet with its
  reports, each change of status with who and when (approved, rejected, posted...), and the
  sheet of excluded rows written when it was approved without them;
- the **rows with errors** that approving the valid rows only leaves out (as
  ``approve --exclude-invalid`` does), and whether this viewer may do so;
- **who may approve** it (maker-checker: when an office's only supervisor submitted it, the
  supervisors of the offices above);
- after posting, **what was posted** per client and account (``services/pipeline/posted.py``).

Read-side only, with the queue's read rule (``approval_queue.visible_to``).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workbook_engine.domain import GeneratedWorkbook, Staff, Submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.approval_queue import (
    approvers,
    submission_page,
    supervises,
    visible_to,
)
from workbook_engine.services.pipeline.posted import posted_by_client
from workbook_engine.services.pipeline.submissions import (
    history,
    row_errors,
    valid_rows_postable,
)
from workbook_engine.services.setup.lookup import get_or_fail


def rows_with_errors(content: dict[str, Any]) -> list[dict[str, Any]]:
    """The sheet's rows that have errors, in the sheet's order: row number, client, and the
    errors' messages (what approving the valid rows only leaves out)."""
    rows: dict[str, dict[str, Any]] = {}
    for error in content.get("errors", []):
        key = error.get("row_key")
        if not key:
            continue
        row = rows.setdefault(key, {"key": key, "row": error.get("row"),
                                    "client": error.get("client"),
                                    "client_id": error.get("client_id"), "errors": []})
        row["errors"].append(error.get("message") or error.get("title") or error.get("code"))
    return sorted(rows.values(), key=lambda r: (r["row"] is None, r["row"] or 0, r["key"]))


def _versions(s: Session, viewer: Staff, sub: Submission) -> list[dict[str, Any]]:
    """Every version of the same sheet the viewer may see, oldest first, with its reports."""
    if sub.workbook_id is None:
        return []
    found = s.scalars(select(Submission).where(Submission.workbook_id == sub.workbook_id,
                                               visible_to(s, viewer))
                      .order_by(Submission.version, Submission.id))
    return [{"id": v.id, "version": v.version, "status": v.status.value,
             "received_at": v.received_at, "error_count": v.error_count,
             "original_name": v.original_name, "report_html": bool(v.report_html_path),
             "report_xlsx": bool(v.report_xlsx_path), "this": v.id == sub.id}
            for v in found]


def _excluded_sheets(s: Session, sub: Submission) -> list[dict[str, Any]]:
    """The sheets of excluded rows written when this sheet was approved without them."""
    if sub.workbook_id is None:
        return []
    return [{"file_name": w.file_name, "generated_at": w.generated_at}
            for w in s.scalars(select(GeneratedWorkbook)
                               .where(GeneratedWorkbook.parent_workbook_id == sub.workbook_id)
                               .order_by(GeneratedWorkbook.generated_at))]


def may_post_valid_rows(s: Session, viewer: Staff, sub: Submission) -> bool:
    """Whether ``viewer`` may approve this sheet's valid rows only: a sheet with row errors
    (none of the whole sheet), and a supervisor who may decide on it (maker-checker)."""
    content = sub.content or {}
    return (viewer.is_supervisor and sub.status == SubmissionStatus.INVALID
            and valid_rows_postable(content) and bool(row_errors(content)[0])
            and viewer.id not in (sub.submitted_by_id, sub.loan_officer_id)
            and supervises(s, viewer, sub.office_id))


def submission_view(ctx: AppContext, submission_id: int, *, viewer_id: int) -> dict[str, Any]:
    """The submission's page: :func:`approval_queue.submission_page` (refused as not found
    to a viewer who may not see it) with its history, versions, rows with errors, who may
    approve it, and what was posted per client and account."""
    view = submission_page(ctx, submission_id, viewer_id=viewer_id)
    with ctx.session_factory() as s:
        viewer = get_or_fail(s, Staff, viewer_id, "member of staff")
        sub = get_or_fail(s, Submission, submission_id, "submission")
        content = sub.content or {}
        posting = content.get("posting") if isinstance(content.get("posting"), dict) else {}
        view.update({
            "history": history(s, sub.id),
            "versions": _versions(s, viewer, sub),
            "excluded_sheets": _excluded_sheets(s, sub),
            "rows_with_errors": rows_with_errors(content),
            "excluded_rows": list((posting or {}).get("excluded_rows") or []),
            "may_post_valid_rows": may_post_valid_rows(s, viewer, sub),
            "approvers": approvers(s, sub),
            "posted": posted_by_client(s, content),
        })
    return view
