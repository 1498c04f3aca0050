"""The set-up commands: an institution built from an empty database through the CLI alone,
every command's --json, and every refusal as one sentence."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from workbook_engine.cli.main import app
from workbook_engine.domain import AuditRecord, Staff
from workbook_engine.errors import EngineError
from workbook_engine.services.clients.lifecycle import create_client
from workbook_engine.services.context import AppContext
from workbook_engine.services.setup.demo import build_reference

D = Decimal
runner = CliRunner()


class Cli:
    """Runs `workbook-engine` in-process against one test's home and database."""

    def __init__(self, ctx: AppContext, actor: str | None = None) -> None:
        self.ctx = ctx
        #: Who acts when a call names nobody (commands that change data need someone once
        #: the institution has a supervisor).
        self.actor = actor

    def invoke(self, *args: str, actor: str | None = None) -> Any:
        actor = actor or self.actor
        argv = ["--home", str(self.ctx.home), "--db", self.ctx.settings.database_url,
                "--today", "2026-03-03", *(["--as", actor] if actor else []), *args]
        return runner.invoke(app, argv, catch_exceptions=True)

    def json(self, *args: str, actor: str | None = None) -> Any:
        result = self.invoke(*args, "--json", actor=actor)
        assert result.exit_code == 0, (args, result.output, result.exception)
        return json.loads(result.output)

    def refused(self, *args: str, actor: str | None = None) -> EngineError:
        result = self.invoke(*args, actor=actor)
        assert isinstance(result.exception, EngineError), (args, result.output,
                                                           result.exception)
        return result.exception


