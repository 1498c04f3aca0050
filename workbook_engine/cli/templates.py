"""`workbook-engine template clients | setup --kind K`: templates to fill in Excel."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer

from workbook_engine.cli.common import out_folder, state
from workbook_engine.cli.output import print_json, say

#: The setup workbook kinds, in the order an institution loads them (checked against
#: ``workbooks/setup_import_sheet.SETUP_KINDS`` by a test; spelled here so that the command
#: line starts without loading the workbook code).
SETUP_KINDS_HELP = ("offices", "staff", "centers", "groups", "products", "loans", "savings",
                    "repayments", "savings_history")

LEGAL_FORMS = ("person", "entity")

template_app = typer.Typer(help="Templates to fill in and import.", no_args_is_help=True)


def _listed(allowed: tuple[str, ...]) -> Callable[[str], str]:
    """An option's callback: a value not in ``allowed`` is a usage mistake (exit 2) that
    lists them (the service refuses it too, but as a refusal, exit 1)."""
    def check(value: str) -> str:
        if value.strip().lower() not in allowed:
            raise typer.BadParameter(f"'{value}' is not one of: {', '.join(allowed)}")
        return value.strip().lower()
    return check


@template_app.command("clients")
def clients(
    ctx: typer.Context,
    office: Annotated[int, typer.Option("--office", help="The office (its branches are "
                                        "offered too).")],
    out: Annotated[Path, typer.Option(
        "--out", help="Folder to write the template into.", callback=out_folder)],
    legal_form: Annotated[str, typer.Option("--legal-form", help="person or entity.",
                                            callback=_listed(LEGAL_FORMS))] = "person",
    staff: Annotated[Optional[int], typer.Option(
        "--staff", help="Only this loan officer in the staff drop-down.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Write a client-import template: dropdowns, mandatory columns, signed."""
    from workbook_engine.services.imports.client_import import generate_client_template

    cli = state(ctx)
    engine = cli.context()
    result = generate_client_template(engine, actor_id=cli.actor_id(engine), office_id=office,
                                      legal_form=legal_form, out_dir=out, staff_id=staff)
    if as_json:
        print_json({"workbook_id": result.workbook_id, "path": result.path,
                    "office": result.office, "legal_form": result.legal_form,
                    "columns": result.columns})
        return
    kind = {"person": "persons", "entity": "entities"}.get(result.legal_form,
                                                          result.legal_form)
    say(f"Template for {kind} of {result.office}: {result.path}")


@template_app.command("setup")
def setup(
    ctx: typer.Context,
    kind: Annotated[str, typer.Option("--kind", help="What the workbook loads, in this order: "
                                      + ", ".join(SETUP_KINDS_HELP) + " (clients come between "
                                      "products and loans: `template clients`).",
                                      callback=_listed(SETUP_KINDS_HELP))],
    out: Annotated[Path, typer.Option(
        "--out", help="Folder to write the template into.", callback=out_folder)],
    office: Annotated[Optional[int], typer.Option(
        "--office", help="Only this office and its branches in the drop-downs.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Write a setup or migration template: drop-downs of what already exists, signed."""
    from workbook_engine.services.imports.setup_import import generate_setup_template

    cli = state(ctx)
    engine = cli.context()
    result = generate_setup_template(engine, actor_id=cli.actor_id(engine), kind=kind,
                                     out_dir=out, office_id=office)
    if as_json:
        print_json({"workbook_id": result.workbook_id, "path": result.path,
                    "kind": result.kind, "office": result.office,
                    "columns": result.columns})
        return
    say(f"Template for {result.kind}" + (f" of {result.office}" if result.office else "")
        + f": {result.path}")


def register(app: typer.Typer) -> None:
    """Add the `template` commands to the root app."""
    app.add_typer(template_app, name="template")
