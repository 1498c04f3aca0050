"""`workbook-engine demo`: a fresh demo institution and a tour of what the engine does.

The demo owns its working folder: it marks it with ``.workbook-engine-demo`` and rebuilds the
database there on every run, so it can be run again and again. It never touches a folder
holding a database it did not create.
"""

from __future__ import annotations

from rich.console import Console

from workbook_engine.errors import EngineError
from workbook_engine.errors.general import WRONG_STATE
from workbook_engine.money import money_text
from workbook_engine.services.clients import directory
from workbook_engine.services.context import AppContext
from workbook_engine.services.ledger.integrity import CheckReport, run_check, summary_lines
from workbook_engine.services.setup.system import initialise

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
    run_collection_loop(ctx, console)
    console.print("Try: workbook-engine --home " + str(ctx.home) + " submissions list")
    console.rule("Do the books agree with themselves? (workbook-engine check)")
    report = run_check(ctx)
    for line in summary_lines(report):
        console.print(line, highlight=False, soft_wrap=True,
                      style=None if report.ok else "red")
    return report


def _balances(ctx: AppContext, center_id: int) -> dict[str, str]:
    """Each Kilimani account's balance (loans: outstanding), by 'owner product account'."""
    from sqlalchemy import select

    from workbook_engine.domain import Loan, SavingsAccount
    from workbook_engine.services.collection.due import compute_due

    with ctx.session_factory() as s:
        sheet = compute_due(s, center_id=center_id, meeting_date=ctx.today(), today=ctx.today())
        client_ids = [r.entity_id for r in sheet.rows if r.kind.value == "client"]
        out: dict[str, str] = {}
        for loan in s.scalars(select(Loan).where(Loan.client_id.in_(client_ids))
                              .order_by(Loan.id)):
            owner = loan.client.display_name if loan.client else ""
            out[f"{owner}, loan {loan.account_no}"] = \
                f"{loan.outstanding:,.2f} ({loan.status.value})"
        for account in s.scalars(select(SavingsAccount).order_by(SavingsAccount.id)):
            if account.client_id in client_ids or account.group_id in {
                    r.entity_id for r in sheet.rows if r.kind.value == "group"} \
                    or account.center_id == center_id:
                owner = (account.client.display_name if account.client else
                         account.group.name if account.group else
                         account.center.name if account.center else "")
                out[f"{owner}, {account.product.name} {account.account_no}"] = \
                    f"{account.balance:,.2f}"
        return out


def run_collection_loop(ctx: AppContext, console: Console) -> None:
    """Generate Kilimani's sheet, fill it as a loan officer would, process, correct, approve."""
    from openpyxl import load_workbook
    from sqlalchemy import select

    from workbook_engine.domain import Center, GeneratedWorkbook
    from workbook_engine.services.collection.sheets import generate_collection_sheets
    from workbook_engine.services.setup.demo import kilimani_meeting_for
    from workbook_engine.services.pipeline.processing import process_file
    from workbook_engine.services.pipeline.submissions import approve_submission
    from workbook_engine.workbooks.filling import fill_sheet, input_address

    meeting = kilimani_meeting_for(ctx.today())
    if meeting != ctx.today():
        console.print(f"(Kilimani meets on {meeting}; the demo now pretends that day has "
                      "come.)", highlight=False)
        ctx.settings.clock.fixed_today = meeting
    with ctx.session_factory() as s:
        center = s.scalar(select(Center).where(Center.name == "Kilimani"))
        assert center is not None
        officer = center.staff_id
    console.rule("[bold]1. The loan officer takes Kilimani's sheet to the meeting")
    generated = generate_collection_sheets(ctx, actor_id=None, out_dir=ctx.settings.outbox,
                                           center_id=center.id, meeting_date=meeting)[0]
    console.print(f"Generated {generated.path} ({generated.rows} rows, to collect "
                  f"{money_text(generated.total_collected, None)}, to pay out "
                  f"{money_text(generated.total_paid_out, None)}).", highlight=False)
    with ctx.session_factory() as s:
        expected = s.get(GeneratedWorkbook, generated.workbook_id).expected
    header = {"payment_type": "Cash", "receipt_number": f"KIL-{meeting:%Y%m%d}",
              "receipt_date": meeting.isoformat()}
    # The officer's files are handed to `process` from a folder of their own: left in the
    # inbox, the first `watch` after the tour would take them in again.
    field = ctx.home / "field"
    field.mkdir(exist_ok=True)
    returned = fill_sheet(generated.path, field / "kilimani-returned.xlsx",
                          expected, header=header, cells={
                              ("Amina Wanjiku", "repayment"): 925.64,      # partial
                              ("Amina Wanjiku", "withdrawal"): 500,        # over the balance
                              ("Amina Wanjiku", "attendance"): "P",
                              ("Baraka Mutua", "attendance"): "P",
                              ("Chiku Akinyi", "attendance"): "L",
                              ("Dalia Njeri", "attendance"): "A"})        # absent
    console.print("The officer typed: Amina paid 925.64 of 1,851.28 and withdrew 500; "
                  "Dalia was absent; everything else as due.", highlight=False)
    console.rule("[bold]2. The sheet comes back: checked, with a report")
    first = process_file(ctx, returned, actor_id=officer)
    console.print(first.message, highlight=False)
    for error in first.errors:
        console.print(f"  - {error['cell']} {error.get('client') or ''}: {error['message']}",
                      highlight=False)
    console.print(f"Report: {first.report_xlsx}\n        {first.report_html}", highlight=False)
    console.rule("[bold]3. The officer corrects the red cells in the report and sends it back")
    book = load_workbook(first.report_xlsx)
    ws = book[expected["sheet"]]
    ws[input_address(expected, "Amina Wanjiku", "repayment")] = 1851.28
    ws[input_address(expected, "Amina Wanjiku", "withdrawal")] = 100
    corrected = field / "kilimani-corrected.xlsx"
    book.save(corrected)
    second = process_file(ctx, corrected, actor_id=officer)
    console.print(second.message, highlight=False)
    console.rule("[bold]4. Grace (supervisor) approves: posted in one transaction")
    before = _balances(ctx, center.id)
    view = approve_submission(ctx, submission_id=second.submission_id or 0,
                              by="Grace Wambui")
    after = _balances(ctx, center.id)
    console.print(f"Submission {view['id']} {view['status']}: "
                  f"{len(view['posting']['movements'])} transactions; collected "
                  f"{money_text(view['posting']['collected'], None)}, paid out "
                  f"{money_text(view['posting']['paid_out'], None)}.",
                  highlight=False)
    console.print("Balances that changed:")
    for key, value in after.items():
        if before.get(key) != value:
            console.print(f"  {key}: {before.get(key, '-')} -> {value}", highlight=False)
