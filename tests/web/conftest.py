"""Fixtures of the web tests: the Kilimani world with passwords, and an HTTP client."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from starlette.testclient import TestClient

from tests.conftest import KilimaniWorld
from tests.web.support import give_passwords, sign_in
from workbook_engine.web import create_app


@dataclass
class WebWorld:
    world: KilimaniWorld
    grace: int      # supervisor, Nairobi East
    peter: int      # supervisor, Kisumu
    wanjiru: int    # loan officer of Kilimani
    otieno: int     # another loan officer, Nairobi East
    faith: int      # data-entry clerk
    nairobi: int


@pytest.fixture
def web(kilimani: KilimaniWorld) -> WebWorld:
    ref = kilimani.ref
    world = WebWorld(world=kilimani, grace=ref.supervisors["Grace"],
                     peter=ref.supervisors["Peter"], wanjiru=ref.loan_officers["Wanjiru"],
                     otieno=ref.loan_officers["Otieno"], faith=ref.clerk,
                     nairobi=ref.branches["Nairobi East"])
    give_passwords(kilimani.ctx, [world.grace, world.peter, world.wanjiru, world.otieno,
                                  world.faith])
    return world


@pytest.fixture
def client_for(web: WebWorld) -> Iterator[Callable[[int | None], TestClient]]:
    """A browser-like client, signed in as the staff id given (None: signed out)."""
    clients: list[TestClient] = []

    def make(staff_id: int | None) -> TestClient:
        client = TestClient(create_app(web.world.ctx), raise_server_exceptions=False)
        client.__enter__()
        clients.append(client)
        if staff_id is not None:
            response = sign_in(client, str(staff_id))
            assert response.status_code == 200, response.text
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


# --- Playwright (pytest-playwright) on the system's Chromium -------------------------------
# The browser is Debian's /usr/bin/chromium (Playwright's own browser download is never
# used); the tests that need it skip when it or pytest-playwright is missing.

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:  # type: ignore[type-arg]
    from tests.web.browser import CHROMIUM

    return {**browser_type_launch_args, "executable_path": CHROMIUM,
            "args": ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"]}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:  # type: ignore[type-arg]
    return {**browser_context_args, "viewport": {"width": 1280, "height": 900}}


@pytest.fixture(scope="session")
def readers_stop_before_playwright(playwright: object) -> Iterator[None]:
    """Stop the pooled reader workers before Playwright stops: a worker forked while
    Playwright's driver runs holds the driver's pipe open, and Playwright would wait for it
    forever at the end of the session."""
    yield
    from workbook_engine.workbooks._isolation import shutdown_workers

    shutdown_workers()
