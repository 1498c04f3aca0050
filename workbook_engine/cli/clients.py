"""`clients ...`, `loans show`, `savings show`, `codes list|add`: managing clients.

Thin shells: each command parses its options, calls one service and prints the result (a
readable page or table, or JSON with ``--json``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from workbook_engine.cli.common import (
    check_office_scope,
    check_scope,
    one_of,
    option_date,
    something_to_change,
    state,
)
from workbook_engine.cli.output import (
    CsvOption,
    JsonOption,
    cell_text,
    console,
    make_table,
    print_json,
    print_listing,
    print_renderable,
    say,
)
from workbook_engine.errors import EngineError
from workbook_engine.errors.clients import CLIENT_FIELD_INVALID

if TYPE_CHECKING:
    from rich.table import Table

DateOption = Annotated[Optional[str], typer.Option("--date", help="YYYY-MM-DD (default: today).")]
ClientId = Annotated[int, typer.Argument(metavar="CLIENT", help="The client's id.")]

clients_app = typer.Typer(help="Browse and manage clients.", no_args_is_help=True)
family_app = typer.Typer(help="A client's family members.", no_args_is_help=True)
address_app = typer.Typer(help="A client's addresses.", no_args_is_help=True)
documents_app = typer.Typer(help="A client's documents.", no_args_is_help=True)
transfer_app = typer.Typer(help="Move a client to another office.", no_args_is_help=True)
fields_app = typer.Typer(help="Additional client details defined by the MFI.",
                         no_args_is_help=True)
codes_app = typer.Typer(help="Code lists (gender, client type, reasons, ...).",
                        no_args_is_help=True)
loans_app = typer.Typer(help="Loans.", no_args_is_help=True)
savings_app = typer.Typer(help="Savings accounts.", no_args_is_help=True)
clients_app.add_typer(family_app, name="family")
clients_app.add_typer(address_app, name="address")
clients_app.add_typer(documents_app, name="documents")
clients_app.add_typer(transfer_app, name="transfer")
clients_app.add_typer(fields_app, name="fields")


def register(root: typer.Typer) -> None:
    """Add `clients`, `codes`, `loans show` and `savings show` to the root app."""
    names = {g.name for g in root.registered_groups}
    for app, name in ((clients_app, "clients"), (codes_app, "codes"), (loans_app, "loans"),
                      (savings_app, "savings")):
        if name not in names:
            root.add_typer(app, name=name)


def _service(name: str) -> Any:  # noqa: ANN401 - a module of services/clients
    """A module of ``services/clients`` (imported when a command needs it, not at start)."""
    import importlib

    return importlib.import_module(f"workbook_engine.services.clients.{name}")


def _done(ctx: typer.Context, as_json: bool, message: str, client_id: int | None = None,
          **extra: Any) -> None:
    """After a change: the client's summary as JSON, or one sentence."""
    if as_json:
        data: dict[str, Any] = dict(extra)
        if client_id is not None:
            with state(ctx).context().session_factory() as s:
                from workbook_engine.domain import Client

                client = s.get(Client, client_id)
                if client is not None:
                    data = {**_service("directory").client_summary(client), **extra}
        print_json(data)
    else:
        say(message)


def _change(ctx: typer.Context, as_json: bool, message: str, service: str,
            client_id: int, **arguments: Any) -> None:
    """Run one client lifecycle service as the acting member of staff, then report as
    :func:`_done`."""
    engine, actor = _engine_and_actor(ctx, client_id)
    getattr(_service("lifecycle"), service)(engine, actor_id=actor, client_id=client_id,
                                            **arguments)
    _done(ctx, as_json, message, client_id)


def _engine_and_actor(ctx: typer.Context, client_id: int | None = None,
                      ) -> tuple[Any, int | None]:
    """The engine and who acts; with ``client_id``, a client the actor may act on."""
    st = state(ctx)
    engine = st.context()
    actor = st.actor_id(engine)
    if client_id is not None:
        check_scope(engine, actor, "Client", client_id, "client")
    return engine, actor