def _build_institution(cli: Cli) -> dict[str, Any]:
    """Offices, staff, holidays, payment types, a center with a group, a group on its own
    calendar, products; then clients, loans and savings — all through the CLI."""
    assert cli.invoke("init").exit_code == 0
    head = cli.json("offices", "add", "Head Office", "--opened", "2020-01-01",
                    "--external-id", "HO")
    branch = cli.json("offices", "add", "Nairobi East", "--parent", "Head Office",
                      "--opened", "2021-03-01")
    kisumu = cli.json("offices", "add", "Kisumu", "--parent", str(head["id"]),
                      "--opened", "2022-01-01")
    boss = cli.json("staff", "add", "Grace", "Wambui", "--office", "Nairobi East",
                    "--supervisor", "--email", "grace@mfi.example", "--joined", "2021-03-01")
    # From the first supervisor on, every change names who makes it.
    assert cli.refused("payment-types", "add", "Cheque").code == "actor-required"
    cli.actor = "grace@mfi.example"
    officer = cli.json("staff", "add", "Wanjiru", "Kamau", "--office", "Nairobi East",
                       "--loan-officer", "--email", "Wanjiru@MFI.example", actor=str(boss["id"]))
    mwangi = cli.json("staff", "add", "Mwangi", "Njoroge", "--office", "Kisumu",
                      "--loan-officer", actor="grace@mfi.example")
    cli.json("payment-types", "add", "Cash", "--cash", actor="Grace Wambui")
    cli.json("payment-types", "add", "M-Pesa", "--position", "1")
    holiday = cli.json("holidays", "add", "Madaraka Day", "--office", "Head Office",
                       "--from", "2026-06-01")
    center = cli.json("centers", "add", "Kilimani", "--office", "Nairobi East", "--staff",
                      "wanjiru@mfi.example", "--meets", "every-2-weeks", "--weekday", "tue",
                      "--from", "2026-01-06", "--external-id", "CEN-1",
                      actor="grace@mfi.example")
    monthly = cli.json("centers", "add", "Bidii", "--office", "Nairobi East", "--staff",
                       "Wanjiru Kamau", "--meets", "monthly", "--weekday", "mon",
                       "--week-of-month", "1", "--from", "2026-01-01")
    umoja = cli.json("groups", "add", "Umoja", "--office", "Nairobi East", "--center",
                     "Kilimani")
    nguvu = cli.json("groups", "add", "Nguvu", "--office", "Kisumu", "--staff",
                     str(mwangi["id"]), "--meets", "weekly", "--from", "2026-01-05")
    biashara = cli.json("loan-products", "add", "Biashara", "--short-name", "bia", "--rate",
                        "24", "--every", "2", "--unit", "weeks", "--repayments", "12",
                        "--min-principal", "1000", "--max-principal", "50000")
    cli.json("loan-products", "add", "Kilimo", "--short-name", "KIL", "--rate", "20",
             "--method", "declining_balance", "--repayments", "16")
    lazima = cli.json("savings-products", "add", "Lazima", "--short-name", "LAZ", "--type",
                      "mandatory", "--recommended", "50")
    cli.json("savings-products", "add", "Group Fund", "--short-name", "GRF", "--type",
             "mandatory", "--recommended", "20", "--unit", "per_client")
    # Clients come through the clients service (their import is another command's job).
    amina = create_client(cli.ctx, actor_id=None, office_id=branch["id"], first_name="Amina",
                          last_name="Wanjiku", submitted_on=dt.date(2026, 1, 6), active=True,
                          external_id="CL-1")
    baraka = create_client(cli.ctx, actor_id=None, office_id=branch["id"],
                           first_name="Baraka", last_name="Mutua",
                           submitted_on=dt.date(2026, 1, 6), active=True)
    cli.json("groups", "add-member", "Umoja", "CL-1", "--joined", "2026-01-06")
    cli.json("groups", "add-member", str(umoja["id"]), str(baraka), "--joined", "2026-01-06")
    loan = cli.json("loans", "submit", "--product", "Biashara", "--client", "CL-1",
                    "--principal", "10000", "--submitted", "2026-01-02", "--expected",
                    "2026-01-06", "--officer", "Wanjiru Kamau", actor="wanjiru@mfi.example")
    approved = cli.json("loans", "approve", str(loan["id"]), "--on", "2026-01-05",
                        actor="grace@mfi.example")
    disbursed = cli.json("loans", "disburse", str(loan["id"]), "--on", "2026-01-06")
    repaid = cli.json("loans", "repay", str(loan["id"]), "1851.28", "--on", "2026-02-03",
                      "--payment-type", "Cash", "--receipt", "R-1")
    account = cli.json("savings", "open", "--product", "Lazima", "--client", "CL-1",
                       "--opened", "2026-01-06")
    deposit = cli.json("savings", "deposit", str(account["id"]), "150", "--on", "2026-02-03")
    withdrawal = cli.json("savings", "withdraw", str(account["id"]), "20.50")
    fund = cli.json("savings", "open", "--product", "Group Fund", "--group", "Umoja",
                    "--recommended", "25")
    charge = cli.json("charges", "add", "Membership fee", "--amount", "200", "--due",
                      "2026-02-17", "--client", str(baraka))
    return {"head": head, "branch": branch, "kisumu": kisumu, "boss": boss,
            "officer": officer, "center": center, "monthly": monthly, "umoja": umoja,
            "nguvu": nguvu, "holiday": holiday, "biashara": biashara, "lazima": lazima,
            "amina": amina, "loan": loan, "approved": approved, "disbursed": disbursed,
            "repaid": repaid, "account": account, "deposit": deposit,
            "withdrawal": withdrawal, "fund": fund, "charge": charge}


