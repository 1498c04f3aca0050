"""What every CLI command shares: the engine context, the acting staff member, output."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from workbook_engine.config import Settings, parse_iso_date
from workbook_engine.db.migrate import is_up_to_date
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import DATABASE_UNAVAILABLE, INVALID_VALUE
from workbook_engine.services.context import AppContext

console = Console()
err_console = Console(stderr=True)


@dataclass
class CliState:
    """The global options, resolved once per invocation."""

    home: Path | None = None
    database_url: str | None = None
    today: str | None = None
    acting_as: str | None = None
    _ctx: AppContext | None = None

    def context(self, *, require_schema: bool = True) -> AppContext:
        """The engine context; refuses politely when the database is not initialised."""
        if self._ctx is None:
            try:
                settings = Settings.resolve(home=self.home, database_url=self.database_url,
                                            today=self.today)
            except ValueError as exc:
                raise EngineError(INVALID_VALUE, str(exc)) from None
            self._ctx = AppContext(settings)
        if require_schema:
            ensure_initialised(self._ctx)
        return self._ctx

    def actor_id(self, ctx: AppContext, required: bool = False) -> int | None:
        """The staff member named by --as (id, e-mail or full name), or None for the system."""
        from workbook_engine.services.setup.lookup import resolve_staff

        if not self.acting_as:
            if required:
                raise EngineError(INVALID_VALUE, "Say who you are with --as STAFF (an id, an "
                                  "e-mail address or a full name).")
            return None
        with ctx.session_factory() as session:
            return resolve_staff(session, self.acting_as).id


def ensure_initialised(ctx: AppContext) -> None:
    try:
        ok = is_up_to_date(ctx.engine)
    except EngineError:
        raise
    except Exception as exc:  # the driver's own error: unreachable server, bad file, ...
        raise EngineError(DATABASE_UNAVAILABLE,
                          f"The database cannot be opened ({type(exc).__name__}: "
                          f"{str(exc).splitlines()[0][:200]}).") from None
    if not ok:
        raise EngineError(DATABASE_UNAVAILABLE, "The database is not initialised or is "
                          "older than this version: run `workbook-engine init` first.")


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    assert isinstance(root.obj, CliState)
    return root.obj


def sub_app(root: typer.Typer, name: str, help_text: str) -> typer.Typer:
    """The command group ``name`` of the root app, created on first use.

    Several CLI modules add commands to one group this way (``offices list`` comes from
    ``cli/directory.py``, ``offices add`` from ``cli/setup.py``) without declaring it twice.
    """
    for info in root.registered_groups:
        if info.name == name and info.typer_instance is not None:
            return info.typer_instance
    group = typer.Typer(help=help_text, no_args_is_help=True)
    root.add_typer(group, name=name)
    return group


def option_date(value: str | None, what: str) -> dt.date | None:
    """Parse a --date style option, with a message naming the option."""
    if value is None:
        return None
    try:
        return parse_iso_date(value, what)
    except ValueError as exc:
        raise EngineError(INVALID_VALUE, str(exc)) from None


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, int | str | float):
        return value.value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=jsonable, indent=2, ensure_ascii=False))


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def print_record(title: str, fields: Iterable[tuple[str, Any]]) -> None:
    table = Table(title=title, show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    for name, value in fields:
        table.add_row(name, "" if value is None else str(value))
    console.print(table)
