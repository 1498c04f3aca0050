"""`workbook-engine sheets collection`: write the collection sheets of a meeting."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from workbook_engine.cli.common import option_date, out_folder, state
from workbook_engine.cli.output import (
    CsvOption,
    JsonOption,
    console,
    err_console,
    print_listing,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.cli import USAGE

sheets_app = typer.Typer(help="Generate workbooks to take to the field.", no_args_is_help=True)


@sheets_app.command("collection")
def collection(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option(
        "--out", help="Folder to write the sheets into.", callback=out_folder)],
    date: Annotated[Optional[str], typer.Option(
        "--date", help="Meeting date (YYYY-MM-DD). Default: each center's last meeting day "
        "(today's meeting, or yesterday's for a sheet entered the day after); once that "
        "meeting's sheet is entered, its next meeting.")] = None,
    center: Annotated[Optional[int], typer.Option("--center", help="One center.")] = None,
    group: Annotated[Optional[int], typer.Option(
        "--group", help="One group (an MFI without centers).")] = None,
    staff: Annotated[Optional[int], typer.Option(
        "--staff", help="Every center and group of this loan officer.")] = None,
    office: Annotated[Optional[int], typer.Option(
        "--office", help="Every center and group of this branch.")] = None,
    as_json: JsonOption = False, as_csv: CsvOption = False,
) -> None:
    """Write one collection sheet per center (or group) for its meeting."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from workbook_engine.services.collection.sheets import generate_collection_sheets

    chosen = [n for n, v in (("center", center), ("group", group), ("staff", staff),
                                   ("office", office)) if v is not None]
    if len(chosen) != 1:  # a usage mistake: nothing is tried
        raise EngineError(USAGE, "Choose exactly one of --center, --group, --staff or --office "
                          f"(given: {', '.join(chosen) or 'none'}); `workbook-engine sheets "
                          "collection --help` for help.")
    cli = state(ctx)
    engine = cli.context()
    meeting = option_date(date, "--date")
    actor = cli.actor_id(engine)
    with Progress(TextColumn("Writing sheets"), BarColumn(), MofNCompleteColumn(),
                  console=console(), transient=True, disable=as_json or as_csv) as bar:
        task = bar.add_task("sheets", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        sheets = generate_collection_sheets(
            engine, actor_id=actor, out_dir=out, meeting_date=meeting, center_id=center,
            group_id=group, staff_id=staff, office_id=office, progress=progress)
    rows = [{"workbook_id": s.workbook_id, "path": s.path, "file": s.path.name,
             "center_id": s.center_id, "group_id": s.group_id, "name": s.title,
             "meeting_date": s.meeting_date, "rows": s.rows, "collected": s.total_collected,
             "paid_out": s.total_paid_out, "cash_to_hand_over": s.cash_to_hand_over}
            for s in sheets]
    print_listing(rows, title=f"{len(sheets)} collection sheet(s) written to {out.resolve()}",
                  as_json=as_json, as_csv=as_csv, columns=[
                      ("Center / group", "name"), ("Meeting", "meeting_date"),
                      ("Rows", "rows"), ("Collected", "collected"), ("Paid out", "paid_out"),
                      ("Cash to hand over", "cash_to_hand_over"), ("File", "file")])
    for meeting in sheets.skipped:  # a listing on stdout stays a listing (--json, --csv)
        err_console().print(
            f"Skipped, already posted: {meeting.what}, meeting of "
            f"{meeting.meeting_date.isoformat()} (submission {meeting.submission_id}); "
            "nothing is left to collect there. To change its attendance: `workbook-engine "
            f"sheets collection --{'center' if meeting.center_id is not None else 'group'} "
            f"{meeting.center_id if meeting.center_id is not None else meeting.group_id} "
            f"--date {meeting.meeting_date.isoformat()}`.",
            markup=False, highlight=False, soft_wrap=True)


def register(app: typer.Typer) -> None:
    """Add the `sheets` commands to the root app."""
    app.add_typer(sheets_app, name="sheets")
