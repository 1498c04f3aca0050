"""Setting up an institution one record at a time: offices, staff, payment types, holidays,
centers, groups, products, loans, savings and charges.

Every command is a thin shell over one service; the member of staff given with ``--as`` is
recorded in the audit log. ``--json`` prints the record created or changed.
"""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from workbook_engine.cli.common import check_scope, option_date, state, sub_app
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
from workbook_engine.errors.cli import USAGE
from workbook_engine.errors.general import MISSING_VALUE, NOT_FOUND
from workbook_engine.money import MAX_AMOUNT, money_text, typed_decimal

if TYPE_CHECKING:
    from workbook_engine.services.context import AppContext


def _svc(name: str) -> Any:  # noqa: ANN401 - a services module
    """A module of ``services/`` (imported when a command runs, not when the CLI starts)."""
    return importlib.import_module(f"workbook_engine.services.{name}")


def _setup() -> Any:  # noqa: ANN401
    return _svc("setup.institution")


def _directory() -> Any:  # noqa: ANN401
    return _svc("clients.directory")


def _views() -> Any:  # noqa: ANN401
    return _svc("clients.views")


OfficeRef = Annotated[str, typer.Option("--office", help="Office id or name.")]
DateText = Annotated[Optional[str], typer.Option(help="A date, YYYY-MM-DD.")]