def test_an_institution_built_from_an_empty_database_through_the_cli(
        any_ctx: AppContext) -> None:
    cli = Cli(any_ctx)
    made = _build_institution(cli)
    assert made["branch"]["parent"] == "Head Office"
    assert made["officer"]["email"] == "wanjiru@mfi.example"
    assert made["officer"]["roles"] == ["loan officer"]
    assert made["center"]["meetings"] == "every 2 weeks on Tuesday from 2026-01-06"
    assert made["monthly"]["next_meeting"] == "2026-04-06"  # the first Monday of April
    assert made["umoja"]["center"] == "Kilimani" and made["umoja"]["staff"] == "Wanjiru Kamau"
    assert made["nguvu"]["next_meeting"] == "2026-03-09"
    assert made["biashara"]["short_name"] == "BIA"
    assert made["loan"]["status"] == "submitted"
    assert made["approved"]["status"] == "approved"
    schedule = made["disbursed"]["schedule"]
    assert [(i["due_date"], i["principal"], i["interest"]) for i in schedule[:2]] == [
        ("2026-01-20", "833.33", "92.31"), ("2026-02-03", "833.33", "92.31")]
    assert schedule[-1]["principal"] == "833.37" and len(schedule) == 12
    assert D(made["repaid"]["outstanding"]) == D("11107.69") - D("1851.28")
    assert D(made["withdrawal"]["balance"]) == D("129.50")
    assert D(made["fund"]["recommended_deposit"]) == D(25)
    centers = cli.json("centers", "list")
    assert [(c["name"], c["next_meeting"]) for c in centers] == [
        ("Kilimani", "2026-03-03"), ("Bidii", "2026-04-06")]
    table = cli.invoke("centers", "list")
    assert "Kilimani" in table.output and "2026-03-03" in table.output
    assert [h["name"] for h in cli.json("holidays", "list", "--office", "Kisumu")] == [
        "Madaraka Day"]  # a head office holiday is observed by its branches
    assert [p["name"] for p in cli.json("payment-types", "list")] == ["Cash", "M-Pesa"]
    assert [p["name"] for p in cli.json("loan-products", "list")] == ["Biashara", "Kilimo"]
    assert cli.json("loan-products", "show", "kil")["interest_method"] == "declining_balance"
    assert cli.json("savings-products", "show", "Group Fund")["deposit_unit"] == "per_client"
    assert [p["short_name"] for p in cli.json("savings-products", "list")] == ["LAZ", "GRF"]
    with any_ctx.session_factory() as s:
        audit = [(r.action, r.actor_id)
                 for r in s.scalars(select(AuditRecord).order_by(AuditRecord.id))]
    boss, officer = made["boss"]["id"], made["officer"]["id"]
    assert [a for a in audit if a[0] == "staff.create"] == [
        ("staff.create", None), ("staff.create", boss), ("staff.create", boss)]
    assert [a for a in audit if a[0] == "center.create"] == [
        ("center.create", boss), ("center.create", boss)]
    assert ("loan.submit", officer) in audit and ("loan.approve", boss) in audit
    assert ("loan.disburse", boss) in audit and ("payment_type.create", boss) in audit
    after_bootstrap = audit[audit.index(("staff.create", boss)):]
    # Nobody acts anonymously through the CLI (the test's own clients come from the service).
    assert {action for action, actor in after_bootstrap if actor is None} <= {
        "client.create", "client.activate"}


def test_staff_edit_deactivate_and_activate(ctx: AppContext) -> None:
    build_reference(ctx)
    cli = Cli(ctx)
    edited = cli.json("staff", "edit", "Faith Chebet", "--last-name", "Chebet-Kip",
                      "--email", "faith@mfi.example", "--loan-officer", "--no-clerk",
                      actor="grace.wambui@demo-mfi.example")
    assert (edited["name"], edited["email"], edited["roles"]) == (
        "Faith Chebet-Kip", "faith@mfi.example", ["loan officer"])
    assert cli.json("staff", "deactivate", "faith@mfi.example",
                    actor="Grace Wambui")["active"] is False
    assert cli.json("staff", "activate", str(edited["id"]), actor="5")["active"] is True
    with ctx.session_factory() as s:
        record = s.scalars(select(AuditRecord).where(AuditRecord.action == "staff.edit")).one()
        assert record.before["last_name"] == "Chebet" and record.after["last_name"] == \
            "Chebet-Kip"
        assert record.actor_id == s.scalar(select(Staff.id).where(
            Staff.email == "grace.wambui@demo-mfi.example"))


def _prepared(ctx: AppContext) -> Cli:
    """The demo's reference set-up plus a center run by Wanjiru and a member in its group."""
    build_reference(ctx)
    cli = Cli(ctx, actor="Grace Wambui")
    cli.json("centers", "add", "Kilimani", "--office", "Nairobi East", "--staff",
             "Wanjiru Kamau", "--meets", "every-2-weeks", "--from", "2026-01-06")
    cli.json("groups", "add", "Umoja", "--office", "Nairobi East", "--center", "Kilimani")
    create_client(ctx, actor_id=None, office_id=2, first_name="Amina", last_name="Wanjiku",
                  active=True, external_id="CL-1", group_id=1,
                  submitted_on=dt.date(2026, 1, 6))
    create_client(ctx, actor_id=None, office_id=3, first_name="Juma", last_name="Otieno",
                  active=True, external_id="CL-K",
                  submitted_on=dt.date(2026, 1, 6))
    return cli


