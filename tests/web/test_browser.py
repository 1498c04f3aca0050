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
        # One click shows what will be posted; posting needs the confirmation.
        assert "Amina Wanjiku" in _wait_for(driver, "#confirm-rows").text
        driver.find_element(By.ID, "confirm-approve").click()
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
        _wait_for(driver, "#confirm-approve").click()
        assert "approved and posted" in _wait_for(driver, ".flash, .message").text
        assert driver.find_element(By.ID, "status").text == "posted"
        assert driver.find_element(By.ID, "decided").text.startswith("Grace Wambui")


def test_report_row_opens_the_client_page(web, tmp_path: Path) -> None:
    """A supervisor clicks a client's name in the report shown on the submission page: the
    whole window opens the client page, and the loan there opens its schedule."""
    require_chromium()
    from selenium.webdriver.common.by import By

    from tests.returned.sheets import FILLED_HEADER, edit, generate
    from workbook_engine.services.pipeline.processing import process_file

    path, expected = generate(web.world, tmp_path / "generated")
    returned = edit(path, tmp_path / "kilimani-returned.xlsx", {}, header=FILLED_HEADER,
                    expected=expected, by_name={("Amina Wanjiku", "repayment"): "-5"})
    sid = process_file(web.world.ctx, returned, actor_id=web.faith,
                       loan_officer_id=web.wanjiru).submission_id
    with serving(create_app(web.world.ctx)) as base, chromium(tmp_path) as driver:
        _sign_in(driver, base, "grace.wambui@demo-mfi.example")
        driver.get(f"{base}/submissions/{sid}")
        driver.switch_to.frame(_wait_for(driver, "#report"))
        links = driver.find_elements(By.CSS_SELECTOR, "a.record")
        names = [a.text for a in links]
        assert names.count("Amina Wanjiku") == 2 and "Umoja" in names  # row and error
        links[names.index("Amina Wanjiku")].click()
        driver.switch_to.default_content()
        heading = _wait_for(driver, "h1")
        assert heading.text.startswith("Amina Wanjiku"), driver.page_source
        assert driver.current_url.startswith(f"{base}/clients/")
        assert "9,256.41" in driver.find_element(By.ID, "loans").text
        driver.find_element(By.LINK_TEXT, "L000000001").click()
        assert _wait_for(driver, "#schedule").text.count("925.64") >= 10
        driver.find_element(By.ID, "owner").click()
        assert _wait_for(driver, "#client-groups").text == "Umoja"


def test_generate_page_downloads_template_and_sheets(web, tmp_path: Path) -> None:
    """The clerk downloads an entity template for Otieno and a zip of two centers' sheets;
    both arrive as signed workbooks of the right kind."""
    require_chromium()
    import datetime as dt
    import zipfile

    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from tests.web.browser import downloaded
    from workbook_engine.services.setup import institution as setup
    from workbook_engine.workbooks.metadata import read_and_verify
    from workbook_engine.workbooks.signing import load_key_ring

    upendo = setup.create_center(web.world.ctx, actor_id=None, office_id=web.nairobi,
                                 name="Upendo", staff_id=web.otieno,
                                 meeting_start=dt.date(2026, 1, 6), meeting_interval=2,
                                 activation_date=dt.date(2026, 1, 6))
    ring = load_key_ring(web.world.ctx.settings.secret_file)
    templates, sheets = tmp_path / "templates", tmp_path / "sheets"
    with serving(create_app(web.world.ctx)) as base:
        with chromium(tmp_path / "a", downloads=templates) as driver:
            _sign_in(driver, base, "faith.chebet@demo-mfi.example")
            driver.get(f"{base}/generate")
            Select(driver.find_element(By.ID, "template-office")).select_by_value(
                str(web.nairobi))
            Select(driver.find_element(By.ID, "template-staff")).select_by_value(
                str(web.otieno))
            Select(driver.find_element(By.ID, "template-legal-form")).select_by_value("entity")
            driver.find_element(By.ID, "download-template").click()
            template = downloaded(templates, ".xlsx")
        metadata = read_and_verify(template, ring)
        assert (metadata.kind, metadata.office_id, metadata.variant) == (
            "client_import", web.nairobi, "entity")
        with chromium(tmp_path / "b", downloads=sheets) as driver:
            _sign_in(driver, base, "faith.chebet@demo-mfi.example")
            driver.get(f"{base}/generate")
            driver.find_element(By.ID, f"center-{web.world.center_id}").click()
            driver.find_element(By.ID, f"center-{upendo}").click()
            driver.find_element(By.ID, "generate").click()
            bundle = downloaded(sheets, ".zip")
        with zipfile.ZipFile(bundle) as archive:
            archive.extractall(tmp_path / "unzipped")
            names = archive.namelist()
        centers = {read_and_verify(tmp_path / "unzipped" / n, ring).center_id for n in names}
        assert len(names) == 2 and centers == {web.world.center_id, upendo}
