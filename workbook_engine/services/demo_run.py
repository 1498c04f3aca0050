"""`workbook-engine demo`: a fresh demo institution and a tour of what the engine does.

The demo owns its working folder: it marks it with ``.workbook-engine-demo`` and rebuilds the
database there on every run, so it can be run again and again. It never touches a folder
holding a database it did not create.
"""

from __future__ import annotations

from rich.console import Console

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import WRONG_STATE
from workbook_engine.services import directory
from workbook_engine.services.context import AppContext
from workbook_engine.services.integrity import CheckReport, run_check, summary_lines
from workbook_engine.services.system import initialise

MARKER = ".workbook-engine-demo"


def prepare_demo_home(ctx: AppContext) -> None:
    """Make the working folder a fresh demo home (refusing a real institution's folder)."""
    home = ctx.home
    home.mkdir(parents=True, exist_ok=True)
    marker = home / MARKER
    database = home / "workbook-engine.sqlite3"
    url = ctx.settings.database_url
    if not url.startswith("sqlite:"):
        raise EngineError(WRONG_STATE, "The demo runs on its own SQLite file; leave out --db "
                          "and WORKBOOK_ENGINE_DB.")
    if database.exists() and not marker.exists():
        raise EngineError(WRONG_STATE, f"{home} already holds a database that the demo did "
                          "not create; run the demo with --home pointing to another folder.")
    for path in (database, database.with_name(database.name + "-wal"),
                 database.with_name(database.name + "-shm")):
        path.unlink(missing_ok=True)
    marker.write_text("This folder is the workbook-engine demo's; `demo` rebuilds it.\n")


def run_demo(ctx: AppContext, console: Console, *, scale: int = 1) -> CheckReport:
    """Build the demo institution, print a short tour, and end by checking the books."""
    prepare_demo_home(ctx)
    console.rule("[bold]workbook-engine demo")
    console.print(f"Working folder: {ctx.home}  (today is {ctx.today()})", highlight=False)
    initialise(ctx, demo=True, scale=scale)
    offices = directory.list_offices(ctx)
    centers = directory.list_centers(ctx)
    clients = directory.list_clients(ctx)
    console.print(f"Loaded {len(offices)} offices, {len(centers)} centers and "
                  f"{len(clients)} clients.", highlight=False)
    today_centers = [c for c in centers if c["next_meeting"] == ctx.today()]
    console.print(f"{len(today_centers)} centers meet today: "
                  + ", ".join(c["name"] for c in today_centers), highlight=False)
    console.print("Try: workbook-engine --home " + str(ctx.home) + " centers list")
    console.rule("Do the books agree with themselves? (workbook-engine check)")
    report = run_check(ctx)
    for line in summary_lines(report):
        console.print(line, highlight=False, soft_wrap=True,
                      style=None if report.ok else "red")
    return report
