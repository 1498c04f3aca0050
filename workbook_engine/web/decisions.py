"""Approving a sheet's valid rows only, from the browser, as ``approve --exclude-invalid`` does
on the command line (the same service, ``submissions.approve_submission``).

``GET /submissions/{sid}/approve-valid-rows`` lists the rows left out (row, client, errors)
and asks to confirm; its POST approves and posts the other rows, writes the sheet of the
excluded rows (``services/imports/excluded_rows.py``) and returns to the submission's page,
which lists the rows excluded and what was posted.
"""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_ALLOWED
from workbook_engine.services.access.auth import SignedIn
from workbook_engine.services.imports.excluded_rows import write_excluded_sheet
from workbook_engine.services.pipeline import submissions
from workbook_engine.services.pipeline.submission_view import submission_view
from workbook_engine.web.app import _check_may_decide, _ctx, _int, call, form_post, signed_in
from workbook_engine.web.render import page


def _refuse_unless_possible(view: dict[str, object], sid: int | None) -> None:
    if not view["may_post_valid_rows"]:
        raise EngineError(NOT_ALLOWED, f"Submission {sid} cannot be approved without its "
                          "rows with errors: only a sheet whose errors are all of rows (none "
                          "of the whole sheet) can, and only by a supervisor of its office "
                          "or of an office above it who neither submitted it nor is its "
                          "loan officer.")


@signed_in
async def valid_rows_form(request: Request, user: SignedIn) -> Response:
    """The confirmation page: the rows left out, and the button that posts the others."""
    sid = _int(request.path_params["sid"], "Submission")
    view = await call(submission_view, _ctx(request), sid, viewer_id=user.staff_id)
    _refuse_unless_possible(view, sid)
    return page("approve_valid_rows.html.j2", title=f"Approve the valid rows of submission "
                f"{sid}", user=user, s=view)


@form_post
async def valid_rows_post(request: Request, user: SignedIn, form: FormData) -> Response:
    """Approve and post the valid rows; the others go to a new sheet and stay due."""
    sid = _int(request.path_params["sid"], "Submission")
    await _check_may_decide(request, user, sid)
    await call(submissions.approve_submission, _ctx(request), submission_id=sid,
               by=str(user.staff_id), exclude_invalid=True,
               write_excluded=write_excluded_sheet)
    return RedirectResponse(f"/submissions/{sid}?done=approved-valid-rows#posted-by-client",
                            status_code=303)


def routes() -> list[BaseRoute]:
    """The routes of this page family (placed before ``/submissions/{sid}/{which}``)."""
    return [Route("/submissions/{sid}/approve-valid-rows", valid_rows_form, methods=["GET"]),
            Route("/submissions/{sid}/approve-valid-rows", valid_rows_post, methods=["POST"])]
