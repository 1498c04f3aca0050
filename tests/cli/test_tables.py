"""Tables never cut a figure or a file name, in an 80-column terminal or in a pipe; every
listing also prints JSON and CSV."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_in_terminal
from tests.conftest import KilimaniWorld
from workbook_engine.money import money_text
from workbook_engine.services.clients.lifecycle import create_client

ROOT = Path(__file__).resolve().parents[2]


def _env(world: KilimaniWorld) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return {**env, "WORKBOOK_ENGINE_HOME": str(world.ctx.home),
            "WORKBOOK_ENGINE_DB": world.ctx.settings.database_url,
            "WORKBOOK_ENGINE_TODAY": "2026-03-03", "WORKBOOK_ENGINE_AS": "Grace Wambui",
            "PYTHONPATH": str(ROOT)}


def in_a_pipe(world: KilimaniWorld, *args: str) -> str:
    done = subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args], cwd=ROOT,
                          env={**_env(world), "COLUMNS": "80"}, capture_output=True,
                          text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done.stdout


def in_a_terminal(world: KilimaniWorld, *args: str, columns: int = 80) -> str:
    """What a person sees in a terminal ``columns`` wide (a real pseudo-terminal)."""
    return run_in_terminal(args, {**_env(world), "TERM": "dumb", "NO_COLOR": "1"},
                           columns=columns, cwd=ROOT)


@pytest.fixture
def busy(kilimani: KilimaniWorld) -> KilimaniWorld:
    """Kilimani, with clients whose names and numbers are long."""
    for i in range(3):
        create_client(kilimani.ctx, actor_id=None, office_id=kilimani.ref.branches["Nairobi East"],
                      first_name="Nyambura-Wanjiku-Wairimu", middle_name="Mukami-Nduta",
                      last_name=f"Kariuki-Gathoni-{i}", mobile_no=f"+25471234567{i}",
                      external_id=f"EXTERNAL-ID-0000000000-{i}")
    return kilimani


def test_sheets_written_keep_their_amounts_and_file_names(busy: KilimaniWorld,
                                                          tmp_path: Path) -> None:
    out = tmp_path / "a-rather-long-folder-name-for-the-field-sheets-of-this-week"
    write = ("sheets", "collection", "--office", str(busy.ref.branches["Nairobi East"]),
             "--out", str(out))
    listed = json.loads(in_a_pipe(busy, *write, "--json"))
    assert listed
    for shown in (in_a_pipe(busy, *write), in_a_terminal(busy, *write)):
        for sheet in listed:
            assert Path(sheet["path"]).name in shown
            for key in ("collected", "paid_out", "cash_to_hand_over"):
                assert money_text(sheet[key], None) in shown, (key, shown)
        assert "…" not in shown


def test_a_client_listing_keeps_every_number_whole(busy: KilimaniWorld) -> None:
    rows = json.loads(in_a_pipe(busy, "clients", "list", "--json"))
    piped = in_a_pipe(busy, "clients", "list")
    terminal = in_a_terminal(busy, "clients", "list")
    for row in rows:
        for shown in (piped, terminal):
            assert row["mobile_no"] is None or row["mobile_no"] in shown
            assert f" {row['id']} " in shown
    assert all(len(line) <= 80 for line in terminal.splitlines())  # names wrap instead
    assert "…" not in piped + terminal
    assert all(row["name"] in piped for row in rows)  # one row per line in a pipe


def test_a_record_page_in_a_pipe_is_as_wide_as_its_contents(busy: KilimaniWorld) -> None:
    """A client's page (panels that fill the width they are given) printed to a pipe or a
    file: every line was padded to 10,000 characters (140 kB for one client)."""
    shown = json.loads(in_a_pipe(busy, "clients", "show", "1", "--json"))
    piped = in_a_pipe(busy, "clients", "show", "1")
    assert max(len(line) for line in piped.splitlines()) <= 120, len(piped)
    for value in (shown["name"], shown["mobile_no"], shown["office"], "Office and status"):
        assert value in piped
    assert "…" not in piped


@pytest.mark.parametrize("listing", [
    ("clients", "list"), ("offices", "list"), ("staff", "list"), ("centers", "list"),
    ("groups", "list"), ("codes", "list"), ("payment-types", "list"), ("holidays", "list"),
    ("loan-products", "list"), ("savings-products", "list"), ("submissions", "list"),
    ("errors",), ("clients", "fields", "list"), ("clients", "family", "list", "1"),
    ("clients", "address", "list", "1"), ("clients", "documents", "list", "1"),
])
def test_every_listing_prints_json_and_csv(kilimani: KilimaniWorld,
                                           listing: tuple[str, ...]) -> None:
    as_json = json.loads(in_a_pipe(kilimani, *listing, "--json"))
    as_csv = list(csv.reader(io.StringIO(in_a_pipe(kilimani, *listing, "--csv"))))
    assert isinstance(as_json, list)
    assert as_csv and len(as_csv) == len(as_json) + 1  # a header, then one line per record