def _pairs(items: list[str] | None, what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in items or []:
        if "=" not in item:
            raise EngineError(CLIENT_FIELD_INVALID, f"The {what} '{item}' must be written "
                              "NAME=VALUE.", field=what, value=item)
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out


# ---------------------------------------------------------------- list and show

@clients_app.command("list")
def list_clients(
    ctx: typer.Context,
    as_json: JsonOption = False, as_csv: CsvOption = False,
    office: Annotated[Optional[int], typer.Option("--office", help="Only this office.")] = None,
    status: Annotated[Optional[str], typer.Option(
        "--status", help="Only clients in this status (pending, active, closed, ...).",
        callback=lambda value: one_of(value, "ClientStatus", "--status"))] = None,
    group: Annotated[Optional[int], typer.Option("--group", help="Only this group.")] = None,
    search: Annotated[Optional[str], typer.Option(
        "--search", help="Part of a name or external id.")] = None,
    limit: Annotated[Optional[int], typer.Option("--limit", help="At most this many.")] = None,
) -> None:
    """List clients."""
    cli_state = state(ctx)
    engine = cli_state.context()
    rows = _service("directory").list_clients(engine, office_id=office, status=status,
                                              group_id=group, search=search, limit=limit,
                                              viewer_id=cli_state.viewer_id(engine))
    print_listing(rows, title="Clients", as_json=as_json, as_csv=as_csv, columns=[
        ("Id", "id"), ("Name", "name"), ("Status", "status"), ("Office", "office"),
        ("Loan officer", "staff"), ("Mobile", "mobile_no")])


def _grid(pairs: list[tuple[str, Any]]) -> Table:
    from rich.table import Table

    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for name, value in pairs:
        if value not in (None, "", []):
            grid.add_row(name, cell_text(value))
    return grid


def _panel(grid: Table, title: str) -> Any:  # noqa: ANN401 - a rich Panel
    from rich.panel import Panel

    return Panel(grid, title=title, border_style="dim")


def render_client(view: dict[str, Any]) -> None:
    """A client's page: panels of details, then one table per kind of record."""
    person = view["legal_form"] == "person"
    details = _grid([
        ("Legal form", view["legal_form"]), ("Date of birth", view.get("date_of_birth")),
        ("Gender", view.get("gender")), ("Mobile", view.get("mobile_no")),
        ("E-mail", view.get("email")), ("External id", view.get("external_id")),
        ("Client type", view.get("client_type")),
        ("Classification", view.get("client_classification")),
        ("Incorporated", view.get("incorporation_date")),
        ("Valid till", view.get("incorporation_valid_till")),
        ("Incorporation no.", view.get("incorporation_number")),
        ("Constitution", view.get("constitution")),
        ("Business line", view.get("main_business_line")), ("Remarks", view.get("remarks")),
    ] + [(f["label"], f["value"]) for f in view.get("additional", [])])
    office = _grid([
        ("Status", view["status"].replace("_", " ")), ("Office", view["office"]),
        ("Staff", view.get("staff") or "none assigned"),
        ("Groups", ", ".join(view.get("groups") or [])),
        ("Submitted", view.get("submitted_on")), ("Activated", view.get("activation_date")),
        ("Reactivated", view.get("reactivation_date")),
        ("Closed", view.get("closure_date")), ("Closure reason", view.get("closure_reason")),
        ("Rejected", view.get("rejection_date")),
        ("Rejection reason", view.get("rejection_reason")),
        ("Withdrawn", view.get("withdrawal_date")),
        ("Withdrawal reason", view.get("withdrawal_reason")),
        ("Transfer to", view.get("transfer_to_office")),
        ("Transfer proposed", view.get("transfer_proposed_on")),
    ])
    from rich.columns import Columns
    from rich.markup import escape
    from rich.panel import Panel

    title = f"[bold]{escape(view['name'])}[/bold] (client {view['id']})"
    print_renderable(Panel(Columns([_panel(details, "Personal details" if person
                                           else "Entity details"),
                                    _panel(office, "Office and status")]), title=title))
    if view["family"]:
        print_renderable(make_table("Family", ["Id", "Name", "Relationship", "Gender", "Age",
                                        "Mobile", "Dependent", "Contact"],
                             [[f["id"], f["name"], f["relationship"], f["gender"], f["age"],
                               f["mobile_no"], f["is_dependent"], f["is_contact"]]
                              for f in view["family"]]))
    if view["addresses"]:
        print_renderable(make_table("Addresses", ["Id", "Type", "Street", "City", "State/province",
                                           "Country", "Postal code", "Active"],
                             [[a["id"], a["address_type"],
                               ", ".join(x for x in (a["street"], a["line_1"], a["line_2"],
                                                     a["line_3"]) if x),
                               a["city"], a["state_province"], a["country"],
                               a["postal_code"], a["active"]] for a in view["addresses"]]))
    if view["documents"]:
        print_renderable(make_table("Documents", ["Id", "Name", "Description", "File", "Type",
                                           "Size"],
                             [[d["id"], d["name"], d["description"], d["file_name"],
                               d["content_type"].split("/")[-1][:20], f"{d['size']:,}"]
                              for d in view["documents"]]))
    print_renderable(make_table("Loans", ["Id", "Account", "Product", "Status", "Principal",
                                   "Outstanding", "Overdue", "Days in arrears"],
                         [[x["id"], x["account_no"], x["product"], x["status"], x["principal"],
                           x["outstanding"], x["overdue"], x["days_in_arrears"] or ""]
                          for x in view["loans"]])
                  if view["loans"] else "No loans.")
    print_renderable(make_table("Savings", ["Id", "Account", "Product", "Status", "Balance"],
                         [[x["id"], x["account_no"], x["product"], x["status"], x["balance"]]
                          for x in view["savings"]])
                  if view["savings"] else "No savings accounts.")
    print_renderable(make_table("Status history", ["Date", "From", "To", "Reason", "Note",
                                                   "By"],
                         [[h["on_date"], (h["from"] or "").replace("_", " "),
                           h["to"].replace("_", " "), h["reason"], h["note"], h["by"]]
                          for h in view["status_history"]]))


@clients_app.command("show")
def show_client(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False) -> None:
    """Show a client's whole page: details, family, addresses, documents, portfolio."""
    view = _service("views").client_page(
        state(ctx).viewing("Client", client_id, "client"), client_id)
    if as_json:
        print_json(view)
    else:
        render_client(view)


# ---------------------------------------------------------------- create and edit

Opt = typer.Option
FirstName = Annotated[Optional[str], Opt("--first-name", help="A person's first name.")]
MiddleName = Annotated[Optional[str], Opt("--middle-name")]
LastName = Annotated[Optional[str], Opt("--last-name", help="A person's last name.")]
FullName = Annotated[Optional[str], Opt("--name", help="An entity's name.")]
Mobile = Annotated[Optional[str], Opt("--mobile", help="Mobile number.")]
Email = Annotated[Optional[str], Opt("--email")]
Born = Annotated[Optional[str], Opt("--date-of-birth", help="YYYY-MM-DD.")]
Gender = Annotated[Optional[str], Opt("--gender", help="A value of the gender code.")]
ClientType = Annotated[Optional[str], Opt("--client-type")]
Classification = Annotated[Optional[str], Opt("--classification")]
ExternalId = Annotated[Optional[str], Opt("--external-id")]
IncDate = Annotated[Optional[str], Opt("--incorporation-date")]
IncTill = Annotated[Optional[str], Opt("--incorporation-valid-till")]
IncNumber = Annotated[Optional[str], Opt("--incorporation-number")]
Constitution = Annotated[Optional[str], Opt("--constitution")]
BusinessLine = Annotated[Optional[str], Opt("--business-line")]
Remarks = Annotated[Optional[str], Opt("--remarks")]
Additional = Annotated[Optional[list[str]], Opt(
    "--detail", help="An additional detail NAME=VALUE (repeat for several).")]


@clients_app.command("create")
def create(
    ctx: typer.Context,
    office: Annotated[int, Opt("--office", help="The office's id.")],
    legal_form: Annotated[str, Opt("--legal-form", help="person or entity.")] = "person",
    first_name: FirstName = None, middle_name: MiddleName = None, last_name: LastName = None,
    full_name: FullName = None, mobile: Mobile = None, email: Email = None,
    date_of_birth: Born = None, gender: Gender = None, client_type: ClientType = None,
    classification: Classification = None, external_id: ExternalId = None,
    incorporation_date: IncDate = None, incorporation_valid_till: IncTill = None,
    incorporation_number: IncNumber = None, constitution: Constitution = None,
    business_line: BusinessLine = None, remarks: Remarks = None,
    staff: Annotated[Optional[int], Opt("--staff", help="Assign this staff id.")] = None,
    group: Annotated[Optional[int], Opt("--group", help="Join this group.")] = None,
    submitted_on: Annotated[Optional[str], Opt("--submitted-on")] = None,
    active: Annotated[bool, Opt("--active", help="Activate at once.")] = False,
    activation_date: Annotated[Optional[str], Opt(
        "--activation-date", help="Activate on this date (YYYY-MM-DD; implies --active).")
    ] = None,
    detail: Additional = None, as_json: JsonOption = False,
) -> None:
    """Create a client (a person, or an entity with --legal-form entity)."""
    engine, actor = _engine_and_actor(ctx)
    check_office_scope(engine, actor, office)
    client_id = _service("lifecycle").create_client(
        engine, actor_id=actor, office_id=office, legal_form=legal_form,
        first_name=first_name, middle_name=middle_name, last_name=last_name,
        full_name=full_name, mobile_no=mobile, email=email, date_of_birth=date_of_birth,
        gender=gender, client_type=client_type, client_classification=classification,
        external_id=external_id, incorporation_date=incorporation_date,
        incorporation_valid_till=incorporation_valid_till,
        incorporation_number=incorporation_number, constitution=constitution,
        main_business_line=business_line, remarks=remarks, staff_id=staff, group_id=group,
        submitted_on=option_date(submitted_on, "--submitted-on"),
        active=active or activation_date is not None,  # a date to activate on activates
        activation_date=option_date(activation_date, "--activation-date"),
        additional=_pairs(detail, "detail"))
    _done(ctx, as_json, f"Client {client_id} created.", client_id)


@clients_app.command("edit")
def edit(
    ctx: typer.Context, client_id: ClientId,
    first_name: FirstName = None, middle_name: MiddleName = None, last_name: LastName = None,
    full_name: FullName = None, mobile: Mobile = None, email: Email = None,
    date_of_birth: Born = None, gender: Gender = None, client_type: ClientType = None,
    classification: Classification = None, external_id: ExternalId = None,
    incorporation_date: IncDate = None, incorporation_valid_till: IncTill = None,
    incorporation_number: IncNumber = None, constitution: Constitution = None,
    business_line: BusinessLine = None, remarks: Remarks = None,
    detail: Additional = None,
    clear: Annotated[Optional[list[str]], Opt(
        "--clear", help="Empty this detail (e.g. --clear middle_name).")] = None,
    as_json: JsonOption = False,
) -> None:
    """Change a client's details (only the options given; --clear empties one)."""
    changes: dict[str, Any] = {k: v for k, v in {
        "first_name": first_name, "middle_name": middle_name, "last_name": last_name,
        "full_name": full_name, "mobile_no": mobile, "email": email,
        "date_of_birth": date_of_birth, "gender": gender, "client_type": client_type,
        "client_classification": classification, "external_id": external_id,
        "incorporation_date": incorporation_date,
        "incorporation_valid_till": incorporation_valid_till,
        "incorporation_number": incorporation_number, "constitution": constitution,
        "main_business_line": business_line, "remarks": remarks}.items() if v is not None}
    for name in clear or []:
        changes[name] = None
    if detail:
        changes["additional"] = _pairs(detail, "detail")
    _change(ctx, as_json, f"Client {client_id} updated.",
            "edit_client", client_id, changes=something_to_change(changes, "clients edit"))


# ---------------------------------------------------------------- lifecycle

Reason = Annotated[str, Opt("--reason", help="A value of the matching reason code.")]


@clients_app.command("activate")
def activate(ctx: typer.Context, client_id: ClientId, date: DateOption = None,
             as_json: JsonOption = False) -> None:
    """Activate a pending client."""
    _change(ctx, as_json, f"Client {client_id} is active.",
            "activate_client", client_id, activation_date=option_date(date, "--date"))


@clients_app.command("close")
def close(ctx: typer.Context, client_id: ClientId, reason: Reason, date: DateOption = None,
          as_json: JsonOption = False) -> None:
    """Close an active client (no open loans, no savings with a balance)."""
    _change(ctx, as_json, f"Client {client_id} is closed.",
            "close_client", client_id,
            closure_date=option_date(date, "--date"), closure_reason=reason)


@clients_app.command("reactivate")
def reactivate(ctx: typer.Context, client_id: ClientId, date: DateOption = None,
               as_json: JsonOption = False) -> None:
    """Make a closed client active again."""
    _change(ctx, as_json, f"Client {client_id} is active again.",
            "reactivate_client", client_id, reactivation_date=option_date(date, "--date"))


@clients_app.command("reject")
def reject(ctx: typer.Context, client_id: ClientId, reason: Reason, date: DateOption = None,
           as_json: JsonOption = False) -> None:
    """Reject a pending client."""
    _change(ctx, as_json, f"Client {client_id} is rejected.",
            "reject_client", client_id,
            rejection_date=option_date(date, "--date"), reason=reason)


@clients_app.command("withdraw")
def withdraw(ctx: typer.Context, client_id: ClientId, reason: Reason, date: DateOption = None,
             as_json: JsonOption = False) -> None:
    """Record that a pending client withdrew."""
    _change(ctx, as_json, f"Client {client_id} is withdrawn.",
            "withdraw_client", client_id,
            withdrawal_date=option_date(date, "--date"), reason=reason)


@clients_app.command("undo-reject")
def undo_reject(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False) -> None:
    """Bring a rejected client back to pending."""
    _change(ctx, as_json, f"Client {client_id} is pending again.",
            "undo_rejection", client_id)


@clients_app.command("undo-withdraw")
def undo_withdraw(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False) -> None:
    """Bring a withdrawn client back to pending."""
    _change(ctx, as_json, f"Client {client_id} is pending again.",
            "undo_withdrawal", client_id)


@clients_app.command("assign-staff")
def assign_staff(ctx: typer.Context, client_id: ClientId,
                 staff: Annotated[int, typer.Argument(metavar="STAFF", help="Staff id.")],
                 as_json: JsonOption = False) -> None:
    """Assign an active member of staff of the client's office."""
    _change(ctx, as_json, f"Staff {staff} assigned to client {client_id}.",
            "assign_staff", client_id, staff_id=staff)


@clients_app.command("unassign-staff")
def unassign_staff(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False) -> None:
    """Remove the client's assigned member of staff."""
    _change(ctx, as_json, f"Client {client_id} has no staff assigned now.",
            "unassign_staff", client_id)


Note = Annotated[Optional[str], Opt("--note", help="Why, in a few words.")]


@transfer_app.command("propose")
def transfer_propose(ctx: typer.Context, client_id: ClientId,
                     to: Annotated[int, Opt("--to", help="The destination office's id.")],
                     date: DateOption = None, note: Note = None,
                     as_json: JsonOption = False) -> None:
    """Propose a transfer to another office (the client is then 'transfer in progress')."""
    _change(ctx, as_json, f"Transfer of client {client_id} proposed.",
            "propose_transfer", client_id,
            to_office_id=to, on_date=option_date(date, "--date"), note=note)


@transfer_app.command("accept")
def transfer_accept(ctx: typer.Context, client_id: ClientId, date: DateOption = None,
                    group: Annotated[Optional[int], Opt(
                        "--to-group", "--group", help="The group of the new office the "
                        "client joins (required for a member of a group).")] = None,
                    staff: Annotated[Optional[int], Opt(
                        "--staff", help="Assign this staff of the new office.")] = None,
                    as_json: JsonOption = False) -> None:
    """Accept a proposed transfer: the client moves to the new office, with its loans (to
    the new loan officer: --staff, else the group's)."""
    _change(ctx, as_json, f"Client {client_id} transferred.",
            "accept_transfer", client_id,
            on_date=option_date(date, "--date"), group_id=group, staff_id=staff)


@transfer_app.command("reject")
def transfer_reject(ctx: typer.Context, client_id: ClientId, date: DateOption = None,
                    note: Note = None, as_json: JsonOption = False) -> None:
    """Reject a proposed transfer: it is put on hold."""
    _change(ctx, as_json, f"Transfer of client {client_id} rejected (on hold).",
            "reject_transfer", client_id, on_date=option_date(date, "--date"), note=note)


@transfer_app.command("withdraw")
def transfer_withdraw(ctx: typer.Context, client_id: ClientId, date: DateOption = None,
                      note: Note = None, as_json: JsonOption = False) -> None:
    """Withdraw a proposed (or on hold) transfer: the client stays where it is."""
    _change(ctx, as_json, f"Transfer of client {client_id} withdrawn.",
            "withdraw_transfer", client_id, on_date=option_date(date, "--date"), note=note)


# ---------------------------------------------------------------- family and addresses

def _family_options(first_name: str | None, middle_name: str | None, last_name: str | None,
                    relationship: str | None, gender: str | None, marital_status: str | None,
                    profession: str | None, date_of_birth: str | None, age: int | None,
                    mobile: str | None, dependent: bool | None,
                    contact: bool | None) -> dict[str, Any]:
    return {k: v for k, v in {
        "first_name": first_name, "middle_name": middle_name, "last_name": last_name,
        "relationship": relationship, "gender": gender, "marital_status": marital_status,
        "profession": profession, "date_of_birth": date_of_birth, "age": age,
        "mobile_no": mobile, "is_dependent": dependent, "is_contact": contact}.items()
        if v is not None}


Relationship = Annotated[Optional[str], Opt("--relationship")]
MaritalStatus = Annotated[Optional[str], Opt("--marital-status")]
Profession = Annotated[Optional[str], Opt("--profession")]
Age = Annotated[Optional[int], Opt("--age")]
Dependent = Annotated[Optional[bool], Opt("--dependent/--not-dependent")]
Contact = Annotated[Optional[bool], Opt(
    "--contact/--not-contact", help="The one to call when the client cannot be reached.")]
ReplaceContact = Annotated[bool, Opt(
    "--replace-contact", help="With --contact: this one replaces the client's contact.")]
RecordId = Annotated[int, typer.Argument(metavar="ID", help="The record's id.")]


@family_app.command("add")
def family_add(ctx: typer.Context, client_id: ClientId, first_name: FirstName = None,
               middle_name: MiddleName = None, last_name: LastName = None,
               relationship: Relationship = None, gender: Gender = None,
               marital_status: MaritalStatus = None, profession: Profession = None,
               date_of_birth: Born = None, age: Age = None, mobile: Mobile = None,
               dependent: Dependent = None, contact: Contact = None,
               replace_contact: ReplaceContact = False, as_json: JsonOption = False) -> None:
    """Add a family member."""
    engine, actor = _engine_and_actor(ctx, client_id)
    member_id = _service("contacts").add_family_member(
        engine, actor_id=actor, client_id=client_id, replace_contact=replace_contact,
        **_family_options(
            first_name, middle_name, last_name, relationship, gender, marital_status,
            profession, date_of_birth, age, mobile, dependent, contact))
    _done(ctx, as_json, f"Family member {member_id} added.", id=member_id)


@family_app.command("edit")
def family_edit(ctx: typer.Context, member_id: RecordId, first_name: FirstName = None,
                middle_name: MiddleName = None, last_name: LastName = None,
                relationship: Relationship = None, gender: Gender = None,
                marital_status: MaritalStatus = None, profession: Profession = None,
                date_of_birth: Born = None, age: Age = None, mobile: Mobile = None,
                dependent: Dependent = None, contact: Contact = None,
                replace_contact: ReplaceContact = False, as_json: JsonOption = False) -> None:
    """Change a family member's details."""
    changes = something_to_change(_family_options(
        first_name, middle_name, last_name, relationship, gender, marital_status, profession,
        date_of_birth, age, mobile, dependent, contact), "clients family edit")
    engine, actor = _engine_and_actor(ctx)
    _service("contacts").edit_family_member(
        engine, actor_id=actor, member_id=member_id, replace_contact=replace_contact,
        changes=changes)
    _done(ctx, as_json, f"Family member {member_id} updated.", id=member_id)


@family_app.command("remove")
def family_remove(ctx: typer.Context, member_id: RecordId, as_json: JsonOption = False) -> None:
    """Remove a family member."""
    engine, actor = _engine_and_actor(ctx)
    _service("contacts").remove_family_member(engine, actor_id=actor, member_id=member_id)
    _done(ctx, as_json, f"Family member {member_id} removed.", id=member_id, removed=True)


@family_app.command("list")
def family_list(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False,
                as_csv: CsvOption = False) -> None:
    """List a client's family members."""
    rows = _service("contacts").list_family_members(state(ctx).context(), client_id)
    print_listing(rows, title="Family", as_json=as_json, as_csv=as_csv, columns=[
        ("Id", "id"), ("Name", "name"), ("Relationship", "relationship"), ("Gender", "gender"),
        ("Age", "age"), ("Mobile", "mobile_no"), ("Dependent", "is_dependent"),
        ("Contact", "is_contact")])


AddressType = Annotated[Optional[str], Opt("--type", help="A value of the address type code.")]
Street = Annotated[Optional[str], Opt("--street")]
Line1 = Annotated[Optional[str], Opt("--line-1")]
Line2 = Annotated[Optional[str], Opt("--line-2")]
Line3 = Annotated[Optional[str], Opt("--line-3")]
City = Annotated[Optional[str], Opt("--city")]
Province = Annotated[Optional[str], Opt("--state-province")]
Country = Annotated[Optional[str], Opt("--country")]
Postal = Annotated[Optional[str], Opt("--postal-code")]
Active = Annotated[Optional[bool], Opt("--active/--inactive")]


def _address_options(**values: Any) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v is not None}


