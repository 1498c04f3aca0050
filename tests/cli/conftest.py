"""A demo home per test module, made through the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.foundation.test_cli import cli


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home folder with the demo institution (`init --demo`)."""
    folder = tmp_path_factory.mktemp("demo-home")
    assert cli(folder, "init", "--demo").returncode == 0
    return folder
