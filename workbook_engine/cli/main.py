"""The ``workbook-engine`` command: a thin shell over the services.

Every command turns its options into a service call and prints the result (a table, or JSON
or CSV). The command is run by the command server when one is up (``cli/server.py``: the
engine's start-up paid once), else in this process (``cli/app.py``); the result is the same.
This module, the entry point, imports nothing else at start.

Exit codes, the same for every command:

* **0**: done; the file is valid; the books agree;
* **1**: refused: a business rule refused the action, the file has errors or was refused,
  ``check`` found breaks, a record was not found, the database cannot be reached;
* **2**: the command was not typed as it should be (a missing or mistyped option, a value of
  the wrong kind, an unknown command, nobody named as acting): nothing was tried;
* **3**: the engine failed unexpectedly (a bug): the traceback is in ``<home>/logs/errors.log``;
* **130**: stopped by Ctrl+C.
"""

from __future__ import annotations

import sys
from typing import Any

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_CRASH = 3
EXIT_INTERRUPTED = 130


def run() -> None:
    """Entry point of the console script: in the command server when one is running, else
    in this process (and a server is started for the next commands)."""
    from workbook_engine.cli import server

    argv = sys.argv[1:]
    code = server.served(argv)
    if code is None:
        code = run_here(argv)
        if server.command_name(argv) not in server.LONG_RUNNING:
            server.start_in_background()
    sys.exit(code)


def run_here(argv: list[str]) -> int:
    """Run one command in this process; its exit code."""
    from workbook_engine.cli.app import run_here as run_in_process

    return run_in_process(argv)


def __getattr__(name: str) -> Any:  # noqa: ANN401 - ``main.app``, the root Typer app
    if name == "app":
        from workbook_engine.cli.app import app

        return app
    raise AttributeError(name)


if __name__ == "__main__":
    run()
