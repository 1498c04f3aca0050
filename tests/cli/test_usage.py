"""Usage mistakes say which option or value is wrong and how to fix it, with exit code 2;
an unexpected failure is logged under the home folder, and the message says where."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli

ROOT = Path(__file__).resolve().parents[2]


USAGE_MISTAKES = [
    (("clients", "create", "--first-name", "Zawadi"), "Missing option '--office'"),
    (("clients", "close", "175"), "Missing option '--reason'"),
    (("charges", "add", "--amount", "10"), "Missing argument 'name'"),
    (("clients", "list", "--ofice", "2"), "No such option: --ofice"),
    (("clients", "show", "abc"), "Invalid value for 'CLIENT': 'abc' is not a valid int"),
    (("clients", "frobnicate"), "No such command 'frobnicate'"),
    (("clien", "list"), "No such command 'clien'. Did you mean 'clients'?"),
    (("clients", "list", "--status", "bogus"),
     "Invalid value for '--status': 'bogus' is not one of: pending, active"),
    (("submissions", "list", "--status", "waiting"),
     "'waiting' is not one of: received, invalid, awaiting_approval"),
    (("template", "clients", "--office", "1", "--out", "{home}/a-file.xlsx"),
     "is a file; give a folder to write into"),
    (("sheets", "collection", "--out", "{home}/a-file.xlsx"), "is a file; give a folder"),
    (("sheets", "collection", "--out", "{home}/field"),
     "Choose exactly one of --center, --group, --staff or --office (given: none)"),
    (("sheets", "collection", "--out", "{home}/field", "--center", "1", "--staff", "1"),
     "(given: center, staff)"),
    (("offices", "list", "--office", "2"), "offices are not listed by office"),
    (("template", "setup", "--kind", "office", "--out", "{home}/t"),
     "Invalid value for '--kind': 'office' is not one of: offices, staff, centers"),
    (("template", "clients", "--office", "2", "--legal-form", "company", "--out", "{home}/t"),
     "Invalid value for '--legal-form': 'company' is not one of: person, entity"),
    (("clients", "list", "--json", "--csv"), "give --json or --csv, not both"),
    (("--home", "{home}/a-file.xlsx", "centers", "list"),
     "is a file; give the working folder"),
]


@pytest.mark.parametrize("args, says", USAGE_MISTAKES, ids=[" ".join(a[:3]) for a, _ in
                                                            USAGE_MISTAKES])
def test_a_usage_mistake_names_the_option_and_exits_2(home: Path, args: tuple[str, ...],
                                                      says: str) -> None:
    (home / "a-file.xlsx").write_bytes(b"not a folder")
    result = cli(home, "--as", "Faith Chebet", *(a.format(home=home) for a in args))
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert says in message
    assert "for help" in message  # how to find the right way to type it
    assert "unexpectedly" not in message and "Traceback" not in message


def test_a_crash_is_logged_in_the_home_folder_and_the_message_says_where(
        home: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "shared-folder"
    elsewhere.mkdir()
    script = ("import sys\n"
              "import workbook_engine.services.clients.views as views\n"
              "def broken(*args, **kwargs):\n"
              "    raise RuntimeError('a bug')\n"
              "views.client_page = broken\n"
              "from workbook_engine.cli.app import run_here\n"
              f"sys.exit(run_here(['--home', {str(home)!r}, 'clients', 'show', '1']))\n")
    env = {k: v for k, v in os.environ.items() if k != "WORKBOOK_ENGINE_HOME"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-c", script], cwd=elsewhere, env=env,
                            capture_output=True, text=True, timeout=120)
    log = home / "logs" / "errors.log"
    message = " ".join(result.stderr.split())
    assert result.returncode == 3
    assert "failed unexpectedly (RuntimeError)" in message and str(log) in message
    assert "RuntimeError: a bug" in log.read_text(encoding="utf-8")
    assert not (elsewhere / "logs").exists()


def test_the_exit_codes_are_documented_once_for_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for words in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert words in readme


WRONG_KIND = [
    (("--today", "2026-13-01", "clients", "list"),
     "today must be a date written YYYY-MM-DD, not '2026-13-01'"),
    # the calendar's arithmetic ran past year 9999: "failed unexpectedly (OverflowError)"
    (("--today", "9999-12-31", "centers", "list"),
     "today must be a date from 1900-01-01 to 2999-12-31, not '9999-12-31'"),
    (("loans", "repay", "1", "abc"), "The repayment amount 'abc' is not an amount"),
    # 1e30 was taken, stored, and made the account unreadable ("failed unexpectedly" on
    # every page that shows it); 1e3 was taken as 1000.
    (("savings", "deposit", "1", "1e30"), "The deposit amount '1e30' is not an amount"),
    (("savings", "deposit", "1", "1e3"), "The deposit amount '1e3' is not an amount"),
    (("savings", "deposit", "1", "123456789012345"),
     "The deposit amount '123456789012345' is more than the largest amount"),
    # an id beyond what the database keeps was "failed unexpectedly (OverflowError)"
    (("clients", "show", "99999999999999999999"), "is larger than the engine keeps"),
    (("sheets", "collection", "--center", "99999999999999999999", "--out", "x"),
     "is larger than the engine keeps"),
    (("loans", "repay", "1", "10", "--on", "2026-02-30"),
     "repayment date must be a date written YYYY-MM-DD, not '2026-02-30'"),
    (("charges", "add", "Fee", "--amount", "10", "--kind", "tax", "--client", "1"),
     "--kind 'tax' is not known"),
    (("centers", "add", "X", "--office", "2", "--staff", "2", "--meets", "daily",
      "--from", "2026-01-05"), "--meets 'daily' is not known"),
]


@pytest.mark.parametrize("args, says", WRONG_KIND, ids=[" ".join(a[:3]) for a, _ in WRONG_KIND])
def test_a_value_of_the_wrong_kind_is_a_usage_mistake(home: Path, args: tuple[str, ...],
                                                      says: str) -> None:
    """The README's convention: a value of the wrong kind exits 2, nothing tried."""
    loan = cli(home, "loans", "show", "1", "--json").stdout
    savings = cli(home, "savings", "show", "1", "--json")
    result = cli(home, "--as", "Grace Wambui", *args)
    message = " ".join(result.stderr.split())
    assert (result.returncode, says in message) == (2, True), message
    assert "unexpectedly" not in message and "Traceback" not in message
    assert cli(home, "loans", "show", "1", "--json").stdout == loan
    after = cli(home, "savings", "show", "1", "--json")
    assert (after.returncode, after.stdout) == (0, savings.stdout), after.stderr


@pytest.mark.parametrize("listing", ["clients", "centers", "groups", "staff"])
def test_a_listing_of_an_office_that_does_not_exist_says_so(home: Path, listing: str) -> None:
    """`clients list --office 99` printed an empty table: "no clients", for a mistyped id."""
    result = cli(home, listing, "list", "--office", "99")
    message = " ".join(result.stderr.split())
    assert result.returncode == 1 and "There is no office with id 99" in message, (
        result.stdout, message)


@pytest.mark.parametrize("args", [("clients", "edit", "1"), ("clients", "family", "edit", "1"),
                                  ("clients", "address", "edit", "1")],
                         ids=["client", "family member", "address"])
def test_an_edit_with_nothing_to_change_says_so(home: Path, args: tuple[str, ...]) -> None:
    """It printed "Client 1 updated." with exit 0, though nothing was given or changed."""
    result = cli(home, "--as", "Grace Wambui", *args)
    message = " ".join(result.stderr.split())
    assert result.returncode == 2, (result.stdout, message)
    assert "Nothing to change" in message and f"{' '.join(args[:-1])} --help" in message
    assert "updated" not in result.stdout