_WEEKDAYS = {name: i for i, name in enumerate(
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"))}


# --------------------------------------------------------------------------- helpers

def _engine(ctx: typer.Context) -> tuple[AppContext, int | None]:
    """The engine context and the id of the member of staff acting (--as)."""
    cli = state(ctx)
    engine = cli.context()
    return engine, cli.actor_id(engine)


def _ref(engine: AppContext, model: str, reference: str | None, what: str) -> int | None:
    """The id of a record (``model``: a class of ``domain``) given by id or name (None stays
    None)."""
    if reference is None or not reference.strip():
        return None
    from workbook_engine import domain

    with engine.session_factory() as s:
        return _svc("setup.lookup").resolve_named(s, getattr(domain, model), reference,
                                                  what).id


def _staff_ref(engine: AppContext, reference: str | None) -> int | None:
    if reference is None or not reference.strip():
        return None
    with engine.session_factory() as s:
        return _svc("setup.lookup").resolve_staff(s, reference).id


def _client_ref(engine: AppContext, reference: str | None) -> int | None:
    """A client by id or external id."""
    if reference is None or not reference.strip():
        return None
    from sqlalchemy import select

    from workbook_engine.domain import Client

    with engine.session_factory() as s:
        text = reference.strip()
        client = s.get(Client, int(text)) if text.isdigit() else None
        client = client or s.scalar(select(Client).where(Client.external_id == text))
        if client is None:
            raise EngineError(NOT_FOUND, f"There is no client with id or external id "
                              f"'{reference}'.", field="client", value=reference)
        return client.id


def _date(value: str | None, what: str, default: dt.date | None = None) -> dt.date:
    parsed = option_date(value, what)
    if parsed is None:
        if default is None:
            raise EngineError(MISSING_VALUE, f"Give the {what} (YYYY-MM-DD).", field=what)
        return default
    return parsed


def _amount(value: str | None, what: str) -> Decimal | None:
    if value is None:
        return None
    number = typed_decimal(value.replace(",", ""))
    if number is None:
        raise EngineError(USAGE, f"The {what} '{value}' is not an amount (write it "
                          "like 1500 or 1500.50).", field=what, value=value)
    if abs(number) > MAX_AMOUNT:
        raise EngineError(USAGE, f"The {what} '{value}' is more than the largest amount the "
                          f"engine keeps ({MAX_AMOUNT:,}); check the figure.", field=what,
                          value=value)
    return number


def _required_amount(value: str, what: str) -> Decimal:
    amount = _amount(value, what)
    assert amount is not None
    return amount


def _done(as_json: bool, view: dict[str, Any], message: str) -> None:
    if as_json:
        print_json(view)
    else:
        say(message)


def _show(as_json: bool, title: str, view: dict[str, Any]) -> None:
    if as_json:
        print_json(view)
        return
    print_record(title, ((k.replace("_", " "), v) for k, v in view.items()
                         if not isinstance(v, list)))
    schedule = view.get("schedule")
    if schedule:
        print_table("Schedule", ["No", "Due", "Principal", "Interest", "Paid", "Outstanding"],
                    ([i["number"], i["due_date"], i["principal"], i["interest"], i["paid"],
                      i["outstanding"]] for i in schedule))


def parse_meets(meets: str) -> tuple[str, int]:
    """``weekly``, ``every-2-weeks``/``fortnightly``, ``monthly``, ``every-3-months`` ->
    (frequency, interval)."""
    text = meets.strip().lower()
    fixed = {"weekly": ("weekly", 1), "fortnightly": ("weekly", 2), "monthly": ("monthly", 1)}
    if text in fixed:
        return fixed[text]
    match = re.fullmatch(r"every-(\d+)-(week|month)s?", text)
    if match and int(match.group(1)) >= 1:
        return ("weekly" if match.group(2) == "week" else "monthly"), int(match.group(1))
    raise EngineError(USAGE, f"--meets '{meets}' is not known: use weekly, "
                      "every-2-weeks, every-N-weeks, monthly or every-N-months.",
                      field="meets", value=meets)


def parse_weekday(value: str | None) -> int | None:
    """A weekday by name (mon, Tuesday, ...) or number (0 = Monday .. 6 = Sunday)."""
    if value is None:
        return None
    text = value.strip().lower()
    if text.isdigit() and 0 <= int(text) <= 6:
        return int(text)
    matches = [i for name, i in _WEEKDAYS.items() if len(text) >= 2 and name.startswith(text)]
    if len(matches) == 1:
        return matches[0]
    raise EngineError(USAGE, f"--weekday '{value}' is not a weekday: use mon, tue, "
                      "wed, thu, fri, sat, sun (or 0-6, 0 = Monday).", field="weekday",
                      value=value)


def parse_week_of_month(value: str | None) -> int | None:
    """1-4, or -1 / last."""
    if value is None:
        return None
    text = value.strip().lower()
    if text in ("last", "-1"):
        return -1
    if text in ("1", "2", "3", "4"):
        return int(text)
    raise EngineError(USAGE, f"--week-of-month '{value}' is not known: use 1, 2, 3, 4 "
                      "or last.", field="week of month", value=value)


def _calendar(meets: str | None, weekday: str | None, week_of_month: str | None,
              start: str | None) -> dict[str, Any]:
    """The meeting_* keyword arguments of create_center / create_group."""
    if meets is None and start is None:
        if weekday is not None or week_of_month is not None:
            raise EngineError(MISSING_VALUE, "A meeting calendar needs --meets and --from.",
                              field="meets")
        return {"meeting_start": None}
    if meets is None or start is None:
        raise EngineError(MISSING_VALUE, "A meeting calendar needs both --meets and --from "
                          "(the date of the first meeting).", field="meets")
    frequency, interval = parse_meets(meets)
    day = parse_weekday(weekday)
    week = parse_week_of_month(week_of_month)
    if frequency == "monthly" and week is not None and day is None:
        raise EngineError(MISSING_VALUE, "--week-of-month needs --weekday (e.g. --weekday mon "
                          "--week-of-month 1 for the first Monday).", field="weekday")
    return {"meeting_start": _date(start, "first meeting date (--from)"),
            "meeting_frequency": frequency, "meeting_interval": interval,
            "meeting_weekday": day, "meeting_week_of_month": week}


def _owner(engine: AppContext, client: str | None, group: str | None,
           center: str | None) -> dict[str, int | None]:
    return {"client_id": _client_ref(engine, client),
            "group_id": _ref(engine, "Group", group, "group"),
            "center_id": _ref(engine, "Center", center, "center")}


def _list(as_json: bool, as_csv: bool, title: str, rows: list[dict[str, Any]],
          columns: list[tuple[str, str]]) -> None:
    print_listing(rows, title=title, columns=columns, as_json=as_json, as_csv=as_csv)


# --------------------------------------------------------------------------- register

def register(root: typer.Typer) -> None:
    """Add the set-up commands to the root app (to the groups `cli/directory.py` made)."""
    _offices(sub_app(root, "offices", "Offices: browse and set up."))
    _staff(sub_app(root, "staff", "Staff: browse and set up."))
    _payment_types(sub_app(root, "payment-types", "Payment types: cash, mobile money, ..."))
    _holidays(sub_app(root, "holidays", "Office holidays (meetings move past them)."))
    _centers(sub_app(root, "centers", "Centers: browse and set up."))
    _groups(sub_app(root, "groups", "Groups: browse and set up."))
    _loan_products(sub_app(root, "loan-products", "Loan products."))
    _savings_products(sub_app(root, "savings-products", "Savings products."))
    _loans(sub_app(root, "loans", "Loans: submit, approve, disburse, repay."))
    _savings(sub_app(root, "savings", "Savings accounts: open, deposit, withdraw."))
    _charges(sub_app(root, "charges", "Fees and penalties."))


def _offices(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context,
            name: Annotated[str, typer.Argument(help="The office's name.")],
            parent: Annotated[Optional[str], typer.Option(
                "--parent", help="Parent office id or name (not for the head office).")] = None,
            opened: Annotated[Optional[str], typer.Option(
                "--opened", help="Opening date, YYYY-MM-DD (default today).")] = None,
            external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
            as_json: JsonOption = False) -> None:
        """Open an office (the first is the head office)."""
        engine, actor = _engine(ctx)
        office_id = _setup().create_office(
            engine, actor_id=actor, name=name, parent_id=_ref(engine, "Office", parent, "office"),
            opening_date=_date(opened, "opening date", engine.today()),
            external_id=external_id)
        _done(as_json, _directory().show_office(engine, office_id),
              f"Office {office_id} '{name}' is open.")


def _staff(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context,
            first_name: Annotated[str, typer.Argument(help="First name.")],
            last_name: Annotated[str, typer.Argument(help="Last name.")],
            office: OfficeRef,
            loan_officer: Annotated[bool, typer.Option("--loan-officer")] = False,
            supervisor: Annotated[bool, typer.Option("--supervisor")] = False,
            clerk: Annotated[bool, typer.Option("--clerk")] = False,
            email: Annotated[Optional[str], typer.Option("--email")] = None,
            mobile: Annotated[Optional[str], typer.Option("--mobile")] = None,
            joined: Annotated[Optional[str], typer.Option(
                "--joined", help="Joining date, YYYY-MM-DD.")] = None,
            external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
            inactive: Annotated[bool, typer.Option("--inactive")] = False,
            as_json: JsonOption = False) -> None:
        """Add a member of staff (roles may combine)."""
        engine, actor = _engine(ctx)
        staff_id = _setup().create_staff(
            engine, actor_id=actor, office_id=_ref(engine, "Office", office, "office") or 0,
            first_name=first_name, last_name=last_name, is_loan_officer=loan_officer,
            is_supervisor=supervisor, is_clerk=clerk, email=email, mobile_no=mobile,
            joined_on=option_date(joined, "joining date"), external_id=external_id,
            active=not inactive)
        _done(as_json, _directory().show_staff(engine, staff_id),
              f"Staff {staff_id} {first_name} {last_name} added.")

    @app.command("edit")
    def edit(ctx: typer.Context,
             staff: Annotated[str, typer.Argument(help="Id, e-mail or full name.")],
             first_name: Annotated[Optional[str], typer.Option("--first-name")] = None,
             last_name: Annotated[Optional[str], typer.Option("--last-name")] = None,
             email: Annotated[Optional[str], typer.Option(
                 "--email", help="New e-mail ('' removes it).")] = None,
             mobile: Annotated[Optional[str], typer.Option("--mobile")] = None,
             office: Annotated[Optional[str], typer.Option(
                 "--office", help="Move to this office (id or name).")] = None,
             loan_officer: Annotated[Optional[bool], typer.Option(
                 "--loan-officer/--no-loan-officer")] = None,
             supervisor: Annotated[Optional[bool], typer.Option(
                 "--supervisor/--no-supervisor")] = None,
             clerk: Annotated[Optional[bool], typer.Option("--clerk/--no-clerk")] = None,
             external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
             as_json: JsonOption = False) -> None:
        """Change a member of staff's details or roles."""
        engine, actor = _engine(ctx)
        staff_id = _staff_ref(engine, staff) or 0
        _setup().edit_staff(engine, actor_id=actor, staff_id=staff_id, first_name=first_name,
                         last_name=last_name, email=email, mobile_no=mobile,
                         office_id=_ref(engine, "Office", office, "office"),
                         is_loan_officer=loan_officer, is_supervisor=supervisor,
                         is_clerk=clerk, external_id=external_id)
        _done(as_json, _directory().show_staff(engine, staff_id), f"Staff {staff_id} updated.")

    def _set_active(active: bool) -> Callable[..., None]:
        def command(ctx: typer.Context,
                    staff: Annotated[str, typer.Argument(help="Id, e-mail or full name.")],
                    as_json: JsonOption = False) -> None:
            engine, actor = _engine(ctx)
            staff_id = _staff_ref(engine, staff) or 0
            _setup().set_staff_active(engine, actor_id=actor, staff_id=staff_id, active=active)
            _done(as_json, _directory().show_staff(engine, staff_id),
                  f"Staff {staff_id} is now {'active' if active else 'inactive'}.")

        command.__doc__ = ("Activate a member of staff again." if active else
                           "Deactivate a member of staff who no longer runs centers, groups "
                           "or loans.")
        return command

    app.command("deactivate")(_set_active(False))
    app.command("activate")(_set_active(True))


def _payment_types(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()],
            cash: Annotated[bool, typer.Option("--cash", help="Cash changes hands.")] = False,
            position: Annotated[int, typer.Option("--position")] = 0,
            as_json: JsonOption = False) -> None:
        """Add a payment type."""
        engine, actor = _engine(ctx)
        new_id = _setup().create_payment_type(engine, actor_id=actor, name=name, is_cash=cash,
                                           position=position)
        view = next(p for p in _setup().list_payment_types(engine) if p["id"] == new_id)
        _done(as_json, view, f"Payment type {new_id} '{name}' added.")

    @app.command("list")
    def list_cmd(ctx: typer.Context, as_json: JsonOption = False,
                 as_csv: CsvOption = False) -> None:
        """List payment types."""
        engine = state(ctx).context()
        _list(as_json, as_csv, "Payment types", _setup().list_payment_types(engine),
              [("Id", "id"), ("Name", "name"), ("Cash", "is_cash"), ("Active", "active")])


def _holidays(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()], office: OfficeRef,
            from_date: Annotated[str, typer.Option("--from", help="First day, YYYY-MM-DD.")],
            to_date: Annotated[Optional[str], typer.Option(
                "--to", help="Last day (default: the first day).")] = None,
            as_json: JsonOption = False) -> None:
        """Declare a holiday of an office and the offices below it."""
        engine, actor = _engine(ctx)
        office_id = _ref(engine, "Office", office, "office") or 0
        new_id = _setup().create_holiday(engine, actor_id=actor, office_id=office_id, name=name,
                                      from_date=_date(from_date, "first day (--from)"),
                                      to_date=option_date(to_date, "last day (--to)"))
        view = next(h for h in _setup().list_holidays(engine) if h["id"] == new_id)
        _done(as_json, view, f"Holiday {new_id} '{name}' added.")

    @app.command("list")
    def list_cmd(ctx: typer.Context, office: Annotated[Optional[str], typer.Option(
            "--office", help="Holidays observed by this office.")] = None,
            as_json: JsonOption = False, as_csv: CsvOption = False) -> None:
        """List holidays."""
        engine = state(ctx).context()
        _list(as_json, as_csv, "Holidays",
              _setup().list_holidays(engine, _ref(engine, "Office", office,
                                                                   "office")),
              [("Id", "id"), ("Name", "name"), ("Office", "office"), ("From", "from_date"),
               ("To", "to_date")])


