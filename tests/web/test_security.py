"""Issue 17, the security review: who sees a file the engine cannot read, framing, the
confirmation before posting, password guessing, cookies behind HTTPS, ids out of range."""

from __future__ import annotations

import datetime as dt
import gc
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.web.support import PASSWORD, add_approvable_submission, csrf_of, sign_in
from workbook_engine.domain import AuditRecord, Submission
from workbook_engine.errors import EngineError
from workbook_engine.services.access import auth
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.web import create_app

GRACE_EMAIL = "grace.wambui@demo-mfi.example"


def _queue_ids(client) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/submissions/(\d+)">',
                                       client.get("/queue?status=quarantined").text)]


def _upload(client, path: Path, officer: int | None) -> int:
    token = csrf_of(client.get("/upload").text)
    response = client.post("/upload", data={"csrf_token": token,
                                            "loan_officer_id": "" if officer is None
                                            else str(officer)},
                           files={"workbook": (path.name, path.read_bytes(),
                                               "application/octet-stream")})
    assert response.status_code == 200, response.text
    return int(re.search(r'/submissions/(\d+)" id="open-submission"', response.text).group(1))


# --- 1. a file the engine cannot read belongs to the office of whoever handed it in ----------

def test_unreadable_upload_belongs_to_the_uploaders_office(web, client_for, tmp_path) -> None:
    """A PDF or an .xls handed in at Nairobi East is Nairobi East's: Kisumu's supervisor
    neither sees it in the queue nor downloads the original."""
    pdf = tmp_path / "kilimani-2026-03-03.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\nAmina Wanjiku 1851.28\n")
    xls = tmp_path / "kilimani.xls"
    xls.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    by_officer = _upload(client_for(web.wanjiru), pdf, web.wanjiru)
    by_clerk = _upload(client_for(web.faith), xls, None)
    with web.world.ctx.session_factory() as s:
        for sid in (by_officer, by_clerk):
            row = s.get(Submission, sid)
            assert row.status.value == "quarantined" and row.office_id == web.nairobi
    peter = client_for(web.peter)
    assert not {by_officer, by_clerk} & set(_queue_ids(peter))
    for sid in (by_officer, by_clerk):
        for path in (f"/submissions/{sid}", f"/submissions/{sid}/original",
                     f"/submissions/{sid}/report.html"):
            assert peter.get(path).status_code == 404, path
    grace = client_for(web.grace)
    assert {by_officer, by_clerk} <= set(_queue_ids(grace))
    assert grace.get(f"/submissions/{by_officer}/original").content == pdf.read_bytes()


def test_unreadable_mail_belongs_to_the_senders_office_and_unknown_to_nobodys_branch(
        web, client_for, tmp_path) -> None:
    """By e-mail (a retried message names only its sender's address) the sender's office;
    from nobody known, no branch sees it (only the head office and the command line)."""
    ctx = web.world.ctx
    mailed = tmp_path / "scan.pdf"
    mailed.write_bytes(b"%PDF-1.4 mailed by Wanjiru")
    dropped = tmp_path / "dropped.pdf"
    dropped.write_bytes(b"%PDF-1.4 dropped by somebody")
    by_mail = process_file(ctx, mailed, actor_id=None,
                           sender_email="wanjiru.kamau@demo-mfi.example").submission_id
    unknown = process_file(ctx, dropped, actor_id=None).submission_id
    with ctx.session_factory() as s:
        assert s.get(Submission, by_mail).office_id == web.nairobi
        assert s.get(Submission, unknown).office_id is None
    assert by_mail in _queue_ids(client_for(web.grace))
    assert unknown not in _queue_ids(client_for(web.grace))
    peter = client_for(web.peter)
    assert not {by_mail, unknown} & set(_queue_ids(peter))
    assert peter.get(f"/submissions/{unknown}/original").status_code == 404


# --- 2. framing and the confirmation before posting ------------------------------------------

