"""`workbook-engine check` and `demo` as a user runs them: exit codes, text and JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.foundation.test_cli import cli


def _broken(report: dict, code: str) -> list[dict]:
    return next(i for i in report["invariants"] if i["code"] == code)["broken"]


def test_check_exit_code_text_and_json(tmp_path: Path) -> None:
    assert cli(tmp_path, "init", "--demo").returncode == 0
    clean = cli(tmp_path, "check", "--json")
    assert clean.returncode == 0, clean.stderr
    report = json.loads(clean.stdout)
    assert report["ok"] is True and report["broken_count"] == 0
    assert all(i["checked"] >= 0 and i["broken"] == [] for i in report["invariants"])

    with sqlite3.connect(tmp_path / "workbook-engine.sqlite3") as db:
        account_no, balance = db.execute(
            "SELECT account_no, balance FROM savings_accounts WHERE balance > 0 "
            "ORDER BY id LIMIT 1").fetchone()
        db.execute("UPDATE savings_accounts SET balance = balance + 5 WHERE account_no = ?",
                   (account_no,))

    text = cli(tmp_path, "check")
    assert text.returncode == 1
    assert "BROKEN savings-balance" in text.stdout
    assert f"savings {account_no}: balance={balance + 5:.4f}" in text.stdout
    assert "1 row(s) break" in text.stdout
    assert "Traceback" not in text.stdout + text.stderr

    as_json = cli(tmp_path, "check", "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["ok"] is False and report["broken_count"] == 1
    [row] = _broken(report, "savings-balance")
    assert row["account"] == account_no
    assert row["balance"] == f"{balance + 5:.4f}"
    assert row["deposits"] == f"{balance:.4f}" and row["withdrawals"] == "0.0000"

    # Kilimani's office (Nairobi East) holds the account; Kisumu does not.
    offices = json.loads(cli(tmp_path, "offices", "list", "--json").stdout)
    kisumu = next(o["id"] for o in offices if o["name"] == "Kisumu")
    assert cli(tmp_path, "check", "--office", str(kisumu)).returncode == 0
    missing = cli(tmp_path, "check", "--office", "999")
    assert missing.returncode == 1
    assert "There is no office with id 999" in " ".join(missing.stderr.split())


def test_demo_ends_by_checking_the_books(tmp_path: Path) -> None:
    result = cli(tmp_path / "demo", "demo")
    assert result.returncode == 0, result.stderr
    tail = result.stdout.strip().splitlines()
    assert tail[-1] == "Every cent is accounted for."
    assert any(line.startswith("ok     savings-balance") for line in tail)