REFUSALS: list[tuple[tuple[str, ...], str, str]] = [
    (("offices", "add", "Nairobi East", "--parent", "1"), "duplicate-value",
     "An office named 'Nairobi East' already exists."),
    (("offices", "add", "Mombasa"), "missing-value", "needs a parent office"),
    (("offices", "add", "Mombasa", "--parent", "99"), "not-found",
     "There is no office with id or name '99'."),
    (("offices", "add", "Mombasa", "--parent", "1", "--opened", "2019-12-31"),
     "date-not-allowed", "before its parent 'Head Office' opened (2020-01-01)"),
    (("offices", "add", "Mombasa", "--parent", "1", "--opened", "2026-03-04"),
     "date-not-allowed", "opening date 2026-03-04 is in the future"),
    (("offices", "add", "Mombasa", "--parent", "1", "--external-id", "BR-NBI"),
     "duplicate-value", "External id 'BR-NBI' is already used by another office."),
    (("offices", "add", "Mombasa", "--parent", "1", "--opened", "2026-02-30"),
     "usage", "opening date"),
    (("staff", "add", "Ann", "Bee", "--office", "Kisumu", "--email", "not-an-email"),
     "invalid-value", "E-mail address 'not-an-email' is not valid"),
    (("staff", "add", "Ann", "Bee", "--office", "Kisumu", "--email",
      "Faith.Chebet@demo-mfi.example"), "duplicate-value",
     "E-mail address 'faith.chebet@demo-mfi.example' is already used"),
    (("staff", "add", " ", "Bee", "--office", "Kisumu"), "missing-value",
     "The first name is mandatory."),
    (("staff", "add", "Ann", "Bee", "--office", "Kisumu", "--joined", "2026-04-01"),
     "date-not-allowed", "joining date 2026-04-01 is in the future"),
    (("staff", "edit", "Nobody Here"), "not-found", "No member of staff is known as"),
    (("staff", "edit", "Wanjiru Kamau", "--office", "Kisumu"), "staff-still-assigned",
     "cannot move to another office: they still run centers 'Kilimani' and groups 'Umoja'"),
    (("staff", "edit", "Wanjiru Kamau", "--no-loan-officer"), "staff-still-assigned",
     "cannot stop being a loan officer"),
    (("staff", "deactivate", "Wanjiru Kamau"), "staff-still-assigned",
     "Wanjiru Kamau cannot be deactivated: they still run centers 'Kilimani'"),
    (("staff", "activate", "Wanjiru Kamau"), "wrong-state", "Wanjiru Kamau is already active."),
    (("payment-types", "add", "Cash"), "duplicate-value", "Payment type 'Cash' already exists."),
    (("holidays", "add", "Long", "--office", "Kisumu", "--from", "2026-06-10", "--to",
      "2026-06-01"), "date-not-allowed", "ends (2026-06-01) before it starts (2026-06-10)"),
    (("holidays", "add", "Term", "--office", "Kisumu", "--from", "2026-06-01", "--to",
      "2026-08-01"), "date-not-allowed", "lasts 62 days"),
    (("centers", "add", "X", "--office", "Kisumu", "--staff", "Wanjiru Kamau", "--meets",
      "weekly", "--from", "2026-01-05"), "staff-not-usable",
     "works in office 'Nairobi East', not 'Kisumu'"),
    (("centers", "add", "X", "--office", "Nairobi East", "--staff", "Grace Wambui",
      "--meets", "weekly", "--from", "2026-01-05"), "staff-not-usable",
     "Grace Wambui (id 5), is not a loan officer"),
    (("centers", "add", "Kilimani", "--office", "Nairobi East", "--staff", "Otieno Odhiambo",
      "--meets", "weekly", "--from", "2026-01-05"), "duplicate-value",
     "already has a center named 'Kilimani'"),
    (("centers", "add", "X", "--office", "Nairobi East", "--staff", "Otieno Odhiambo",
      "--meets", "daily", "--from", "2026-01-05"), "usage", "--meets 'daily'"),
    (("centers", "add", "X", "--office", "Nairobi East", "--staff", "Otieno Odhiambo",
      "--meets", "weekly", "--weekday", "funday", "--from", "2026-01-05"), "usage",
     "--weekday 'funday' is not a weekday"),
    (("centers", "add", "X", "--office", "Nairobi East", "--staff", "Otieno Odhiambo",
      "--meets", "monthly", "--week-of-month", "2", "--from", "2026-01-05"),
     "missing-value", "--week-of-month needs --weekday"),
    (("centers", "add", "X", "--office", "Nairobi East", "--staff", "Otieno Odhiambo",
      "--meets", "weekly", "--from", "2019-01-07"), "date-not-allowed",
     "first meeting date 2019-01-07 is before office 'Nairobi East' opened"),
    (("groups", "add", "Solo", "--office", "Kisumu"), "missing-value",
     "Group 'Solo' has no center, so it needs a meeting calendar of its own."),
    (("groups", "add", "G", "--office", "Kisumu", "--center", "Kilimani"), "invalid-value",
     "center 'Kilimani' belongs to office 'Nairobi East', not 'Kisumu'"),
    (("groups", "add", "G", "--office", "Nairobi East", "--center", "Kilimani", "--meets",
      "weekly", "--from", "2026-01-05"), "invalid-value", "leave its own meeting calendar"),
    (("groups", "add", "Umoja", "--office", "Nairobi East", "--center", "Kilimani"),
     "duplicate-value", "A group named 'Umoja' already exists in this center."),
    (("groups", "add-member", "Umoja", "CL-1"), "duplicate-value",
     "Amina Wanjiku is already a member of group 'Umoja'."),
    (("groups", "add-member", "Umoja", "CL-K"), "invalid-value",
     "Juma Otieno belongs to office 'Kisumu'"),
    (("groups", "add-member", "Umoja", "CL-404"), "not-found",
     "There is no client with id or external id 'CL-404'."),
    (("loan-products", "add", "Biashara", "--short-name", "B2", "--rate", "24",
      "--repayments", "12"), "duplicate-value", "A loan product named 'Biashara'"),
    (("loan-products", "add", "New", "--short-name", "BIA", "--rate", "24",
      "--repayments", "12"), "duplicate-value", "The short name 'BIA' is already used"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "240",
      "--repayments", "12"), "product-terms", "annual interest rate 240% is outside 0 to 100%"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24",
      "--repayments", "0"), "product-terms", "number of repayments 0 is outside 1 to 260"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24", "--repayments",
      "6", "--every", "13", "--unit", "months"), "product-terms",
     "repayment every 13 is outside 1 to 12 months"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24", "--repayments",
      "6", "--unit", "days"), "product-terms", "Repayment unit 'days' is not known"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24", "--repayments",
      "6", "--method", "declining_balance", "--interest-at-disbursement"), "product-terms",
     "only with the flat interest method"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24", "--repayments",
      "6", "--min-principal", "5000", "--max-principal", "1000"), "product-terms",
     "minimum principal 5000 is more than the maximum principal 1000"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "24", "--repayments",
      "6", "--currency", "KSHS"), "product-terms", "Currency 'KSHS' is not a three-letter"),
    (("loan-products", "add", "New", "--short-name", "NEW", "--rate", "abc",
      "--repayments", "6"), "usage", "The interest rate 'abc' is not an amount"),
    (("loan-products", "show", "Nope"), "not-found",
     "There is no loan product with id or name 'Nope'."),
    (("savings-products", "add", "S", "--short-name", "S", "--type", "sometimes",
      "--recommended", "5"), "product-terms", "Deposit type 'sometimes' is not known"),
    (("savings-products", "add", "S", "--short-name", "S", "--type", "voluntary",
      "--recommended", "-5"), "product-terms", "recommended deposit -5 must be more than"),
    (("savings-products", "add", "S", "--short-name", "S", "--type", "voluntary",
      "--recommended", "5", "--unit", "per_cow"), "product-terms",
     "Deposit unit 'per_cow' is not known"),
    (("savings-products", "show", "404"), "not-found", "savings product"),
    (("loans", "submit", "--product", "Biashara", "--client", "CL-1", "--principal",
      "100", "--group", "Umoja"), "invalid-value", "exactly one client or one group"),
    (("loans", "submit", "--product", "Biashara", "--client", "CL-1", "--principal", "100",
      "--submitted", "2026-03-10"), "date-not-allowed",
     "submission date 2026-03-10 is in the future"),
    (("loans", "approve", "77"), "not-found", "There is no loan with id 77."),
    (("loans", "disburse", "77"), "not-found", "There is no loan with id 77."),
    (("loans", "repay", "77", "10"), "not-found", "There is no loan with id 77."),
    (("savings", "open", "--product", "Lazima"), "invalid-value",
     "exactly one client, group or center"),
    (("savings", "open", "--product", "Lazima", "--client", "CL-1", "--opened",
      "2026-03-05"), "date-not-allowed", "opening date 2026-03-05 is in the future"),
    (("savings", "deposit", "77", "10"), "not-found", "There is no savings account with id 77."),
    (("savings", "withdraw", "77", "10"), "not-found", "savings account with id 77"),
    (("charges", "add", "Fee", "--amount", "10", "--kind", "tax", "--client", "CL-1"),
     "usage", "--kind 'tax' is not known"),
    (("charges", "add", "Fee", "--amount", "0", "--client", "CL-1"), "invalid-value",
     "must be more than zero"),
]


