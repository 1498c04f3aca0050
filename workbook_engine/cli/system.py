"""`init`, `demo`, `keys rotate`, `errors`: setting up and looking after an engine."""


from typing import Annotated

import typer

from workbook_engine.cli.common import state
from workbook_engine.cli.output import (
    CsvOption,
    JsonOption,
    console,
    print_json,
    print_listing,
    say,
)


def register(app: typer.Typer) -> None:
    """Add the system commands to the root app."""

    @app.command()
    def init(
        ctx: typer.Context,
        demo: Annotated[bool, typer.Option("--demo", help="Load the demo institution.")] = False,
        scale: Annotated[int, typer.Option(
            "--scale", min=1, help="Multiply the demo (for benchmarks).")] = 1,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """Create or upgrade the database, folders and signing secret."""
        from rich.progress import Progress, SpinnerColumn, TextColumn

        from workbook_engine.services.setup.system import initialise

        engine = state(ctx).context(require_schema=False)
        with Progress(SpinnerColumn(), TextColumn("{task.description}"), console=console(),
                      transient=True, disable=as_json) as progress:
            progress.add_task("Setting up the database" + (" and the demo" if demo else ""))
            result = initialise(engine, demo=demo, scale=scale)
        if as_json:
            print_json(result.__dict__)
            return
        say(f"Database ready at {result.database_url} (schema {result.revision}).")
        say(f"Working folder: {engine.home}")
        if result.secret_created:
            say(f"A new signing secret was written to {engine.settings.secret_file} (keep it "
                "private; share it only with the engine's other machines).")
        if result.demo_loaded:
            say("The demo institution is loaded: try `workbook-engine centers list`.")

    keys = typer.Typer(help="Manage the workbook signing keys.", no_args_is_help=True)

    @keys.command("rotate")
    def rotate(ctx: typer.Context) -> None:
        """Start signing with a new key; workbooks signed before still verify."""
        from workbook_engine.workbooks.signing import rotate_key

        engine = state(ctx).context(require_schema=False)
        key_id = rotate_key(engine.settings.secret_file)
        say(f"New signing key {key_id} is now in use.")

    app.add_typer(keys, name="keys")
    register_demo(app)

    @app.command("errors")
    def errors_cmd(
        markdown: Annotated[bool, typer.Option("--markdown",
                                               help="Print docs/errors.md.")] = False,
        as_json: JsonOption = False, as_csv: CsvOption = False,
    ) -> None:
        """List the error catalogue: every code, what it means and how to fix it."""
        from workbook_engine.errors.docs import catalogue_markdown, catalogue_rows

        if markdown:
            typer.echo(catalogue_markdown(), nl=False)
            return
        print_listing(catalogue_rows(), title="Error catalogue", as_json=as_json,
                      as_csv=as_csv, columns=[("Code", "code"), ("Title", "title"),
                                              ("How to fix", "how_to_fix")])


def register_demo(app: typer.Typer) -> None:
    """The `demo` command: the whole loop on the embedded default database."""

    @app.command()
    def demo(
        ctx: typer.Context,
        scale: Annotated[int, typer.Option("--scale", min=1, help="Multiply the demo.")] = 1,
    ) -> None:
        """Run the demo: a fresh demo institution in the working folder, and a tour of it."""
        from workbook_engine.services.setup.demo_run import run_demo

        cli_state = state(ctx)
        engine = cli_state.context(require_schema=False)
        report = run_demo(engine, console(), scale=scale)
        if not report.ok:
            raise typer.Exit(code=1)