@address_app.command("add")
def address_add(ctx: typer.Context, client_id: ClientId, address_type: AddressType = None,
                street: Street = None, line_1: Line1 = None, line_2: Line2 = None,
                line_3: Line3 = None, city: City = None, state_province: Province = None,
                country: Country = None, postal_code: Postal = None, active: Active = None,
                as_json: JsonOption = False) -> None:
    """Add an address."""
    engine, actor = _engine_and_actor(ctx, client_id)
    address_id = _service("contacts").add_address(
        engine, actor_id=actor, client_id=client_id, **_address_options(
            address_type=address_type, street=street, line_1=line_1, line_2=line_2,
            line_3=line_3, city=city, state_province=state_province, country=country,
            postal_code=postal_code, active=active))
    _done(ctx, as_json, f"Address {address_id} added.", id=address_id)


@address_app.command("edit")
def address_edit(ctx: typer.Context, address_id: RecordId, address_type: AddressType = None,
                 street: Street = None, line_1: Line1 = None, line_2: Line2 = None,
                 line_3: Line3 = None, city: City = None, state_province: Province = None,
                 country: Country = None, postal_code: Postal = None, active: Active = None,
                 as_json: JsonOption = False) -> None:
    """Change an address."""
    changes = something_to_change(_address_options(
        address_type=address_type, street=street, line_1=line_1, line_2=line_2,
        line_3=line_3, city=city, state_province=state_province, country=country,
        postal_code=postal_code, active=active), "clients address edit")
    engine, actor = _engine_and_actor(ctx)
    _service("contacts").edit_address(engine, actor_id=actor, address_id=address_id,
                                      changes=changes)
    _done(ctx, as_json, f"Address {address_id} updated.", id=address_id)


