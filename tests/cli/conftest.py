"""A demo home per test module, made through the command line."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from tests.foundation.test_cli import cli


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder with the demo institution (`init --demo`)."""
    folder = tmp_path_factory.mktemp("demo-home")
    assert cli(folder, "init", "--demo").returncode == 0
    return folder


@pytest.fixture(scope="module")
def toured(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home after the demo's tour (`demo`): a sheet returned twice, the second posted."""
    home = tmp_path_factory.mktemp("toured")
    done = cli(home, "demo")
    assert done.returncode == 0, done.stderr
    return home


def terminal(home: Path, *args: str, columns: int = 80, term: str = "xterm-256color") -> str:
    """What a person sees of ``workbook-engine ARGS`` on ``home`` in a terminal ``columns``
    wide (a real pseudo-terminal; colours and cursor codes taken out)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("COLUMNS", "LINES", "WORKBOOK_ENGINE_DB", "WORKBOOK_ENGINE_AS")}
    return run_in_terminal(args, {**env, "WORKBOOK_ENGINE_HOME": str(home), "TERM": term,
                                  "NO_COLOR": "1", "WORKBOOK_ENGINE_TODAY": "2026-03-03"},
                           columns=columns)


def run_in_terminal(args: tuple[str, ...], env: dict[str, str], *, columns: int,
                    cwd: Path | None = None) -> str:
    """Run ``workbook-engine ARGS`` with ``env`` in a pseudo-terminal ``columns`` wide and
    return what it printed, colours and cursor codes taken out; the command must succeed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "workbook_engine.cli.main", *args],
                            cwd=cwd, env=env, stdin=follower, stdout=follower, stderr=follower)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the command ended
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=180) == 0, b"".join(chunks)
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", b"".join(chunks).decode()).replace("\r", "")
