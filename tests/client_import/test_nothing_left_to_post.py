"""A workbook whose every row another submission imported meanwhile has nothing left to post:
approving it says so and how to clear it from the queue. It said "correct the report and
send it again", though nothing in it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client_import.filling import fill
from tests.client_import.test_import import OK, world  # noqa: F401 - the fixture
from workbook_engine.errors import EngineError
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission


def test_a_workbook_imported_meanwhile_says_nothing_is_left(world, tmp_path: Path) -> None:  # noqa: F811
    ctx, template = world
    solo = {"row_key": "1", **OK, "first_name": "Solo", "last_name": "Client"}
    first = process_file(ctx, fill(template.path, tmp_path / "clients.xlsx", [solo]),
                         actor_id=None)
    again = process_file(ctx, first.report_xlsx, actor_id=None)  # the same rows sent twice
    assert (first.status, again.status) == ("awaiting_approval", "awaiting_approval")
    approve_submission(ctx, submission_id=first.submission_id, by="Grace Wambui")
    with pytest.raises(EngineError) as refused:
        approve_submission(ctx, submission_id=again.submission_id,
                           by="Grace Wambui")
    message = refused.value.message
    assert "correct the report" not in message, message
    assert "already imported" in message and "nothing is left to post" in message
    assert f"workbook-engine reject {again.submission_id}" in message
