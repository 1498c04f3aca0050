"""A sheet's cells, as :func:`layout` places them, are each input column's own reading of
the row (:func:`cell_due`): layout finds a row's cells from its accounts rather than asking
every column, and makes each cell's expected entry with it. Checked on the demo institution
at meetings across a season (hypothesis), with the expected payload built from them."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import make_context
from tests.support.databases import fresh_database
from workbook_engine.domain import Center, Group
from workbook_engine.services.collection.due import DueRequest, compute_due_many
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup import demo
from workbook_engine.workbooks.collection_sheet import cell_due, expected_payload, layout

START = dt.date(2026, 1, 6)


@pytest.fixture(scope="module")
def demo_ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppContext]:
    """The demo institution (scale 1), loaded once for the module."""
    home = tmp_path_factory.mktemp("layout-demo")
    with fresh_database("sqlite", home) as url:
        context = make_context(home, url, dt.date(2026, 3, 3))
        demo.load_demo(context, scale=1)
        yield context
        context.dispose()


def _requests(ctx: AppContext, day: dt.date) -> list[DueRequest]:
    with ctx.session_factory() as s:
        centers = list(s.scalars(select(Center.id).order_by(Center.id)))
        alone = list(s.scalars(select(Group.id).where(Group.center_id.is_(None))
                               .order_by(Group.id)))
    return [DueRequest(day, center_id=c) for c in centers] + \
        [DueRequest(day, group_id=g) for g in alone]


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.integers(min_value=0, max_value=180))
def test_each_cell_is_its_columns_reading_of_the_row(demo_ctx: AppContext, days: int) -> None:
    day = START + dt.timedelta(days=days)
    with demo_ctx.session_factory() as s:
        sheets = compute_due_many(s, _requests(demo_ctx, day), today=day)
    assert sheets
    filled = 0
    for sheet in sheets:
        grid = layout(sheet)
        inputs = [c for c in grid.columns if c.spec.input]
        for (number, row), cells in zip(grid.rows, grid.cells, strict=True):
            assert [c for c, _ in cells] == inputs
            for column, due in cells:
                assert due == cell_due(row, column, sheet.currency_digits, number)
                filled += due is not None
        payload = expected_payload(sheet, grid, workbook_id="w", payment_types={"Cash": 1})
        for (number, row), item in zip(grid.rows, payload["rows"], strict=True):
            assert item["row"] == number and item["key"] == row.key
            for key, cell in item["cells"].items():
                column = grid.column(key)
                assert cell["cell"] == f"{column.letter}{number}"
                due = cell_due(row, column, sheet.currency_digits, number)
                assert due is not None and cell["due"] == (
                    None if due.due is None else str(due.due))
        json.dumps(payload)  # JSON-ready throughout
    assert filled
