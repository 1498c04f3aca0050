"""A command that cannot write where it must (a read-only or full disk, a folder it may not
write, a folder that cannot be made) says so in one sentence naming the folder, with exit
code 1 (or 2 for an ``--out`` that can never be a folder): never "failed unexpectedly", never
blaming the user's file for the disk.

The faults are real: a small tmpfs remounted read-only (skipped where mounting is not
allowed), as in tests/intake/test_environment.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.intake.test_end_to_end import filled_kilimani
from tests.intake.test_environment import _read_only, world  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]


def _cli(world, *args: str) -> subprocess.CompletedProcess[str]:  # noqa: ANN001, F811
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args], cwd=ROOT,
                          env={**world.env, "COLUMNS": "200"}, capture_output=True, text=True,
                          timeout=300)


def _says(result: subprocess.CompletedProcess[str]) -> str:
    return " ".join((result.stdout + result.stderr).split())


def test_process_with_a_read_only_outbox_names_the_disk(world, tmp_path: Path) -> None:  # noqa: F811
    sheet = filled_kilimani(world, tmp_path / "Kilimani.xlsx")
    world.mount(world.ctx.settings.outbox)
    _read_only(world.ctx.settings.outbox)
    result = _cli(world, "--as", "Faith Chebet", "process", str(sheet))
    says = _says(result)
    assert result.returncode == 1, says
    assert "read-only disk (EROFS" in says and str(world.ctx.settings.outbox) in says
    assert "unexpectedly" not in says and "Traceback" not in says
    assert "not a spreadsheet" not in says  # the disk's fault, not the file's
    assert sheet.exists()


def test_sheets_and_templates_into_a_read_only_folder_name_it(world, tmp_path: Path) -> None:  # noqa: F811
    field = tmp_path / "field"
    world.mount(field)
    _read_only(field)
    for args in (("sheets", "collection", "--center", str(world.center_id)),
                 ("template", "clients", "--office", "2"),
                 ("template", "setup", "--kind", "offices")):
        result = _cli(world, "--as", "Faith Chebet", *args, "--out", str(field))
        says = _says(result)
        assert result.returncode == 1, (args, says)
        assert "read-only disk (EROFS" in says and str(field) in says, (args, says)
        assert "unexpectedly" not in says and "Traceback" not in says, (args, says)


def test_an_out_folder_that_cannot_be_made_is_a_usage_mistake(world, tmp_path: Path) -> None:  # noqa: F811
    a_file = tmp_path / "a-file.xlsx"
    a_file.write_bytes(b"not a folder")
    result = _cli(world, "--as", "Faith Chebet", "sheets", "collection", "--center",
                  str(world.center_id), "--out", str(a_file / "field"))
    says = _says(result)
    assert result.returncode == 2, says
    assert f"'{a_file / 'field'}' cannot be made" in says and "--out" in says
    assert "unexpectedly" not in says and "Traceback" not in says


def test_a_database_that_cannot_be_opened_says_how_to_fix_it(tmp_path: Path) -> None:
    """It said only the driver's error ("No module named 'pg8000'", "Connection refused")."""
    from tests.foundation.test_cli import cli

    for url, says in (
            ("postgresql+pg8000://u@127.0.0.1:5999/x", "run `pip install pg8000`"),
            ("nosuch://u@host/db", "Write --db (or WORKBOOK_ENGINE_DB) as sqlite:///FILE"),
            ("postgresql://postgres@127.0.0.1:1/x", "Check that the database server is "
                                                    "running"),
            (f"sqlite:///{tmp_path}/no-such-folder/x.sqlite3", "Check that the home folder")):
        for command, failed in ((("clients", "list"), "cannot be opened"),
                                (("init",), "could not be set up")):
            result = cli(tmp_path, "--db", url, *command)
            message = " ".join(result.stderr.split())
            assert result.returncode == 1, message
            assert f"The database {failed}" in message and says in message, message


def test_process_given_a_folder_says_it_is_a_folder(tmp_path: Path) -> None:
    """It said "There is no file field" of a folder that is there."""
    from tests.foundation.test_cli import cli

    assert cli(tmp_path, "init").returncode == 0
    (tmp_path / "field").mkdir()
    result = cli(tmp_path, "process", str(tmp_path / "field"))
    message = " ".join(result.stderr.split())
    assert result.returncode == 1 and "is a folder" in message, message
    assert "There is no file" not in message


def test_serve_on_a_port_in_use_says_so(tmp_path: Path) -> None:
    """It printed "Serving ... on http://127.0.0.1:PORT/", then uvicorn's "[Errno 98] error
    while attempting to bind", and ended with 3, the exit code of a bug."""
    import socket

    from tests.foundation.test_cli import cli

    assert cli(tmp_path, "init").returncode == 0
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(tmp_path, "serve", "--port", str(port))
    message = " ".join((result.stdout + result.stderr).split())
    assert result.returncode == 1, message
    assert f"127.0.0.1:{port} is in use" in message and "--port" in message, message
    assert "unexpectedly" not in message and "Traceback" not in message


def test_watch_on_a_maildir_that_was_not_there_says_it_made_it(tmp_path: Path) -> None:
    """A mistyped --maildir was made, silently, and read as an empty mailbox: "no mail"."""
    from tests.foundation.test_cli import cli

    assert cli(tmp_path, "init").returncode == 0
    result = cli(tmp_path, "watch", "--maildir", str(tmp_path / "Mialdir"), "--once",
                 "--json")
    message = " ".join(result.stderr.split())
    assert result.returncode == 0 and result.stdout.strip() == "[]", result.stderr
    assert f"{tmp_path / 'Mialdir'} did not exist" in message, message
    again = cli(tmp_path, "watch", "--maildir", str(tmp_path / "Mialdir"), "--once")
    assert "did not exist" not in again.stderr
