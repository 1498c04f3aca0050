"""Tables in an 80-column terminal: a header is never broken inside a word, no column
shrinks to nothing, and names wrap at their spaces only."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.conftest import terminal

HEADERS = ["Id", "Status", "File", "Version", "Meeting", "Loan officer", "Submitted by",
           "Errors", "Collected", "Paid out"]


def _words(shown: str) -> set[str]:
    return set(re.findall(r"[\w,.-]+", shown))


@pytest.mark.parametrize("term", ["xterm-256color", "dumb"])
def test_the_submissions_table_reads_whole_at_80_columns(toured: Path, term: str) -> None:
    """"Submitted by" was printed "Submitte" / "d by"; in a terminal that says it is dumb
    (TERM=dumb: Emacs, some CI logs) both names' columns were printed zero wide."""
    shown = terminal(toured, "submissions", "list", term=term)
    words = _words(shown)
    for header in HEADERS:
        for word in header.split():
            assert word in words, (word, shown)
    assert "Submitte" not in words and "officer" in words
    for row in ("kilimani-corrected.xlsx", "kilimani-returned.xlsx"):
        line = next(line for line in shown.splitlines() if row in line)
        assert line.count("Wanjiru") == 2, line  # the officer's name, and who submitted
    assert shown.count("Kamau") == 4, shown
    assert "3,769.74" in shown and "8,500.00" in shown


def test_a_sheet_listing_at_80_columns_breaks_no_header_word(toured: Path,
                                                             tmp_path: Path) -> None:
    shown = terminal(toured, "--as", "Faith Chebet", "sheets", "collection", "--office", "2",
                     "--out", str(tmp_path))
    words = _words(shown)
    for word in ("Center", "group", "Meeting", "Rows", "Collected", "Paid", "out", "Cash",
                 "hand", "over", "File"):
        assert word in words, (word, shown)
    assert re.search(r"collection-\S+-amani-c2\.xlsx", shown), shown  # a file name whole
