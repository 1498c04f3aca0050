"""The ``workbook-engine`` root command: global options, the table of commands, and
running one command in this process (:func:`run_here`, with the exit codes of ``main``).

The command modules import only typer at start; each imports the services it calls (and
through them SQLAlchemy, the workbook readers and writers, pandas, ...) when it runs, and
only the modules of the command typed are imported at all.
"""

from __future__ import annotations

import difflib
import logging
import sys
import traceback
from pathlib import Path
from typing import Annotated, Optional

import typer
import typer.main
from typer.core import TyperGroup

try:  # the Click that Typer uses: its own copy since Typer 0.26
    from typer._click.core import Command, Context
    from typer._click.exceptions import ClickException, UsageError
except ImportError:  # pragma: no cover - an older Typer, on Click itself
    from click import ClickException, Command, Context, UsageError  # type: ignore[assignment]

from workbook_engine import __version__
from workbook_engine.cli.common import CliState, home_folder
from workbook_engine.cli.output import err_console
from workbook_engine.errors import EngineError

from workbook_engine.cli.main import EXIT_CRASH, EXIT_INTERRUPTED, EXIT_REFUSED, EXIT_USAGE

#: Every top-level command and the modules of this package that add to it (each module has
#: ``register(app)``). Only the modules of the command typed are imported and turned into
#: click commands: discovery costs nothing, and `clients show` does not build `watch`.
#: (`tests/cli/test_startup.py` checks this table against what the modules register.)
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("system",), "demo": ("system",), "keys": ("system",), "errors": ("system",),
    "offices": ("directory", "setup"), "staff": ("directory", "setup", "web"),
    "centers": ("directory", "setup"), "groups": ("directory", "setup"),
    "clients": ("clients",), "codes": ("clients",), "loans": ("clients", "setup"),
    "savings": ("clients", "setup"), "payment-types": ("setup",), "holidays": ("setup",),
    "loan-products": ("setup",), "savings-products": ("setup",), "charges": ("setup",),
    "sheets": ("sheets",), "template": ("templates",), "process": ("submissions",),
    "submissions": ("submissions",), "approve": ("submissions",),
    "reject": ("submissions",), "watch": ("intake",), "check": ("integrity",),
    "serve": ("web",),
}


def area_app(modules: tuple[str, ...]) -> typer.Typer:
    """A root app holding what these command modules register."""
    import importlib

    partial = typer.Typer()
    for name in modules:
        importlib.import_module(f"{__package__}.{name}").register(partial)
    return partial


_built: dict[str, Command] = {}
"""Commands already turned into click commands (kept across runs in the command server)."""


def built_command(name: str) -> Command | None:
    """The click command of a top-level command, built from its modules on first use."""
    if name not in _built and name in COMMANDS:
        partial = area_app(COMMANDS[name])
        command: Command | None = None
        for info in partial.registered_groups:
            if info.name == name and info.typer_instance is not None:
                command = typer.main.get_group(info.typer_instance)
                command.name = name
        if command is None:
            command = typer.main.get_group(partial).commands.get(name)
        if command is not None:
            _built[name] = command
    return _built.get(name)