_MEETS_HELP = "weekly, every-2-weeks, every-N-weeks, monthly or every-N-months."


def _centers(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()], office: OfficeRef,
            staff: Annotated[str, typer.Option(
                "--staff", help="Loan officer: id, e-mail or full name.")],
            meets: Annotated[str, typer.Option("--meets", help=_MEETS_HELP)],
            start: Annotated[str, typer.Option(
                "--from", help="Date of the first meeting, YYYY-MM-DD.")],
            weekday: Annotated[Optional[str], typer.Option(
                "--weekday", help="mon..sun (default: the first meeting's weekday).")] = None,
            week_of_month: Annotated[Optional[str], typer.Option(
                "--week-of-month", help="Monthly: 1-4 or last (with --weekday).")] = None,
            external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
            activated: Annotated[Optional[str], typer.Option(
                "--activated", help="Activation date (default: first meeting or today).")
            ] = None,
            as_json: JsonOption = False) -> None:
        """Open a center with its loan officer and meeting calendar."""
        engine, actor = _engine(ctx)
        center_id = _setup().create_center(
            engine, actor_id=actor, office_id=_ref(engine, "Office", office, "office") or 0,
            name=name, staff_id=_staff_ref(engine, staff), external_id=external_id,
            activation_date=option_date(activated, "activation date"),
            **_calendar(meets, weekday, week_of_month, start))
        view = _directory().show_center(engine, center_id)
        _done(as_json, view, f"Center {center_id} '{name}' meets {view['meetings']}; next "
              f"meeting {view['next_meeting']}.")