def _paths_to_check(web, sid: int) -> list[str]:
    return ["/signin", "/queue", f"/submissions/{sid}", "/upload", "/generate", "/cash",
            "/static/style.css", "/no/such/page", "/submissions/abc", "/queue.xlsx", "/"]


def test_every_response_refuses_to_be_framed(web, client_for) -> None:
    sid = add_approvable_submission(web.world)
    grace = client_for(web.grace)
    for path in _paths_to_check(web, sid):
        response = grace.get(path, follow_redirects=False)
        assert response.headers.get("x-frame-options") == "DENY", path
        csp = response.headers.get("content-security-policy", "")
        assert "frame-ancestors 'none'" in csp, (path, csp)
        assert response.headers.get("x-content-type-options") == "nosniff", path
    # Signed out, and a form refused, too.
    anonymous = client_for(None)
    for response in (anonymous.get("/queue", follow_redirects=False),
                     anonymous.post("/signout", data={})):
        assert response.headers.get("x-frame-options") == "DENY"


def test_report_html_keeps_its_sandbox_and_is_framed_by_this_site_only(web, client_for,
                                                                       tmp_path) -> None:
    junk = tmp_path / "x.pdf"
    junk.write_bytes(b"%PDF junk")
    sid = process_file(web.world.ctx, junk, actor_id=web.wanjiru).submission_id
    served = client_for(web.grace).get(f"/submissions/{sid}/report.html")
    assert served.status_code == 200
    csp = served.headers["content-security-policy"]
    assert csp.startswith("sandbox ") and "frame-ancestors 'self'" in csp
    assert served.headers["x-frame-options"] == "SAMEORIGIN"


def test_a_crash_page_is_not_framed_and_shows_no_log_path(web, client_for,
                                                          monkeypatch) -> None:
    from workbook_engine.services.pipeline import approval_queue

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    grace = client_for(web.grace)
    monkeypatch.setattr(approval_queue, "queue", broken)
    response = grace.get("/queue")
    assert response.status_code == 500
    assert response.headers.get("x-frame-options") == "DENY"
    log_dir = web.world.ctx.settings.log_dir
    assert str(log_dir) not in response.text and "errors.log" not in response.text
    reference = re.search(r'id="incident">([0-9a-f]{8,})<', response.text).group(1)
    assert reference in (log_dir / "errors.log").read_text(encoding="utf-8")


def test_approve_and_post_asks_for_confirmation(web, client_for) -> None:
    """One click (a POST with a valid token, as a framed page would send) does not post: it
    shows what will be posted, and only the second POST, with the token, posts."""
    sid = add_approvable_submission(web.world)
    grace = client_for(web.grace)
    token = csrf_of(grace.get(f"/submissions/{sid}").text)
    first = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": token})
    assert first.status_code == 200 and 'id="confirm-approve"' in first.text
    assert "3,769.74" in first.text and "Amina Wanjiku" in first.text
    with web.world.ctx.session_factory() as s:
        assert s.get(Submission, sid).status.value == "awaiting_approval"
    # The confirmation without the token is refused; with it, the sheet is posted.
    forged = grace.post(f"/submissions/{sid}/approve", data={"confirmed": "yes"})
    assert forged.status_code == 403
    done = grace.post(f"/submissions/{sid}/approve",
                      data={"csrf_token": csrf_of(first.text), "confirmed": "yes"})
    assert done.status_code == 200 and 'id="status">posted' in done.text
    # Nobody is asked to confirm what they may not do.
    again = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": token})
    assert again.status_code == 409 and 'id="confirm-approve"' not in again.text


# --- 3. password guessing ---------------------------------------------------------------------

