"""Client management is tested on SQLite and on PostgreSQL: every operation, every refusal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import KILIMANI_MEETING, KilimaniWorld, _kilimani, make_context
from tests.support.databases import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def kilimani(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[KilimaniWorld]:
    """The worked center, on SQLite and on PostgreSQL (skipped when it is unreachable)."""
    with fresh_database(request.param, tmp_path) as url:
        context = make_context(tmp_path, url, KILIMANI_MEETING)
        yield _kilimani(context)
        context.dispose()
