"""Fixtures shared by the tests of returned sheets."""

from __future__ import annotations

import pytest

from workbook_engine.reports import collection_report


@pytest.fixture
def fallbacks(monkeypatch):
    """The files the report writer had to rewrite with openpyxl."""
    used: list[str] = []
    slow = collection_report._rewrite_with_openpyxl

    def spy(source, *args, **kwargs):
        used.append(str(source))
        return slow(source, *args, **kwargs)

    monkeypatch.setattr(collection_report, "_rewrite_with_openpyxl", spy)
    return used
