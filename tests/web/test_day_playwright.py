"""Issue 17: a supervisor's day, end to end in Chromium (pytest-playwright): sign in, filter
the queue, open a submission and its report, approve it without its rows with errors, see
what was posted per client, open a client, search the clients, count the cash.

Screenshots of the main pages are taken on the way; with ``WBE_SCREENSHOTS=docs/img`` they
are written there as day-*.png (docs/web.md shows them), else into the test's own folder.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path

import pytest

from tests.web.browser import CHROMIUM, serving
from tests.web.support import PASSWORD, add_submission
from workbook_engine.domain.enums import SubmissionStatus
from workbook_engine.web import create_app

pytest.importorskip("pytest_playwright", reason="pytest-playwright is not installed")
pytestmark = pytest.mark.browser


def _shoot(page, folder: Path, name: str) -> None:
    path = folder / f"day-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    assert path.stat().st_size > 10_000, f"{name}: an empty screenshot"


def _seed(web, tmp_path: Path) -> int:
    """Kilimani's real sheet returned with a negative repayment on Amina's row (processed:
    report written, invalid), among 30 posted sheets of Otieno and one of Kisumu."""
    from tests.returned.sheets import FILLED_HEADER, edit, generate
    from workbook_engine.services.pipeline.processing import process_file

    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "kilimani-2026-03-03.xlsx", {}, header=FILLED_HEADER,
                    expected=expected, by_name={("Amina Wanjiku", "repayment"): "-5"})
    result = process_file(web.world.ctx, returned, actor_id=web.faith,
                          loan_officer_id=web.wanjiru)
    assert result.status == "invalid", result.errors
    for i in range(30):
        add_submission(web.world.ctx, loan_officer_id=web.otieno, office_id=web.nairobi,
                       status=SubmissionStatus.POSTED, name=f"otieno-{i:02d}.xlsx",
                       meeting_date=dt.date(2026, 2, 3) + dt.timedelta(days=i))
    add_submission(web.world.ctx, loan_officer_id=web.otieno,
                   office_id=web.world.ref.branches["Kisumu"], name="kisumu.xlsx")
    assert result.submission_id is not None
    return result.submission_id


def test_a_supervisors_day(web, tmp_path: Path, readers_stop_before_playwright, page) -> None:
    if not Path(CHROMIUM).exists():
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    from playwright.sync_api import expect

    shots = Path(os.environ.get("WBE_SCREENSHOTS") or tmp_path / "shots")
    shots.mkdir(parents=True, exist_ok=True)
    sid = _seed(web, tmp_path)
    page.set_default_timeout(30_000)
    with serving(create_app(web.world.ctx)) as base:
        # Sign in: the queue, awaiting approval first, 20 a page.
        page.goto(f"{base}/signin")
        page.fill("#login", "grace.wambui@demo-mfi.example")
        page.fill("#password", PASSWORD)
        page.click("#signin")
        expect(page.locator("h1")).to_have_text("Submissions")
        expect(page.locator("#pager-top .count")).to_have_text("1–20 of 31")
        _shoot(page, shots, "queue")

        # Filter: the invalid sheets, searched by a client's name.
        page.select_option("#status-filter", "invalid")
        page.fill("#q", "Amina")
        page.click("#show")
        expect(page.locator("#pager-top .count")).to_have_text("1–1 of 1")
        page.click(f'table.queue a[href="/submissions/{sid}"]')

        # The submission and its report: Amina's row is in error.
        expect(page.locator("#status")).to_have_text("invalid")
        report = page.frame_locator("#report")
        expect(report.locator("body")).to_contain_text("Amina Wanjiku")
        expect(page.locator("#error-rows")).to_contain_text("Amina Wanjiku")
        expect(page.locator("#who-approves")).to_contain_text("Grace Wambui")
        _shoot(page, shots, "submission")

        # Approve without the rows with errors: the confirmation lists them first.
        page.click("#approve-valid-rows")
        expect(page.locator("h1")).to_have_text(f"Approve the valid rows of submission {sid}")
        expect(page.locator("#error-rows")).to_contain_text("Amina Wanjiku")
        _shoot(page, shots, "approve-valid-rows")
        page.click("#confirm-valid-rows")

        # What was posted, per client and account, as money; Amina's row left out.
        expect(page.locator(".flash")).to_contain_text("valid rows were approved and posted")
        expect(page.locator("#status")).to_have_text("posted")
        posted = page.locator("#posted-accounts")
        expect(posted).to_contain_text("Baraka Mutua")
        expect(posted).to_contain_text("disbursal 8,000.00")  # Chiku's loan, as money
        expect(posted).not_to_contain_text("Amina Wanjiku")
        expect(page.locator("#rows-with-errors")).to_contain_text("Rows excluded from the "
                                                                  "posting (1)")
        expect(page.locator("#status-changes")).to_contain_text("Grace Wambui")
        page.locator("#posted-by-client").scroll_into_view_if_needed()
        _shoot(page, shots, "posted")

        # From what was posted to the client's page: balances and recent transactions.
        posted.get_by_role("link", name="Baraka Mutua").click()
        expect(page.locator("h1")).to_contain_text("Baraka Mutua")
        expect(page.locator("#recent-transactions")).to_contain_text(f"submission {sid}")
        _shoot(page, shots, "client")

        # The client list, searched.
        page.goto(f"{base}/clients")
        page.fill("#client-q", "Chiku")
        page.click("#client-show")
        expect(page.locator("#clients tbody tr")).to_have_count(1)
        expect(page.locator("#clients")).to_contain_text("Chiku Akinyi")
        page.goto(f"{base}/clients")
        _shoot(page, shots, "clients")

        # Count the cash of the posted sheet: short, then the difference resolved.
        page.goto(f"{base}/cash?officer={web.wanjiru}")
        card = page.locator(f"#sheet-{sid}")
        card.locator("input[name=amount]").fill("100")
        card.locator("input[name=note]").fill("counted at the branch")
        card.get_by_role("button", name="Record").click()
        expect(page.locator(".flash")).to_contain_text("cash handed over was recorded")
        page.goto(f"{base}/cash?officer={web.wanjiru}")
        card = page.locator(f"#sheet-{sid}")
        expect(card.locator(".who-counted")).to_contain_text("Counted by Grace Wambui")
        card.locator("input[name=note]").last.fill("balance brought next morning")
        card.get_by_role("button", name="Resolve").click()
        expect(page.locator(".flash")).to_contain_text("difference was resolved")
        page.goto(f"{base}/cash?officer={web.wanjiru}")
        expect(page.locator(f"#sheet-{sid} .who-resolved")).to_contain_text(
            "Resolved by Grace Wambui")
        _shoot(page, shots, "cash")
    assert re.match(r"^\d+$", str(sid))
