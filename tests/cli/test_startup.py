"""The command line answers at once: a command loads only what it uses, and the command
server runs commands exactly as their own process would (output, exit codes, signals)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
import typer

from tests.conftest import KilimaniWorld

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("pandas", "pandera", "numpy", "alembic", "openpyxl", "xlsxwriter",
         "python_calamine", "starlette", "uvicorn", "jinja2", "watchdog", "defusedxml")


def _loaded_by(argv: list[str], env: dict[str, str]) -> tuple[int, list[str], str]:
    """Run a command in a fresh interpreter (no server); its exit code, the heavy modules it
    loaded and its output."""
    script = ("import sys, json\n"
              "from workbook_engine.cli.app import run_here\n"
              f"code = run_here({argv!r})\n"
              f"heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)\n"
              "print('\\nLOADED ' + json.dumps([code, heavy]))\n")
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env})
    out, _, loaded = done.stdout.rpartition("\nLOADED ")
    assert loaded, done.stderr
    code, heavy = json.loads(loaded)
    return code, heavy, out


def _env(world: KilimaniWorld) -> dict[str, str]:
    return {"WORKBOOK_ENGINE_HOME": str(world.ctx.home),
            "WORKBOOK_ENGINE_DB": world.ctx.settings.database_url,
            "WORKBOOK_ENGINE_TODAY": "2026-03-03", "COLUMNS": "120"}


def test_commands_that_touch_no_workbook_load_no_heavy_module(kilimani: KilimaniWorld) -> None:
    env = _env(kilimani)
    for argv in (["version"], ["clients", "show", "1"], ["clients", "list", "--csv"],
                 ["offices", "list"], ["centers", "list", "--json"], ["codes", "list"],
                 ["loans", "show", "1"], ["errors"], ["submissions", "list"],
                 ["submissions", "list", "--json"]):
        code, heavy, out = _loaded_by(argv, env)
        assert (code, heavy) == (0, []), (argv, out)
    code, _, out = _loaded_by(["clients", "show", "1"], env)
    assert "Amina Wanjiku (client 1)" in out


def test_the_command_table_is_what_the_modules_register() -> None:
    from workbook_engine.cli import app as app_module

    modules = sorted({m for names in app_module.COMMANDS.values() for m in names})
    everything = app_module.area_app(tuple(modules))
    registered = {g.name for g in everything.registered_groups} | {
        c.name or c.callback.__name__ for c in everything.registered_commands}
    assert registered == set(app_module.COMMANDS)
    for name in app_module.COMMANDS:
        assert app_module.built_command(name) is not None, name


def test_the_setup_kinds_in_the_help_are_the_declared_ones() -> None:
    from workbook_engine.cli.templates import SETUP_KINDS_HELP
    from workbook_engine.workbooks.setup_import_sheet import SETUP_KINDS

    assert SETUP_KINDS_HELP == tuple(SETUP_KINDS)


# ------------------------------------------------------------------ the command server

@pytest.fixture
def server_env(kilimani: KilimaniWorld):
    """A command server of its own (its socket in a runtime folder of this test's)."""
    runtime = Path(tempfile.mkdtemp(prefix="we-run-", dir="/tmp"))  # a socket path is short
    env = {**os.environ, **_env(kilimani), "XDG_RUNTIME_DIR": str(runtime),
           "WORKBOOK_ENGINE_SERVER": "on", "WORKBOOK_ENGINE_SERVER_IDLE": "60"}
    env.pop("WORKBOOK_ENGINE_AS", None)
    server = subprocess.Popen([sys.executable, "-m", "workbook_engine.cli.server"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                              text=True)
    deadline = time.monotonic() + 300
    while not list(runtime.glob("workbook-engine/*.sock")):
        assert server.poll() is None, server.stderr.read() if server.stderr else ""
        assert time.monotonic() < deadline, "the command server did not start"
        time.sleep(0.2)
    env["SERVER_PID"] = str(server.pid)
    yield env
    server.terminate()
    server.wait(timeout=30)
    shutil.rmtree(runtime, ignore_errors=True)


def _cli(env: dict[str, str], *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", *args], cwd=ROOT,
                          env={**env, **extra}, capture_output=True, text=True, timeout=120)


def test_a_served_command_answers_as_its_own_process_would(server_env: dict[str, str],
                                                           tmp_path: Path) -> None:
    """Same output, same exit codes; and the copy's CPU time is reported (it was served)."""
    report = tmp_path / "cpu.txt"
    for args in (("clients", "show", "1"), ("clients", "show", "999"),
                 ("clients", "show", "abc"), ("clients", "list", "--csv"),
                 ("--as", "Grace Wambui", "codes", "add", "gender", "Other")):
        served = _cli(server_env, *args, WORKBOOK_ENGINE_CPU_REPORT=str(report))
        assert report.exists(), (args, served.stderr)  # it was run by the server
        report.unlink()
        alone = _cli(server_env, *args, WORKBOOK_ENGINE_SERVER="off")
        if args[-1] == "Other":  # the second time, the value exists already
            assert (served.returncode, alone.returncode) == (0, 1), alone.stderr
            continue
        assert (served.returncode, served.stdout, served.stderr) == (
            alone.returncode, alone.stdout, alone.stderr), args
    assert _cli(server_env, "clients", "show", "999").returncode == 1
    assert _cli(server_env, "clients", "show", "abc").returncode == 2


def test_a_served_command_into_a_closed_pipe_ends_as_its_own_process_would(
        server_env: dict[str, str]) -> None:
    """`workbook-engine clients list --help | head -1`: rich ends the command on the broken
    pipe with SystemExit(1); served, the copy ended with 3, "the engine failed (a bug)"."""
    codes = []
    for server in ("on", "off"):
        reader, writer = os.pipe()
        os.close(reader)  # what `| head -1` leaves once it has its line
        done = subprocess.run([sys.executable, "-m", "workbook_engine.cli.main", "clients",
                               "list", "--help"], cwd=ROOT, stdout=writer,
                              stderr=subprocess.PIPE, timeout=120,
                              env={**server_env, "WORKBOOK_ENGINE_SERVER": server})
        os.close(writer)
        codes.append(done.returncode)
    assert codes == [1, 1], codes


def test_a_served_command_killed_ends_as_killed(server_env: dict[str, str],
                                                kilimani: KilimaniWorld) -> None:
    from tests.intake.test_end_to_end import filled_kilimani
    from workbook_engine.services.pipeline.processing import process_file

    sheet = filled_kilimani(kilimani, kilimani.ctx.home / "outside" / "Kilimani.xlsx")
    first = process_file(kilimani.ctx, sheet, actor_id=None)
    killed = _cli(server_env, "--as", "Grace Wambui", "approve", str(first.submission_id),
                  WORKBOOK_ENGINE_FAULT="mid-posting")
    assert killed.returncode == -signal.SIGKILL, killed.stderr


def _copies(server_pid: str) -> list[str]:
    """The copies the server forked, running commands now."""
    return subprocess.run(["pgrep", "-P", server_pid], capture_output=True,
                          text=True).stdout.split()


def test_killing_the_command_kills_the_copy_that_runs_it(server_env: dict[str, str]) -> None:
    command = subprocess.Popen(
        [sys.executable, "-m", "workbook_engine.cli.main", "--as", "Grace Wambui", "staff",
         "set-password", "1", "--password-stdin"], cwd=ROOT, env=server_env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while not _copies(server_env["SERVER_PID"]):  # the copy waits on the command's stdin
        assert command.poll() is None and time.monotonic() < deadline
        time.sleep(0.1)
    command.kill()
    command.wait(timeout=30)
    deadline = time.monotonic() + 120
    while _copies(server_env["SERVER_PID"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _copies(server_env["SERVER_PID"]), "the copy outlived the command"


def test_typer_is_one_that_starts_fast() -> None:
    # Typer 0.29 builds every parameter through pydantic: a tenth of a second at each start.
    major, minor = (int(p) for p in typer.__version__.split(".")[:2])
    assert (major, minor) < (0, 29)
