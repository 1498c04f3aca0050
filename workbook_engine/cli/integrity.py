"""`check`: do the books agree with themselves? Exit code 1 when anything breaks."""

from typing import Annotated, Optional

import typer

from workbook_engine.cli.common import state
from workbook_engine.cli.output import JsonOption, console, print_json


def register(app: typer.Typer) -> None:
    """Add the `check` command to the root app."""

    @app.command()
    def check(
        ctx: typer.Context,
        office: Annotated[Optional[int], typer.Option(
            "--office", help="Only the clients, groups and centers of this office (and the "
            "offices below it).")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Check every financial invariant; list each row that breaks one (exit code 1)."""
        from workbook_engine.services.ledger.integrity import run_check, summary_lines

        report = run_check(state(ctx).context(), office_id=office)
        if as_json:
            print_json(report.as_dict())
        else:
            for line in summary_lines(report):
                style = None if line.startswith("ok") or report.ok else "red"
                console().print(line, style=style, highlight=False, soft_wrap=True,
                                markup=False)
        if not report.ok:
            raise typer.Exit(code=1)
