"""`process` exits 1 for a file with errors and for a refused file, 0 for a valid one;
approving a client import says what was imported (never "collected None")."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.client_import.filling import fill
from tests.client_import.test_import import OK
from tests.conftest import KilimaniWorld
from workbook_engine.services.imports.client_import import generate_client_template

ROOT = Path(__file__).resolve().parents[2]


def _cli(world: KilimaniWorld, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "WORKBOOK_ENGINE_HOME": str(world.ctx.home),
           "WORKBOOK_ENGINE_DB": world.ctx.settings.database_url,
           "WORKBOOK_ENGINE_TODAY": "2026-03-03", "PYTHONPATH": str(ROOT), "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=180)


def _template(world: KilimaniWorld, folder: Path) -> Path:
    return generate_client_template(world.ctx, actor_id=None, office_id=2,
                                    legal_form="person", out_dir=folder).path


def _processed_valid_import(world: KilimaniWorld, template: Path,
                            folder: Path) -> subprocess.CompletedProcess[str]:
    """A one-client import filled in and processed by the clerk (``--json``)."""
    valid = fill(template, folder / "valid.xlsx",
                 [{"row_key": "1", **OK, "first_name": "Solo", "last_name": "Client"}])
    return _cli(world, "--as", "Faith Chebet", "process", str(valid), "--json")


def test_process_exit_codes_and_an_import_approved(kilimani: KilimaniWorld,
                                                   tmp_path: Path) -> None:
    template = _template(kilimani, tmp_path)
    with_errors = fill(template, tmp_path / "errors.xlsx",
                       [{"row_key": "1", **OK, "first_name": "", "last_name": "NoFirst"}])
    result = _cli(kilimani, "--as", "Faith Chebet", "process", str(with_errors))
    assert result.returncode == 1, (result.stdout, result.stderr)
    junk = tmp_path / "photo.xlsx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a workbook")
    assert _cli(kilimani, "--as", "Faith Chebet", "process", str(junk)).returncode == 1
    result = _processed_valid_import(kilimani, template, tmp_path)
    assert result.returncode == 0, result.stderr
    submission = json.loads(result.stdout)["submission_id"]
    approved = _cli(kilimani, "--as", "Grace Wambui", "approve", str(submission))
    assert approved.returncode == 0, approved.stderr
    assert f"Submission {submission} posted: 1 row(s) imported" in approved.stdout
    assert "None" not in approved.stdout


def test_a_rejection_without_a_reason_is_a_usage_mistake(kilimani: KilimaniWorld,
                                                         tmp_path: Path) -> None:
    processed = _processed_valid_import(kilimani, _template(kilimani, tmp_path), tmp_path)
    submission = str(json.loads(processed.stdout)["submission_id"])
    blank = _cli(kilimani, "--as", "Grace Wambui", "reject", submission, "--reason", "  ")
    assert blank.returncode == 2, (blank.stdout, blank.stderr)
    assert "--reason" in blank.stderr
    rejected = _cli(kilimani, "--as", "Grace Wambui", "reject", submission, "--reason",
                    "Wrong office")
    assert rejected.returncode == 0, rejected.stderr
    assert f"Submission {submission} rejected." in rejected.stdout
