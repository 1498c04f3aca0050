"""`workbook-engine template setup --kind K`, then `process` and `approve`, in-process."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from tests.setup_import.filling import fill
from tests.setup.test_cli_setup import Cli
from workbook_engine.domain import Office
from workbook_engine.services.context import AppContext


def test_template_setup_then_process_and_approve(ctx: AppContext, tmp_path: Path) -> None:
    cli = Cli(ctx)
    made = cli.json("template", "setup", "--kind", "offices", "--out", str(tmp_path))
    assert made["kind"] == "offices" and Path(made["path"]).exists()
    filled = fill(Path(made["path"]), tmp_path / "offices.xlsx", {"Offices": [
        {"name": "Head Office", "opening_date": dt.date(2020, 1, 1)}]})
    processed = cli.invoke("process", str(filled), "--json")
    assert processed.exit_code == 0, processed.output
    submission = json.loads(processed.output)["submission_id"]
    approved = cli.json("approve", str(submission), "--by", "the installer")
    assert approved["status"] == "posted"
    with ctx.session_factory() as s:
        assert list(s.scalars(select(Office.name))) == ["Head Office"]
    wrong = cli.invoke("template", "setup", "--kind", "branches", "--out", str(tmp_path))
    assert wrong.exit_code == 2  # a usage mistake, listing the kinds
    assert "'branches' is not one of: offices, staff" in " ".join(wrong.output.split())