@address_app.command("remove")
def address_remove(ctx: typer.Context, address_id: RecordId, as_json: JsonOption = False) -> None:
    """Remove an address."""
    engine, actor = _engine_and_actor(ctx)
    _service("contacts").remove_address(engine, actor_id=actor, address_id=address_id)
    _done(ctx, as_json, f"Address {address_id} removed.", id=address_id, removed=True)


@address_app.command("list")
def address_list(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False,
                 as_csv: CsvOption = False) -> None:
    """List a client's addresses."""
    rows = _service("contacts").list_addresses(state(ctx).context(), client_id)
    print_listing(rows, title="Addresses", as_json=as_json, as_csv=as_csv, columns=[
        ("Id", "id"), ("Type", "address_type"), ("Street", "street"), ("City", "city"),
        ("State/province", "state_province"), ("Country", "country"),
        ("Postal code", "postal_code"), ("Active", "active")])


# ---------------------------------------------------------------- documents

@documents_app.command("attach")
def document_attach(ctx: typer.Context, client_id: ClientId,
                    file: Annotated[Path, typer.Argument(metavar="FILE")],
                    name: Annotated[Optional[str], Opt("--name", help="Default: file name.")]
                    = None,
                    description: Annotated[Optional[str], Opt("--description")] = None,
                    as_json: JsonOption = False) -> None:
    """Attach a file (PDF, image, Word, Excel, text; at most the configured size)."""
    engine, actor = _engine_and_actor(ctx, client_id)
    document_id = _service("documents").attach_document(engine, actor_id=actor, client_id=client_id,
                                       source=file, name=name, description=description)
    _done(ctx, as_json, f"Document {document_id} attached.", id=document_id)


