"""What the command line prints: tables that never cut a figure, records, JSON and CSV.

A table's figures, dates, ids and file names (any column whose values hold no space) are
never wrapped nor shortened; only free text (names, messages) wraps, at its spaces. When even
that does not fit the terminal, the table is printed wider than the terminal rather than cut;
in a pipe it is printed at its natural width, one row per line. ``--json`` and ``--csv``
print every listing for scripts and spreadsheets.

Money is never a float, and is written at its currency's digits (the services round every
amount they return to its product's ``currency_digits``): in a table or a record with its
thousands grouped ("16,707.18", :func:`workbook_engine.money.money_text`); in CSV as a plain
number a spreadsheet reads as one, no grouping, a decimal point ("16707.18"); in JSON as a
string holding that exact number ("16707.18"), so that a script reads it as a decimal
without a float's rounding (docs/operations.md).

Consoles are made on first use (not at import), so they see the terminal of the process
that prints.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import sys
from collections.abc import Iterable, Sequence
from decimal import Decimal
from enum import Enum
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from workbook_engine.money import money_text

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

JsonOption = Annotated[bool, typer.Option(
    "--json", help="Print JSON for scripts (amounts as strings: \"16707.18\").")]
CsvOption = Annotated[bool, typer.Option(
    "--csv", help="Print CSV for a spreadsheet (amounts as plain numbers: 16707.18).")]


@cache
def console() -> Console:
    """Standard output, for results."""
    from rich.console import Console

    return Console()


@cache
def err_console() -> Console:
    """Standard error, for refusals and progress."""
    from rich.console import Console

    return Console(stderr=True)


def say(message: str, *, style: str | None = None) -> None:
    """One sentence on standard output, exactly as written (no markup, no highlighting)."""
    console().print(message, style=style, markup=False, highlight=False, soft_wrap=True)


def jsonable(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def print_json(data: Any) -> None:
    typer.echo(json.dumps(data, default=jsonable, indent=2, ensure_ascii=False))


def cell_text(value: Any) -> str:
    """How a value reads in a table's or a record's cell (an amount: "16,707.18")."""
    if isinstance(value, Decimal):
        return money_text(value, None)
    return _plain_text(value)


def csv_text(value: Any) -> str:
    """How a value reads in a CSV cell (an amount: "16707.18", as a spreadsheet reads a
    number in any locale's import)."""
    if isinstance(value, Decimal):
        return f"{value:f}"
    return _plain_text(value)


def _plain_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(", ".join(f"{k}: {v}" for k, v in item.items()) for item in value)
        return ", ".join(str(v) for v in value)
    return str(value)


def _is_figure(value: Any) -> bool:
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool)


