"""Shared fixtures: each test gets its own home folder and database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.databases import BACKENDS, fresh_database
from workbook_engine.config import Settings
from workbook_engine.services.context import AppContext
from workbook_engine.workbooks.signing import ensure_secret_file

KILIMANI_MEETING = dt.date(2026, 3, 3)


def make_context(home: Path, url: str, today: dt.date) -> AppContext:
    settings = Settings.resolve(home=home, database_url=url, today=today,
                                secret_file=home / "secrets" / "signing.key")
    settings.ensure_folders()
    ensure_secret_file(settings.secret_file)
    return AppContext(settings)


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    """An engine on a fresh SQLite database; today is Kilimani's meeting day."""
    with fresh_database("sqlite", tmp_path) as url:
        context = make_context(tmp_path, url, KILIMANI_MEETING)
        yield context
        context.dispose()


@pytest.fixture(params=BACKENDS)
def any_ctx(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[AppContext]:
    """The same, on each database engine (server ones skip when unreachable)."""
    with fresh_database(request.param, tmp_path) as url:
        context = make_context(tmp_path, url, KILIMANI_MEETING)
        yield context
        context.dispose()


@dataclass
class KilimaniWorld:
    """The worked center of docs/domain, loaded into a fresh database."""

    ctx: AppContext
    ref: object
    center_id: int


def _kilimani(context: AppContext) -> KilimaniWorld:
    from workbook_engine.services.setup.demo import build_kilimani, build_reference

    ref = build_reference(context)
    center_id = build_kilimani(context, ref)
    return KilimaniWorld(ctx=context, ref=ref, center_id=center_id)


@pytest.fixture
def kilimani(ctx: AppContext) -> KilimaniWorld:
    return _kilimani(ctx)


@pytest.fixture
def any_kilimani(any_ctx: AppContext) -> KilimaniWorld:
    return _kilimani(any_ctx)