@documents_app.command("list")
def document_list(ctx: typer.Context, client_id: ClientId, as_json: JsonOption = False,
                  as_csv: CsvOption = False) -> None:
    """List a client's documents."""
    rows = _service("documents").list_documents(state(ctx).context(), client_id)
    print_listing(rows, title="Documents", as_json=as_json, as_csv=as_csv, columns=[
        ("Id", "id"), ("Name", "name"), ("Description", "description"),
        ("File", "file_name"), ("Bytes", "size"), ("Uploaded", "uploaded_at")])


@documents_app.command("download")
def document_download(ctx: typer.Context, document_id: RecordId,
                      to: Annotated[Path, Opt("--to", help="A file or a folder.")] = Path("."),
                      overwrite: Annotated[bool, Opt("--overwrite")] = False,
                      as_json: JsonOption = False) -> None:
    """Save a document's file to a path."""
    path = _service("documents").download_document(state(ctx).context(), document_id, to, overwrite)
    _done(ctx, as_json, f"Saved to {path}.", id=document_id, path=str(path))


@documents_app.command("remove")
def document_remove(ctx: typer.Context, document_id: RecordId,
                    as_json: JsonOption = False) -> None:
    """Remove a document."""
    engine, actor = _engine_and_actor(ctx)
    _service("documents").remove_document(engine, actor_id=actor, document_id=document_id)
    _done(ctx, as_json, f"Document {document_id} removed.", id=document_id, removed=True)


