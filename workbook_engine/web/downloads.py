"""Generate page: collection sheets (one workbook, or a zip of several), the client template
and, for supervisors, the setup and migration templates; each written by its service into a
temporary folder and sent as a download.

What may be chosen follows the read rule (``services/access/visibility.py``): a supervisor or clerk
picks among the offices, loan officers and centers of their office and those below it; a
loan officer generates for themselves and their own centers only.
"""

from __future__ import annotations

import io
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from starlette.datastructures import FormData
from starlette.responses import Response

from workbook_engine.config import parse_iso_date
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import INVALID_VALUE, NOT_ALLOWED, NOT_FOUND
from workbook_engine.services.clients import directory
from workbook_engine.services.access.auth import SignedIn
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.collection.sheets import generate_collection_sheets
from workbook_engine.services.context import AppContext
from workbook_engine.services.imports.setup_import import generate_setup_template
from workbook_engine.web.security import attachment

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _id(value: Any, what: str) -> int | None:
    if value in (None, ""):
        return None
    try:
        return int(str(value))
    except ValueError:
        raise EngineError(INVALID_VALUE, f"{what} '{value}' is not a number.") from None


def _allowed(value: int | None, choices: Iterable[dict[str, Any]], what: str) -> int | None:
    if value is not None and value not in {c["id"] for c in choices}:
        raise EngineError(NOT_ALLOWED, f"You may not generate for {what} {value}; choose "
                          f"one of the {what}s in the list.")
    return value


def _own_officer(user: SignedIn, staff_id: int | None) -> int | None:
    # A loan officer generates for themselves, whatever the form says.
    return staff_id if user.is_supervisor or user.is_clerk else user.staff_id


def _office(ctx: AppContext, viewer: int, form: FormData, what: str) -> int:
    """The office chosen on the form: one the viewer may see, and mandatory."""
    office_id = _allowed(_id(form.get("office_id"), "Office"),
                         directory.offices_for(ctx, viewer_id=viewer), "office")
    if office_id is None:
        raise EngineError(INVALID_VALUE, f"Choose the office {what}.")
    return office_id


def _download(path: Path) -> Response:
    return Response(path.read_bytes(), media_type=XLSX, headers={
        "content-disposition": attachment(path.name)})


def generate_download(ctx: AppContext, user: SignedIn, form: FormData) -> Response:
    """The collection sheets of the centers ticked (else of the loan officer, else of the
    branch) for a meeting date: one .xlsx, or a zip with one workbook per center."""
    try:
        meeting = parse_iso_date(str(form.get("meeting_date", "")), "Meeting date")
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, str(exc)) from None
    viewer = user.staff_id
    staff_id = _allowed(_own_officer(user, _id(form.get("staff_id"), "Loan officer")),
                        directory.loan_officers_for(ctx, viewer_id=viewer), "loan officer")
    office_id = _allowed(_id(form.get("office_id"), "Branch"),
                         directory.offices_for(ctx, viewer_id=viewer), "office")
    own_centers = directory.centers_for(ctx, viewer_id=viewer)
    centers = [_allowed(_id(c, "Center"), own_centers, "center")
               for c in form.getlist("center_id")]
    # The service takes exactly one selection: each center ticked, else the loan officer,
    # else the branch.
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
            sheets = generate_collection_sheets(ctx, actor_id=viewer, meeting_date=meeting,
                                                out_dir=Path(folder), **selection)
            files.extend(Path(sheet.path) for sheet in sheets)
        if not files:
            raise EngineError(NOT_FOUND, f"No center meets on {meeting.isoformat()} for the "
                              "branch, loan officer and centers chosen; pick another date or "
                              "fewer filters.")
        if len(files) == 1:
            return _download(files[0])
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in files:
                archive.write(path, path.name)
    name = f"collection-sheets-{meeting.isoformat()}.zip"
    return Response(buffer.getvalue(), media_type="application/zip",
                    headers={"content-disposition": attachment(name)})


def template_download(ctx: AppContext, user: SignedIn, form: FormData) -> Response:
    """The client-import template of an office (with its branches) for a legal form, its
    staff drop-down limited to one loan officer when one is chosen."""
    viewer = user.staff_id
    office_id = _office(ctx, viewer, form, "whose clients the template is for")
    staff_id = _allowed(_own_officer(user, _id(form.get("staff_id"), "Staff")),
                        directory.loan_officers_for(ctx, viewer_id=viewer), "loan officer")
    with tempfile.TemporaryDirectory(prefix="template-", dir=ctx.home) as folder:
        result = generate_client_template(ctx, actor_id=viewer, office_id=office_id,
                                          legal_form=str(form.get("legal_form", "person")),
                                          out_dir=Path(folder), staff_id=staff_id)
        return _download(Path(result.path))


def setup_template_download(ctx: AppContext, user: SignedIn, form: FormData) -> Response:
    """A setup or migration template (offices, staff, ..., loans, savings) whose drop-downs
    list what exists in an office and its branches; supervisors only."""
    if not user.is_supervisor:
        raise EngineError(NOT_ALLOWED, "Only a supervisor may download the setup and "
                          "migration templates; ask a supervisor of your office.")
    office_id = _office(ctx, user.staff_id, form, "whose records the drop-downs list")
    with tempfile.TemporaryDirectory(prefix="setup-", dir=ctx.home) as folder:
        result = generate_setup_template(ctx, actor_id=user.staff_id,
                                         kind=str(form.get("kind", "")),
                                         out_dir=Path(folder), office_id=office_id)
        return _download(result.path)
