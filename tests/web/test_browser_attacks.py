"""Attacks in Chromium headless (issue 17): a page on another port of the same host frames
a submission to trick a supervisor's click into posting it."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.web.browser import chromium, free_port, require_chromium, serving
from tests.web.support import PASSWORD, add_approvable_submission
from workbook_engine.domain import Submission
from workbook_engine.web import create_app

pytestmark = pytest.mark.browser


@contextmanager
def attacker_site(folder: Path) -> Iterator[str]:
    """Serve ``folder`` on another port of 127.0.0.1: the same site, another origin."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_page_on_another_port_cannot_frame_a_submission(web, tmp_path: Path) -> None:
    require_chromium()
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    sid = add_approvable_submission(web.world, submitted_by_id=web.faith)
    site = tmp_path / "attacker"
    site.mkdir()
    with serving(create_app(web.world.ctx)) as base, chromium(tmp_path) as driver:
        (site / "win.html").write_text(
            "<!doctype html><title>You won!</title><p>Click the button to claim your prize."
            f'<iframe id="bait" src="{base}/submissions/{sid}" width="900" height="700" '
            'style="opacity:0.01"></iframe>', encoding="utf-8")
        # The supervisor is signed in (the SameSite=Lax cookie goes to the same site on
        # another port) ...
        driver.get(f"{base}/signin")
        driver.find_element(By.ID, "login").send_keys("grace.wambui@demo-mfi.example")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "signin").click()
        WebDriverWait(driver, 20).until(lambda d: "/queue" in d.current_url)
        with attacker_site(site) as evil:
            # ... and opens the attacker's page: the frame stays empty.
            driver.get(f"{evil}/win.html")
            frame = WebDriverWait(driver, 20).until(
                lambda d: d.find_element(By.ID, "bait"))
            driver.switch_to.frame(frame)
            WebDriverWait(driver, 20).until(
                lambda d: d.execute_script("return document.readyState") == "complete")
            assert not driver.find_elements(By.ID, "approve"), driver.page_source[:500]
            assert "Approve and post" not in driver.page_source
            driver.switch_to.default_content()
        # The same page opened directly (not framed) does show the button.
        driver.get(f"{base}/submissions/{sid}")
        assert driver.find_elements(By.ID, "approve")
    with web.world.ctx.session_factory() as s:
        assert s.get(Submission, sid).status.value == "awaiting_approval"