# ---------------------------------------------------------------- additional details

@fields_app.command("add")
def field_add(ctx: typer.Context,
              name: Annotated[str, typer.Argument(help="e.g. national_id")],
              data_type: Annotated[str, Opt("--type", help="text, number, date or code.")]
              = "text",
              label: Annotated[Optional[str], Opt("--label")] = None,
              code: Annotated[Optional[str], Opt("--code", help="For --type code.")] = None,
              mandatory: Annotated[bool, Opt("--mandatory")] = False,
              as_json: JsonOption = False) -> None:
    """Define an additional client detail."""
    engine, actor = _engine_and_actor(ctx)
    field_id = _service("fields").define_client_field(engine, actor_id=actor, name=name,
                                                 data_type=data_type, label=label, code=code,
                                                 mandatory=mandatory)
    _done(ctx, as_json, f"Additional detail {field_id} defined.", id=field_id)


@fields_app.command("list")
def field_list(ctx: typer.Context, as_json: JsonOption = False,
               as_csv: CsvOption = False) -> None:
    """List the additional client details."""
    rows = _service("fields").list_client_fields(state(ctx).context())
    print_listing(rows, title="Additional client details", as_json=as_json, as_csv=as_csv,
                  columns=[("Id", "id"), ("Name", "name"), ("Label", "label"),
                           ("Type", "type"), ("Code", "code"), ("Mandatory", "mandatory")])


