"""`offices|staff|centers|groups|clients list|show`: browsing the client database."""


from collections.abc import Callable
from typing import Annotated, Any, Optional

import typer

from workbook_engine.cli.common import print_json, print_record, print_table, state, sub_app
from workbook_engine.services.clients import directory

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _list_command(app: typer.Typer, title: str, columns: list[tuple[str, str]],
                  lister: Callable[..., list[dict[str, Any]]],
                  filters: dict[str, str]) -> None:
    def list_cmd(ctx: typer.Context, as_json: JsonOption = False,
                 office: Annotated[Optional[int], typer.Option(
                     "--office", help="Only this office.")] = None) -> None:
        engine = state(ctx).context()
        kwargs = {"office_id": office} if "office" in filters else {}
        rows = lister(engine, **kwargs)
        if as_json:
            print_json(rows)
        else:
            print_table(title, [c for c, _ in columns],
                        ([_format(r.get(k)) for _, k in columns] for r in rows))

    list_cmd.__doc__ = f"List {title.lower()}."
    app.command("list")(list_cmd)


def _show_command(app: typer.Typer, what: str,
                  shower: Callable[[Any, int], dict[str, Any]]) -> None:
    def show_cmd(ctx: typer.Context, record_id: Annotated[int, typer.Argument(
            metavar="ID", help=f"The {what}'s id.")], as_json: JsonOption = False) -> None:
        view = shower(state(ctx).context(), record_id)
        if as_json:
            print_json(view)
        else:
            print_record(f"{what.capitalize()} {record_id}",
                         ((k.replace("_", " "), _format(v)) for k, v in view.items()))

    show_cmd.__doc__ = f"Show one {what}."
    app.command("show")(show_cmd)


def _format(value: Any) -> Any:
    if isinstance(value, list):
        if value and isinstance(value[0], dict):
            return "\n".join(", ".join(f"{k}: {v}" for k, v in item.items()) for item in value)
        return ", ".join(str(v) for v in value)
    return value


def register(root: typer.Typer) -> None:
    """Add the directory commands to the root app."""
    specs = [
        ("offices", "office", "Offices",
         [("Id", "id"), ("Name", "name"), ("Parent", "parent"), ("Opened", "opening_date")],
         directory.list_offices, directory.show_office, {}),
        ("staff", "member of staff", "Staff",
         [("Id", "id"), ("Name", "name"), ("Office", "office"), ("Roles", "roles"),
          ("Active", "active"), ("E-mail", "email")],
         directory.list_staff, directory.show_staff, {"office": "office_id"}),
        ("centers", "center", "Centers",
         [("Id", "id"), ("Name", "name"), ("Office", "office"), ("Loan officer", "staff"),
          ("Meetings", "meetings"), ("Next meeting", "next_meeting")],
         directory.list_centers, directory.show_center, {"office": "office_id"}),
        ("groups", "group", "Groups",
         [("Id", "id"), ("Name", "name"), ("Center", "center"), ("Office", "office"),
          ("Members", "members"), ("Next meeting", "next_meeting")],
         directory.list_groups, directory.show_group, {"office": "office_id"}),
    ]
    for name, what, title, columns, lister, shower, filters in specs:
        sub = sub_app(root, name, f"{title}: browse and set up.")
        _list_command(sub, title, columns, lister, filters)
        _show_command(sub, what, shower)