def _groups(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()], office: OfficeRef,
            center: Annotated[Optional[str], typer.Option(
                "--center", help="Center id or name (the group meets with it).")] = None,
            staff: Annotated[Optional[str], typer.Option(
                "--staff", help="Loan officer (default: the center's).")] = None,
            meets: Annotated[Optional[str], typer.Option(
                "--meets", help="Without a center: " + _MEETS_HELP)] = None,
            start: Annotated[Optional[str], typer.Option(
                "--from", help="Without a center: the first meeting's date.")] = None,
            weekday: Annotated[Optional[str], typer.Option("--weekday")] = None,
            week_of_month: Annotated[Optional[str], typer.Option("--week-of-month")] = None,
            external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
            as_json: JsonOption = False) -> None:
        """Open a group in a center, or on its own meeting calendar."""
        engine, actor = _engine(ctx)
        group_id = _setup().create_group(
            engine, actor_id=actor, office_id=_ref(engine, "Office", office, "office") or 0,
            name=name, staff_id=_staff_ref(engine, staff),
            center_id=_ref(engine, "Center", center, "center"), external_id=external_id,
            **_calendar(meets, weekday, week_of_month, start))
        view = _directory().show_group(engine, group_id)
        _done(as_json, view, f"Group {group_id} '{name}' added; next meeting "
              f"{view['next_meeting']}.")

    @app.command("add-member")
    def add_member(ctx: typer.Context,
                   group: Annotated[str, typer.Argument(help="Group id or name.")],
                   client: Annotated[str, typer.Argument(help="Client id or external id.")],
                   joined: Annotated[Optional[str], typer.Option(
                       "--joined", help="Joining date (default today).")] = None,
                   as_json: JsonOption = False) -> None:
        """Join a client to a group."""
        engine, actor = _engine(ctx)
        group_id = _ref(engine, "Group", group, "group") or 0
        client_id = _client_ref(engine, client) or 0
        membership = _setup().add_group_member(engine, actor_id=actor, group_id=group_id,
                                            client_id=client_id,
                                            joined_on=option_date(joined, "joining date"))
        _done(as_json, {"id": membership, "group_id": group_id, "client_id": client_id},
              f"Client {client_id} joined group {group_id}.")