def print_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """A header row, then one line per row (RFC 4180, as spreadsheets read it)."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_text(v) for v in row])


_LONGEST_WORD = 24
"""A word of free text longer than this may be broken (a URL in a note); shorter ones never
are, nor is a word of a header."""


def make_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]], *,
               width: int | None = None) -> Table:
    """A table in which no figure, date, id or file name is ever cut (see the module).

    Every column is at least as wide as its longest unbreakable word: a figure, a date, a
    file name, each word of its header, each word of a name; so a header wraps at its spaces
    ("Submitted" / "by") and never inside a word, and no column shrinks to nothing. The
    columns that wrap share what the others leave of ``width`` (default: the terminal's,
    when printing to one; in a pipe the table keeps its natural width).
    """
    from rich.table import Table
    from rich.text import Text

    data = [list(row) for row in rows]
    table = Table(title=title, title_justify="left", title_style="bold")
    specs = []
    for index, header in enumerate(columns):
        values = [row[index] for row in data if index < len(row) and row[index] is not None]
        texts = [cell_text(v) for v in values]
        whole = all(" " not in t and "\n" not in t for t in texts)
        figures = bool(values) and all(_is_figure(v) or _looks_like_amount(t)
                                       for v, t in zip(values, texts, strict=True))
        longest = max((len(word) for t in texts for word in t.split()), default=0)
        least = max([len(word) for word in header.split()]
                    + [longest if whole else min(longest, _LONGEST_WORD)])
        natural = max(len(line) for t in [*texts, header] for line in t.split("\n"))
        specs.append((header, figures, whole, least, natural))
    shared = _share_width(specs, _terminal_width() if width is None else width)
    for (header, figures, whole, least, _), fixed in zip(specs, shared, strict=True):
        table.add_column(Text(header, no_wrap=False, overflow="fold"),
                         justify="right" if figures else "left", no_wrap=whole,
                         overflow="fold", min_width=least, width=fixed)
    for row in data:
        table.add_row(*(cell_text(v) for v in row))
    return table


def _terminal_width() -> int | None:
    out = console()
    return out.width if out.is_terminal else None


def _share_width(specs: Sequence[tuple[str, bool, bool, int, int]],
                 width: int | None) -> list[int | None]:
    """The width of each column that wraps, when the table's natural width is more than
    ``width``: what the columns that never wrap leave is shared out evenly (the narrowest
    columns first get all they need), none below its longest word. None: natural width."""
    free = [None] * len(specs)
    wrapping = [i for i, spec in enumerate(specs) if not spec[2]]
    if width is None or not wrapping:
        return free
    chrome = 3 * len(specs) + 1  # a border and a space either side of every column
    room = width - chrome - sum(spec[4] for spec in specs if spec[2])
    least = [specs[i][3] for i in wrapping]
    natural = [specs[i][4] for i in wrapping]
    if sum(natural) <= room:
        return free
    if sum(least) >= room:
        shares = least  # wider than the terminal: printed wider rather than cut
    else:
        low, high = 0, max(natural)  # the highest level every column may reach
        while low < high:
            level = (low + high + 1) // 2
            if sum(min(n, max(m, level)) for m, n in zip(least, natural)) <= room:
                low = level
            else:
                high = level - 1
        shares = [min(n, max(m, low)) for m, n in zip(least, natural)]
        for i in range(len(shares)):  # what is left of the room, a column at a time
            if sum(shares) < room and shares[i] < natural[i]:
                shares[i] += 1
    for i, share in zip(wrapping, shares):
        free[i] = share
    return free


def print_table(title: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Print :func:`make_table`."""
    print_renderable(make_table(title, columns, rows))


def _looks_like_amount(text: str) -> bool:
    stripped = text.replace(",", "").replace(".", "", 1).lstrip("-")
    return bool(stripped) and stripped.isdigit()


_UNBOUNDED = 10_000
"""The width a renderable is measured in to find its natural width."""


def print_renderable(renderable: Any) -> None:  # noqa: ANN401 - any rich renderable
    """Print a table or panel without cutting it: in a pipe at its natural width; on a
    terminal too narrow for its unbreakable columns, wider than the terminal."""
    out = console()
    measured = out.measure(renderable, options=out.options.update(width=_UNBOUNDED))
    width = out.width
    if not out.is_terminal:
        # A panel fills whatever width it is given: it has no natural width of its own, so
        # it takes the console's (COLUMNS, else 80); its contents wrap inside it.
        natural = out.width if measured.maximum >= _UNBOUNDED else measured.maximum
        width = max(natural, 20)
    elif measured.minimum > out.width:
        width = measured.minimum
    if width == out.width:
        out.print(renderable)
        return
    # Console.print never prints wider than the console. Its size is set whole: with a width
    # alone, a console on a terminal that says it is dumb (TERM=dumb) keeps 80 columns, and
    # the table's columns of names were printed zero wide.
    saved = out._width, out._height  # noqa: SLF001 - restored as they were (None: measured)
    out.size = (width, out.height)
    try:
        out.print(renderable, crop=False)
    finally:
        out._width, out._height = saved  # noqa: SLF001


def print_record(title: str, fields: Iterable[tuple[str, Any]]) -> None:
    """One record: a name per line, its value beside it."""
    from rich.table import Table

    table = Table(title=title, title_justify="left", title_style="bold", show_header=False,
                  box=None)
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    for name, value in fields:
        table.add_row(name, cell_text(value))
    print_renderable(table)


def print_listing(rows: list[dict[str, Any]], *, title: str,
                  columns: Sequence[tuple[str, str]], as_json: bool = False,
                  as_csv: bool = False) -> None:
    """A listing as JSON (every field), CSV or a table (``columns``: header, key)."""
    if as_json and as_csv:
        raise typer.BadParameter("give --json or --csv, not both", param_hint="'--csv'")
    if as_json:
        print_json(rows)
        return
    headers = [header for header, _ in columns]
    values = ([row.get(key) for _, key in columns] for row in rows)
    if as_csv:
        print_csv(headers, values)
    else:
        print_table(title, headers, values)