def test_every_refusal_is_one_sentence_naming_the_value(ctx: AppContext) -> None:
    cli = _prepared(ctx)
    failures = []
    for args, code, words in REFUSALS:
        error = cli.refused(*args)
        if error.code != code or words not in error.message:
            failures.append((args, error.code, error.message))
    assert not failures


def test_loan_and_savings_refusals_after_the_happy_path(ctx: AppContext) -> None:
    cli = _prepared(ctx)
    loan = cli.json("loans", "submit", "--product", "Biashara", "--client", "CL-1",
                    "--principal", "10000", "--submitted", "2026-01-02")
    assert cli.refused("loans", "disburse", str(loan["id"])).code == "wrong-state"
    assert "before it was submitted" in cli.refused(
        "loans", "approve", str(loan["id"]), "--on", "2026-01-01").message
    cli.json("loans", "approve", str(loan["id"]), "--on", "2026-01-03")
    assert "disbursal date 2026-03-04 is in the future" in cli.refused(
        "loans", "disburse", str(loan["id"]), "--on", "2026-03-04").message
    cli.json("loans", "disburse", str(loan["id"]), "--on", "2026-01-06")
    assert "11107.69 still owed" in cli.refused("loans", "repay", str(loan["id"]),
                                                 "20000").message
    account = cli.json("savings", "open", "--product", "Hiari", "--client", "CL-1")
    assert "more than the balance of 0" in cli.refused(
        "savings", "withdraw", str(account["id"]), "5").message
    assert "is not an amount" in cli.refused("savings", "deposit", str(account["id"]),
                                             "ten").message
    assert "A withdrawal of 0.00 from account" in cli.refused(
        "savings", "withdraw", str(account["id"]), "0").message
    assert "A deposit of 0.00 into account" in cli.refused(
        "savings", "deposit", str(account["id"]), "0").message


