"""The `clients`, `codes`, `loans show` and `savings show` commands on the demo."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clients-home")
    assert cli(folder, "init", "--demo").returncode == 0
    return folder


def run_json(home: Path, *args: str, actor: str = "Faith Chebet"):
    """A command's JSON, run by the demo's Nairobi East clerk (who reads her offices' records)."""
    result = cli(home, "--as", actor, *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_demo_has_clients_in_every_status(home: Path) -> None:
    statuses = {row["status"] for row in run_json(home, "clients", "list")}
    assert statuses == {"pending", "active", "transfer_in_progress", "transfer_on_hold",
                        "closed", "rejected", "withdrawn"}


def test_show_is_a_readable_page(home: Path) -> None:
    result = cli(home, "clients", "show", "1")
    assert result.returncode == 0, result.stderr
    for words in ("Amina Wanjiku (client 1)", "Personal details", "Office and status",
                  "Biashara", "9,256.41", "925.64", "150.00", "Status history"):
        assert words in result.stdout
    assert "10000.0000" not in result.stdout


def test_lifecycle_through_the_cli(home: Path, tmp_path: Path) -> None:
    created = run_json(home, "clients", "create", "--office", "2",
                       "--first-name", "Wema", "--last-name", "Cli", "--mobile",
                       "0788-123 456", "--gender", "Female", "--date-of-birth", "1991-01-01")
    cid = str(created["id"])
    assert (created["status"], created["mobile_no"]) == ("pending", "0788123456")
    assert run_json(home, "clients", "activate", cid)["status"] == "active"
    run_json(home, "clients", "family", "add", cid, "--first-name", "Baba", "--contact")
    run_json(home, "clients", "address", "add", cid, "--city", "Nairobi", "--type",
             "Residence")
    (tmp_path / "note.txt").write_text("Application form\n")
    doc = run_json(home, "clients", "documents", "attach", cid, str(tmp_path / "note.txt"),
                   "--description", "scan")
    run_json(home, "clients", "documents", "download", str(doc["id"]), "--to",
             str(tmp_path / "back.txt"))
    assert (tmp_path / "back.txt").read_text() == "Application form\n"
    page = run_json(home, "clients", "show", cid)
    assert [len(page[k]) for k in ("family", "addresses", "documents")] == [1, 1, 1]
    moved = run_json(home, "clients", "transfer", "propose", cid, "--to", "3")
    assert moved["status"] == "transfer_in_progress"
    assert run_json(home, "clients", "transfer", "accept", cid)["office"] == "Kisumu"
    # Now a Kisumu client: Kisumu's staff act on it (Nairobi's no longer may).
    assert cli(home, "--as", "Faith Chebet", "clients", "close", cid, "--reason",
               "Moved away").returncode == 1
    closed = run_json(home, "clients", "close", cid, "--reason", "Moved away",
                      actor="Peter Ochieng")
    assert closed["status"] == "closed"
    refused = cli(home, "--as", "Peter Ochieng", "clients", "close", cid, "--reason",
                  "Moved away")
    assert refused.returncode == 1
    assert "is closed; only an active client can be closed" in " ".join(refused.stderr.split())


def test_codes_fields_loans_savings(home: Path) -> None:
    run_json(home, "codes", "add", "client_type", "Group leader")
    [client_type] = run_json(home, "codes", "list", "client_type")
    assert "Group leader" in [v["name"] for v in client_type["values"]]
    run_json(home, "clients", "fields", "add", "national_id", "--type", "text")
    assert [f["name"] for f in run_json(home, "clients", "fields", "list")] == ["national_id"]
    loan = run_json(home, "loans", "show", "1")
    assert loan["schedule"][0]["paid"] == "925.64"
    table = cli(home, "loans", "show", "1").stdout
    assert "Repayment schedule" in table and "925.64" in table
    assert run_json(home, "savings", "show", "1")["balance"] == "150.00"
    bad = cli(home, "--as", "Faith Chebet", "clients", "create", "--office", "2",
              "--first-name", "X")
    assert bad.returncode == 1
    assert bad.stderr.strip() == ("Error: The last name of a person is mandatory and is "
                                  "missing.")


def test_transfer_of_a_group_member_names_the_destination_group_option(home: Path) -> None:
    member = run_json(home, "clients", "list", "--group", "2")[0]["id"]  # Juhudi (Amani)
    run_json(home, "clients", "transfer", "propose", str(member), "--to", "3")
    refused = cli(home, "--as", "Faith Chebet", "clients", "transfer", "accept", str(member))
    assert refused.returncode == 1
    said = " ".join(refused.stderr.split())
    assert "is a member of group Juhudi (Amani)" in said and "--to-group" in said
    assert "Kisumu Ushindi (group 24)" in said
    moved = run_json(home, "clients", "transfer", "accept", str(member), "--to-group", "24")
    assert (moved["office"], moved["staff"]) == ("Kisumu", "Mwangi Njoroge")
    assert cli(home, "--as", "Faith Chebet", "clients", "show", str(member)).returncode == 1
    page = run_json(home, "clients", "show", str(member), actor="Mwangi Njoroge")
    assert [g for g in page["groups"] if "Kisumu Ushindi" in str(g)], page["groups"]