# ---------------------------------------------------------------- codes, loans, savings

@codes_app.command("list")
def codes_list(ctx: typer.Context,
               code: Annotated[Optional[str], typer.Argument(help="Only this code.")] = None,
               as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
    """List the code lists and their values."""
    rows = _service("views").list_codes(state(ctx).context(), code)
    if as_json:
        print_json(rows)
        return
    listed = [{**r, "listed": ", ".join(
        f"{v['name']} ({v['id']})" + ("" if v["active"] else " [inactive]")
        for v in r["values"])} for r in rows]
    print_listing(listed, title="Codes", as_csv=as_csv,
                  columns=[("Code", "name"), ("Label", "label"), ("Values", "listed")])


@codes_app.command("add")
def codes_add(ctx: typer.Context, code: Annotated[str, typer.Argument(help="e.g. gender")],
              value: Annotated[str, typer.Argument(help="The new value.")],
              description: Annotated[Optional[str], Opt("--description")] = None,
              as_json: JsonOption = False) -> None:
    """Add a value to a code list."""
    engine, actor = _engine_and_actor(ctx)
    from workbook_engine.services.setup.institution import add_code_value

    value_id = add_code_value(engine, actor_id=actor, code_name=code, value=value,
                              description=description)
    _done(ctx, as_json, f"'{value}' added to {code} (id {value_id}).", id=value_id,
          code=code, value=value)


@loans_app.command("show")
def loan_show(ctx: typer.Context, loan_id: RecordId, as_json: JsonOption = False) -> None:
    """Show a loan: its repayment schedule and transactions."""
    view = _service("views").show_loan(state(ctx).viewing("Loan", loan_id, "loan"), loan_id)
    if as_json:
        print_json(view)
        return
    from rich.panel import Panel

    print_renderable(Panel(_grid([
        ("Owner", view["owner"]), ("Product", view["product"]), ("Status", view["status"]),
        ("Principal", view["principal"]), ("Outstanding", view["outstanding"]),
        ("Overdue", view["overdue"]), ("Days in arrears", view["days_in_arrears"] or None),
        ("Loan officer", view["loan_officer"]), ("Disbursed", view["disbursed_on"]),
        ("Closed", view["closed_on"])]), title=f"Loan {view['account_no']} ({view['id']})"))
    print_renderable(make_table("Repayment schedule", ["#", "Due date", "Principal", "Interest",
                                                "Fees+penalties", "Due", "Paid",
                                                "Outstanding"],
                         [[i["number"], i["due_date"], i["principal"], i["interest"],
                           i["fees"] + i["penalties"], i["due"], i["paid"], i["outstanding"]]
                          for i in view["schedule"]]))
    print_renderable(make_table("Transactions", ["Id", "Date", "Type", "Amount", "Principal",
                                          "Interest", "Receipt"],
                         [[t["id"], t["on_date"], t["type"], t["amount"], t["principal"],
                           t["interest"], t["receipt_number"]] for t in view["transactions"]]))


@savings_app.command("show")
def savings_show(ctx: typer.Context, account_id: RecordId, as_json: JsonOption = False) -> None:
    """Show a savings account and its transactions."""
    view = _service("views").show_savings(
        state(ctx).viewing("SavingsAccount", account_id, "savings account"), account_id)
    if as_json:
        print_json(view)
        return
    from rich.panel import Panel

    print_renderable(Panel(_grid([
        ("Owner", view["owner"]), ("Product", view["product"]), ("Status", view["status"]),
        ("Balance", view["balance"]), ("Recommended deposit", view["recommended_deposit"]),
        ("Opened", view["activated_on"])]),
        title=f"Savings {view['account_no']} ({view['id']})"))
    print_renderable(make_table("Transactions", ["Id", "Date", "Type", "Amount", "Balance",
                                          "Receipt"],
                         [[t["id"], t["on_date"], t["type"], t["amount"], t["balance"],
                           t["receipt_number"]] for t in view["transactions"]]))
