"""A template sent back with no row filled in says so and how to fix it: fill in a row.
It said "Correct the red cells in the report", though no cell of it is red."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import KilimaniWorld
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.imports.setup_import import generate_setup_template
from workbook_engine.services.pipeline.processing import process_file


def test_an_empty_template_asks_for_a_row_not_for_red_cells(kilimani: KilimaniWorld,
                                                             tmp_path: Path) -> None:
    offices = generate_setup_template(kilimani.ctx, actor_id=None, kind="offices",
                                      out_dir=tmp_path)
    clients = generate_client_template(kilimani.ctx, actor_id=None, office_id=2,
                                       legal_form="person", out_dir=tmp_path)
    for template, code in ((offices.path, "setup-no-rows"), (clients.path, "import-no-rows")):
        result = process_file(kilimani.ctx, template, actor_id=None)
        assert result.status == "invalid"
        assert [e["code"] for e in result.errors] == [code]
        assert "red cells" not in result.message, result.message
        assert "Fill in at least one row below the headers" in result.message, result.message
