"""What approving a submission will post, as the confirmation before "Approve and post" shows
it: per client, group or center row of the sheet, the amounts typed and the column they are
in; the rows that will be left out because they have errors; for an import, its counts.

Read-side only; nothing is posted here (``services/pipeline/submissions.py`` posts).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from workbook_engine.domain import GeneratedWorkbook
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.approval_queue import visible_submission
from workbook_engine.services.pipeline.submissions import row_errors


def _amount(text: Any) -> Decimal | None:
    try:
        value = Decimal(str(text))
    except InvalidOperation:
        return None
    return value if value.is_finite() and value != 0 else None


def _column_label(column: dict[str, Any]) -> str:
    family = str(column.get("family", "")).replace("_", " ")
    header = str(column.get("header") or "")
    return family.capitalize() if header.casefold() == family.casefold() or not header \
        else f"{family.capitalize()}: {header}"


def _rows(content: dict[str, Any], expected: dict[str, Any]) -> list[dict[str, Any]]:
    """The sheet's rows that carry an amount, in the sheet's order, each with its amounts
    (column label, amount) and whether it is left out for its errors."""
    amounts = ((content.get("entries") or {}).get("amounts") or {})
    labels = {c["key"]: _column_label(c) for c in expected.get("columns", [])}
    bad_rows, _ = row_errors(content)
    rows = []
    for row in expected.get("rows", []):
        typed = [(labels.get(key, key), value) for key, value in
                 (amounts.get(row["key"]) or {}).items()]
        typed = [(label, value) for label, raw in typed if (value := _amount(raw)) is not None]
        if typed:
            rows.append({"name": row.get("name") or row["key"], "kind": row.get("kind"),
                         "amounts": typed, "excluded": row["key"] in bad_rows})
    return rows


def approval_preview(ctx: AppContext, submission_id: int, *,
                     viewer_id: int) -> dict[str, Any]:
    """What approving ``submission_id`` will post, for a viewer who may see it:
    ``rows`` (see :func:`_rows`), ``excluded`` (how many rows are left out), ``import``
    (an import's counts, or None)."""
    with ctx.session_factory() as s:
        sub = visible_submission(s, submission_id, viewer_id)
        content = dict(sub.content or {})
        workbook = s.get(GeneratedWorkbook, sub.workbook_id) if sub.workbook_id else None
        rows = _rows(content, workbook.expected or {}) \
            if workbook is not None and content.get("entries") else []
        return {"rows": rows, "excluded": sum(1 for r in rows if r["excluded"]),
                "import": content.get("import") if isinstance(content.get("import"), dict)
                else None}
