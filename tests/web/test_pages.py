"""The web pages over HTTP: sign-in, permissions, CSRF, queue, cash, error pages."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from workbook_engine.domain import CashHandover
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.web.app import create_app

from tests.web.support import add_submission, csrf_of, sign_in


def _ids_in_queue(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<a href="/submissions/(\d+)">', html)]


def test_pages_need_sign_in_and_wrong_password_is_refused(web, client_for) -> None:
    anonymous = client_for(None)
    for path in ("/queue", "/submissions/1", "/upload", "/generate", "/cash", "/clients/1"):
        response = anonymous.get(path, follow_redirects=False)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/signin?next="), path
    refused = sign_in(anonymous, "grace.wambui@demo-mfi.example", "wrong password!")
    assert refused.status_code == 401
    assert "The e-mail address or password is wrong" in refused.text
    assert sign_in(anonymous, "grace.wambui@demo-mfi.example").url.path == "/queue"


def test_queue_awaiting_first_with_figures(web, client_for) -> None:
    w = web.world
    posted = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                            center_id=w.center_id, status=SubmissionStatus.POSTED)
    waiting = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                             center_id=w.center_id, error_count=2)
    page = client_for(web.grace).get("/queue")
    assert page.status_code == 200
    assert _ids_in_queue(page.text) == [waiting, posted]
    # Kilimani: collected 3,769.74, paid out 8,000: cash to hand over -4,230.26.
    assert "-4,230.26" in page.text and "Kilimani" in page.text and "Nairobi East" in page.text
    assert "Wanjiru Kamau" in page.text and "2026-03-03" in page.text


def test_loan_officer_sees_only_own_and_cannot_approve(web, client_for) -> None:
    w = web.world
    own = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi)
    other = add_submission(w.ctx, loan_officer_id=web.otieno, office_id=web.nairobi,
                           name="other.xlsx")
    wanjiru = client_for(web.wanjiru)
    assert _ids_in_queue(wanjiru.get("/queue").text) == [own]
    hidden = wanjiru.get(f"/submissions/{other}")
    assert hidden.status_code == 404 and "that you may see" in hidden.text
    mine = wanjiru.get(f"/submissions/{own}")
    assert mine.status_code == 200 and 'id="approve"' not in mine.text
    token = csrf_of(mine.text)
    for target in (own, other):
        refused = wanjiru.post(f"/submissions/{target}/approve", data={"csrf_token": token})
        assert refused.status_code in (403, 404)
        assert "Traceback" not in refused.text
    assert "Only a supervisor" in wanjiru.post(f"/submissions/{own}/approve",
                                               data={"csrf_token": token}).text


def test_supervisor_sees_branch_only_and_never_decides_own(web, client_for) -> None:
    w = web.world
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi)
    by_grace = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                              submitted_by_id=web.grace, name="typed-by-grace.xlsx")
    grace = client_for(web.grace)
    assert 'id="approve"' in grace.get(f"/submissions/{sid}").text
    own = grace.get(f"/submissions/{by_grace}")
    assert 'id="approve"' not in own.text and 'id="no-decision"' in own.text
    refused = grace.post(f"/submissions/{by_grace}/approve",
                         data={"csrf_token": csrf_of(own.text)})
    assert refused.status_code == 403 and "another supervisor" in refused.text
    # Peter supervises Kisumu: Nairobi East's sheets are not his.
    assert client_for(web.peter).get(f"/submissions/{sid}").status_code == 404


def test_every_post_refuses_a_form_without_its_token(web, client_for) -> None:
    w = web.world
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi)
    grace = client_for(web.grace)
    app = create_app(w.ctx)
    posts = [r.path for r in app.routes if "POST" in (getattr(r, "methods", None) or ())]
    assert len(posts) >= 8
    for path in posts:
        url = path.replace("{sid}", str(sid)).replace("{hid}", "1")
        for data in ({}, {"csrf_token": "forged"}):
            response = grace.post(url, data=data)
            assert response.status_code == 403, (url, data, response.status_code)
            assert "security token" in response.text and "form-expired" in response.text
    # The session survived: a refused form does not sign anyone out.
    assert grace.get("/queue").status_code == 200


def test_cash_reconciliation_flags_until_resolved(web, client_for) -> None:
    w = web.world
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                         center_id=w.center_id, status=SubmissionStatus.POSTED,
                         collected="3769.74", paid_out="0")
    grace = client_for(web.grace)
    page = grace.get("/cash?day=2026-03-03")
    assert "3,769.74" in page.text
    done = grace.post(f"/cash/{sid}/count", data={"csrf_token": csrf_of(page.text),
                                                   "amount": "3,700.00", "note": "short"})
    assert done.status_code == 200 and "was recorded" in done.text
    with w.ctx.session_factory() as s:
        row = s.query(CashHandover).one()
        assert row.expected == Decimal("3769.74") and row.difference == Decimal("-69.74")
        hid = row.id
    # The open difference stays on the summary of later days until resolved.
    later = grace.get("/cash?day=2026-03-10")
    assert "-69.74" in later.text and 'class="flagged"' in later.text
    # The loan officer may not count or resolve.
    wanjiru = client_for(web.wanjiru)
    lo_page = wanjiru.get("/cash")
    assert wanjiru.post(f"/cash/resolve/{hid}", data={
        "csrf_token": csrf_of(lo_page.text), "note": "mine"}).status_code == 403
    resolved = grace.post(f"/cash/resolve/{hid}", data={
        "csrf_token": csrf_of(later.text), "note": "brought next morning"})
    assert "was resolved" in resolved.text
    assert "-69.74" not in grace.get("/cash?day=2026-03-10").text
    bad = grace.post(f"/cash/{sid}/count", data={"csrf_token": csrf_of(later.text),
                                                 "amount": "12.345"})
    assert bad.status_code == 400 and "more than 2 decimals" in bad.text


def test_client_page_and_errors_are_readable(web, client_for) -> None:
    grace = client_for(web.grace)
    from workbook_engine.services.clients.directory import list_clients

    amina = next(c for c in list_clients(web.world.ctx) if c["name"].startswith("Amina"))
    page = grace.get(f"/clients/{amina['id']}")
    assert page.status_code == 200 and "Amina" in page.text and "Biashara" in page.text
    missing = grace.get("/clients/99999")
    assert missing.status_code == 404 and "There is no client with id 99999" in missing.text
    nowhere = grace.get("/no/such/page")
    assert nowhere.status_code == 404 and "There is no page at /no/such/page" in nowhere.text


def test_user_text_is_escaped(web, client_for) -> None:
    w = web.world
    sid = add_submission(w.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                         status=SubmissionStatus.REJECTED, name="<script>x</script>.xlsx",
                         decision_reason="<b>bold</b>", decided_by_id=web.grace,
                         decided_at=dt.datetime(2026, 3, 3, 10, 0))
    page = client_for(web.grace).get(f"/submissions/{sid}")
    assert "<script>x</script>" not in page.text and "&lt;script&gt;" in page.text
    assert "&lt;b&gt;bold&lt;/b&gt;" in page.text and "Rejected" in page.text


def test_supervisor_approves_and_sees_it_posted(web, client_for) -> None:
    from tests.web.support import add_approvable_submission

    sid = add_approvable_submission(web.world)
    grace = client_for(web.grace)
    page = grace.get(f"/submissions/{sid}")
    done = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page.text),
                                                          "confirmed": "yes"})
    assert done.status_code == 200 and "approved and posted" in done.text
    assert 'id="status">posted' in done.text and "Grace Wambui" in done.text
    assert "What was posted" in done.text and "3,769.74" in done.text
    again = grace.post(f"/submissions/{sid}/approve", data={"csrf_token": csrf_of(page.text),
                                                           "confirmed": "yes"})
    assert again.status_code in (403, 409) and "Traceback" not in again.text


def test_reject_needs_a_reason(web, client_for) -> None:
    from tests.web.support import add_approvable_submission

    sid = add_approvable_submission(web.world)
    grace = client_for(web.grace)
    token = csrf_of(grace.get(f"/submissions/{sid}").text)
    empty = grace.post(f"/submissions/{sid}/reject", data={"csrf_token": token, "reason": " "})
    assert empty.status_code == 400 and "reason" in empty.text
    done = grace.post(f"/submissions/{sid}/reject", data={"csrf_token": token,
                                                          "reason": "Receipt missing"})
    assert "was rejected" in done.text and "Receipt missing" in done.text


def test_processed_sheet_files_download(web, client_for, tmp_path) -> None:
    from tests.returned.sheets import FILLED_HEADER, edit, generate
    from workbook_engine.services.pipeline.processing import process_file

    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "returned.xlsx", {}, header=FILLED_HEADER,
                    expected=expected)
    result = process_file(web.world.ctx, returned, actor_id=web.wanjiru)
    grace = client_for(web.grace)
    sid = result.submission_id
    xlsx = grace.get(f"/submissions/{sid}/report.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]
    original = grace.get(f"/submissions/{sid}/original")
    assert original.status_code == 200 and original.content == returned.read_bytes()
    html = grace.get(f"/submissions/{sid}/report.html")
    assert html.status_code == 200 and "sandbox" in html.headers["content-security-policy"]
    # Another branch's supervisor may not download it either.
    assert client_for(web.peter).get(f"/submissions/{sid}/original").status_code == 404


@pytest.mark.parametrize("name", ["..", "../../..\\evil <script>.xlsx", "x" * 300 + ".xlsx",
                                  "nul\x00byte.xlsx"])
def test_an_upload_with_a_hostile_name_is_checked_not_a_500(web, client_for, tmp_path,
                                                            name) -> None:
    """Issue 8: the browser's file name is only a label; the bytes are what is checked."""
    from tests.returned.sheets import FILLED_HEADER, edit, generate

    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "returned.xlsx", {}, header=FILLED_HEADER,
                    expected=expected)
    faith = client_for(web.faith)
    token = csrf_of(faith.get("/upload").text)
    response = faith.post("/upload", data={"csrf_token": token,
                                           "loan_officer_id": str(web.wanjiru)},
                          files={"workbook": (name, returned.read_bytes(),
                                              "application/octet-stream")})
    assert response.status_code == 200, response.text
    assert "Open submission" in response.text and "<script>" not in response.text
    home = web.world.ctx.home
    assert all(p.resolve().is_relative_to(home.resolve()) for p in home.rglob("*"))
