"""End to end in Chromium headless: sign in, open, approve, see posted; permissions; CSRF."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.web.browser import chromium, require_chromium, serving
from tests.web.support import PASSWORD, add_approvable_submission, add_submission
from workbook_engine.web import create_app

pytestmark = pytest.mark.browser


def _sign_in(driver, base: str, login: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(f"{base}/signin")
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.ID, "signin").click()
    _wait_for(driver, "table.queue, p.muted")
    assert driver.find_element(By.TAG_NAME, "h1").text == "Submissions"


def _wait_for(driver, css: str):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, 20).until(lambda d: d.find_element(By.CSS_SELECTOR, css))


def test_supervisor_opens_and_approves_and_sees_posted(web, tmp_path: Path) -> None:
    require_chromium()
    from selenium.webdriver.common.by import By

    sid = add_approvable_submission(web.world, submitted_by_id=web.faith)
    with serving(create_app(web.world.ctx)) as base, chromium(tmp_path) as driver:
        _sign_in(driver, base, "grace.wambui@demo-mfi.example")
        row = driver.find_element(By.CSS_SELECTOR, "tr.status-awaiting_approval")
        assert "Kilimani" in row.text and "-4,230.26" in row.text
        row.find_element(By.LINK_TEXT, str(sid)).click()
        assert driver.find_element(By.ID, "status").text == "awaiting approval"
        driver.find_element(By.ID, "approve").click()
        flash = _wait_for(driver, ".flash, .message")
        assert "approved and posted" in flash.text, driver.page_source
        assert driver.find_element(By.ID, "status").text == "posted"
        assert driver.find_element(By.ID, "decided").text.startswith("Grace Wambui")
        assert driver.find_element(By.ID, "posted").text.startswith("2026-03-03")
        # A form whose token was removed is refused with a readable page.
        driver.get(f"{base}/submissions/{sid}")
        driver.execute_script(
            "document.querySelectorAll('input[name=csrf_token]').forEach(e => e.remove());"
            "document.querySelector('form.signout').submit();")
        assert "security token" in _wait_for(driver, ".message").text
        driver.get(f"{base}/queue")
        assert driver.find_element(By.TAG_NAME, "h1").text == "Submissions"  # still signed in


def test_loan_officer_sees_only_own_and_cannot_approve(web, tmp_path: Path) -> None:
    require_chromium()
    from selenium.webdriver.common.by import By

    own = add_submission(web.world.ctx, loan_officer_id=web.wanjiru, office_id=web.nairobi,
                         center_id=web.world.center_id)
    other = add_submission(web.world.ctx, loan_officer_id=web.otieno, office_id=web.nairobi,
                           name="otieno.xlsx")
    with serving(create_app(web.world.ctx)) as base, chromium(tmp_path, 390, 844) as driver:
        _sign_in(driver, base, "wanjiru.kamau@demo-mfi.example")
        links = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "table.queue td a")]
        assert links == [str(own)]
        driver.get(f"{base}/submissions/{own}")
        assert not driver.find_elements(By.ID, "approve")
        driver.get(f"{base}/submissions/{other}")
        assert "that you may see" in driver.find_element(By.CSS_SELECTOR, ".message").text


def test_clerk_uploads_returned_sheet_supervisor_approves(web, tmp_path: Path) -> None:
    """The whole loop: generate Kilimani's sheet, a clerk uploads it for Wanjiru, the
    supervisor opens the report and approves, the page shows it posted."""
    require_chromium()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.returned.sheets import FILLED_HEADER, edit, generate

    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "kilimani-returned.xlsx", {}, header=FILLED_HEADER,
                    expected=expected)
    with serving(create_app(web.world.ctx)) as base, chromium(tmp_path) as driver:
        _sign_in(driver, base, "faith.chebet@demo-mfi.example")
        driver.get(f"{base}/upload")
        Select(driver.find_element(By.ID, "loan_officer")).select_by_value(str(web.wanjiru))
        driver.find_element(By.ID, "workbook").send_keys(str(returned))
        driver.find_element(By.ID, "upload").click()
        result = _wait_for(driver, "#upload-result, .message")
        assert "Open submission" in result.text, driver.page_source
        result.find_element(By.ID, "open-submission").click()
        assert _wait_for(driver, "#status").text == "awaiting approval"
        assert not driver.find_elements(By.ID, "approve")  # a clerk does not approve
        driver.delete_all_cookies()

        _sign_in(driver, base, "grace.wambui@demo-mfi.example")
        driver.find_element(By.CSS_SELECTOR, "tr.status-awaiting_approval td a").click()
        _wait_for(driver, "#report")
        driver.switch_to.frame(driver.find_element(By.ID, "report"))
        assert "Kilimani" in driver.find_element(By.TAG_NAME, "body").text
        driver.switch_to.default_content()
        assert driver.find_element(By.ID, "download-report").get_attribute("href").endswith(
            "/report.xlsx")
        driver.find_element(By.ID, "approve").click()
        assert "approved and posted" in _wait_for(driver, ".flash, .message").text
        assert driver.find_element(By.ID, "status").text == "posted"
        assert driver.find_element(By.ID, "decided").text.startswith("Grace Wambui")
