"""Who acts is known: every command that changes data names a member of staff (``--as``,
$WORKBOOK_ENGINE_AS, or the login mapped in rules/cli.yaml), or is refused before it
changes anything."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli
from workbook_engine.cli.common import current_login
from workbook_engine.config import PROJECT_ROOT


def _pending_client(home: Path) -> dict:
    rows = json.loads(cli(home, "clients", "list", "--status", "pending", "--json").stdout)
    return rows[0]


def test_a_change_without_anyone_named_is_refused_and_changes_nothing(home: Path) -> None:
    client = _pending_client(home)
    refused = cli(home, "clients", "activate", str(client["id"]))
    assert refused.returncode == 2
    message = " ".join(refused.stderr.split())
    assert message.startswith("Error: Say who is doing this: give --as STAFF")
    assert "WORKBOOK_ENGINE_AS" in message and "rules/cli.yaml" in message
    assert "Nothing was changed." in message and "Traceback" not in message
    shown = json.loads(cli(home, "clients", "show", str(client["id"]), "--json").stdout)
    assert shown["status"] == "pending"


@pytest.mark.parametrize("args", [
    ("codes", "add", "gender", "Unknown"),
    ("offices", "add", "Mombasa", "--parent", "1"),
    ("sheets", "collection", "--center", "1", "--out", "field"),
    ("template", "clients", "--office", "2", "--out", "templates"),
    ("approve", "1"),
])
def test_every_kind_of_change_needs_someone(home: Path, args: tuple[str, ...]) -> None:
    result = cli(home, *args)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Say who is doing this" in " ".join(result.stderr.split())


def test_the_environment_names_who_acts_and_the_record_says_so(home: Path) -> None:
    client = _pending_client(home)
    result = cli(home, "clients", "activate", str(client["id"]), "--json",
                 env={"WORKBOOK_ENGINE_AS": "faith.chebet@demo-mfi.example"})
    assert result.returncode == 0, result.stderr
    shown = json.loads(cli(home, "clients", "show", str(client["id"]), "--json").stdout)
    assert shown["status"] == "active"
    assert shown["status_history"][-1]["by"] == "Faith Chebet"


def test_the_login_mapped_in_the_rules_acts(home: Path, tmp_path: Path) -> None:
    own = tmp_path / "home"
    shutil.copytree(home, own)
    shutil.copytree(PROJECT_ROOT / "rules", own / "rules")
    (own / "rules" / "cli.yaml").write_text(
        f"logins:\n  {current_login()}: Grace Wambui\n", encoding="utf-8")
    made = cli(own, "codes", "add", "gender", "Prefers not to say", "--json")
    assert made.returncode == 0, made.stderr
    (own / "rules" / "cli.yaml").write_text("logins: [nobody]\n", encoding="utf-8")
    broken = cli(own, "codes", "add", "gender", "Other")
    assert broken.returncode == 1 and "rules/cli.yaml: logins must map" in broken.stderr


def test_an_inactive_or_unknown_member_of_staff_cannot_act(home: Path) -> None:
    unknown = cli(home, "--as", "Nobody Here", "codes", "add", "gender", "X")
    assert unknown.returncode == 1 and "No member of staff is known as 'Nobody Here'" in \
        " ".join(unknown.stderr.split())


def test_approve_by_and_as_must_agree(home: Path) -> None:
    result = cli(home, "--as", "Grace Wambui", "approve", "1", "--by", "Peter Ochieng")
    assert result.returncode == 2
    assert "name different people" in " ".join(result.stderr.split())


def test_an_institution_being_installed_needs_nobody_named(tmp_path: Path) -> None:
    assert cli(tmp_path, "init").returncode == 0
    made = cli(tmp_path, "offices", "add", "Head Office", "--opened", "2020-01-01", "--json")
    assert made.returncode == 0, made.stderr
    boss = cli(tmp_path, "staff", "add", "Grace", "Wambui", "--office", "Head Office",
               "--supervisor", "--joined", "2020-01-01", "--json")
    assert boss.returncode == 0, boss.stderr
    # From the first supervisor on, changes name who makes them.
    assert cli(tmp_path, "payment-types", "add", "Cash").returncode == 2
    assert cli(tmp_path, "--as", "Grace Wambui", "payment-types", "add", "Cash").returncode == 0


def test_a_template_of_entities_says_entities(home: Path, tmp_path: Path) -> None:
    """'Template for entities of Nairobi East', not 'entitys'."""
    result = cli(home, "--as", "Faith Chebet", "template", "clients", "--office", "2",
                 "--legal-form", "entity", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "Template for entities of Nairobi East:" in result.stdout, result.stdout