def _loan_products(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()],
            short_name: Annotated[str, typer.Option("--short-name", help="Up to 10 letters.")],
            rate: Annotated[str, typer.Option("--rate", help="Annual interest, percent.")],
            repayments: Annotated[int, typer.Option(
                "--repayments", help="Number of repayments.")],
            every: Annotated[int, typer.Option("--every", help="Repayment every N units.")] = 1,
            unit: Annotated[str, typer.Option("--unit", help="weeks or months.")] = "weeks",
            method: Annotated[str, typer.Option(
                "--method", help="flat or declining_balance.")] = "flat",
            currency: Annotated[Optional[str], typer.Option("--currency")] = None,
            digits: Annotated[Optional[int], typer.Option(
                "--digits", help="The currency's decimals.")] = None,
            deduct_interest: Annotated[bool, typer.Option(
                "--interest-at-disbursement", help="Flat interest due on the disbursal day."
            )] = False,
            min_principal: Annotated[Optional[str], typer.Option("--min-principal")] = None,
            max_principal: Annotated[Optional[str], typer.Option("--max-principal")] = None,
            as_json: JsonOption = False) -> None:
        """Define a loan product."""
        engine, actor = _engine(ctx)
        general = engine.rules.section("general")
        product_id = _setup().create_loan_product(
            engine, actor_id=actor, name=name, short_name=short_name,
            currency_code=currency or str(general.get("default_currency", "")),
            currency_digits=digits if digits is not None else int(
                general.get("default_currency_digits", 2)),
            annual_interest_rate=_required_amount(rate, "interest rate"),
            interest_method=method, repayment_every=every, repayment_unit=unit,
            number_of_repayments=repayments, interest_deducted_at_disbursement=deduct_interest,
            min_principal=_amount(min_principal, "minimum principal"),
            max_principal=_amount(max_principal, "maximum principal"))
        _done(as_json, _setup().show_loan_product(engine, product_id),
              f"Loan product {product_id} '{name}' added.")

    @app.command("list")
    def list_cmd(ctx: typer.Context, as_json: JsonOption = False,
                 as_csv: CsvOption = False) -> None:
        """List loan products."""
        _list(as_json, as_csv, "Loan products", _setup().list_loan_products(state(ctx).context()),
              [("Id", "id"), ("Name", "name"), ("Short", "short_name"),
               ("Rate %", "annual_interest_rate"), ("Method", "interest_method"),
               ("Every", "repayment_every"), ("Unit", "repayment_unit"),
               ("Repayments", "number_of_repayments")])

    @app.command("show")
    def show(ctx: typer.Context, product: Annotated[str, typer.Argument(help="Id or name.")],
             as_json: JsonOption = False) -> None:
        """Show every term of a loan product."""
        engine = state(ctx).context()
        product_id = _ref(engine, "LoanProduct", product, "loan product") or 0
        _show(as_json, f"Loan product {product_id}",
              _setup().show_loan_product(engine, product_id))


