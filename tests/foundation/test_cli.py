"""The command line: init, listing, JSON, and errors as one sentence (never a traceback)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workbook_engine.errors.docs import catalogue_markdown

ROOT = Path(__file__).resolve().parents[2]


def cli(home: Path, *args: str, today: str = "2026-03-03",
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``workbook-engine ARGS`` as a real process on ``home`` (``env``: more variables)."""
    base = {k: v for k, v in os.environ.items()
            if k not in ("WORKBOOK_ENGINE_DB", "WORKBOOK_ENGINE_AS")}
    env = {**base, "WORKBOOK_ENGINE_HOME": str(home), "WORKBOOK_ENGINE_TODAY": today,
           "COLUMNS": "200", **(env or {})}
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    home = tmp_path_factory.mktemp("demo-home")
    result = cli(home, "init", "--demo")
    assert result.returncode == 0, result.stderr
    assert "Database ready" in result.stdout
    return home


def test_init_creates_folders_and_owner_only_secret(demo_home: Path) -> None:
    for folder in ("inbox", "outbox", "archive", "quarantine"):
        assert (demo_home / folder).is_dir()
    secret = demo_home / "secrets" / "signing.key"
    assert secret.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("kind", ["offices", "staff", "centers", "groups", "clients"])
def test_list_and_show_as_json(demo_home: Path, kind: str) -> None:
    listed = cli(demo_home, kind, "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = json.loads(listed.stdout)
    assert rows and "id" in rows[0]
    shown = cli(demo_home, kind, "show", str(rows[0]["id"]), "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["id"] == rows[0]["id"]


def test_tables_are_readable(demo_home: Path) -> None:
    result = cli(demo_home, "centers", "list")
    assert "Kilimani" in result.stdout and "Next meeting" in result.stdout


def test_unknown_record_is_one_sentence(demo_home: Path) -> None:
    result = cli(demo_home, "clients", "show", "99999")
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: There is no client with id 99999."


@pytest.mark.parametrize("args, expected", [
    (("--today", "2026-02-30", "offices", "list"), "today must be a date written YYYY-MM-DD"),
    (("--db", "postgresql://nobody@127.0.0.1:1/none", "offices", "list"),
     "The database cannot be opened"),
    (("--db", "not a url", "offices", "list"), "is not a valid SQLAlchemy URL"),
])
def test_bad_options_fail_without_traceback(demo_home: Path, args, expected) -> None:
    result = cli(demo_home, *args)
    assert result.returncode != 0
    assert expected in " ".join(result.stderr.split())
    assert "Traceback" not in result.stderr + result.stdout


def test_uninitialised_home_says_run_init(tmp_path: Path) -> None:
    result = cli(tmp_path, "offices", "list")
    assert result.returncode == 1
    assert "run `workbook-engine init` first" in " ".join(result.stderr.split())


def test_demo_refuses_a_real_institutions_folder(demo_home: Path) -> None:
    result = cli(demo_home, "demo")
    assert result.returncode == 1
    assert "did not create" in " ".join(result.stderr.split())


def test_errors_doc_is_up_to_date() -> None:
    assert (ROOT / "docs" / "errors.md").read_text(encoding="utf-8") == catalogue_markdown()


def test_process_records_the_loan_officer_a_clerk_hands_a_file_in_for(
        demo_home: Path, tmp_path: Path) -> None:
    staff = json.loads(cli(demo_home, "staff", "list", "--json").stdout)
    officer = next(s for s in staff if "loan officer" in s["roles"])
    clerk = next(s for s in staff if "loan officer" not in s["roles"]
                 and s["office_id"] == officer["office_id"])
    junk = tmp_path / "photo-of-sheet.xlsx"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n not a workbook")
    result = cli(demo_home, "--as", str(clerk["id"]), "process", str(junk),
                 "--for-officer", str(officer["id"]), "--json")
    submission = json.loads(result.stdout)["submission_id"]
    shown = json.loads(cli(demo_home, "submissions", "show", str(submission), "--json").stdout)
    assert (shown["loan_officer"], shown["submitted_by"]) == (officer["name"], clerk["name"])
    refused = cli(demo_home, "--as", str(clerk["id"]), "process", str(junk), "--for-officer",
                  "999999")
    assert refused.returncode != 0 and "Traceback" not in refused.stderr + refused.stdout
