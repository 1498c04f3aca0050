"""`workbook-engine sheets collection`: write the collection sheets of a meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from workbook_engine.cli.common import console, option_date, print_json, print_table, state
from workbook_engine.services.collection.sheets import generate_collection_sheets

sheets_app = typer.Typer(help="Generate workbooks to take to the field.", no_args_is_help=True)


@sheets_app.command("collection")
def collection(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder to write the sheets into.")],
    date: Annotated[Optional[str], typer.Option(
        "--date", help="Meeting date (YYYY-MM-DD). Default: each center's next meeting on "
        "or after today.")] = None,
    center: Annotated[Optional[int], typer.Option("--center", help="One center.")] = None,
    group: Annotated[Optional[int], typer.Option(
        "--group", help="One group (an MFI without centers).")] = None,
    staff: Annotated[Optional[int], typer.Option(
        "--staff", help="Every center and group of this loan officer.")] = None,
    office: Annotated[Optional[int], typer.Option(
        "--office", help="Every center and group of this branch.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Write one collection sheet per center (or group) for its meeting."""
    cli = state(ctx)
    engine = cli.context()
    meeting = option_date(date, "--date")
    actor = cli.actor_id(engine)
    with Progress(TextColumn("Writing sheets"), BarColumn(), MofNCompleteColumn(),
                  console=console, transient=True, disable=as_json) as bar:
        task = bar.add_task("sheets", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        sheets = generate_collection_sheets(
            engine, actor_id=actor, out_dir=out, meeting_date=meeting, center_id=center,
            group_id=group, staff_id=staff, office_id=office, progress=progress)
    if as_json:
        print_json([{"workbook_id": s.workbook_id, "path": s.path, "center_id": s.center_id,
                     "group_id": s.group_id, "name": s.title, "meeting_date": s.meeting_date,
                     "rows": s.rows, "collected": s.total_collected,
                     "paid_out": s.total_paid_out, "cash_to_hand_over": s.cash_to_hand_over}
                    for s in sheets])
        return
    print_table(f"{len(sheets)} collection sheet(s) written to {out.resolve()}",
                ["Center / group", "Meeting", "Rows", "Collected", "Paid out",
                 "Cash to hand over", "File"],
                ([s.title, s.meeting_date, s.rows, f"{s.total_collected:,}",
                  f"{s.total_paid_out:,}", f"{s.cash_to_hand_over:,}", s.path.name]
                 for s in sheets))


def register(app: typer.Typer) -> None:
    """Add the `sheets` commands to the root app."""
    app.add_typer(sheets_app, name="sheets")
