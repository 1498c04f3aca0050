"""A workbook whose every row another submission imported meanwhile has nothing left to post:
approving it says so and how to clear it from the queue. It said "correct the report and
send it again", though nothing in it is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.client_import.filling import fill
from tests.client_import.test_import import OK
from tests.conftest import KilimaniWorld
from workbook_engine.errors import EngineError
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission


def test_a_workbook_imported_meanwhile_says_nothing_is_left(kilimani: KilimaniWorld,
                                                            tmp_path: Path) -> None:
    template = generate_client_template(kilimani.ctx, actor_id=None, office_id=2,
                                        legal_form="person", out_dir=tmp_path)
    filled = fill(template.path, tmp_path / "clients.xlsx",
                  [{"row_key": "1", **OK, "first_name": "Solo", "last_name": "Client"}])
    first = process_file(kilimani.ctx, filled, actor_id=None)
    again = process_file(kilimani.ctx, first.report_xlsx, actor_id=None)  # sent twice
    assert (first.status, again.status) == ("awaiting_approval", "awaiting_approval")
    approve_submission(kilimani.ctx, submission_id=first.submission_id, by="Grace Wambui")
    with pytest.raises(EngineError) as refused:
        approve_submission(kilimani.ctx, submission_id=again.submission_id,
                           by="Grace Wambui")
    message = refused.value.message
    assert "correct the report" not in message, message
    assert "already imported" in message and "nothing is left to post" in message
    assert f"workbook-engine reject {again.submission_id}" in message
