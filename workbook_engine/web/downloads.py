"""Generate page: collection sheets as one workbook, or a zip of several."""

from __future__ import annotations

import io
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from workbook_engine.config import parse_iso_date
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE, NOT_ALLOWED, NOT_FOUND
from workbook_engine.services.auth import SignedIn
from workbook_engine.services.context import AppContext

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _id(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise EngineError(INVALID_VALUE, f"{what} '{value}' is not a number.") from None


def generate_download(ctx: AppContext, user: SignedIn, form: FormData) -> Response:
    """Call the collection-sheet service for the chosen centers and send the files."""
    from workbook_engine.web.app import optional_service

    service = optional_service("collection_sheets")
    if service is None:
        raise EngineError(NOT_ALLOWED, "Generating collection sheets is not available in this "
                          "installation yet.")
    try:
        meeting = parse_iso_date(str(form.get("meeting_date", "")), "Meeting date")
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, str(exc)) from None
    staff_id = _id(form.get("staff_id"), "Loan officer")
    if not (user.is_supervisor or user.is_clerk):
        # A loan officer generates their own centers' sheets only.
        staff_id = user.staff_id
    office_id = _id(form.get("office_id"), "Branch")
    if not (user.is_supervisor or user.is_clerk):
        from workbook_engine.services.directory import list_centers

        own = {c["id"] for c in list_centers(ctx, staff_id=user.staff_id)}
        if any(_id(c, "Center") not in own for c in form.getlist("center_id")):
            raise EngineError(NOT_ALLOWED, "A loan officer generates sheets for their own "
                              "centers only; untick the others.")
    # The service takes exactly one selection: each center ticked, else the loan officer,
    # else the branch.
    centers = [_id(c, "Center") for c in form.getlist("center_id")]
    if centers:
        selections: list[dict[str, int | None]] = [{"center_id": c} for c in centers]
    elif staff_id is not None:
        selections = [{"staff_id": staff_id}]
    elif office_id is not None:
        selections = [{"office_id": office_id}]
    else:
        raise EngineError(INVALID_VALUE, "Choose a branch, a loan officer or at least one "
                          "center to generate sheets for.")
    with tempfile.TemporaryDirectory(prefix="generate-", dir=ctx.home) as folder:
        files: list[Path] = []
        for selection in selections:
            sheets = service.generate_collection_sheets(
                ctx, actor_id=user.staff_id, meeting_date=meeting, out_dir=Path(folder),
                **selection)
            files.extend(Path(sheet.path) for sheet in sheets)
        if not files:
            raise EngineError(NOT_FOUND, f"No center meets on {meeting.isoformat()} for the "
                              "branch, loan officer and centers chosen; pick another date or "
                              "fewer filters.")
        if len(files) == 1:
            return Response(files[0].read_bytes(), media_type=XLSX, headers={
                "content-disposition": f'attachment; filename="{files[0].name}"'})
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
    name = f"collection-sheets-{meeting.isoformat()}.zip"
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"content-disposition": f'attachment; filename="{name}"'})
