"""Fixtures shared by the tests of returned sheets."""

from __future__ import annotations

import pytest

from workbook_engine.reports import collection_report
from workbook_engine.services.pipeline import processing
from workbook_engine.workbooks._isolation import shutdown_workers


@pytest.fixture
def fallbacks(monkeypatch):
    """The files the report writer had to rewrite with openpyxl."""
    used: list[str] = []
    slow = collection_report._rewrite_with_openpyxl

    def spy(source, *args, **kwargs):
        used.append(str(source))
        return slow(source, *args, **kwargs)

    monkeypatch.setattr(collection_report, "_rewrite_with_openpyxl", spy)
    # The report is normally written in a reader worker; here in this process, so that the
    # spy (and a test's own patches) see it.
    monkeypatch.setattr(processing, "run_limited",
                        lambda fn, *args, limits, **kwargs: fn(*args, **kwargs))
    yield used
    # A reader worker forked while the report code was patched would keep the patch.
    shutdown_workers()