def test_a_refusal_in_a_real_process_is_one_line_and_exit_1(ctx: AppContext) -> None:
    build_reference(ctx)
    env = {**os.environ, "WORKBOOK_ENGINE_HOME": str(ctx.home),
           "WORKBOOK_ENGINE_DB": ctx.settings.database_url,
           "WORKBOOK_ENGINE_TODAY": "2026-03-03", "COLUMNS": "200",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    result = subprocess.run(
        [sys.executable, "-m", "workbook_engine.cli.main", "--as", "Grace Wambui",
         "centers", "add", "X", "--office", "Kisumu", "--staff", "Wanjiru Kamau", "--meets",
         "weekly", "--from", "2026-01-05"], capture_output=True, text=True, env=env,
        timeout=120)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: The loan officer of center 'X', Wanjiru Kamau (id 1), works in office "
        "'Nairobi East', not 'Kisumu'.")
    unknown_actor = subprocess.run(
        [sys.executable, "-m", "workbook_engine.cli.main", "--as", "Nobody", "payment-types",
         "add", "Cheque"], capture_output=True, text=True, env=env, timeout=120)
    assert unknown_actor.returncode == 1 and "No member of staff is known as 'Nobody'" in \
        unknown_actor.stderr


@pytest.mark.parametrize("meets, expected", [
    ("weekly", ("weekly", 1)), ("every-2-weeks", ("weekly", 2)), ("fortnightly", ("weekly", 2)),
    ("monthly", ("monthly", 1)), ("every-3-months", ("monthly", 3)),
])
def test_meeting_words(meets: str, expected: tuple[str, int]) -> None:
    from workbook_engine.cli.setup import parse_meets, parse_week_of_month, parse_weekday

    assert parse_meets(meets) == expected
    assert parse_weekday("Tue") == 1 and parse_weekday("6") == 6
    assert parse_week_of_month("last") == -1