def _savings_products(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()],
            short_name: Annotated[str, typer.Option("--short-name")],
            deposit_type: Annotated[str, typer.Option(
                "--type", help="mandatory or voluntary.")],
            recommended: Annotated[str, typer.Option(
                "--recommended", help="Recommended deposit per meeting.")],
            unit: Annotated[str, typer.Option(
                "--unit", help="Group/center accounts: per_group or per_client.")
            ] = "per_group",
            currency: Annotated[Optional[str], typer.Option("--currency")] = None,
            digits: Annotated[Optional[int], typer.Option("--digits")] = None,
            overdraft: Annotated[bool, typer.Option("--overdraft")] = False,
            as_json: JsonOption = False) -> None:
        """Define a savings product."""
        engine, actor = _engine(ctx)
        general = engine.rules.section("general")
        product_id = _setup().create_savings_product(
            engine, actor_id=actor, name=name, short_name=short_name,
            currency_code=currency or str(general.get("default_currency", "")),
            currency_digits=digits if digits is not None else int(
                general.get("default_currency_digits", 2)),
            deposit_type=deposit_type,
            recommended_deposit=_required_amount(recommended, "recommended deposit"),
            deposit_unit=unit, allow_overdraft=overdraft)
        _done(as_json, _setup().show_savings_product(engine, product_id),
              f"Savings product {product_id} '{name}' added.")

    @app.command("list")
    def list_cmd(ctx: typer.Context, as_json: JsonOption = False,
                 as_csv: CsvOption = False) -> None:
        """List savings products."""
        _list(as_json, as_csv, "Savings products",
              _setup().list_savings_products(state(ctx).context()),
              [("Id", "id"), ("Name", "name"), ("Short", "short_name"),
               ("Type", "deposit_type"), ("Recommended", "recommended_deposit"),
               ("Unit", "deposit_unit")])

    @app.command("show")
    def show(ctx: typer.Context, product: Annotated[str, typer.Argument(help="Id or name.")],
             as_json: JsonOption = False) -> None:
        """Show every term of a savings product."""
        engine = state(ctx).context()
        product_id = _ref(engine, "SavingsProduct", product, "savings product") or 0
        _show(as_json, f"Savings product {product_id}",
              _setup().show_savings_product(engine, product_id))