def test_forty_wrong_passwords_then_the_right_one_is_refused(web, client_for) -> None:
    client = client_for(None)
    statuses = [sign_in(client, GRACE_EMAIL, f"guess number {i}").status_code
                for i in range(40)]
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429
    right = sign_in(client, GRACE_EMAIL, PASSWORD)
    assert right.status_code == 429 and right.url.path == "/signin"
    assert "Too many failed sign-ins" in right.text and "sign-in-throttled" in right.text
    assert int(right.headers["retry-after"]) > 0
    assert "wbe_session" not in client.cookies
    with web.world.ctx.session_factory() as s:
        failed = s.scalars(select(AuditRecord).where(
            AuditRecord.action.in_(["sign_in_failed", "sign_in_throttled"]))).all()
        assert len(failed) == 41
        assert {r.entity_id for r in failed} == {str(web.grace)}
        assert all(r.after["address"] == "testclient" for r in failed)
        assert not any("guess number" in str(r.after) for r in failed)  # never the password
        assert not s.scalars(select(AuditRecord).where(AuditRecord.action == "sign_in")).all()


def test_back_off_doubles_then_lets_the_right_password_in(kilimani) -> None:
    ctx, grace = kilimani.ctx, kilimani.ref.supervisors["Grace"]
    from tests.web.support import give_passwords

    give_passwords(ctx, [grace])
    t = dt.datetime(2026, 3, 3, 8, 0)

    def attempt(password: str, at: dt.datetime) -> str:
        try:
            auth.sign_in(ctx, GRACE_EMAIL, password, address="10.1.1.1", now=at)
        except EngineError as exc:
            return exc.code
        return "ok"

    assert [attempt("wrong password", t) for _ in range(5)] == ["sign-in-failed"] * 5
    # The sixth failure must wait 30 seconds, the seventh 60, ...
    assert attempt(PASSWORD, t + dt.timedelta(seconds=29)) == "sign-in-throttled"
    assert attempt("wrong password", t + dt.timedelta(seconds=31)) == "sign-in-failed"
    t7 = t + dt.timedelta(seconds=31)
    assert attempt(PASSWORD, t7 + dt.timedelta(seconds=59)) == "sign-in-throttled"
    assert attempt(PASSWORD, t7 + dt.timedelta(seconds=61)) == "ok"
    # A sign-in that succeeds starts the count again.
    t8 = t7 + dt.timedelta(seconds=62)
    assert [attempt("wrong password", t8) for _ in range(5)] == ["sign-in-failed"] * 5


def test_one_address_guessing_many_accounts_is_throttled(web, client_for) -> None:
    ctx = web.world.ctx
    t = dt.datetime(2026, 3, 3, 8, 0)
    for i in range(20):
        with pytest.raises(EngineError) as refused:
            auth.sign_in(ctx, f"nobody{i}@demo-mfi.example", "guess", address="10.9.9.9",
                         now=t)
        assert refused.value.code == "sign-in-failed"
    with pytest.raises(EngineError) as throttled:
        auth.sign_in(ctx, GRACE_EMAIL, PASSWORD, address="10.9.9.9",
                     now=t + dt.timedelta(seconds=5))
    assert throttled.value.code == "sign-in-throttled"
    # Another address is not held up by it.
    assert auth.sign_in(ctx, GRACE_EMAIL, PASSWORD, address="10.0.0.7",
                        now=t + dt.timedelta(seconds=5)).user.staff_id == web.grace


# --- 4. behind an HTTPS reverse proxy ---------------------------------------------------------

def _signin_cookie(base: str, forwarded_proto: str | None) -> str:
    import httpx

    headers = {"x-forwarded-proto": forwarded_proto} if forwarded_proto else {}
    with httpx.Client(base_url=base) as client:
        form = client.get("/signin")  # (over HTTPS its cookie would be Secure: not sent back)
        response = client.post("/signin", headers=headers, data={
            "csrf_token": csrf_of(form.text), "login": GRACE_EMAIL, "password": PASSWORD,
            "next": "/queue"})
        assert response.status_code == 303, response.text
        return next(v for k, v in response.headers.multi_items()
                    if k == "set-cookie" and v.startswith("wbe_session="))


