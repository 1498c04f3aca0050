"""`process FILE`, `submissions list|show`, `approve ID`, `reject ID`: returned sheets."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from workbook_engine.cli.common import console, print_json, print_record, print_table, state
from workbook_engine.errors import EngineError
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.money import money_text
from workbook_engine.services.pipeline import submissions
from workbook_engine.services.pipeline.processing import process_file

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _print_errors(errors: list[dict[str, Any]]) -> None:
    if errors:
        print_table("Errors", ["Row", "Cell", "Client", "Code", "What is wrong"],
                    ([e.get("row"), e.get("cell"), e.get("client"), e.get("code"),
                      e.get("message")] for e in errors))


def _money(value: Any, view: dict[str, Any]) -> str:
    """An amount of a submission as its office writes it ("7,045.90")."""
    return money_text(value, decimal_comma=bool(view.get("decimal_comma")))


def register(app: typer.Typer) -> None:
    """Add the returned-sheet commands to the root command."""
    sub_app = typer.Typer(help="Returned workbooks: list and show submissions.",
                          no_args_is_help=True)
    app.add_typer(sub_app, name="submissions")

    @app.command("process")
    def process(ctx: typer.Context, file: Annotated[Path, typer.Argument(
            help="The returned workbook (.xlsx).")],
            for_officer: Annotated[Optional[int], typer.Option(
                "--for-officer", metavar="STAFF",
                help="The loan officer this file is handed in for (a clerk entering a "
                     "sheet on an officer's behalf).")] = None,
            as_json: JsonOption = False) -> None:
        """Check a returned workbook and write its preview report to outbox/."""
        cli = state(ctx)
        engine = cli.context()
        if not file.is_file():
            raise EngineError(NOT_FOUND, f"There is no file {file}; give the path of the "
                              "returned workbook.")
        result = process_file(engine, file, actor_id=cli.actor_id(engine),
                              loan_officer_id=for_officer)
        if as_json:
            print_json(result.as_dict())
        else:
            console.print(result.message, highlight=False)
            _print_errors(list(result.errors))
            for label, path in (("Report (xlsx)", result.report_xlsx),
                                ("Report (html)", result.report_html)):
                if path:
                    console.print(f"{label}: {path}", highlight=False)
        if result.not_ours or result.status == "quarantined":
            raise typer.Exit(1)

    @sub_app.command("list")
    def list_cmd(ctx: typer.Context, status: Annotated[Optional[str], typer.Option(
            "--status", help="Only this status (e.g. awaiting_approval).")] = None,
            as_json: JsonOption = False) -> None:
        """List submissions, newest first."""
        rows = submissions.list_submissions(state(ctx).context(), status=status)
        if as_json:
            print_json(rows)
        else:
            print_table("Submissions", ["Id", "Status", "File", "Version", "Meeting",
                                        "Loan officer", "Submitted by", "Errors",
                                        "Collected", "Paid out"],
                        ([r["id"], r["status"], r["original_name"], r["version"],
                          r["meeting_date"], r["loan_officer"], r["submitted_by"],
                          r["error_count"], _money(r["cash_collected"], r),
                          _money(r["cash_paid_out"], r)]
                         for r in rows))

    @sub_app.command("show")
    def show_cmd(ctx: typer.Context, submission_id: Annotated[int, typer.Argument(
            metavar="ID")], as_json: JsonOption = False) -> None:
        """Show a submission: status, errors, posting and history."""
        view = submissions.show_submission(state(ctx).context(), submission_id)
        if as_json:
            print_json(view)
            return
        print_record(f"Submission {submission_id}", [
            (k.replace("_", " ").capitalize(),
             _money(v, view) if k in ("cash_collected", "cash_paid_out") else v)
            for k, v in view.items() if k not in ("errors", "history", "posting",
                                                  "decimal_comma")])
        _print_errors(view["errors"])
        print_table("History", ["When", "What", "Who", "Note"],
                    ([h["at"], h["action"], h["by"], h["note"]] for h in view["history"]))

    @app.command("approve")
    def approve(ctx: typer.Context, submission_id: Annotated[int, typer.Argument(
            metavar="ID")], by: Annotated[str, typer.Option(
                "--by", help="The approving supervisor (id, e-mail or full name).")],
            exclude_invalid: Annotated[bool, typer.Option(
                "--exclude-invalid", help="Post the valid rows only; the rows with errors "
                "go to a new sheet and stay due.")] = False,
            as_json: JsonOption = False) -> None:
        """Approve a submission and post it (one transaction; nothing is posted twice)."""
        from workbook_engine.services.imports.excluded_rows import write_excluded_sheet

        view = submissions.approve_submission(state(ctx).context(),
                                              submission_id=submission_id, by=by,
                                              exclude_invalid=exclude_invalid,
                                              write_excluded=write_excluded_sheet)
        if as_json:
            print_json(view)
            return
        posting = view.get("posting") or {}
        console.print(f"Submission {submission_id} posted: "
                      f"{len(posting.get('movements', []))} transactions, collected "
                      f"{_money(posting.get('collected'), view)}, paid out "
                      f"{_money(posting.get('paid_out'), view)}.", highlight=False)
        if view.get("excluded_rows"):
            console.print(f"{len(view['excluded_rows'])} row(s) excluded; they stay due. "
                          f"New sheet: {view.get('excluded_sheet') or 'not written'}",
                          highlight=False)

    @app.command("reject")
    def reject(ctx: typer.Context, submission_id: Annotated[int, typer.Argument(
            metavar="ID")], by: Annotated[str, typer.Option("--by")],
            reason: Annotated[str, typer.Option("--reason")],
            as_json: JsonOption = False) -> None:
        """Reject a submission with a reason (nothing is posted)."""
        view = submissions.reject_submission(state(ctx).context(),
                                             submission_id=submission_id, by=by,
                                             reason=reason)
        if as_json:
            print_json(view)
        else:
            console.print(f"Submission {submission_id} rejected.", highlight=False)
