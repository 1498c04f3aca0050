"""docs/reliability.md stays true: every test it names exists, every corpus case is listed."""

from __future__ import annotations

import re
from pathlib import Path

from tests.hostile.corpus import CASES

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "reliability.md").read_text(encoding="utf-8")


def test_every_test_named_in_the_doc_exists() -> None:
    named = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)", DOC))
    assert len(named) > 30
    missing = [f"{path}::{name}" for path, name in sorted(named)
               if not re.search(rf"^def {name}\(", (ROOT / path).read_text(encoding="utf-8"),
                                re.MULTILINE)]
    assert missing == []


def test_every_case_of_the_corpus_is_in_the_doc_and_nothing_else() -> None:
    listed = re.findall(r"^\| `([\w-]+)` \|", DOC, re.MULTILINE)
    assert listed == [case.id for case in CASES]
    for case in CASES:
        for other in case.see:
            assert other in DOC, (case.id, other)