def _loans(app: typer.Typer) -> None:
    @app.command("submit")
    def submit(ctx: typer.Context,
               product: Annotated[str, typer.Option("--product", help="Id or name.")],
               principal: Annotated[str, typer.Option("--principal")],
               client: Annotated[Optional[str], typer.Option(
                   "--client", help="Client id or external id.")] = None,
               group: Annotated[Optional[str], typer.Option("--group")] = None,
               submitted: Annotated[Optional[str], typer.Option(
                   "--submitted", help="Default today.")] = None,
               expected: Annotated[Optional[str], typer.Option(
                   "--expected", help="Expected disbursal date (default: submitted).")
               ] = None,
               officer: Annotated[Optional[str], typer.Option(
                   "--officer", help="Loan officer: id, e-mail or full name.")] = None,
               external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
               as_json: JsonOption = False) -> None:
        """Submit a loan application."""
        engine, actor = _engine(ctx)
        submitted_on = _date(submitted, "submission date", engine.today())
        owner = _owner(engine, client, group, None)
        loan_id = _svc("ledger.loans").submit_loan(
            engine, actor_id=actor, product_id=_ref(engine, "LoanProduct", product,
                                                    "loan product") or 0,
            principal=_required_amount(principal, "principal"), submitted_on=submitted_on,
            expected_disbursement_date=_date(expected, "expected disbursal date",
                                             submitted_on),
            client_id=owner["client_id"], group_id=owner["group_id"],
            loan_officer_id=_staff_ref(engine, officer), external_id=external_id)
        view = _views().show_loan(engine, loan_id)
        _done(as_json, view, f"Loan {loan_id} ({view['account_no']}) submitted.")

    @app.command("approve")
    def approve(ctx: typer.Context, loan: Annotated[int, typer.Argument(help="Loan id.")],
                on: Annotated[Optional[str], typer.Option("--on", help="Default today.")
                              ] = None,
                as_json: JsonOption = False) -> None:
        """Approve a submitted loan."""
        engine, actor = _engine(ctx)
        check_scope(engine, actor, "Loan", loan, "loan")
        _svc("ledger.loans").approve_loan(engine, actor_id=actor, loan_id=loan,
                           approved_on=_date(on, "approval date", engine.today()))
        _done(as_json, _views().show_loan(engine, loan), f"Loan {loan} approved.")

    @app.command("disburse")
    def disburse(ctx: typer.Context, loan: Annotated[int, typer.Argument(help="Loan id.")],
                 on: Annotated[Optional[str], typer.Option("--on", help="Default today.")
                               ] = None,
                 as_json: JsonOption = False) -> None:
        """Disburse an approved loan; its schedule follows the borrower's meetings."""
        engine, actor = _engine(ctx)
        check_scope(engine, actor, "Loan", loan, "loan")
        _svc("ledger.loans").disburse_loan(engine, actor_id=actor, loan_id=loan,
                            disbursed_on=_date(on, "disbursal date", engine.today()))
        _show(as_json, f"Loan {loan} disbursed", _views().show_loan(engine, loan))

    @app.command("repay")
    def repay(ctx: typer.Context, loan: Annotated[int, typer.Argument(help="Loan id.")],
              amount: Annotated[str, typer.Argument(help="Amount repaid.")],
              on: Annotated[Optional[str], typer.Option("--on", help="Default today.")] = None,
              payment_type: Annotated[Optional[str], typer.Option(
                  "--payment-type", help="Id or name.")] = None,
              receipt: Annotated[Optional[str], typer.Option("--receipt")] = None,
              as_json: JsonOption = False) -> None:
        """Record a repayment made at the office."""
        engine, actor = _engine(ctx)
        check_scope(engine, actor, "Loan", loan, "loan")
        transaction = _svc("ledger.loans").repay_loan(
            engine, actor_id=actor, loan_id=loan,
            amount=_required_amount(amount, "repayment amount"),
            on_date=_date(on, "repayment date", engine.today()),
            payment_type_id=_ref(engine, "PaymentType", payment_type, "payment type"),
            receipt_number=receipt)
        view = _views().show_loan(engine, loan)
        _done(as_json, {**view, "transaction_id": transaction},
              f"Repayment recorded on loan {loan}; {money_text(view['outstanding'], None)} "
              "outstanding.")


