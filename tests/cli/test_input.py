"""Every option given is applied or refused, never dropped without a word."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli


def run(home: Path, *args: str) -> dict:
    result = cli(home, "--as", "Faith Chebet", *args, "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def refused(home: Path, *args: str) -> str:
    result = cli(home, "--as", "Faith Chebet", *args)
    assert result.returncode == 1, (result.stdout, result.stderr)
    return " ".join(result.stderr.split())


def test_an_activation_date_activates_the_client_on_that_day(home: Path) -> None:
    made = run(home, "clients", "create", "--office", "2", "--first-name", "Neema",
               "--last-name", "Dated", "--submitted-on", "2026-02-27",
               "--activation-date", "2026-03-02")
    shown = run(home, "clients", "show", str(made["id"]))
    assert (shown["status"], shown["activation_date"]) == ("active", "2026-03-02")


def test_a_second_contact_is_refused_unless_it_replaces_the_first(home: Path) -> None:
    client = str(run(home, "clients", "create", "--office", "2", "--first-name", "Imani",
                     "--last-name", "Contacts")["id"])
    first = run(home, "clients", "family", "add", client, "--first-name", "Baba", "--contact")
    message = refused(home, "clients", "family", "add", client, "--first-name", "Mama",
                      "--contact")
    assert f"Baba (family member {first['id']}) is already client {client}'s contact" in message
    assert "--replace-contact" in message
    assert [m["first_name"] for m in run(home, "clients", "family", "list", client)] == ["Baba"]
    run(home, "clients", "family", "add", client, "--first-name", "Mama", "--contact",
        "--replace-contact")
    family = {m["first_name"]: m["is_contact"]
              for m in run(home, "clients", "family", "list", client)}
    assert family == {"Baba": False, "Mama": True}


@pytest.mark.parametrize("option, value", [
    ("--incorporation-date", "2020-01-01"), ("--incorporation-number", "C-1"),
    ("--constitution", "Partnership"), ("--name", "Wema Traders")])
def test_entity_details_given_to_a_person_are_refused(home: Path, option: str,
                                                      value: str) -> None:
    client = run(home, "clients", "create", "--office", "2", "--first-name", "Juma",
                 "--last-name", "Person")
    message = refused(home, "clients", "edit", str(client["id"]), option, value)
    assert "is a detail of an entity, and this client is a person" in message
    assert "updated" not in message
    assert "is a detail of an entity" in refused(
        home, "clients", "create", "--office", "2", "--first-name", "Juma", "--last-name",
        "Again", option, value)


def test_person_details_given_to_an_entity_are_refused(home: Path) -> None:
    message = refused(home, "clients", "create", "--office", "2", "--legal-form", "entity",
                      "--name", "Wema Traders", "--date-of-birth", "1990-01-01")
    assert "date of birth is a detail of a person, and this client is an entity" in message


@pytest.mark.parametrize("args", [
    ("savings", "deposit", "1", "10.123"), ("savings", "withdraw", "1", "0.005"),
    ("loans", "repay", "1", "925.645"),
    ("charges", "add", "Card fee", "--amount", "10.005", "--client", "1")],
    ids=["deposit", "withdrawal", "repayment", "charge"])
def test_an_amount_with_more_decimals_than_the_currency_is_refused_not_rounded(
        home: Path, args: tuple[str, ...]) -> None:
    books = (("savings", "show", "1"), ("loans", "show", "1"), ("clients", "show", "1"))
    before = [run(home, *show) for show in books]
    message = refused(home, *args)
    assert "has more than 2 decimals" in message, message
    assert [run(home, *show) for show in books] == before  # nothing recorded, nothing rounded
