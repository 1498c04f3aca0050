"""`process FILE`, `submissions list|show`, `approve ID`, `reject ID`: returned sheets."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from workbook_engine.cli.common import cli_staff_id, one_of, state
from workbook_engine.cli.output import (
    CsvOption,
    JsonOption,
    print_json,
    print_listing,
    print_record,
    print_table,
    say,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.cli import ACTOR_REQUIRED, USAGE
from workbook_engine.errors.general import NOT_FOUND
from workbook_engine.money import money_text


def _submissions() -> Any:  # noqa: ANN401 - the service module
    from workbook_engine.services.pipeline import submissions

    return submissions


def _print_errors(errors: list[dict[str, Any]]) -> None:
    if errors:
        print_table("Errors", ["Row", "Cell", "Client", "Code", "What is wrong"],
                    ([e.get("row"), e.get("cell"), e.get("client"), e.get("code"),
                      e.get("message")] for e in errors))


def file_is_valid(result: Any) -> bool:  # noqa: ANN401 - a ProcessResult
    """Exit code 0 of `process`: the file was taken in with no error; a file with errors, a
    file refused or set aside is exit code 1."""
    return not (result.not_ours or result.error_count
                or result.status in ("invalid", "quarantined", "rejected"))


def posted_summary(submission_id: int, posting: dict[str, Any],
                   money: Callable[[Any], str] = str) -> str:
    """One sentence on what approving posted, in the terms of the workbook's kind."""
    if "imported" in posting:
        return (f"Submission {submission_id} posted: {posting['imported']} row(s) imported, "
                f"{posting.get('not_imported', 0)} not imported (errors), "
                f"{posting.get('already', 0)} already imported before.")
    if "collected" in posting:
        return (f"Submission {submission_id} posted: {len(posting.get('movements', []))} "
                f"transactions, collected {money(posting['collected'])}, paid out "
                f"{money(posting.get('paid_out'))}.")
    return f"Submission {submission_id} posted."


def _decider(ctx: typer.Context, engine: Any, by: str | None) -> str:
    """Who approves or rejects: ``--by``, else who is acting (``--as``); when both are given
    they must name the same member of staff."""
    cli = state(ctx)
    named = cli.acting_reference(engine)
    if by is None or not by.strip():
        if named is None:
            cli.actor_id(engine)  # refuses, naming every way to say who acts
            raise EngineError(ACTOR_REQUIRED, "Say which supervisor decides: --by STAFF.")
        return named[0]
    if named is not None and named[0].casefold() != by.strip().casefold() \
            and cli.actor_id(engine) != cli_staff_id(engine, by):
        raise EngineError(USAGE, f"--by '{by}' and {named[1]} ('{named[0]}') name different "
                          "people; name the supervisor who decides once, with --as.")
    return by


def _money(value: Any, view: dict[str, Any]) -> str:
    """An amount of a submission (at its currency's digits) as its office writes it
    ("7,045.90", or "7.045,90")."""
    return money_text(value, None, decimal_comma=bool(view.get("decimal_comma")))


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
        from workbook_engine.services.pipeline.processing import process_file

        cli = state(ctx)
        engine = cli.context()
        if file.is_dir():
            raise EngineError(NOT_FOUND, f"{file} is a folder; give the path of the returned "
                              "workbook in it (or drop the files in the inbox and run "
                              "`workbook-engine watch --once`).")
        if not file.is_file():
            raise EngineError(NOT_FOUND, f"There is no file {file}; give the path of the "
                              "returned workbook.")
        result = process_file(engine, file, actor_id=cli.actor_id(engine),
                              loan_officer_id=for_officer)
        if as_json:
            print_json(result.as_dict())
        else:
            say(result.message)
            _print_errors(list(result.errors))
            for label, path in (("Report (xlsx)", result.report_xlsx),
                                ("Report (html)", result.report_html)):
                if path:
                    say(f"{label}: {path}")
        if not file_is_valid(result):
            raise typer.Exit(1)

    @sub_app.command("list")
    def list_cmd(ctx: typer.Context, status: Annotated[Optional[str], typer.Option(
            "--status", help="Only this status (e.g. awaiting_approval).",
            callback=lambda value: one_of(value, "SubmissionStatus", "--status"))] = None,
            as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
        """List submissions, newest first."""
        cli = state(ctx)
        engine = cli.context()
        rows = _submissions().list_submissions(engine, status=status,
                                               viewer_id=cli.viewer_id(engine))
        if not (as_json or as_csv):  # amounts as the office writes them
            rows = [{**r, "cash_collected": _money(r["cash_collected"], r),
                     "cash_paid_out": _money(r["cash_paid_out"], r)} for r in rows]
        print_listing(rows, title="Submissions", as_json=as_json, as_csv=as_csv, columns=[
            ("Id", "id"), ("Status", "status"), ("File", "original_name"),
            ("Version", "version"), ("Meeting", "meeting_date"),
            ("Loan officer", "loan_officer"), ("Submitted by", "submitted_by"),
            ("Errors", "error_count"), ("Collected", "cash_collected"),
            ("Paid out", "cash_paid_out")])

    @sub_app.command("show")
    def show_cmd(ctx: typer.Context, submission_id: Annotated[int, typer.Argument(
            metavar="ID")], as_json: JsonOption = False) -> None:
        """Show a submission: status, errors, posting and history."""
        cli = state(ctx)
        engine = cli.context()
        view = _submissions().show_submission(engine, submission_id,
                                              viewer_id=cli.viewer_id(engine))
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
            metavar="ID")], by: Annotated[Optional[str], typer.Option(
                "--by", help="The approving supervisor (id, e-mail or full name; default: "
                "who is acting, --as).")] = None,
            exclude_invalid: Annotated[bool, typer.Option(
                "--exclude-invalid", help="Post the valid rows only; the rows with errors "
                "go to a new sheet and stay due.")] = False,
            as_json: JsonOption = False) -> None:
        """Approve a submission and post it (one transaction; nothing is posted twice)."""
        from workbook_engine.services.imports.excluded_rows import write_excluded_sheet

        engine = state(ctx).context()
        view = _submissions().approve_submission(engine, submission_id=submission_id,
                                                 by=_decider(ctx, engine, by),
                                                 exclude_invalid=exclude_invalid,
                                                 write_excluded=write_excluded_sheet)
        if as_json:
            print_json(view)
            return
        say(posted_summary(submission_id, view.get("posting") or {},
                           money=lambda value: _money(value, view)))
        if view.get("excluded_rows"):
            say(f"{len(view['excluded_rows'])} row(s) excluded; they stay due. "
                f"New sheet: {view.get('excluded_sheet') or 'not written'}")

    @app.command("reject")
    def reject(ctx: typer.Context, submission_id: Annotated[int, typer.Argument(
            metavar="ID")], reason: Annotated[str, typer.Option("--reason")],
            by: Annotated[Optional[str], typer.Option(
                "--by", help="The supervisor rejecting it (default: who is acting, --as).")
            ] = None,
            as_json: JsonOption = False) -> None:
        """Reject a submission with a reason (nothing is posted)."""
        if not reason.strip():
            raise EngineError(USAGE, "--reason is empty: say why the submission is rejected "
                              "(the officer reads it), e.g. `reject "
                              f"{submission_id} --reason \"Wrong meeting date\"`.")
        engine = state(ctx).context()
        view = _submissions().reject_submission(engine, submission_id=submission_id,
                                                by=_decider(ctx, engine, by), reason=reason)
        if as_json:
            print_json(view)
        else:
            say(f"Submission {submission_id} rejected.")