def _savings(app: typer.Typer) -> None:
    @app.command("open")
    def open_cmd(ctx: typer.Context,
                 product: Annotated[str, typer.Option("--product", help="Id or name.")],
                 client: Annotated[Optional[str], typer.Option("--client")] = None,
                 group: Annotated[Optional[str], typer.Option("--group")] = None,
                 center: Annotated[Optional[str], typer.Option("--center")] = None,
                 opened: Annotated[Optional[str], typer.Option(
                     "--opened", help="Default today.")] = None,
                 recommended: Annotated[Optional[str], typer.Option(
                     "--recommended", help="This account's recommended deposit (default: "
                     "the product's).")] = None,
                 external_id: Annotated[Optional[str], typer.Option("--external-id")] = None,
                 as_json: JsonOption = False) -> None:
        """Open a savings account for a client, a group or a center."""
        engine, actor = _engine(ctx)
        account_id = _svc("ledger.savings").open_savings_account(
            engine, actor_id=actor,
            product_id=_ref(engine, "SavingsProduct", product, "savings product") or 0,
            opened_on=_date(opened, "opening date", engine.today()),
            recommended_deposit=_amount(recommended, "recommended deposit"),
            external_id=external_id, **_owner(engine, client, group, center))
        view = _views().show_savings(engine, account_id)
        _done(as_json, view, f"Savings account {account_id} ({view['account_no']}) opened.")

    def _move(kind: str) -> Callable[..., None]:
        def command(ctx: typer.Context,
                    account: Annotated[int, typer.Argument(help="Savings account id.")],
                    amount: Annotated[str, typer.Argument()],
                    on: Annotated[Optional[str], typer.Option("--on", help="Default today.")
                                  ] = None,
                    client: Annotated[Optional[str], typer.Option(
                        "--client", help="Group/center account: the client it is for.")
                    ] = None,
                    payment_type: Annotated[Optional[str], typer.Option(
                        "--payment-type")] = None,
                    receipt: Annotated[Optional[str], typer.Option("--receipt")] = None,
                    as_json: JsonOption = False) -> None:
            engine, actor = _engine(ctx)
            check_scope(engine, actor, "SavingsAccount", account, "savings account")
            transaction = _svc("ledger.savings").record_savings_transaction(
                engine, actor_id=actor, account_id=account, kind=kind,
                amount=_required_amount(amount, f"{kind} amount"),
                on_date=_date(on, f"{kind} date", engine.today()),
                client_id=_client_ref(engine, client),
                payment_type_id=_ref(engine, "PaymentType", payment_type, "payment type"),
                receipt_number=receipt)
            view = _views().show_savings(engine, account)
            _done(as_json, {**view, "transaction_id": transaction},
                  f"{kind.capitalize()} recorded; balance "
                  f"{money_text(view['balance'], None)}.")

        command.__doc__ = f"Record a {kind} made at the office."
        return command

    app.command("deposit")(_move("deposit"))
    app.command("withdraw")(_move("withdrawal"))


def _charges(app: typer.Typer) -> None:
    @app.command("add")
    def add(ctx: typer.Context, name: Annotated[str, typer.Argument()],
            amount: Annotated[str, typer.Option("--amount")],
            due: Annotated[Optional[str], typer.Option("--due", help="Default today.")] = None,
            kind: Annotated[str, typer.Option("--kind", help="fee or penalty.")] = "fee",
            client: Annotated[Optional[str], typer.Option("--client")] = None,
            group: Annotated[Optional[str], typer.Option("--group")] = None,
            center: Annotated[Optional[str], typer.Option("--center")] = None,
            currency: Annotated[Optional[str], typer.Option("--currency")] = None,
            as_json: JsonOption = False) -> None:
        """Charge a fee or penalty to a client, group or center."""
        engine, actor = _engine(ctx)
        if kind not in ("fee", "penalty"):
            raise EngineError(USAGE, f"--kind '{kind}' is not known: use fee or "
                              "penalty.", field="kind", value=kind)
        general = engine.rules.section("general")
        charge_id = _svc("ledger.charges").add_charge(
            engine, actor_id=actor, name=name, kind=kind,
            amount=_required_amount(amount, "charge amount"),
            due_date=_date(due, "due date", engine.today()),
            currency_code=currency or str(general.get("default_currency", "")),
            currency_digits=int(general.get("default_currency_digits", 2)),
            **_owner(engine, client, group, center))
        _done(as_json, {"id": charge_id, "name": name, "kind": kind,
                        "amount": _required_amount(amount, "charge amount")},
              f"Charge {charge_id} '{name}' added.")
