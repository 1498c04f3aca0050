"""The web application: routes that read a form, call one service, and render a page.

Security in one place:
- signing in opens a server-side session (``services/access/auth.py``); the cookie holds a random
  token, is HttpOnly and SameSite=Lax;
- every POST form carries the session's CSRF token and :func:`form_post` refuses a form
  without it (403, before the handler runs); the sign-in form, which has no session yet,
  carries a token that must match a cookie set with the form (double submit);
- roles are checked by the services; the pages only hide what a user may not do.
"""

from __future__ import annotations

import datetime as dt
import gc
import hmac
import logging
import secrets
import tempfile
import traceback
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_ALLOWED, NOT_FOUND
from workbook_engine.errors.web import FORM_EXPIRED, NOT_SIGNED_IN, UPLOAD_REFUSED
from workbook_engine.reports.links import link_records
from workbook_engine.domain.enums import LegalForm
from workbook_engine.services.pipeline import approval_queue
from workbook_engine.services.access import auth
from workbook_engine.services.ledger import cash
from workbook_engine.services.clients import directory
from workbook_engine.services.clients import views as client_views
from workbook_engine.services.pipeline import processing
from workbook_engine.services.pipeline import submissions
from workbook_engine.services.pipeline.submission_view import submission_view
from workbook_engine.services.access import visibility
from workbook_engine.services.access.auth import SignedIn
from workbook_engine.services.context import AppContext
from workbook_engine.services.imports.setup_import import RECONCILIATION_MEASURES, SETUP_KINDS
from workbook_engine.services.access.web_rules import web_rules
from workbook_engine.web import confirm, downloads, exports
from workbook_engine.web.render import STATIC_DIR, error_page, page
from workbook_engine.web.security import GuardedStarlette, record_id

log = logging.getLogger(__name__)

SESSION_COOKIE = "wbe_session"
SIGNIN_COOKIE = "wbe_signin"
CSRF_FIELD = "csrf_token"

FLASH = {
    "approved": "The submission was approved and posted.",
    "approved-valid-rows": "The valid rows were approved and posted; the rows with errors "
                           "were left out, stay due and are on a new sheet.",
    "rejected": "The submission was rejected; the loan officer can correct and return it.",
    "counted": "The cash handed over was recorded.",
    "resolved": "The cash difference was resolved.",
    "uploaded": "The workbook was received and checked.",
    "signed-out": "You are signed out.",
    "dismissed": "The file was dismissed: it is kept with your reason and hidden from the "
                 "queue (choose the status 'dismissed' to see it).",
}

Handler = Callable[[Request], Awaitable[Response]]
FormHandler = Callable[[Request, SignedIn, FormData], Awaitable[Response]]


def _ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


