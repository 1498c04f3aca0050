"""Money on the command line: at the currency's digits everywhere (never the database's
four), grouped in thousands in every table, a plain number in CSV, a string in JSON."""

from __future__ import annotations

import csv
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli
from workbook_engine.money import money_text

AT_TWO_DIGITS = re.compile(r"^-?\d+\.\d\d$")


def _run(home: Path, *args: str) -> str:
    done = cli(home, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_csv_prints_amounts_at_the_currency_digits(toured: Path) -> None:
    """`submissions list --csv` printed 3769.7400 (the database's scale): a spreadsheet
    showed four decimals of a shilling amount."""
    rows = list(csv.DictReader(io.StringIO(_run(toured, "submissions", "list", "--csv"))))
    assert len(rows) == 2
    for row in rows:
        for column in ("Collected", "Paid out"):
            assert AT_TWO_DIGITS.match(row[column]), (column, row[column])
    assert {r["Collected"] for r in rows} == {"3769.74", "2844.10"}
    products = list(csv.DictReader(io.StringIO(
        _run(toured, "savings-products", "list", "--csv"))))
    assert products and all(AT_TWO_DIGITS.match(p["Recommended"]) for p in products)


def test_json_prints_amounts_as_strings_at_the_currency_digits(toured: Path) -> None:
    listed = json.loads(_run(toured, "submissions", "list", "--json"))
    for row in listed:
        for key in ("cash_collected", "cash_paid_out"):
            assert isinstance(row[key], str) and AT_TWO_DIGITS.match(row[key]), row[key]
    posted = next(r for r in listed if r["status"] == "posted")
    shown = json.loads(_run(toured, "submissions", "show", str(posted["id"]), "--json"))
    accounts = shown["posting"]["accounts"]
    assert accounts
    for change in accounts:  # balances before -> after were stored at four decimals
        assert AT_TWO_DIGITS.match(change["before"]) and AT_TWO_DIGITS.match(change["after"])
    assert AT_TWO_DIGITS.match(shown["posting"]["collected"])
    products = json.loads(_run(toured, "savings-products", "list", "--json"))
    assert all(AT_TWO_DIGITS.match(p["recommended_deposit"]) for p in products)


def test_every_table_groups_thousands(toured: Path, tmp_path: Path) -> None:
    """`sheets collection` printed 16707.18 where `submissions list` printed 3,769.74."""
    write = ("--as", "Faith Chebet", "sheets", "collection", "--office", "2", "--out",
             str(tmp_path))
    listed = json.loads(_run(toured, *write, "--json"))
    table = _run(toured, *write)
    big = [s for s in listed if Decimal(s["collected"]) >= 1000]
    assert big
    for sheet in listed:
        for key in ("collected", "paid_out", "cash_to_hand_over"):
            assert money_text(sheet[key], 2) in table, (key, sheet[key])
    for sheet in big:
        assert f" {sheet['collected']} " not in table  # not ungrouped
    loan = _run(toured, "loans", "show", "1")
    assert "10,000.00" in loan and "10000.00" not in loan
    submissions = _run(toured, "submissions", "list")
    assert "3,769.74" in submissions


def test_one_text_for_an_amount() -> None:
    """Tables and records group thousands; CSV writes the plain number."""
    from workbook_engine.cli.output import cell_text, csv_text

    assert cell_text(Decimal("16707.18")) == "16,707.18" == money_text(Decimal("16707.18"))
    assert cell_text(Decimal("-17723.86")) == "-17,723.86"
    assert cell_text(Decimal("1500")) == "1,500"  # a currency without decimals
    assert csv_text(Decimal("16707.18")) == "16707.18"
    assert csv_text(Decimal("1E+3")) == "1000"
    assert money_text(Decimal("7045.9"), None, decimal_comma=True) == "7.045,9"
    assert cell_text(12) == "12" and csv_text(None) == ""
