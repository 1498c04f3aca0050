"""The queue and the cash list as .xlsx downloads: the rows the page's filters select (every
page of them, never more than the viewer may see), written by ``workbooks/list_export.py``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from workbook_engine.services.context import AppContext
from workbook_engine.web.downloads import XLSX
from workbook_engine.web.security import attachment
from workbook_engine.workbooks.list_export import ListColumn, field_column, write_list


def _label(key: str) -> Any:
    return lambda r: str(r.get(key) or "").replace("_", " ")


QUEUE_COLUMNS = [
    field_column("Submission", "id", "integer", 11),
    ListColumn("Status", _label("status"), width=18),
    ListColumn("Kind of workbook", _label("kind"), width=18),
    field_column("File", "original_name", width=30),
    field_column("Office", "office", width=16),
    field_column("Loan officer", "loan_officer", width=18),
    field_column("Center", "center", width=16),
    field_column("Group", "group", width=16),
    field_column("Meeting", "meeting_date", "date", 12),
    field_column("Received (UTC)", "received_at", "datetime", 17),
    field_column("Errors", "error_count", "integer", 8),
    field_column("Cash collected", "cash_collected", "money"),
    field_column("Cash paid out", "cash_paid_out", "money"),
    field_column("Cash to hand over", "cash_to_hand_over", "money"),
    field_column("Decided by", "decided_by", width=18),
    field_column("Decided (UTC)", "decided_at", "datetime", 17),
    field_column("Reason", "decision_reason", width=30),
]

CASH_COLUMNS = [
    field_column("Submission", "submission_id", "integer", 11),
    field_column("Meeting", "meeting_date", "date", 12),
    field_column("Loan officer", "loan_officer", width=18),
    field_column("Center", "center", width=16),
    field_column("Group", "group", width=16),
    field_column("Cash to hand over", "expected", "money"),
    field_column("Handed over", "handed_over", "money"),
    field_column("Difference", "difference", "money"),
    field_column("Counted by", "counted_by", width=18),
    field_column("Counted (UTC)", "counted_at", "datetime", 17),
    field_column("Note", "note", width=30),
    field_column("Resolved by", "resolved_by", width=18),
    field_column("Resolved (UTC)", "resolved_at", "datetime", 17),
    field_column("How it was resolved", "resolution_note", width=30),
]


def _download(name: str, title: str, columns: Sequence[ListColumn],
              rows: Sequence[Mapping[str, Any]]) -> Response:
    return Response(write_list(title, columns, rows), media_type=XLSX, headers={
        "content-disposition": attachment(name)})


def queue_download(ctx: AppContext, rows: Sequence[Mapping[str, Any]]) -> Response:
    """The queue as filtered, every page of it."""
    today = ctx.today().isoformat()
    return _download(f"submissions-{today}.xlsx", f"Submissions ({len(rows)}), {today}",
                     QUEUE_COLUMNS, rows)


def cash_download(ctx: AppContext, view: Mapping[str, Any]) -> Response:
    """The cash list of a day (and every sheet still to count or with a difference open)."""
    day = view["day"].isoformat()
    return _download(f"cash-{day}.xlsx", f"Cash handed over, {day}: {len(view['sheets'])} "
                     "sheets", CASH_COLUMNS, view["sheets"])