async def call(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run a (blocking) service function off the event loop."""
    return await run_in_threadpool(fn, *args, **kwargs)


async def current(request: Request) -> SignedIn | None:
    if "user" not in request.scope:
        request.scope["user"] = await call(auth.current_user, _ctx(request),
                                           request.cookies.get(SESSION_COOKIE))
    return request.scope["user"]  # type: ignore[no-any-return]


def signed_in(handler: Callable[[Request, SignedIn], Awaitable[Response]]) -> Handler:
    """A page for signed-in staff only; others are sent to the sign-in page."""
    async def wrapper(request: Request) -> Response:
        user = await current(request)
        if user is None:
            return RedirectResponse(f"/signin?next={request.url.path}", status_code=303)
        return await handler(request, user)
    wrapper.__name__ = handler.__name__
    return wrapper


def form_post(handler: FormHandler) -> Handler:
    """A POST for signed-in staff whose form must carry the session's CSRF token."""
    async def wrapper(request: Request) -> Response:
        user = await current(request)
        if user is None:
            raise EngineError(NOT_SIGNED_IN, "You are not signed in (or your session ended); "
                              "sign in and submit the form again.")
        form = await request.form(max_files=1, max_fields=50)
        token = form.get(CSRF_FIELD)
        if not isinstance(token, str) or not hmac.compare_digest(token, user.csrf_token):
            raise EngineError(FORM_EXPIRED, "This form was refused because it did not carry "
                              "this session's security token; reload the page and try again.")
        return await handler(request, user, form)
    wrapper.__name__ = handler.__name__
    wrapper.csrf_protected = True  # type: ignore[attr-defined]
    return wrapper


def _flash(request: Request) -> str | None:
    return FLASH.get(request.query_params.get("done", ""))


def _int(value: Any, what: str) -> int | None:
    """An id from an address or a form (None when empty); anything but an id that a record
    may have is refused as not found, never passed on to the database."""
    if value in (None, ""):
        return None
    found = record_id(value)
    if found is None:
        shown = str(value) if len(str(value)) <= 24 else str(value)[:20] + "..."
        raise EngineError(NOT_FOUND, f"There is no {what.lower()} '{shown}': an id is a whole "
                          "number such as 12, as in the links of the pages.")
    return found


PER_PAGE = (20, 50, 100)


def _number(value: Any) -> int | None:
    """A whole number from an address, or None (a filter that is not one is ignored)."""
    text = str(value or "").strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _per_page(request: Request) -> int:
    wanted = _number(request.query_params.get("per"))
    return wanted if wanted in PER_PAGE else PER_PAGE[0]


def _query_without(request: Request, *names: str) -> str:
    """The page's query string without ``names`` (for the paging and export links)."""
    return urlencode([(k, v) for k, v in request.query_params.multi_items()
                      if k not in names and v != ""])


# --- signing in -----------------------------------------------------------------------------

async def signin_form(request: Request, message: str | None = None, status: int = 200,
                      code: str | None = None, headers: dict[str, str] | None = None
                      ) -> Response:
    token = secrets.token_urlsafe(24)
    response = page("signin.html.j2", status=status, headers=headers, title="Sign in",
                    signin_token=token, message=message, code=code,
                    next=_safe_next(request.query_params.get("next")), flash=_flash(request))
    response.set_cookie(SIGNIN_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.url.scheme == "https", path="/signin")
    return response


def _safe_next(target: Any) -> str:
    # Only a local path: never an open redirect to another site.
    if isinstance(target, str) and target.startswith("/") and not target.startswith("//"):
        return target
    return "/queue"


async def signin_post(request: Request) -> Response:
    form = await request.form(max_files=0, max_fields=10)
    cookie = request.cookies.get(SIGNIN_COOKIE, "")
    token = form.get(CSRF_FIELD)
    if not cookie or not isinstance(token, str) or not hmac.compare_digest(token, cookie):
        raise EngineError(FORM_EXPIRED, "The sign-in form was refused because its security "
                          "token is missing or out of date; reload the page and sign in again.")
    try:
        opened = await call(auth.sign_in, _ctx(request), str(form.get("login", "")),
                            str(form.get("password", "")),
                            user_agent=request.headers.get("user-agent"),
                            address=request.client.host if request.client else "unknown")
    except EngineError as exc:
        wait = exc.details.get("retry_after")  # throttled: services/access/throttle.py
        return await signin_form(request, message=exc.message, code=exc.code,
                                 status=429 if wait else 401,
                                 headers={"retry-after": str(wait)} if wait else None)
    response = RedirectResponse(_safe_next(form.get("next")), status_code=303)
    response.set_cookie(SESSION_COOKIE, opened.token, httponly=True, samesite="lax",
                        secure=request.url.scheme == "https", path="/")
    response.delete_cookie(SIGNIN_COOKIE, path="/signin")
    return response


@form_post
async def signout(request: Request, user: SignedIn, form: FormData) -> Response:
    await call(auth.sign_out, _ctx(request), request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/signin?done=signed-out", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


# --- the queue and one submission -----------------------------------------------------------

async def home(request: Request) -> Response:
    return RedirectResponse("/queue", status_code=303)


def _queue_filter(request: Request) -> approval_queue.QueueFilter:
    """The queue's filters from the address (unknown or malformed values are ignored, so a
    stale bookmark still opens the queue)."""
    q = request.query_params
    status = q.get("status") or None
    dates = [_date(q.get(name)) for name in ("from", "to")]
    return approval_queue.QueueFilter(
        status=status if status in {s.value for s in approval_queue.STATUS_ORDER} else None,
        office_id=_number(q.get("office")), loan_officer_id=_number(q.get("officer")),
        place=q.get("place") or None, kind=q.get("kind") or None, date_from=dates[0],
        date_to=dates[1], search=(q.get("q") or "").strip()[:100] or None)


@signed_in
async def queue_page(request: Request, user: SignedIn) -> Response:
    filters = _queue_filter(request)
    per_page = _per_page(request)
    found = await call(approval_queue.queue, _ctx(request), viewer_id=user.staff_id,
                       filters=filters, page=_number(request.query_params.get("page")) or 1,
                       per_page=per_page)
    choices = await call(approval_queue.queue_choices, _ctx(request), viewer_id=user.staff_id)
    return page("queue.html.j2", title="Submissions", user=user, found=found, f=filters,
                statuses=[s.value for s in approval_queue.STATUS_ORDER], choices=choices,
                query=_query_without(request, "page"), flash=_flash(request),
                per_page_choices=PER_PAGE)


@signed_in
async def queue_export(request: Request, user: SignedIn) -> Response:
    rows = await call(approval_queue.queue_rows, _ctx(request), viewer_id=user.staff_id,
                      filters=_queue_filter(request))
    return await call(exports.queue_download, _ctx(request), rows)


@signed_in
async def submission_page(request: Request, user: SignedIn) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    view = await call(submission_view, _ctx(request), sid, viewer_id=user.staff_id)
    title = f"Submission {sid}" + (f", group {view['group']}" if view["group"] else "")
    return page("submission.html.j2", title=title, user=user, s=view,
                flash=_flash(request), measures=RECONCILIATION_MEASURES)


def _local_file(ctx: AppContext, path_text: str, name: str) -> Path:
    path = Path(path_text)
    if not path.is_absolute():
        path = ctx.home / path
    path = path.resolve()
    # Paths come from the database; never serve anything outside the working folder.
    if not path.is_relative_to(ctx.home.resolve()) or not path.is_file():
        raise EngineError(NOT_FOUND, f"The file {name} is no longer in the working folder "
                          f"{ctx.home}; it may have been moved or cleaned up.")
    return path


def _record_href(kind: str, record_id: int) -> str:
    return f"/{'clients' if kind == 'client' else 'groups'}/{record_id}"


def _report_page(path: Path) -> Response:
    # Shown inside the submission page: sandboxed, only this site may frame it, and a click
    # on a client or group opens its page in the whole window.
    html = link_records(path.read_text(encoding="utf-8", errors="replace"), _record_href)
    return HTMLResponse(html, headers={
        "content-security-policy": "sandbox allow-top-navigation-by-user-activation; "
                                   "default-src 'none'; style-src 'unsafe-inline'; "
                                   "img-src data:; frame-ancestors 'self'",
        "x-frame-options": "SAMEORIGIN"})


@signed_in
async def submission_file(request: Request, user: SignedIn) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    which = {"report.html": "report_html", "report.xlsx": "report_xlsx",
             "original": "original"}.get(request.path_params["which"])
    if which is None or sid is None:
        raise EngineError(NOT_FOUND, "There is no such file of a submission.")
    path, name = await call(approval_queue.submission_file, _ctx(request), sid, which,
                            viewer_id=user.staff_id)
    local = await call(_local_file, _ctx(request), path, name)
    if which == "report_html":
        return await call(_report_page, local)
    return FileResponse(local, filename=name)


@form_post
async def approve(request: Request, user: SignedIn, form: FormData) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    view = await _check_may_decide(request, user, sid)
    if not confirm.confirmed(form):  # one click never posts: see web/confirm.py
        return await call(confirm.approval_page, _ctx(request), user, view, form)
    await call(submissions.approve_submission, _ctx(request), submission_id=sid,
               by=str(user.staff_id))
    return RedirectResponse(f"/submissions/{sid}?done=approved", status_code=303)


@form_post
async def reject(request: Request, user: SignedIn, form: FormData) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    reason = str(form.get("reason", "")).strip()
    await _check_may_decide(request, user, sid)
    await call(submissions.reject_submission, _ctx(request), submission_id=sid,
               by=str(user.staff_id), reason=reason)
    return RedirectResponse(f"/submissions/{sid}?done=rejected", status_code=303)


@form_post
async def dismiss(request: Request, user: SignedIn, form: FormData) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    await call(approval_queue.submission_page, _ctx(request), sid, viewer_id=user.staff_id)
    await call(submissions.dismiss_submission, _ctx(request), submission_id=sid,
               by=str(user.staff_id), reason=str(form.get("reason", "")))
    return RedirectResponse(f"/submissions/{sid}?done=dismissed", status_code=303)


async def _check_may_decide(request: Request, user: SignedIn,
                            sid: int | None) -> dict[str, Any]:
    # The submissions service enforces maker-checker itself; this adds "you must be able to
    # see it", so a loan officer cannot act on another officer's sheet by guessing its id.
    view = await call(approval_queue.submission_page, _ctx(request), sid,
                      viewer_id=user.staff_id)
    if not user.is_supervisor:
        raise EngineError(NOT_ALLOWED, "Only a supervisor may approve or reject a "
                          "submission.")
    if user.staff_id in (view["submitted_by_id"], view["loan_officer_id"]):
        raise EngineError(NOT_ALLOWED, f"You submitted submission {sid} (or it is your own "
                          "sheet); another supervisor must approve or reject it.")
    return view  # type: ignore[no-any-return]


# --- upload ---------------------------------------------------------------------------------

async def _officers(request: Request, user: SignedIn) -> list[dict[str, Any]]:
    return await call(directory.loan_officers_for, _ctx(request),  # type: ignore[no-any-return]
                      viewer_id=user.staff_id)


@signed_in
async def upload_form(request: Request, user: SignedIn) -> Response:
    return page("upload.html.j2", title="Upload a returned sheet", user=user,
                officers=await _officers(request, user), result=None)


@form_post
async def upload_post(request: Request, user: SignedIn, form: FormData) -> Response:
    ctx = _ctx(request)
    upload = form.get("workbook")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise EngineError(UPLOAD_REFUSED, "No file was chosen; choose the returned workbook "
                          "(.xlsx) and upload again.")
    officers = await _officers(request, user)
    officer_id = _int(form.get("loan_officer_id"), "Loan officer")
    # A setup or migration workbook is nobody's sheet: a supervisor or clerk may name none.
    if officer_id not in {o["id"] for o in officers} and not (
            officer_id is None and (user.is_supervisor or user.is_clerk)):
        raise EngineError(NOT_ALLOWED, "Choose one of the loan officers in the list; you may "
                          "upload only for them.")
    limit = web_rules(ctx).max_upload_mb * 1024 * 1024
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise EngineError(UPLOAD_REFUSED, f"The file {upload.filename} is larger than "
                          f"{limit // (1024 * 1024)} MB; a returned sheet is far smaller.")
    # The browser's name is only a label (processing goes by content and archives under the
    # content hash): the bytes are written under a fixed name, as "..", a NUL or 300
    # characters would fail here.
    name = upload.filename.replace("\\", "/").rsplit("/", 1)[-1] or "upload.xlsx"
    with tempfile.TemporaryDirectory(prefix="upload-", dir=ctx.home) as folder:
        path = Path(folder) / "upload"
        path.write_bytes(data)
        result = await call(processing.process_file, ctx, path, actor_id=user.staff_id,
                            original_name=name, move_original=False,
                            loan_officer_id=officer_id)
    warning = view = None
    if result.submission_id is not None:
        view = await call(approval_queue.submission_page, ctx, result.submission_id,
                          viewer_id=user.staff_id)
        if view["loan_officer_id"] not in (None, officer_id) and result.duplicate_of is None:
            warning = (f"This sheet belongs to {view['loan_officer']}, not to the loan officer "
                       "you chose; it is recorded under the sheet's own loan officer.")
    return page("upload.html.j2", title="Upload a returned sheet", user=user,
                officers=officers, result=result, recorded=view, warning=warning)


# --- clients, generate, cash ----------------------------------------------------------------

def record_page(service: Callable[..., dict[str, Any]], template: str, what: str,
                title: Callable[[dict[str, Any]], str]) -> Handler:
    """A read-only page of one record (client, group, loan, savings account), shown only to
    staff who may see it (``services/access/visibility.py``)."""
    @signed_in
    async def handler(request: Request, user: SignedIn) -> Response:
        rid = _int(request.path_params["rid"], what)
        view = await call(service, _ctx(request), rid, viewer_id=user.staff_id)
        return page(template, title=title(view), user=user, v=view)
    handler.__name__ = f"{what.lower().replace(' ', '_')}_page"
    return handler


client_page = record_page(client_views.client_page, "client.html.j2", "Client",
                          lambda v: str(v["name"]))
group_page = record_page(client_views.group_page, "group.html.j2", "Group",
                         lambda v: str(v["name"]))
loan_page = record_page(client_views.show_loan, "loan.html.j2", "Loan",
                        lambda v: f"Loan {v['account_no'] or v['id']}")
savings_page = record_page(client_views.show_savings, "savings.html.j2", "Savings account",
                           lambda v: f"Savings {v['account_no'] or v['id']}")


@signed_in
async def generate_form(request: Request, user: SignedIn) -> Response:
    ctx = _ctx(request)
    return page("generate.html.j2", title="Generate sheets", user=user,
                offices=await call(directory.offices_for, ctx, viewer_id=user.staff_id),
                officers=await _officers(request, user),
                centers=await call(directory.centers_for, ctx, viewer_id=user.staff_id),
                today=ctx.today(), legal_forms=[f.value for f in LegalForm],
                setup_kinds=SETUP_KINDS.values())


@form_post
async def generate_post(request: Request, user: SignedIn, form: FormData) -> Response:
    return await call(downloads.generate_download, _ctx(request), user, form)


@form_post
async def template_post(request: Request, user: SignedIn, form: FormData) -> Response:
    return await call(downloads.template_download, _ctx(request), user, form)


@form_post
async def setup_template_post(request: Request, user: SignedIn, form: FormData) -> Response:
    return await call(downloads.setup_template_download, _ctx(request), user, form)


def _cash_query(request: Request) -> dict[str, Any]:
    day_text = request.query_params.get("day")
    day = _date(day_text)
    if day_text and day is None:
        raise EngineError(NOT_FOUND, f"The day '{day_text}' is not a date; use YYYY-MM-DD, "
                          "e.g. 2026-03-03.")
    return {"day": day, "loan_officer_id": _number(request.query_params.get("officer"))}


@signed_in
async def cash_page(request: Request, user: SignedIn) -> Response:
    view = await call(cash.reconciliation, _ctx(request), viewer_id=user.staff_id,
                      page=_number(request.query_params.get("page")) or 1,
                      per_page=_per_page(request), **_cash_query(request))
    found = approval_queue.QueuePage(rows=view["sheets"], total=view["total"],
                                     page=view["page"], per_page=view["per_page"])
    return page("cash.html.j2", title="Cash handed over", user=user, v=view, found=found,
                officers=await _officers(request, user), query=_query_without(request, "page"),
                selected_officer=_cash_query(request)["loan_officer_id"],
                flash=_flash(request))


@signed_in
async def cash_export(request: Request, user: SignedIn) -> Response:
    view = await call(cash.reconciliation, _ctx(request), viewer_id=user.staff_id,
                      per_page=None, **_cash_query(request))
    return await call(exports.cash_download, _ctx(request), view)


@form_post
async def cash_count(request: Request, user: SignedIn, form: FormData) -> Response:
    sid = _int(request.path_params["sid"], "Submission")
    await call(approval_queue.submission_page, _ctx(request), sid, viewer_id=user.staff_id)
    await call(cash.record_handover, _ctx(request), actor_id=user.staff_id, submission_id=sid,
               amount=str(form.get("amount", "")), note=str(form.get("note", "")))
    return RedirectResponse("/cash?done=counted", status_code=303)


@form_post
async def cash_resolve(request: Request, user: SignedIn, form: FormData) -> Response:
    hid = _int(request.path_params["hid"], "Cash count")
    await call(cash.resolve_difference, _ctx(request), actor_id=user.staff_id,
               handover_id=hid, note=str(form.get("note", "")))
    return RedirectResponse("/cash?done=resolved", status_code=303)


# --- errors ---------------------------------------------------------------------------------

_STATUS = {"not-found": 404, "not-allowed": 403, "form-expired": 403, "not-signed-in": 401,
           "sign-in-failed": 401, "maker-checker": 403, "not-a-supervisor": 403,
           "not-supervisor-of-office": 403,
           "already-posted": 409, "stale": 409, "wrong-state": 409}


async def engine_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EngineError)
    user = request.scope.get("user")
    return error_page(_STATUS.get(exc.code, 400), exc.error.title, exc.message,
                      exc.error.how_to_fix, user=user, code=exc.code)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    title = {404: "Page not found", 405: "Not possible here"}.get(exc.status_code, "Refused")
    message = {404: f"There is no page at {request.url.path}.",
               405: "This address does not accept that kind of request; use the links and "
                    "buttons of the pages."}.get(exc.status_code, str(exc.detail))
    return error_page(exc.status_code, title, message, "Go back to the queue.",
                      user=request.scope.get("user"))


async def crash(request: Request, exc: Exception) -> Response:
    # The page names a reference to the details in the server's log, never the log's path
    # (nor anything else about the server).
    ctx = _ctx(request)
    reference = secrets.token_hex(6)
    try:
        ctx.settings.log_dir.mkdir(parents=True, exist_ok=True)
        path = ctx.settings.log_dir / "errors.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"[{reference}] {request.method} {request.url.path}\n")
            fh.write("".join(traceback.format_exception(exc)))
    except OSError:
        log.exception("web request failed (reference %s)", reference)
    return error_page(500, "Something went wrong", "The engine failed unexpectedly "
                      f"({type(exc).__name__}); nothing was changed by this request.",
                      "Try again; if it happens again, tell support the reference below "
                      "(the details are in the server's error log under it).",
                      user=request.scope.get("user"), reference=reference)


def create_app(ctx: AppContext) -> Starlette:
    """The web application over one engine context."""
    # The page families in their own modules import this one's helpers, so they are
    # imported here; their routes come first (before ``/submissions/{sid}/{which}``).
    from workbook_engine.web import client_list, decisions

    routes = [
        *decisions.routes(),
        *client_list.routes(),
        Route("/", home),
        Route("/signin", signin_form, methods=["GET"]),
        Route("/signin", signin_post, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/queue", queue_page),
        Route("/queue.xlsx", queue_export),
        Route("/submissions/{sid}", submission_page),
        Route("/submissions/{sid}/approve", approve, methods=["POST"]),
        Route("/submissions/{sid}/reject", reject, methods=["POST"]),
        Route("/submissions/{sid}/dismiss", dismiss, methods=["POST"]),
        Route("/submissions/{sid}/{which}", submission_file),
        Route("/upload", upload_form, methods=["GET"]),
        Route("/upload", upload_post, methods=["POST"]),
        Route("/generate", generate_form, methods=["GET"]),
        Route("/generate", generate_post, methods=["POST"]),
        Route("/generate/client-template", template_post, methods=["POST"]),
        Route("/generate/setup-template", setup_template_post, methods=["POST"]),
        Route("/clients/{rid}", client_page),
        Route("/groups/{rid}", group_page),
        Route("/loans/{rid}", loan_page),
        Route("/savings/{rid}", savings_page),
        Route("/cash", cash_page),
        Route("/cash.xlsx", cash_export),
        Route("/cash/{sid}/count", cash_count, methods=["POST"]),
        Route("/cash/resolve/{hid}", cash_resolve, methods=["POST"]),
        Mount("/static", app=StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    app = GuardedStarlette(routes=routes, exception_handlers={
        EngineError: engine_error, HTTPException: http_error, Exception: crash})
    app.state.ctx = ctx
    return app


def app_for_serving(ctx: AppContext) -> Starlette:
    """The application as ``serve`` runs it. What is loaded by then (modules, compiled
    templates, the engine's caches) lives as long as the server, so it is frozen out of the
    garbage collector's sight: a full collection no longer walks it in the middle of a request
    (without this, 100-200 ms on some pages of a 2,000-sheet queue; benchmarks/web_queue.py)."""
    app = create_app(ctx)
    gc.collect()
    gc.freeze()
    return app
