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


WANJIRU = "Wanjiru Kamau"                    # a Nairobi East loan officer


def _listed(home: Path, *args: str) -> list[dict]:
    done = cli(home, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_lists_show_only_what_the_member_of_staff_named_may_see(home: Path) -> None:
    """`clients list` named as a Kisumu loan officer listed every Nairobi client too, whose
    pages the same command refuses (issue 20's rule held for pages, not for lists)."""
    everyone = _listed(home, "clients", "list")
    assert {c["office"] for c in everyone} == {"Nairobi East", "Kisumu"}
    kisumu = _listed(home, "--as", MWANGI, "clients", "list")
    assert kisumu and {c["office"] for c in kisumu} == {"Kisumu"}
    own = _listed(home, "--as", WANJIRU, "clients", "list")
    assert own and {c["staff"] for c in own} <= {WANJIRU, None}
    assert len(own) < len([c for c in everyone if c["office"] == "Nairobi East"])
    assert {c["id"] for c in _listed(home, "--as", FAITH, "clients", "list")} == {
        c["id"] for c in everyone if c["office"] == "Nairobi East"}
    for listing in (("centers", "list"), ("groups", "list")):
        assert _listed(home, *listing) and all(
            r["office"] == "Kisumu" for r in _listed(home, "--as", MWANGI, *listing))
        runs = _listed(home, "--as", WANJIRU, *listing)
        assert runs and len(runs) < len(_listed(home, *listing))
    centers = _listed(home, "--as", WANJIRU, "centers", "list")
    assert {c["staff"] for c in centers} == {WANJIRU}
    csv_rows = cli(home, "--as", MWANGI, "clients", "list", "--csv").stdout.splitlines()
    assert len(csv_rows) == len(kisumu) + 1


def test_submissions_are_listed_and_shown_to_who_may_see_them(toured: Path) -> None:
    assert len(_listed(toured, "submissions", "list")) == 2
    assert len(_listed(toured, "--as", WANJIRU, "submissions", "list")) == 2
    assert len(_listed(toured, "--as", "Grace Wambui", "submissions", "list")) == 2
    assert _listed(toured, "--as", MWANGI, "submissions", "list") == []
    assert _listed(toured, "--as", "Peter Ochieng", "submissions", "list") == []
    refused = cli(toured, "--as", MWANGI, "submissions", "show", "1")
    assert refused.returncode == 1
    assert "There is no submission with id 1 that you may see" in " ".join(
        refused.stderr.split())
    assert cli(toured, "--as", WANJIRU, "submissions", "show", "1").returncode == 0