class LazyRoot(TyperGroup):
    """The root command: a command's modules are imported when it is typed (or listed in
    ``--help``), not at start."""

    def list_commands(self, ctx: Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        return self.commands.get(cmd_name) or built_command(cmd_name)

    def resolve_command(self, ctx: Context, args: list[str],
                        ) -> tuple[str | None, Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except UsageError as exc:
            matches = difflib.get_close_matches(args[0], list(COMMANDS)) if args else []
            if matches and "Did you mean" not in exc.message:
                exc.message = (f"{exc.message.rstrip('.')}. Did you mean "
                               f"{', '.join(repr(m) for m in matches)}?")
            raise


app = typer.Typer(
    cls=LazyRoot,
    name="workbook-engine",
    help="Run an MFI's field operations through Excel workbooks.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_invocation: list[CliState] = []
"""The global options of this run, once parsed (for the crash log's home folder)."""


@app.callback()
def main(
    ctx: typer.Context,
    home: Annotated[Optional[Path], typer.Option(
        "--home", help="Working folder (inbox/, outbox/, archive/, database). "
        "Default: $WORKBOOK_ENGINE_HOME or the current folder.",
        callback=home_folder)] = None,
    db: Annotated[Optional[str], typer.Option(
        "--db", help="SQLAlchemy database URL. Default: $WORKBOOK_ENGINE_DB or a SQLite "
        "file in the home folder.")] = None,
    today: Annotated[Optional[str], typer.Option(
        "--today", help="Pretend today is this date (YYYY-MM-DD), for demos and tests. "
        "Default: $WORKBOOK_ENGINE_TODAY or the real date.")] = None,
    acting_as: Annotated[Optional[str], typer.Option(
        "--as", help="The member of staff doing this (id, e-mail or full name). Default: "
        "$WORKBOOK_ENGINE_AS, or your login as mapped in rules/cli.yaml.")] = None,
) -> None:
    ctx.obj = CliState(home=home, database_url=db, today=today, acting_as=acting_as)
    _invocation[:] = [ctx.obj]


@app.command()
def version() -> None:
    """Print the engine's version."""
    typer.echo(__version__)


def crash_log_path() -> Path:
    """``<home>/logs/errors.log`` of this run's home folder (``--home``, then
    $WORKBOOK_ENGINE_HOME, then the current folder)."""
    from workbook_engine.config import Settings

    home = _invocation[0].home if _invocation else None
    return Settings.resolve(home=home).log_dir / "errors.log"


def _log_crash(exc: BaseException) -> Path | None:
    try:
        path = crash_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as fh:
            fh.write(f"workbook-engine {' '.join(sys.argv[1:])}\n")
            fh.write("".join(traceback.format_exception(exc)))
        return path
    except Exception:  # noqa: BLE001 - the log is a courtesy; the message must still appear
        return None


def _command_words(argv: list[str]) -> list[str]:
    """The command's words of an argument list (``clients list``), options left out."""
    from workbook_engine.cli.server import command_name

    first = command_name(argv)
    if first is None:
        return []
    rest = argv[argv.index(first) + 1:]
    return [first, *[word for word in rest[:1] if not word.startswith("-")]]


def _print_error(message: str) -> None:
    err_console().print(f"[red]Error:[/red] {escape_markup(message)}", highlight=False)


def escape_markup(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _machine_fault(exc: BaseException) -> str | None:
    """The sentence for a command stopped by the machine, not by a bug (a full or read-only
    disk, a folder it may not write, a database out of reach), or None."""
    from workbook_engine.intake.environment import environmental

    reason = environmental(exc)
    if reason is None:
        return None
    fix = ("Check that the database server is running and that --db (or WORKBOOK_ENGINE_DB) "
           "names it" if reason.startswith("the database") else
           "Free some disk space, or let the engine write there (or give another folder)")
    return f"The command stopped: {reason}. {fix}, then run the command again."


def _number_out_of_range(exc: BaseException) -> bool:
    """Whether ``exc`` comes of a whole number typed beyond what the database keeps (SQLite:
    OverflowError; PostgreSQL and MariaDB: "out of range")."""
    from sqlalchemy.exc import DataError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        said = str(current).lower()
        if (isinstance(current, OverflowError) and "too large to convert" in said) or (
                isinstance(current, DataError) and "out of range" in said):
            return True
        current = current.__cause__ or current.__context__
    return False


def run_here(argv: list[str]) -> int:
    """Run one command in this process; its exit code (see the module's convention)."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        result = app(args=argv, standalone_mode=False, prog_name="workbook-engine")
        return result if isinstance(result, int) else 0
    except EngineError as exc:
        _print_error(exc.message)
        return EXIT_USAGE if exc.error.area == "command line" else EXIT_REFUSED
    except (typer.Abort, KeyboardInterrupt):
        err_console().print("Stopped.")
        return EXIT_INTERRUPTED
    except typer.Exit as exc:
        return exc.exit_code
    except ClickException as exc:  # a usage mistake: Click names the option or value
        if isinstance(exc, UsageError) and exc.ctx is None:  # raised in a command's body
            err_console().print(f"Try 'workbook-engine {' '.join(_command_words(argv))} "
                                "--help' for help.\n", highlight=False, markup=False)
        exc.show()
        return exc.exit_code
    except Exception as exc:  # noqa: BLE001 - a bug: logged, told in one sentence
        machine = _machine_fault(exc)
        if machine is not None:
            _print_error(machine)
            return EXIT_REFUSED
        if _number_out_of_range(exc):
            _print_error("A number given on the command line is larger than the engine keeps "
                         "(ids and counts go up to 2,147,483,647); check the ids and numbers "
                         f"typed (`workbook-engine {' '.join(_command_words(argv))} --help`).")
            return EXIT_USAGE
        log = _log_crash(exc)
        where = (f" The details are in {log}; send that file to your administrator."
                 if log else "")
        _print_error(f"the engine failed unexpectedly ({type(exc).__name__}).{where}")
        return EXIT_CRASH
