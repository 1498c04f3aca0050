"""Take docs/img/queue.png: the approval queue of a demo institution, in Chromium headless.

Run from the checkout: ``PYTHONPATH=. python3 docs/screenshot_queue.py``. It builds a
throw-away working folder with the Kilimani center, a few submissions in different states,
starts the web pages on a free port, signs in as the supervisor and saves the screenshot.
"""

from __future__ import annotations

import datetime as dt
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.conftest import _kilimani, make_context  # noqa: E402
from tests.support.databases import fresh_database  # noqa: E402
from tests.web.browser import chromium, serving  # noqa: E402
from tests.web.support import (  # noqa: E402
    PASSWORD,
    add_approvable_submission,
    add_submission,
    give_passwords,
)
from workbook_engine.domain.enums import SubmissionStatus  # noqa: E402
from workbook_engine.web import create_app  # noqa: E402


def _received_on_meeting_day(ctx: object) -> None:
    """Received in the evening of the demo's meeting day (not today), so the picture shows a
    plausible day and the same one each time it is taken."""
    from workbook_engine.domain import Submission

    with ctx.session_factory() as s:  # type: ignore[attr-defined]
        for i, row in enumerate(s.query(Submission).order_by(Submission.id)):
            row.received_at = dt.datetime(2026, 3, 3, 16, 40 + 7 * i)
        s.commit()


def main() -> None:
    from selenium.webdriver.common.by import By

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        with fresh_database("sqlite", home / "db") as url:
            ctx = make_context(home, url, dt.date(2026, 3, 3))
            world = _kilimani(ctx)
            ref = world.ref
            grace, faith = ref.supervisors["Grace"], ref.clerk
            nairobi = ref.branches["Nairobi East"]
            give_passwords(ctx, [grace])
            add_submission(ctx, loan_officer_id=ref.loan_officers["Otieno"], office_id=nairobi,
                           status=SubmissionStatus.POSTED, collected="5120.00",
                           paid_out="0", name="otieno-2026-03-02.xlsx")
            add_submission(ctx, loan_officer_id=ref.loan_officers["Achieng"], office_id=nairobi,
                           status=SubmissionStatus.INVALID, error_count=3, collected="2480.50",
                           paid_out="0", name="achieng-2026-03-03.xlsx")
            add_approvable_submission(world, submitted_by_id=faith)
            _received_on_meeting_day(ctx)
            out = ROOT / "docs" / "img" / "queue.png"
            with serving(create_app(ctx)) as base, chromium(home, 1200, 520) as driver:
                driver.get(f"{base}/signin")
                driver.find_element(By.ID, "login").send_keys("grace.wambui@demo-mfi.example")
                driver.find_element(By.ID, "password").send_keys(PASSWORD)
                driver.find_element(By.ID, "signin").click()
                driver.find_element(By.CSS_SELECTOR, "table.queue")
                driver.save_screenshot(str(out))
            ctx.dispose()
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