def test_session_cookie_is_secure_behind_an_allowed_https_proxy(web) -> None:
    from tests.web.browser import serving
    from workbook_engine.web import server_options

    app = create_app(web.world.ctx)
    with serving(app, **server_options(proxy_headers=True,
                                       forwarded_allow_ips="127.0.0.1")) as base:
        assert "secure" in _signin_cookie(base, "https").lower()
        assert "secure" not in _signin_cookie(base, None).lower()
    # A proxy that is not allowed cannot claim HTTPS (nor a client address).
    with serving(app, **server_options(proxy_headers=True,
                                       forwarded_allow_ips="10.20.30.40")) as base:
        assert "secure" not in _signin_cookie(base, "https").lower()


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """`serve` freezes what is loaded out of the collector's sight; a test worker must not
    keep it so."""
    yield
    gc.unfreeze()


def test_serve_freezes_what_is_loaded_before_serving(web, monkeypatch, unfrozen) -> None:
    """A full garbage collection in the middle of a request walked everything the server had
    loaded (100-200 ms on some pages of a 2,000-sheet queue): `serve` freezes it first."""
    import uvicorn
    from starlette.applications import Starlette
    from typer.testing import CliRunner

    from workbook_engine.cli.app import app as cli

    served: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: served.update(
        app=app, frozen=gc.get_freeze_count()))
    gc.unfreeze()
    settings = web.world.ctx.settings
    result = CliRunner().invoke(cli, ["--home", str(settings.home), "--db",
                                      settings.database_url, "serve"])
    assert result.exit_code == 0, result.output
    assert isinstance(served["app"], Starlette)
    assert served["frozen"] > 0


def test_serve_passes_the_proxy_options_to_uvicorn(web, monkeypatch, unfrozen) -> None:
    import uvicorn
    from typer.testing import CliRunner

    from workbook_engine.cli.app import app as cli

    seen: dict = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **options: seen.update(options))
    home = str(web.world.ctx.settings.home)
    url = web.world.ctx.settings.database_url
    base = ["--home", home, "--db", url]
    result = CliRunner().invoke(cli, [*base, "serve", "--proxy-headers",
                                      "--forwarded-allow-ips", "10.0.0.5,10.0.0.6"])
    assert result.exit_code == 0, result.output
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.5,10.0.0.6"
    seen.clear()
    assert CliRunner().invoke(cli, [*base, "serve"]).exit_code == 0
    assert seen["proxy_headers"] is False


# --- 5. ids out of range ----------------------------------------------------------------------

BAD_IDS = ["99999999999999999999999", "-1", "0", "abc", "1.5", "1e3", "%20", "0x10",
           "9" * 400]


def test_every_route_with_an_id_answers_404_for_ids_out_of_range(web, client_for) -> None:
    grace = client_for(web.grace)
    token = csrf_of(grace.get("/queue").text)
    app = create_app(web.world.ctx)
    checked = 0
    for route in app.routes:
        path = getattr(route, "path", "")
        if "{" not in path:
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method == "HEAD":
                continue
            for bad in BAD_IDS:
                url = re.sub(r"\{(sid|rid|hid)\}", bad, path).replace("{which}", "original")
                response = (grace.get(url) if method == "GET" else
                            grace.post(url, data={"csrf_token": token, "confirmed": "yes",
                                                  "reason": "r", "amount": "1"}))
                assert response.status_code == 404, (method, url, response.status_code)
                assert "errors.log" not in response.text and "Traceback" not in response.text
                checked += 1
    assert checked >= 11 * len(BAD_IDS)


def test_an_upload_naming_a_huge_loan_officer_id_is_refused_not_a_500(web, client_for,
                                                                     tmp_path) -> None:
    junk = tmp_path / "x.pdf"
    junk.write_bytes(b"%PDF junk")
    faith = client_for(web.faith)
    response = faith.post("/upload", data={"csrf_token": csrf_of(faith.get("/upload").text),
                                           "loan_officer_id": "9" * 30},
                          files={"workbook": ("x.pdf", junk.read_bytes(), "application/pdf")})
    assert response.status_code in (403, 404) and "errors.log" not in response.text
