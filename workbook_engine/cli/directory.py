"""`offices|staff|centers|groups list|show`: browsing the client database."""


from typing import Annotated, Any, Optional

import typer

from workbook_engine.cli.common import state, sub_app
from workbook_engine.cli.output import (
    CsvOption,
    JsonOption,
    print_json,
    print_listing,
    print_record,
)


def _directory() -> Any:  # noqa: ANN401 - the service module
    from workbook_engine.services.clients import directory

    return directory


def _list_command(app: typer.Typer, title: str, columns: list[tuple[str, str]],
                  lister: str, filters: bool) -> None:
    def list_cmd(ctx: typer.Context, as_json: JsonOption = False, as_csv: CsvOption = False,
                 office: Annotated[Optional[int], typer.Option(
                     "--office", help="Only this office.")] = None) -> None:
        if office is not None and not filters:
            raise typer.BadParameter(f"{title.lower()} are not listed by office; leave it "
                                     "out", param_hint="'--office'")
        cli_state = state(ctx)
        engine = cli_state.context()
        options: dict[str, Any] = {"office_id": office} if filters else {}
        if lister in _SCOPED_LISTS:  # only what the member of staff named may see
            options["viewer_id"] = cli_state.viewer_id(engine)
        rows = getattr(_directory(), lister)(engine, **options)
        print_listing(rows, title=title, columns=columns, as_json=as_json, as_csv=as_csv)

    list_cmd.__doc__ = f"List {title.lower()}."
    app.command("list")(list_cmd)


_SCOPED = {"center": "Center", "group": "Group"}
"""The records whose page a member of staff named by ``--as`` sees only when they may."""

_SCOPED_LISTS = {"list_centers", "list_groups"}
"""The listings that show a member of staff named by ``--as`` only what they may see
(offices and staff are everyone's to read)."""


def _show_command(app: typer.Typer, what: str, shower: str) -> None:
    def show_cmd(ctx: typer.Context, record_id: Annotated[int, typer.Argument(
            metavar="ID", help=f"The {what}'s id.")], as_json: JsonOption = False) -> None:
        cli_state = state(ctx)
        model = _SCOPED.get(what)
        engine = (cli_state.viewing(model, record_id, what) if model
                  else cli_state.context())
        view = getattr(_directory(), shower)(engine, record_id)
        if as_json:
            print_json(view)
        else:
            print_record(f"{what.capitalize()} {record_id}",
                         ((k.replace("_", " "), v) for k, v in view.items()))

    show_cmd.__doc__ = f"Show one {what}."
    app.command("show")(show_cmd)


SPECS: list[tuple[str, str, str, list[tuple[str, str]], bool]] = [
    ("offices", "office", "Offices",
     [("Id", "id"), ("Name", "name"), ("Parent", "parent"), ("Opened", "opening_date")], False),
    ("staff", "member of staff", "Staff",
     [("Id", "id"), ("Name", "name"), ("Office", "office"), ("Roles", "roles"),
      ("Active", "active"), ("E-mail", "email")], True),
    ("centers", "center", "Centers",
     [("Id", "id"), ("Name", "name"), ("Office", "office"), ("Loan officer", "staff"),
      ("Meetings", "meetings"), ("Next meeting", "next_meeting")], True),
    ("groups", "group", "Groups",
     [("Id", "id"), ("Name", "name"), ("Center", "center"), ("Office", "office"),
      ("Members", "members"), ("Next meeting", "next_meeting")], True),
]


def register(root: typer.Typer) -> None:
    """Add the directory commands to the root app."""
    for name, what, title, columns, filters in SPECS:
        sub = sub_app(root, name, f"{title}: browse and set up.")
        singular = {"staff": "staff"}.get(name, name.rstrip("s"))
        _list_command(sub, title, columns, f"list_{name}", filters)
        _show_command(sub, what, f"show_{singular}")
