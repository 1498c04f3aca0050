"""One date order for every reader of text dates (rules/locales.yaml).

A text date such as 11/12/2026 was read day first on a collection sheet and refused by the
client import ("write it YYYY-MM-DD"); the setup import read it day first whatever the
rules said. Now each reads it in the institution's date order (the default locale's
``day_first``), refuses a date that is none in that order the same way (naming the order,
the other reading and YYYY-MM-DD), and the client import takes it end to end.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.client_import.filling import fill
from workbook_engine.domain import Client
from workbook_engine.rules import Rules
from workbook_engine.services.imports.client_import import generate_client_template
from workbook_engine.services.pipeline.processing import process_file
from workbook_engine.services.pipeline.submissions import approve_submission
from workbook_engine.validation.clients import ClientRules, StaticLookups, validate_client
from workbook_engine.validation.setup_import import Cells, parse_row
from workbook_engine.validation.values import (
    ValueProblem,
    institution_locale,
    office_locale,
    parse_date,
)
from workbook_engine.workbooks.declaration import CellType, ColumnSpec
from workbook_engine.workbooks.grid import GridRow, GridSheet

RULES_DIR = Path(__file__).parents[2] / "rules"


def _rules(tmp_path: Path, default: str) -> Rules:
    """The shipped rules, with ``default`` as the institution's locale."""
    folder = tmp_path / "rules"
    shutil.copytree(RULES_DIR, folder)
    locales = folder / "locales.yaml"
    locales.write_text(locales.read_text().replace("default: en-KE", f"default: {default}"))
    return Rules(folder)


def _collection(rules: Rules, text: str) -> dt.date | str:
    """A receipt date on a collection sheet of an office the locales file does not name."""
    try:
        return parse_date(text, locale=office_locale(rules, external_id=None, name="Kisumu"))
    except ValueProblem as problem:
        return problem.message


def _client(rules: Rules, text: str) -> dt.date | str:
    """A date of birth, as the client form and the client import validate it."""
    clean, problems = validate_client(
        {"first_name": "Amina", "last_name": "Wanjiku", "date_of_birth": text},
        legal_form="person", rules=replace(ClientRules(), dates=institution_locale(rules)),
        lookups=StaticLookups(), today=dt.date(2026, 12, 31))
    return problems[0].message if problems else clean.columns["date_of_birth"]


def _setup(rules: Rules, text: str) -> dt.date | str:
    """A date cell of a setup or migration workbook."""
    spec = ColumnSpec("opened_on", "Opened on", CellType.DATE, input=True)
    sheet = GridSheet("Savings", {"opened_on": "C"}, {"opened_on": "Opened on"})
    cells = Cells(sheet, GridRow(2, "1", {"opened_on": text}), "savings.xlsx")
    value = parse_row(cells, [spec], institution_locale(rules))["opened_on"]
    return cells.problems[0].message if cells.problems else value


READERS = [_collection, _client, _setup]


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("default, expected", [("en-KE", dt.date(1990, 12, 11)),
                                               ("en-US", dt.date(1990, 11, 12))])
def test_every_reader_reads_an_ambiguous_text_date_in_the_institutions_order(
        tmp_path: Path, reader, default: str, expected: dt.date) -> None:  # noqa: ANN001
    rules = _rules(tmp_path, default)
    assert reader(rules, "11/12/1990") == expected
    assert reader(rules, "1990-12-11") == dt.date(1990, 12, 11)  # never ambiguous


@pytest.mark.parametrize("reader", READERS)
def test_a_date_that_is_none_in_that_order_is_refused_the_same_way_with_the_fix(
        tmp_path: Path, reader) -> None:  # noqa: ANN001
    message = reader(_rules(tmp_path, "en-KE"), "12/31/1990")
    assert isinstance(message, str), message
    for words in ("'12/31/1990'", "day first (DD/MM/YYYY)", "rules/locales.yaml",
                  "YYYY-MM-DD", "1990-12-31 if that is the date meant"):
        assert words in message, message


def test_the_client_import_takes_text_dates_in_the_institutions_order(kilimani, tmp_path):
    """The row that was refused ("write it YYYY-MM-DD") is imported with 1 and 2 March."""
    ctx = kilimani.ctx
    template = generate_client_template(ctx, actor_id=None, office_id=2, legal_form="person",
                                        out_dir=tmp_path / "templates")
    filled = fill(template.path, tmp_path / "clients.xlsx", [{
        "row_key": "1", "office": "Nairobi East", "first_name": "Neema", "last_name": "Otieno",
        "active": "Yes", "submitted_on": "01/03/2026", "activation_date": "02/03/2026",
        "date_of_birth": "11/12/1990"}])
    result = process_file(ctx, filled, actor_id=None)
    assert result.status == "awaiting_approval", result.errors
    approve_submission(ctx, submission_id=result.submission_id, by="Grace Wambui")
    with ctx.session_factory() as s:
        neema = s.scalar(select(Client).where(Client.first_name == "Neema"))
        assert (neema.submitted_on, neema.activation_date, neema.date_of_birth) == (
            dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(1990, 12, 11))
