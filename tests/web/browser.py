"""Chromium headless through chromedriver, and the web server in a background thread."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def require_chromium() -> None:
    """Skip, with the reason, when the browser or its driver is not installed."""
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        pytest.skip("Chromium headless is not installed (apt-get install chromium "
                    "chromium-driver); the browser tests need /usr/bin/chromium and "
                    "/usr/bin/chromedriver")
    pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")


@contextmanager
def chromium(tmp: Path, width: int = 1280, height: int = 900,
             downloads: Path | None = None) -> Iterator[object]:
    """Chromium headless; files it downloads land in ``downloads`` when given."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    if downloads is not None:
        downloads.mkdir(parents=True, exist_ok=True)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False, "safebrowsing.enabled": False})
    profile = tmp / "chromium-profile"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                 f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def downloaded(folder: Path, suffix: str, timeout: float = 30) -> Path:
    """The one file with ``suffix`` that the browser finished downloading into ``folder``.

    Chromium reserves the final name with an empty file before it writes the ``.crdownload``
    (or a hidden temporary file) beside it, and deletes that placeholder if it quits first; so a download counts as finished
    only when its file has content, no partial file is left, and its size held for a moment.
    """
    deadline = time.monotonic() + timeout
    last_size = -1
    while time.monotonic() < deadline:
        done = [p for p in folder.glob(f"*{suffix}") if not p.name.endswith(".crdownload")]
        partial = [p for p in folder.iterdir()
                   if p.name.endswith(".crdownload") or p.name.startswith(".")]
        if len(done) == 1 and not partial:
            size = done[0].stat().st_size
            if size > 0 and size == last_size:
                return done[0]
            last_size = size
        time.sleep(0.2)
    raise AssertionError(f"no {suffix} download in {folder}: {sorted(folder.iterdir())}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(app: object, **options: object) -> Iterator[str]:
    """Run the app with uvicorn on a free 127.0.0.1 port; yields its base URL. ``options``
    go to uvicorn (e.g. ``proxy_headers``); proxy headers are off unless given."""
    import uvicorn

    port = free_port()
    options.setdefault("proxy_headers", False)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,  # type: ignore[arg-type]
                                           log_level="warning", lifespan="off", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the web server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
