"""The ``workbook-engine`` command: a thin shell over the services.

Every command turns its options into a service call and prints the result (a table, or JSON
with ``--json``). A refusal is printed as one sentence with a non-zero exit code; an
unexpected failure is logged with its traceback in the home folder's ``logs/`` and reported
in one sentence, never as a traceback.
"""

from __future__ import annotations

import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer

from workbook_engine import __version__
from workbook_engine.cli import directory, system
from workbook_engine.cli.common import CliState, err_console
from workbook_engine.errors import EngineError

app = typer.Typer(
    name="workbook-engine",
    help="Run an MFI's field operations through Excel workbooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="Working folder (inbox/, outbox/, archive/, database). "
        "Default: $WORKBOOK_ENGINE_HOME or the current folder.")] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", help="SQLAlchemy database URL. Default: $WORKBOOK_ENGINE_DB or a SQLite "
        "file in the home folder.")] = None,
    today: Annotated[Optional[str], typer.Option(
        "--today", help="Pretend today is this date (YYYY-MM-DD), for demos and tests. "
        "Default: $WORKBOOK_ENGINE_TODAY or the real date.")] = None,
    acting_as: Annotated[Optional[str], typer.Option(
        "--as", help="The member of staff doing this (id, e-mail or full name).")] = None,
) -> None:
    ctx.obj = CliState(home=home, database_url=db, today=today, acting_as=acting_as)


@app.command()
def version() -> None:
    """Print the engine's version."""
    typer.echo(__version__)


def _register_area_commands(root: typer.Typer) -> None:
    """Each module of this package with a ``register(app)`` adds its commands."""
    import importlib
    import pkgutil

    import workbook_engine.cli as package

    for module in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if module.name in ("main", "common", "system", "directory"):
            continue
        loaded = importlib.import_module(f"{package.__name__}.{module.name}")
        register = getattr(loaded, "register", None)
        if callable(register):
            register(root)


system.register(app)
system.register_demo(app)
directory.register(app)
_register_area_commands(app)


def _log_crash(exc: BaseException) -> Path | None:
    state = None
    try:
        from workbook_engine.config import Settings

        state = Settings.resolve()
        log_dir = state.log_dir
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "errors.log"
        with path.open("a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except Exception:
        return None


def run() -> None:
    """Entry point of the console script."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        result = app(standalone_mode=False)
        if isinstance(result, int) and result:
            sys.exit(result)
    except EngineError as exc:
        err_console.print(f"[red]Error:[/red] {exc.message}", highlight=False)
        sys.exit(2 if exc.error.area == "command line" else 1)
    except (typer.Abort, KeyboardInterrupt):
        err_console.print("Stopped.")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:  # click usage errors included
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        log = _log_crash(exc)
        where = f" The details are in {log}." if log else ""
        err_console.print(f"[red]Error:[/red] the engine failed unexpectedly "
                          f"({type(exc).__name__}); nothing was changed.{where}",
                          highlight=False)
        sys.exit(2)


if __name__ == "__main__":
    run()
