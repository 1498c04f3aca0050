"""The web's role and office scope applies on the command line: a member of staff changes
only the records they may see (a Kisumu loan officer cannot activate a Nairobi client)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.foundation.test_cli import cli

MWANGI = "mwangi.njoroge@demo-mfi.example"  # a Kisumu loan officer
FAITH = "Faith Chebet"                       # the Nairobi East clerk


def _nairobi_pending(home: Path) -> int:
    rows = json.loads(cli(home, "clients", "list", "--status", "pending", "--json").stdout)
    return next(r["id"] for r in rows if r["office"] == "Nairobi East")


def test_a_kisumu_loan_officer_cannot_act_on_a_nairobi_client(home: Path) -> None:
    client = _nairobi_pending(home)
    refused = cli(home, "--as", MWANGI, "clients", "activate", str(client))
    assert refused.returncode == 1
    assert f"There is no client with id {client} that you may see" in " ".join(
        refused.stderr.split())
    for args in (("clients", "family", "add", str(client), "--first-name", "X"),
                 ("clients", "close", str(client), "--reason", "Moved away"),
                 ("loans", "repay", "1", "10"), ("savings", "deposit", "1", "10")):
        assert cli(home, "--as", MWANGI, *args).returncode == 1, args
    shown = json.loads(cli(home, "clients", "show", str(client), "--json").stdout)
    assert shown["status"] == "pending" and shown["family"] == []
    done = cli(home, "--as", FAITH, "clients", "activate", str(client), "--json")
    assert done.returncode == 0, done.stderr


def test_a_client_is_created_only_in_an_office_of_ones_own(home: Path) -> None:
    refused = cli(home, "--as", MWANGI, "clients", "create", "--office", "2", "--first-name",
                  "Amani", "--last-name", "Elsewhere")
    assert refused.returncode == 1
    assert "works for office 'Kisumu', not 'Nairobi East'" in " ".join(refused.stderr.split())
    made = cli(home, "--as", MWANGI, "clients", "create", "--office", "3", "--first-name",
               "Amani", "--last-name", "Kisumu", "--json")
    assert made.returncode == 0, made.stderr


def test_reading_as_someone_shows_only_what_they_may_see(home: Path) -> None:
    """`--as` given to a read is applied, as on the web: a Kisumu loan officer is refused a
    Nairobi client's, loan's and savings account's page, as not found; nobody named reads all."""
    client = _nairobi_pending(home)
    for args, what in ((("clients", "show", str(client)), "client"),
                       (("loans", "show", "1"), "loan"),
                       (("savings", "show", "1"), "savings account"),
                       (("groups", "show", "1"), "group"),
                       (("centers", "show", "1"), "center")):
        refused = cli(home, "--as", MWANGI, *args)
        assert refused.returncode == 1, (args, refused.stdout)
        assert "that you may see" in " ".join(refused.stderr.split()), args
        assert what in refused.stderr, args
        assert cli(home, "--as", FAITH, *args).returncode == 0, args
        assert cli(home, *args).returncode == 0, args


def test_an_unknown_name_given_to_a_read_is_refused_not_ignored(home: Path) -> None:
    refused = cli(home, "--as", "Nobody Here", "clients", "list")
    assert refused.returncode == 1
    assert "Nobody Here" in refused.stderr
    assert refused.stdout == ""
