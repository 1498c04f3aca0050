"""The demo's tour leaves nothing in the inbox: the sheets it returned are processed already,
so the first `watch` after it (the README's daily loop) has nothing stale to take in again."""

from __future__ import annotations

from pathlib import Path

from tests.foundation.test_cli import cli


def test_the_tour_leaves_the_inbox_empty(toured: Path) -> None:
    assert sorted(p.name for p in (toured / "inbox").iterdir()) == []
    assert {"kilimani-returned.xlsx", "kilimani-corrected.xlsx"} <= {
        p.name for p in (toured / "field").iterdir()}
    watched = cli(toured, "watch", "--once", "--json")
    assert watched.returncode == 0, watched.stderr
    assert watched.stdout.strip() == "[]"
