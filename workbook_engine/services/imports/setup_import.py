"""Setup and migration workbooks: templates, and the ``setup_*`` kinds of the pipeline.

* :func:`generate_setup_template` (``workbook-engine template setup --kind K``): signs,
  records and writes a template whose dropdowns list what already exists.
* :func:`process_setup_import` is what :func:`services.processing.process_file` calls for a
  signed ``setup_*`` workbook or an unsigned Mifos X / Fineract workbook of one of these
  kinds: read, then a **dry run** -- every row is posted, from top to bottom, by the setup
  services themselves (``create_office_in``, ``migrate_loan_in``, ...) inside one transaction
  that is rolled back at the end; each row in its own savepoint, so a refused row is undone
  alone and later rows may name the records of earlier ones (a parent office above). The
  report (the workbook written back with a status per row, an Errors sheet and, for live
  loans and savings, a Reconciliation sheet; and HTML) says what posting would do.
* :func:`approve_setup_import` (through :func:`services.submissions.approve_submission`):
  maker-checker, then the same run on the archived file against the database as it is now,
  this time committed: each valid row is posted whole (or, refused, not at all), and
  ``setup_import_rows`` records which row became which record, so a re-upload skips it.

Because preview and approval run the same code, what posting creates equals the dry run's
reconciliation as long as nothing else changed in between (tests prove it).

Order matters: a row naming an office, member of staff, center, group, product or client
that is not in the engine yet is refused with the template to load first
(``setup-not-loaded-yet``); within a sheet, a row may name a record of a row *above* it
(``setup-later-row`` for one below). A new institution has no supervisor yet: its offices and
staff workbooks are approved by the person installing the engine (recorded as a bootstrap
approval) until a supervisor exists; from then on maker-checker applies to every workbook.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workbook_engine.db.uow import UnitOfWork
from workbook_engine.domain import (
    Center,
    Client,
    GeneratedWorkbook,
    Group,
    Loan,
    LoanProduct,
    Office,
    SavingsAccount,
    SavingsProduct,
    SetupImportRow,
    Staff,
    Submission,
)
from workbook_engine.domain.enums import (
    ClientStatus,
    GroupStatus,
    LoanStatus,
    SavingsStatus,
    SubmissionStatus,
)
from workbook_engine.domain.labels import answering, distinct_labels
from workbook_engine.domain.schedule import (
    InterestMethod,
    LoanTerms,
    PeriodUnit,
    PlannedInstallment,
    calendar_misfit,
)
from workbook_engine.errors.loans import LOAN_CALENDAR_MISMATCH
from workbook_engine.errors import EngineError, Location, Problem
from workbook_engine.errors.general import DUPLICATE_VALUE
from workbook_engine.errors.setup_import import (
    SETUP_AMBIGUOUS_NAME,
    SETUP_BAD_VALUE,
    SETUP_DUPLICATE_IN_FILE,
    SETUP_EARLIER_ROW_INVALID,
    SETUP_LATER_ROW,
    SETUP_NO_ROWS,
    SETUP_NO_VALID_ROWS,
    SETUP_NOT_LOADED_YET,
    SETUP_WRONG_KIND,
)
from workbook_engine.reports.client_import_report import (
    ImportSummary,
    error_json,
    marks,
    record_name,
)
from workbook_engine.reports.client_import_report import write_import_html
from workbook_engine.services.setup import institution as setup
from workbook_engine.services.imports.client_import import import_rules
from workbook_engine.services.context import AppContext
from workbook_engine.services.pipeline.submissions import (
    check_decider,
    lock_submission,
    set_status,
    show_submission,
)
from workbook_engine.services.imports.common import (
    archived_metadata,
    check_approvable,
    known_workbook,
    nothing_to_post,
    preview_message,
    read_archived,
    report_path,
    resign,
    sign_and_record,
)
from workbook_engine.services.ledger.loans import MoneyMovementSource, repayment_calendar
from workbook_engine.services.setup.lookup import get_or_fail, has_active_supervisor
from workbook_engine.services.imports.migration import (
    LoanMigration,
    OfficeTotals,
    SavingsMigration,
    check_migration_date,
    database_totals_in,
    migrate_loan_from_terms_in,
    migrate_loan_in,
    migrate_savings_in,
    outstanding_from_repaid,
    portfolio_totals,
    replay_repayment_in,
    replay_savings_transaction_in,
)
from workbook_engine.validation.setup_import import Cells, parse_row, row_hashes, text_of, yes
from workbook_engine.validation.values import institution_locale
from workbook_engine.workbooks._types import RawWorkbook
from workbook_engine.workbooks.fineract_names import account_number, spellings
from workbook_engine.workbooks.grid import GridRow, GridSheet
from workbook_engine.workbooks.grid_writer import ReportContent, ReportRow
from workbook_engine.workbooks.metadata import SignedMetadata, WorkbookMetadata
from workbook_engine.workbooks.setup_import_reader import (
    SetupFile,
    fineract_setup_layout,
    read_setup_fineract,
    read_setup_template,
)
from workbook_engine.workbooks.setup_import_sheet import (
    FINERACT,
    HISTORY_FIGURES,
    LIST_KINDS,
    ROW_KEY,
    SETUP_KINDS,
    SetupKind,
    SetupSheet,
    columns_for,
    kind_of,
)
from workbook_engine.workbooks.setup_import_writer import (
    MEASURES,
    SetupTemplateData,
    write_setup_workbook,
)

RECONCILIATION_MEASURES = MEASURES
"""The reconciliation's figures, (key, label) in the order shown."""

EXPECTED_FORMAT = 1
BOOTSTRAP_KINDS = ("setup_offices", "setup_staff")
_OUR_ID = re.compile(r"^(.*\S)\s*#(\d+)$")


@dataclass(frozen=True)
class SetupTemplateResult:
    """A setup template written."""

    workbook_id: str
    path: Path
    kind: str
    office: str | None
    columns: int


# ---------------------------------------------------------------- templates

def _client_label(client: Client) -> str:
    return f"{client.display_name} #{client.id}"


def _office_ids(session: Session, office_id: int | None) -> list[int] | None:
    """The office and its branches (None: every office)."""
    if office_id is None:
        return None
    office = get_or_fail(session, Office, office_id, "office")
    ids, queue = [], [office]
    while queue:
        node = queue.pop(0)
        ids.append(node.id)
        queue.extend(node.children)
    return ids


def _lists(session: Session, office_ids: list[int] | None) -> dict[str, list[str]]:
    """Every record list a template offers, names only (of the offices when given)."""
    def within(column: Any) -> Any:
        return True if office_ids is None else column.in_(office_ids)

    offices = [o.name for o in session.scalars(select(Office).where(within(Office.id))
                                               .order_by(Office.id))]
    staff = list(session.scalars(select(Staff).where(within(Staff.office_id),
                                                     Staff.active.is_(True))
                                 .order_by(Staff.id)))
    clients = session.scalars(select(Client).where(
        within(Client.office_id), Client.status == ClientStatus.ACTIVE).order_by(Client.id))
    centers = list(session.scalars(select(Center).where(
        within(Center.office_id), Center.status == GroupStatus.ACTIVE).order_by(Center.id)))
    groups = list(session.scalars(select(Group).where(
        within(Group.office_id), Group.status == GroupStatus.ACTIVE).order_by(Group.id)))
    staff_labels = distinct_labels({s.id: s.spellings for s in staff})
    center_labels = distinct_labels({c.id: c.spellings for c in centers})
    group_labels = distinct_labels({g.id: g.spellings for g in groups},
                                   {g.id: g.name for g in groups})
    return {
        "offices": offices,
        "staff": [staff_labels[s.id] for s in staff],
        "loan_officers": [staff_labels[s.id] for s in staff if s.is_loan_officer],
        "centers": [center_labels[c.id] for c in centers],
        "groups": [group_labels[g.id] for g in groups],
        "clients": [_client_label(c) for c in clients],
        "loan_products": list(session.scalars(select(LoanProduct.name).where(
            LoanProduct.active.is_(True)).order_by(LoanProduct.id))),
        "savings_products": list(session.scalars(select(SavingsProduct.name).where(
            SavingsProduct.active.is_(True)).order_by(SavingsProduct.id))),
    }


def _expected(kind: SetupKind, office_id: int | None, data: SetupTemplateData
              ) -> dict[str, Any]:
    return {"format": EXPECTED_FORMAT, "kind": kind.name,
            "template_version": kind.workbook.template_version, "office_id": office_id,
            "sheets": {name: [{"key": c.key, "header": c.header, "letter": c.letter}
                              for c in columns] for name, columns in data.grids()}}


def _sign(ctx: AppContext, session: Session, kind: SetupKind, office_id: int | None,
          actor_id: int | None, data: SetupTemplateData, file_name: str,
          now: dt.datetime) -> SignedMetadata:
    return sign_and_record(ctx, session, kind=kind.name,
                           template_version=kind.workbook.template_version,
                           office_id=office_id, staff_id=None, actor_id=actor_id,
                           expected=_expected(kind, office_id, data), file_name=file_name,
                           now=now, variant=data.variant)


def setup_kind(key: str) -> SetupKind:
    """The setup kind called ``key`` (offices, staff, ...), or a refusal listing them."""
    kind = SETUP_KINDS.get(key.strip().casefold())
    if kind is None:
        raise EngineError(SETUP_WRONG_KIND, f"There is no setup workbook of kind '{key}'; "
                          "use one of " + ", ".join(SETUP_KINDS) + ".", value=key)
    return kind


def generate_setup_template(ctx: AppContext, *, actor_id: int | None, kind: str,
                            out_dir: Path, office_id: int | None = None
                            ) -> SetupTemplateResult:
    """Write a setup or migration template of ``kind``; with ``office_id`` the dropdowns
    list only that office and its branches (and their staff, centers, groups, clients)."""
    found = setup_kind(kind)
    rows = import_rules(ctx).template_rows
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        ids = _office_ids(s, office_id)
        office = s.get(Office, office_id) if office_id is not None else None
        title = f"{found.title}" + (f" of {office.name}" if office else "")
        data = SetupTemplateData(found, title, _lists(s, ids), rows)
        out_dir.mkdir(parents=True, exist_ok=True)
        from workbook_engine.intake.archive import safe_file_name

        suffix = f"-{safe_file_name(office.name, 'office')}" if office else ""
        path = out_dir / f"setup-{found.key}{suffix}.xlsx"
        signed = _sign(ctx, s, found, office_id, actor_id, data, path.name, uow.now)
        write_setup_workbook(path, data, signed)
        uow.audit("workbook.generate", s.get(GeneratedWorkbook, signed.metadata.workbook_id),
                  after={"kind": found.name, "office_id": office_id, "file": path.name})
        uow.commit()
        return SetupTemplateResult(signed.metadata.workbook_id, path, found.key,
                                   office.name if office else None,
                                   sum(len(c) for _, c in data.grids()))


# ---------------------------------------------------------------- rows

@dataclass
class RowResult:
    """What became (or would become) of one row."""

    sheet: SetupSheet
    grid: GridSheet
    row: GridRow
    content_hash: str
    state: str = "invalid"  # valid | invalid | already
    problems: list[Problem] = field(default_factory=list)
    entity_type: str | None = None
    entity_id: int | None = None
    posted: bool = False
    label: str = ""
    migration: LoanMigration | SavingsMigration | None = None
    figures: dict[str, Any] = field(default_factory=dict)  # computed, for the report

    @property
    def status_text(self) -> str:
        """The report's status cell for the row."""
        record = self.sheet.record
        if self.state == "already":
            return f"Already imported: {record} {self.entity_id}"
        if self.posted:
            return f"Imported: {record} {self.entity_id}"
        if self.state == "valid":
            return "Valid: imported when a supervisor approves"
        return "Not imported: " + " ".join(p.message for p in self.problems)


@dataclass
class RunResult:
    """Every row's outcome, the file's own problems and, for live loans and savings, the
    reconciliation (per office: what the file brings, what the engine holds after)."""

    rows: list[RowResult]
    file_problems: list[Problem]
    reconciliation: list[dict[str, Any]] = field(default_factory=list)

    @property
    def problems(self) -> list[Problem]:
        out = list(self.file_problems)
        for row in self.rows:
            out.extend(row.problems)
        return out

    def count(self, state: str) -> int:
        return sum(1 for r in self.rows if r.state == state)


class _Refused(Exception):
    """A row refused while resolving its names (its problems are on its cells)."""


@dataclass
class _Context:
    """What a row handler needs besides its values."""

    ctx: AppContext
    uow: UnitOfWork
    book: SetupFile
    cells: Cells
    values: dict[str, Any]
    defined: Mapping[str, int]  # names defined by rows of this sheet -> row
    source: MoneyMovementSource
    today: dt.date
    clients_by_office: dict[int | None, list[Client]]  # the run's cache (none are created)
    figures: dict[str, Any] = field(default_factory=dict)  # what the row comes to (report)

    @property
    def session(self) -> Session:
        return self.uow.session

    def refuse(self, error: Any, key: str, message: str, value: Any = None) -> None:
        self.cells.add(error, key, message, value)
        raise _Refused

    def check(self, *needed: Any) -> None:
        """Stop before posting when the row has any problem so far (every cell's and every
        name's are reported together), or lacks one of the ``needed`` records (a mandatory
        cell that is empty, already noted, or a column the sheet lacks, noted on the file)."""
        if self.cells.problems or any(value is None for value in needed):
            raise _Refused

    def text(self, key: str) -> str | None:
        return self.values.get(key)

    # ------------------------------------------------------------ names of records

    def missing(self, what: str, list_name: str, key: str, text: str,
                suffix: str = "") -> None:
        """Note a name that is not there: below, invalid above, or not loaded yet."""
        row = self.defined.get(text.casefold())
        here = self.cells.row.row
        add = self.cells.add
        if row is not None and row > here:
            add(SETUP_LATER_ROW, key, f"the {what} '{text}' is defined on row {row}, below "
                "this one; move that row above.", text)
            return
        if row is not None and row < here:
            add(SETUP_EARLIER_ROW_INVALID, key, f"the {what} '{text}' of row {row} has "
                f"errors, so it is not there for this row; correct row {row} first.", text)
            return
        loader = LIST_KINDS[list_name]
        if loader == self.book.kind.key:
            add(SETUP_NOT_LOADED_YET, key, f"there is no {what} '{text}'{suffix} in the "
                "engine, nor on a row above this one; add it on a row above (or correct the "
                "name: choose it from the drop-down).", text)
            return
        how = ("`workbook-engine template clients --office ID`" if loader == "clients"
               else f"`workbook-engine template setup --kind {loader}`")
        add(SETUP_NOT_LOADED_YET, key, f"there is no {what} '{text}'{suffix} in the engine "
            f"yet. {loader.capitalize()} are loaded before {self.book.kind.title.lower()}: "
            f"fill the "
            f"{loader} template ({how}), send it and have it approved, then send this "
            "workbook again.", text)

    def office(self, key: str = "office") -> Office | None:
        text = self.text(key)
        if text is None:
            return None
        found = next((o for name in _spellings(text) for o in self.session.scalars(
            select(Office).where(func.lower(Office.name) == name))), None)
        if found is None:
            self.missing("office", "offices", key, text)
        return found

    def staff(self, key: str, office: Office | None) -> Staff | None:
        text = self.text(key)
        if text is None:
            return None
        everyone = {s.id: s for s in self.session.scalars(select(Staff))}
        found = [everyone[i] for i in answering(
            ((s.id, s.spellings) for s in everyone.values()), _spellings(text))]
        if not found:
            self.missing("member of staff", "staff", key, text)
            return None
        mine = [s for s in found if office is not None and s.office_id == office.id]
        chosen = mine or found
        labels = distinct_labels({s.id: s.spellings for s in chosen})
        return self.one(chosen, "members of staff", key, text, lambda s: labels[s.id])

    def one(self, found: Sequence[Any], what: str, key: str, text: str,
            label: Callable[[Any], str]) -> Any:
        """The one record a name gives; several are refused, never guessed between."""
        if len(found) > 1:
            self.cells.add(SETUP_AMBIGUOUS_NAME, key, f"{len(found)} {what} are called "
                           f"'{text}' (" + "; ".join(label(r) for r in found[:5]) + "); "
                           "write the one meant as the drop-down lists it.", text)
            return None
        return found[0]

    def named(self, model: type, what: str, list_name: str, key: str,
              office: Office | None) -> Any:
        """A center or group of the office by name ("Group (Center)" for a group whose
        name is not unique in the office)."""
        text = self.text(key)
        if text is None:
            return None
        query = select(model)
        if office is not None:
            query = query.where(model.office_id == office.id)
        candidates = {r.id: r for r in self.session.scalars(query)}
        found = [candidates[i] for i in answering(
            ((r.id, (r.name, *r.spellings)) for r in candidates.values()), _spellings(text))]
        if not found:
            self.missing(what, list_name, key, text,
                         f" in office {office.name}" if office is not None else "")
            return None
        plural = "groups" if model is Group else "centers"
        labels = distinct_labels({r.id: r.spellings for r in found})
        return self.one(found, plural, key, text, lambda r: labels[r.id])

    def product(self, model: type, list_name: str) -> Any:
        text = self.text("product")
        if text is None:  # mandatory: parse_row has noted it on the cell
            return None
        found = next((p for name in _spellings(text) for p in self.session.scalars(
            select(model).where((func.lower(model.name) == name)
                                | (func.lower(model.short_name) == name)))), None)
        if found is None:
            what = "loan product" if model is LoanProduct else "savings product"
            self.missing(what, list_name, "product", text)
        return found

    def client(self, key: str, office: Office | None) -> Client | None:
        """A client by "name #id" (our dropdown), external id, or name in the office."""
        s = self.session
        external = self.text("client_external_id")
        if external:
            found = s.scalar(select(Client).where(Client.external_id == external))
            if found is None:
                self.missing("client with external id", "clients", "client_external_id",
                             external)
            return found
        text = self.text(key)
        if text is None:
            return None
        return self.client_named(text, key, office)

    def client_named(self, text: str, key: str, office: Office | None,
                     which: str = "choose one from the drop-down or give the client's "
                                  "external id") -> Client | None:
        """A client by "name #id" (our dropdown), or by name (a Fineract "Name(12)" by its
        name) among the active and pending clients of the office; None (noted) when there
        is none, or several."""
        s = self.session
        ours = _OUR_ID.match(text)
        if ours:
            found = s.get(Client, int(ours.group(2)))
            if found is not None and found.display_name.casefold() == \
                    ours.group(1).casefold():
                return found
        office_id = office.id if office is not None else None
        if office_id not in self.clients_by_office:
            query = select(Client).where(Client.status.in_(
                [ClientStatus.ACTIVE, ClientStatus.PENDING]))
            if office is not None:
                query = query.where(Client.office_id == office.id)
            self.clients_by_office[office_id] = list(s.scalars(query))
        candidates = self.clients_by_office[office_id]
        matches = next(([c for c in candidates if c.display_name.casefold() == name]
                        for name in _spellings(text)
                        if any(c.display_name.casefold() == name for c in candidates)), [])
        if len(matches) > 1:
            self.cells.add(SETUP_AMBIGUOUS_NAME, key, f"{len(matches)} clients are called "
                           f"'{text}' (" + ", ".join(_client_label(c) for c in matches[:5])
                           + f"); {which}.", text)
            return None
        if not matches:
            self.missing("client", "clients", key, text,
                         f" in office {office.name}" if office is not None else "")
            return None
        return matches[0]

    def account(self, model: type[Loan] | type[SavingsAccount], key: str,
                client: Client | None) -> Loan | SavingsAccount | None:
        """The client's loan (savings account) a history row is about: by its account
        number in the engine or its external id, else the client's one active loan
        (account) of the row's product (and principal); several are refused, never guessed
        between. Fineract's own account numbers ("000000012-Active") are not ours: they
        find the loan only as its external id, or when the client has just one."""
        text = self.text(key)
        if text is None or client is None:
            return None
        what = "loan" if model is Loan else "savings account"
        number = account_number(text)
        found = [a for a in self.session.scalars(select(model).where(or_(
            model.account_no.in_({text, number}), model.external_id.in_({text, number}))))]
        if found:
            if all(a.client_id != client.id for a in found):
                self.cells.add(SETUP_BAD_VALUE, key, f"{what} {text} is not one of "
                               f"{_client_label(client)}'s; correct the {what} or the "
                               "client.", text)
                return None
            return next(a for a in found if a.client_id == client.id)
        active = LoanStatus.ACTIVE if model is Loan else SavingsStatus.ACTIVE
        candidates = list(self.session.scalars(select(model).where(
            model.client_id == client.id, model.status == active).order_by(model.id)))
        product = self.text("product")
        if product is not None:
            names = set(_spellings(product))
            candidates = [a for a in candidates if a.product.name.casefold() in names
                          or a.product.short_name.casefold() in names]
        principal = self.values.get("principal")
        of_product = candidates
        if principal is not None and model is Loan:
            candidates = [a for a in candidates if a.principal == principal]  # type: ignore[union-attr]
        if len(candidates) == 1:
            return candidates[0]
        kind = "loans" if model is Loan else "savings"
        of = f" of product '{product}'" if product else ""
        if not candidates and of_product:  # the loan is there; the principal is not its
            self.cells.add(SETUP_BAD_VALUE, key, f"{_client_label(client)}'s active "
                           f"loan(s){of}: " + ", ".join(
                               f"{a.account_no} (principal {a.principal:,.2f})"
                               for a in of_product[:5])  # type: ignore[attr-defined]
                           + f"; none is of principal {principal:,.2f}, so '{text}' is not "
                           "one of them; correct the 'Principal', or write the loan's account "
                           "number in the engine.", text)
        elif not candidates:
            self.cells.add(SETUP_NOT_LOADED_YET, key, f"{_client_label(client)} has no active "
                           f"{what}{of} in the engine that '{text}' could be. A {what} is "
                           f"migrated before its history: send the {kind} workbook (Mifos X "
                           f"'{'Loans' if model is Loan else 'SavingsAccounts'}', or "
                           f"`workbook-engine template setup --kind {kind}`), have it "
                           "approved, then send this workbook again.", text)
        else:
            self.cells.add(SETUP_AMBIGUOUS_NAME, key, f"{_client_label(client)} has "
                           f"{len(candidates)} active {what}s{of} ("
                           + ", ".join(a.account_no for a in candidates[:5])
                           + f"), so '{text}' is not enough; write the {what}'s account "
                           "number in the engine (or its external id).", text)
        return None


def _spellings(text: str) -> list[str]:
    """The ways a name read from a workbook may be known (Fineract's spellings too)."""
    return spellings(text)


def _weekday(values: Mapping[str, Any]) -> int | None:
    return int(values["weekday"]) if values.get("weekday") is not None else None


def _week_of_month(values: Mapping[str, Any]) -> int | None:
    value = values.get("week_of_month")
    return int(value) if value is not None else None


Posted = tuple[str, int, str, "LoanMigration | SavingsMigration | None"]
"""(table, id, label, migration row) of what a row became."""


def _post_office(c: _Context) -> Posted:
    v = c.values
    parent = c.office("parent")
    c.check()
    office = setup.create_office_in(c.ctx, c.uow, name=v["name"],
                                    opening_date=v["opening_date"],
                                    parent_id=parent.id if parent else None,
                                    external_id=v.get("external_id"))
    return "offices", office.id, office.name, None


def _post_staff(c: _Context) -> Posted:
    v = c.values
    office = c.office()
    c.check(office)
    assert office is not None  # checked
    staff = setup.create_staff_in(
        c.ctx, c.uow, office_id=office.id, first_name=v["first_name"],
        last_name=v["last_name"], is_loan_officer=yes(v.get("is_loan_officer")),
        is_supervisor=yes(v.get("is_supervisor")), is_clerk=yes(v.get("is_clerk")),
        email=v.get("email"), active=yes(v.get("active"), True), mobile_no=v.get("mobile_no"),
        joined_on=v.get("joined_on"), external_id=v.get("external_id"))
    return "staff", staff.id, staff.display_name, None


def _meeting_kwargs(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"meeting_start": v.get("meeting_start"),
            "meeting_frequency": v.get("frequency") or "weekly",
            "meeting_interval": v.get("interval") or 1, "meeting_weekday": _weekday(v),
            "meeting_week_of_month": _week_of_month(v)}


def _activation(c: _Context, what: str, own_meeting: bool) -> dt.date | None:
    """The activation date; a Mifos X / Fineract row is noted as wrong when the center or
    group is not active there, or meets only once (the engine's meetings repeat)."""
    v = c.values
    if c.book.layout != FINERACT:
        return v.get("activation_date")
    problems = []
    if v.get("active") == "no":
        problems.append(("active", f"the {what} is not active in Mifos X ('Active' is "
                         f"False); the engine takes active {what}s only: activate it there "
                         "first, or set 'Active' to True with its activation date, or leave "
                         "the row out."))
    if own_meeting and v.get("repeating") == "no" and v.get("meeting_start") is not None:
        problems.append(("repeating", "the meeting does not repeat ('Repeat' is False); "
                         "collection meetings repeat: set 'Repeat' to True with the "
                         "frequency, interval and day of the meetings."))
    for key, message in problems:
        c.cells.add(SETUP_BAD_VALUE, key, message, c.cells.row.values.get(key))
    return v.get("activation_date") or v.get("submitted_on")


def _post_center(c: _Context) -> Posted:
    v = c.values
    office = c.office()
    staff = c.staff("staff", office)
    activation = _activation(c, "center", True)
    c.check(office)
    assert office is not None  # checked
    center = setup.create_center_in(
        c.ctx, c.uow, office_id=office.id, name=v["name"], staff_id=staff.id if staff else None,
        external_id=v.get("external_id"), activation_date=activation, **_meeting_kwargs(v))
    return "centers", center.id, center.name, None


def _members(c: _Context, office: Office | None) -> list[Client]:
    """The clients a group row lists (each name that is wrong is noted)."""
    names = [n.strip() for n in re.split(r"[;\n]", c.text("members") or "") if n.strip()]
    found = [c.client_named(name, "members", office, "write the one meant as listed, "
                            "'name #id'") for name in dict.fromkeys(names)]
    return [client for client in found if client is not None]


def _post_group(c: _Context) -> Posted:
    v = c.values
    office = c.office()
    center = c.named(Center, "center", "centers", "center", office)
    staff = c.staff("staff", office)
    members = _members(c, office)
    activation = _activation(c, "group", center is None and c.text("center") is None)
    c.check(office)
    assert office is not None  # checked
    if center is None:
        meeting = _meeting_kwargs(v)
    elif c.book.layout == FINERACT:
        meeting = {}  # a Fineract group of a center meets with it, whatever its own columns
    else:
        meeting = {"meeting_start": v.get("meeting_start")}
    group = setup.create_group_in(
        c.ctx, c.uow, office_id=office.id, name=v["name"], staff_id=staff.id if staff else None,
        center_id=center.id if center else None, external_id=v.get("external_id"),
        activation_date=activation, **meeting)
    c.session.flush()
    for client in members:  # every member refused is reported
        try:
            setup.add_group_member_in(c.ctx, c.uow, group=group, client=client,
                                      joined_on=max(group.activation_date, client.submitted_on))
        except EngineError as exc:
            c.cells.add(exc.error, "members", exc.message, _client_label(client))
    c.check()
    return "groups", group.id, group.name, None


def _product_kwargs(v: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": v["name"], "short_name": v["short_name"], "currency_code": v["currency"],
            "currency_digits": 2 if v.get("currency_digits") is None
            else v["currency_digits"]}


def _post_loan_product(c: _Context) -> Posted:
    v = c.values
    c.check()
    product = setup.create_loan_product_in(
        c.ctx, c.uow, annual_interest_rate=v["annual_interest_rate"],
        interest_method=v["interest_method"], repayment_every=v["repayment_every"],
        repayment_unit=v["repayment_unit"], number_of_repayments=v["number_of_repayments"],
        interest_deducted_at_disbursement=yes(v.get("interest_deducted")),
        min_principal=v.get("min_principal"), max_principal=v.get("max_principal"),
        **_product_kwargs(v))
    return "loan_products", product.id, product.name, None


def _post_savings_product(c: _Context) -> Posted:
    v = c.values
    c.check()
    product = setup.create_savings_product_in(
        c.ctx, c.uow, deposit_type=v["deposit_type"],
        recommended_deposit=v["recommended_deposit"],
        deposit_unit=v.get("deposit_unit") or "per_group",
        allow_overdraft=yes(v.get("allow_overdraft")), **_product_kwargs(v))
    return "savings_products", product.id, product.name, None


def _as_of(c: _Context) -> dt.date | None:
    """The migration date: the row's, or today for a Fineract workbook (which has none);
    one that is not allowed is noted."""
    as_of = c.values.get("as_of") or (c.today if c.book.layout == FINERACT else None)
    if as_of is not None:
        try:
            check_migration_date(c.ctx, as_of)
        except EngineError as exc:
            c.cells.add(exc.error, "as_of", exc.message, as_of)
    return as_of


def _borrower(c: _Context, office: Office | None, type_key: str, key: str
              ) -> tuple[Client | None, Group | None, Center | None]:
    kind = c.values.get(type_key) or "client"
    if kind == "group":
        return None, c.named(Group, "group", "groups", key, office), None
    if kind == "center":
        return None, None, c.named(Center, "center", "centers", key, office)
    return c.client(key, office), None, None


def _date_and_office(c: _Context) -> tuple[dt.date | None, Office | None]:
    return _as_of(c), c.office()


def _post_loan(c: _Context) -> Posted:
    v = c.values
    as_of, office = _date_and_office(c)
    client, group, _ = _borrower(c, office, "borrower_type", "borrower")
    product = c.product(LoanProduct, "loan_products")
    officer = c.staff("loan_officer", office)
    if c.book.layout == FINERACT and v.get("disbursed_on") is None:
        c.cells.add(SETUP_BAD_VALUE, "disbursed_on", "a Fineract loan needs its 'Disbursed "
                    "Date' to be brought over as a live loan.")
    c.check(as_of, office, product, client or group)
    assert as_of is not None and office is not None and product is not None  # checked
    if c.book.layout == FINERACT:
        return _post_fineract_loan(c, as_of, office, product, client, group, officer)
    figures: dict[str, Any] = {
        k: v.get(k) for k in ("principal_outstanding", "interest_outstanding",
                              "remaining_installments", "next_due_date", "arrears_since",
                              "arrears_interest", "original_principal", "disbursed_on")}
    figures["arrears_amount"] = v.get("arrears_amount") or Decimal(0)
    figures["interest_paid"] = v.get("interest_paid") or Decimal(0)
    row = LoanMigration(office=office.name, product_id=product.id,
                        client_id=client.id if client else None,
                        group_id=group.id if group else None,
                        loan_officer_id=officer.id if officer else None,
                        external_id=v.get("external_id"), **figures)
    loan = migrate_loan_in(c.session, row, as_of, c.uow.actor_id, c.source)
    c.uow.audit("loan.migrate", loan, note=f"migrated as of {as_of} from a workbook")
    return "loans", loan.id, (client.display_name if client else group.name), row


_GRACE_COLUMNS = (("grace_on_principal", "Grace-Principal Payment"),
                  ("grace_on_interest", "Grace-Interest Payment"),
                  ("interest_free_periods", "Interest-Free Period(s)"))
_NOT_REBUILT = ("Bring this loan with the live loans template (`workbook-engine template setup "
                "--kind loans`: what it owes, its arrears and its next due date), or clear the "
                "cell to take the engine's schedule.")


def _fineract_terms(c: _Context, product: LoanProduct) -> LoanTerms:
    """A Fineract loan's own terms (its row's, else its product's): the rate per month or
    per year, repayment every N days, weeks or months, the interest method. Each value the
    engine cannot take is noted on its cell."""
    v = c.values
    if v.get("amortization") == "equal_principal":
        c.cells.add(SETUP_BAD_VALUE, "amortization", "'Equal principal payments' is not a "
                    "schedule the engine builds (it builds equal installments); choose "
                    "'Equal installments', or leave this loan in the old system.",
                    c.cells.row.values.get("amortization"))
    for key, header in _GRACE_COLUMNS:
        if v.get(key):
            c.cells.add(SETUP_BAD_VALUE, key, f"'{header}' {v[key]}: the engine builds "
                        "schedules without grace periods, so this loan's would not be the old "
                        f"system's. {_NOT_REBUILT}", c.cells.row.values.get(key))
    rate = v.get("rate")
    rate = product.annual_interest_rate if rate is None else (
        rate * 12 if v.get("rate_period") == "month" else rate)
    c.check()
    try:
        return LoanTerms(
            principal=v["principal"], annual_interest_rate=rate,
            method=InterestMethod(v.get("interest_method") or product.interest_method),
            repayment_every=v.get("repaid_every") or product.repayment_every,
            repayment_unit=PeriodUnit(v.get("repaid_every_unit") or product.repayment_unit),
            number_of_repayments=v.get("number_of_repayments")
            or product.number_of_repayments, currency_digits=product.currency_digits)
    except ValueError as exc:
        c.refuse(SETUP_BAD_VALUE, "number_of_repayments", f"the loan's terms cannot make a "
                 f"schedule ({exc}); correct the principal, '# of Repayments' and 'Repaid "
                 "Every'.")
        raise  # not reached: refuse raises


def _post_fineract_loan(c: _Context, as_of: dt.date, office: Office, product: LoanProduct,
                        client: Client | None, group: Group | None, officer: Staff | None
                        ) -> Posted:
    """A Fineract loan gives its terms and what was repaid: its schedule is built from the
    terms on the borrower's meeting calendar, and the amount repaid is replayed on it (as
    Fineract's own import does: one repayment on 'Date-Last Repayment'), so what is
    outstanding and in arrears follows from the schedule and the history."""
    v = c.values
    terms = _fineract_terms(c, product)
    calendar = repayment_calendar(c.session, client_id=client.id if client else None,
                                  group_id=group.id if group else None)
    misfit = calendar_misfit(terms.repayment_every, terms.repayment_unit, calendar.rule)
    if misfit is not None:
        c.refuse(LOAN_CALENDAR_MISMATCH, "repaid_every" if v.get("repaid_every") else "product",
                 f"The borrower repays at the meetings of {calendar.meets_with}, so this loan "
                 f"cannot be rebuilt: {misfit}.")
    try:
        loan = migrate_loan_from_terms_in(
            c.session, terms=terms, product=product, office=office.name,
            client_id=client.id if client else None, group_id=group.id if group else None,
            loan_officer_id=officer.id if officer else None,
            external_id=v.get("external_id"), disbursed_on=v["disbursed_on"],
            repaid=v.get("amount_repaid") or Decimal(0),
            repaid_on=v.get("last_repayment_on") or as_of, as_of=as_of,
            actor_id=c.uow.actor_id, source=c.source)
    except ValueError as exc:  # the calendar cannot carry the schedule
        c.refuse(SETUP_BAD_VALUE, "number_of_repayments", f"the loan's schedule cannot be "
                 f"built from its terms on the borrower's meetings ({exc}).")
        raise  # not reached
    first = v.get("first_repayment_on")
    if first is not None and loan.installments[0].due_date != first:
        c.refuse(SETUP_BAD_VALUE, "first_repayment_on", f"'First Repayment On' {first}: the "
                 "engine builds the schedule from the disbursal on the borrower's meetings, "
                 f"with installment 1 due on {loan.installments[0].due_date}, so its due dates "
                 f"would not be the old system's. {_NOT_REBUILT}")
    interest_from = v.get("interest_charged_from")
    if interest_from is not None and interest_from != v["disbursed_on"]:
        c.refuse(SETUP_BAD_VALUE, "interest_charged_from", f"'Interest Charged From' "
                 f"{interest_from}: the engine charges interest from the disbursal "
                 f"({v['disbursed_on']}), so this loan's interest would not be the old "
                 f"system's. {_NOT_REBUILT}")
    c.uow.audit("loan.migrate", loan, note=f"migrated as of {as_of} from a Fineract workbook")
    owed = outstanding_from_repaid([PlannedInstallment(
        i.number, i.due_date, i.principal - i.principal_paid, i.interest - i.interest_paid)
        for i in loan.installments], Decimal(0), as_of)
    row = LoanMigration(
        office=office.name, product_id=product.id, client_id=loan.client_id,
        group_id=loan.group_id, loan_officer_id=loan.loan_officer_id,
        external_id=loan.external_id, principal_outstanding=owed.principal_outstanding,
        interest_outstanding=owed.interest_outstanding, arrears_amount=owed.arrears_amount,
        arrears_since=owed.arrears_since, arrears_interest=owed.arrears_interest,
        remaining_installments=owed.remaining_installments, next_due_date=owed.next_due_date,
        original_principal=terms.principal,
        interest_paid=sum((i.interest_paid for i in loan.installments), Decimal(0)),
        disbursed_on=v["disbursed_on"])
    return "loans", loan.id, (client.display_name if client else group.name), row  # type: ignore[union-attr]


def _post_savings(c: _Context) -> Posted:
    v = c.values
    as_of, office = _date_and_office(c)
    client, group, center = _borrower(c, office, "owner_type", "owner")
    product = c.product(SavingsProduct, "savings_products")
    c.check(as_of, office, product, client or group or center)
    assert as_of is not None and office is not None and product is not None  # checked
    currency = (v.get("currency") or "").strip()
    if currency and currency.upper() != product.currency_code.upper():
        c.refuse(SETUP_BAD_VALUE, "currency", f"'Currency' {currency}: the product "
                 f"{product.name} keeps its accounts in {product.currency_code}, so this "
                 f"account's balance and deposits would be taken as {product.currency_code}. "
                 "Choose the savings product of the account's currency (add it first if the "
                 "engine has none), or correct the currency if it was typed wrong.")
    row = SavingsMigration(
        office=office.name, product_id=product.id, balance=v.get("balance") or Decimal(0),
        client_id=client.id if client else None, group_id=group.id if group else None,
        center_id=center.id if center else None,
        # Fineract's "Submitted On", and its "Activation Date" (blank: "Approved On")
        opened_on=v.get("submitted_on") or v.get("opened_on") or v.get("approved_on"),
        activated_on=v.get("opened_on") or v.get("approved_on") or v.get("submitted_on"),
        recommended_deposit=v.get("recommended_deposit"), external_id=v.get("external_id"))
    account = migrate_savings_in(c.session, row, as_of, c.uow.actor_id, c.source)
    c.uow.audit("savings.migrate", account, note=f"migrated as of {as_of} from a workbook")
    owner = client.display_name if client else (group or center).name  # type: ignore[union-attr]
    return "savings_accounts", account.id, owner, row


def _history_row(c: _Context, model: type[Loan] | type[SavingsAccount], key: str
                 ) -> tuple[Client, Any, MoneyMovementSource]:
    """The client, the loan (account) and the source of a history row; the row is stopped
    here when any of them is wrong (each on its cell)."""
    office = c.office()
    client = c.client("borrower", office)
    account = c.account(model, key, client)
    c.check(office, client, account)
    assert client is not None  # checked
    receipt = c.values.get("receipt_no")
    source = MoneyMovementSource(
        submission_id=c.source.submission_id, workbook_id=c.source.workbook_id,
        cell=c.source.cell, receipt_number=receipt[:50] if receipt else None,
        receipt_date=c.values.get("on_date") if receipt else None)
    return client, account, source


def _post_repayment(c: _Context) -> Posted:
    """One repayment of a migrated loan's history (Fineract's LoanRepayment sheet)."""
    v = c.values
    client, loan, source = _history_row(c, Loan, "loan")
    transaction = replay_repayment_in(c.session, loan, v["amount"], v["on_date"], c.today,
                                      c.uow.actor_id, source)
    c.figures["owed_after"] = float(loan.outstanding)
    c.uow.audit("loan.migrate-repayment", loan, after={"transaction": transaction.id,
                                                       "amount": str(v["amount"]),
                                                       "on": str(v["on_date"])})
    return ("loan_transactions", transaction.id,
            f"{client.display_name}, loan {loan.account_no}", None)


def _post_savings_transaction(c: _Context) -> Posted:
    """One deposit or withdrawal of a migrated account's history (Fineract's
    SavingsTransaction sheet)."""
    v = c.values
    client, account, source = _history_row(c, SavingsAccount, "account")
    transaction = replay_savings_transaction_in(
        c.session, account, v["transaction_type"] == "deposit", v["amount"], v["on_date"],
        c.today, c.uow.actor_id, source)
    c.figures["balance_after"] = float(account.balance)
    c.uow.audit("savings.migrate-transaction", account, after={
        "transaction": transaction.id, "type": v["transaction_type"],
        "amount": str(v["amount"]), "on": str(v["on_date"])})
    return ("savings_transactions", transaction.id,
            f"{client.display_name}, account {account.account_no}", None)


HANDLERS: dict[str, Callable[[_Context], Posted]] = {
    "office": _post_office, "member of staff": _post_staff, "center": _post_center,
    "group": _post_group, "loan product": _post_loan_product,
    "savings product": _post_savings_product, "loan": _post_loan,
    "savings account": _post_savings, "repayment": _post_repayment,
    "savings transaction": _post_savings_transaction}
"""What each kind of row becomes: a setup or migration service, in the run's transaction."""

_FIELDS = {"e-mail": "email", "e-mail address": "email", "meeting start": "meeting_start",
           "from": "meeting_start", "meets": "frequency", "migration date": "as_of",
           "minimum principal": "min_principal", "maximum principal": "max_principal",
           "mobile number": "mobile_no", "office name": "name", "center name": "name",
           "group name": "name", "product name": "name", "client": "borrower",
           "group": "borrower", "currency": "currency", "annual interest rate":
           "annual_interest_rate", "staff": "staff", "loan officer": "loan_officer",
           "parent": "parent", "disbursal date": "disbursed_on", "repaid on": "on_date",
           "on": "on_date", "amount repaid": "amount"}


def _column_for(error: EngineError, columns: Iterable[str]) -> str:
    """The column a service's refusal is about (its ``field``), else the row key."""
    keys = set(columns)
    text = str(error.details.get("field") or "").casefold()
    for candidate in (_FIELDS.get(text), text.replace(" ", "_"), text.replace(" ", "_")
                      .replace("client", "owner")):
        if candidate and candidate in keys:
            return candidate
    if text in ("client", "group") and "owner" in keys:
        return "owner"
    return ROW_KEY


# ---------------------------------------------------------------- the run

def _ledger(session: Session, kind: str) -> tuple[dict[str, tuple[str, int]],
                                                 dict[tuple[str, str, str], int]]:
    rows = session.execute(select(SetupImportRow.content_hash, SetupImportRow.entity_type,
                                  SetupImportRow.entity_id, SetupImportRow.workbook_id,
                                  SetupImportRow.sheet, SetupImportRow.row_key)
                           .where(SetupImportRow.kind == kind)).all()
    return ({h: (t, i) for h, t, i, _, _, _ in rows},
            {(w, sh, k): i for _, _, i, w, sh, k in rows if w})


_IMPORTED = re.compile(r"^\s*(?:Imported|Already imported): [a-z ]+ (\d+)", re.IGNORECASE)


def run_rows(ctx: AppContext, uow: UnitOfWork, book: SetupFile, *, file_name: str,
             workbook_id: str | None, submission_id: int | None) -> RunResult:
    """Post every row of the file, top to bottom, each in its own savepoint, in the caller's
    transaction (which the preview rolls back and the approval commits)."""
    s = uow.session
    kind = book.kind
    hashes, keys = _ledger(s, kind.name)
    results: list[RowResult] = []
    loans: list[LoanMigration] = []
    savings: list[SavingsMigration] = []
    dates: dict[dt.date, int] = {}
    date_locale = institution_locale(ctx.rules)  # the date order of text dates
    clients: dict[int | None, list[Client]] = {}
    for sheet, grid in book.grids:
        columns = columns_for(sheet, book.layout)
        column_keys = [c.key for c in columns]
        defined: dict[str, int] = {}
        if sheet.defines:
            for row in grid.each_row():
                name = text_of(row.values.get("name"))
                if name:
                    defined.setdefault(name.casefold(), row.row)
        seen: dict[str, int] = {}
        skip = HISTORY_FIGURES | (COMPUTED if book.layout == FINERACT else frozenset())
        for row, digest in zip(grid.each_row(), row_hashes(kind.name, sheet.name, grid, skip)):
            cells = Cells(grid, row, file_name)
            result = RowResult(sheet, grid, row, digest)
            results.append(result)
            if row.key in seen:
                cells.add(SETUP_DUPLICATE_IN_FILE, ROW_KEY, f"the row key '{row.key}' is also "
                          f"on row {seen[row.key]}; give each row its own row key.", row.key)
            seen.setdefault(row.key, row.row)
            earlier = _earlier(hashes, keys, result, workbook_id)
            if earlier is not None and not cells.problems:
                result.state, result.entity_id = "already", earlier
                continue
            values = parse_row(cells, columns, date_locale)
            as_of = values.get("as_of")
            if as_of is not None:
                first = next(iter(dates), as_of)
                if as_of != first:
                    cells.add(SETUP_BAD_VALUE, "as_of", f"the figures are as of {as_of} but "
                              f"row {dates[first]} says {first}; one workbook brings the "
                              "figures of one migration date.", as_of)
                dates.setdefault(as_of, row.row)
            # Even with bad cells, the row's names are looked up: every problem of the
            # row is reported at once (each handler stops before posting if there is one).
            _post_one(ctx, uow, book, cells, values, defined, result, clients,
                      column_keys, MoneyMovementSource(
                          submission_id=submission_id, workbook_id=workbook_id,
                          cell=f"{sheet.name[:20]}!A{row.row}"))
            result.problems = cells.problems
            if result.state == "valid" and isinstance(result.migration, LoanMigration):
                loans.append(result.migration)
            elif result.state == "valid" and isinstance(result.migration, SavingsMigration):
                savings.append(result.migration)
    run = RunResult(results, list(book.problems))
    if kind.migration:
        as_of = next(iter(dates), ctx.today())
        run.reconciliation = reconciliation(portfolio_totals([], loans, savings),
                                            database_totals_in(s, as_of))
    return run


def _earlier(hashes: Mapping[str, tuple[str, int]], keys: Mapping[tuple[str, str, str], int],
             result: RowResult, workbook_id: str | None) -> int | None:
    """The record a row became when it was imported before, if it was."""
    if result.content_hash in hashes:
        return hashes[result.content_hash][1]
    match = _IMPORTED.match(result.row.status or "")
    if match and workbook_id is not None:
        entity = keys.get((workbook_id, result.sheet.name, result.row.key))
        if entity == int(match.group(1)):
            return entity
    return None


def _post_one(ctx: AppContext, uow: UnitOfWork, book: SetupFile, cells: Cells,
              values: dict[str, Any], defined: Mapping[str, int], result: RowResult,
              clients: dict[int | None, list[Client]], column_keys: Sequence[str],
              source: MoneyMovementSource) -> None:
    """Post one row in a savepoint: kept when the services accept it, undone otherwise."""
    s = uow.session
    context = _Context(ctx, uow, book, cells, values, defined, source, ctx.today(),
                       clients)
    savepoint = s.begin_nested()
    try:
        table, entity_id, label, migration = HANDLERS[result.sheet.record](context)
        s.flush()
    except _Refused:
        savepoint.rollback()
        return
    except EngineError as exc:
        savepoint.rollback()
        cells.add(exc.error, _column_for(exc, column_keys), exc.message, exc.details.get(
            "value"))
        return
    except IntegrityError as exc:
        savepoint.rollback()
        cells.add(DUPLICATE_VALUE, ROW_KEY, "the database refused the row as a duplicate of "
                  f"a record that exists ({str(exc.orig).splitlines()[0][:120]}); check its "
                  "names and external id.")
        return
    savepoint.commit()
    result.state, result.entity_type, result.entity_id = "valid", table, entity_id
    result.figures = context.figures
    result.label, result.migration = label, migration


def reconciliation(file: Mapping[str, OfficeTotals], after: Mapping[str, OfficeTotals]
                   ) -> list[dict[str, Any]]:
    """Per office (and in total): what the file brings and what the engine holds after."""
    rows = []
    totals = {"file": OfficeTotals("Total"), "after": OfficeTotals("Total")}
    for office in sorted(set(file) | set(after)):
        row: dict[str, Any] = {"office": office}
        for which, source in (("file", file), ("after", after)):
            figures = source.get(office) or OfficeTotals(office)
            row[which] = {key: getattr(figures, key) for key, _ in MEASURES}
            for key, _ in MEASURES:
                setattr(totals[which], key, getattr(totals[which], key) + getattr(figures,
                                                                                  key))
        rows.append(row)
    rows.append({"office": "Total", "total": True,
                 **{which: {key: getattr(t, key) for key, _ in MEASURES}
                    for which, t in totals.items()}})
    return rows


def _recon_json(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    return [{"office": r["office"], "total": bool(r.get("total")),
             **{which: {k: str(v) if isinstance(v, Decimal) else v
                        for k, v in r[which].items()} for which in ("file", "after")}}
            for r in rows]


# ---------------------------------------------------------------- identify, report

@dataclass
class _Identified:
    book: SetupFile
    workbook: GeneratedWorkbook | None
    office_id: int | None


def is_fineract_setup(book: RawWorkbook) -> bool:
    """True for a Mifos X / Fineract workbook of a setup kind (no signature)."""
    return fineract_setup_layout(book) is not None


def _identify(session: Session, raw: RawWorkbook, metadata: WorkbookMetadata | None,
              name: str) -> _Identified:
    if metadata is None:
        return _Identified(read_setup_fineract(raw), None, None)
    workbook = known_workbook(session, metadata, name)
    kind = kind_of(metadata.kind)
    if kind is None:
        raise EngineError(SETUP_WRONG_KIND, f"{name} is a '{metadata.kind}' workbook, not a "
                          "setup workbook.")
    return _Identified(read_setup_template(raw, kind, metadata.variant), workbook,
                       metadata.office_id)


def _signature(ctx: AppContext, session: Session, found: _Identified, actor_id: int | None,
               name: str, now: dt.datetime, data: SetupTemplateData) -> SignedMetadata:
    """The report keeps the template's identity; a Fineract file's report becomes a new
    template of ours (recorded), so its corrected copy comes back signed."""
    if found.workbook is not None:
        return resign(ctx, found.workbook, data.variant)
    signed = _sign(ctx, session, found.book.kind, None, actor_id, data, f"report of {name}",
                   now)
    found.workbook = session.get(GeneratedWorkbook, signed.metadata.workbook_id)
    return signed


def _report_content(run: RunResult, book: SetupFile, summary: str) -> ReportContent:
    rows: dict[str, list[ReportRow]] = {}
    shift = book.row_shift
    for result in run.rows:
        values = {**result.row.values, **result.figures}
        if book.layout == FINERACT:
            values = {**computed(result), **values}
        rows.setdefault(result.sheet.name, []).append(ReportRow(
            result.row.row + shift, result.row.key, values, result.status_text,
            result.state != "invalid", marks(result.problems)))
    return ReportContent(rows, _errors(run), summary, shift)


COMPUTED = frozenset({"principal_outstanding", "interest_outstanding", "arrears_amount",
                      "arrears_since", "arrears_interest", "remaining_installments",
                      "next_due_date", "interest_paid"})
"""What the engine works out for a Mifos X / Fineract loan from its terms and what was repaid,
shown in its report's columns of the same name; read back, they are not the row's content
(its terms are), so they are left out of its fingerprint."""


def computed(result: RowResult) -> dict[str, Any]:
    """The figures the engine worked out for a Fineract loan row (what it still owes, in
    arrears, ...), by column key."""
    if not isinstance(result.migration, LoanMigration):
        return {}
    out: dict[str, Any] = {}
    for key in COMPUTED:
        value = getattr(result.migration, key, None)
        if value is not None:
            out[key] = float(value) if isinstance(value, Decimal) else value
    return out


def _errors(run: RunResult) -> list[dict[str, Any]]:
    """Every problem as stored and shown, each naming its row's record (the error tables'
    "Client" column)."""
    out = [error_json(p) for p in run.file_problems]
    for row in run.rows:
        name = row.label or record_name(row.row.values)
        out.extend(error_json(p, name) for p in row.problems)
    return out


def _counts(run: RunResult, posted: int | None) -> dict[str, int]:
    if posted is not None:
        return {"Rows": len(run.rows), "Imported now": posted,
                "Not imported (errors)": run.count("invalid"),
                "Already imported (skipped)": run.count("already")}
    return {"Rows": len(run.rows), "Valid": run.count("valid"),
            "With errors": run.count("invalid"),
            "Already imported (skipped)": run.count("already"),
            "Errors": len(run.problems)}


def _write_reports(ctx: AppContext, session: Session, found: _Identified, run: RunResult, *,
                   name: str, submission: Submission, message: str, signed: SignedMetadata,
                   data: SetupTemplateData, suffix: str = "",
                   posted: int | None = None) -> tuple[Path, Path]:
    office = session.get(Office, found.office_id) if found.office_id else None
    data.reconciliation = run.reconciliation
    content = _report_content(run, found.book, message)
    stem = f"setup-{found.book.kind.key}"
    xlsx = write_setup_workbook(report_path(ctx, name, submission.id, f"{suffix}.xlsx", stem),
                                data, signed, report=content)
    layout = ("Mifos X / Fineract workbook" if found.book.layout == FINERACT
              else "setup template")
    html = write_import_html(ImportSummary(
        title=f"{found.book.kind.title}: {name}", file_name=name,
        submission_id=submission.id, status=submission.status.value, message=message,
        received_at=submission.received_at, office=office.name if office else None,
        legal_form="", layout=found.book.layout, counts=_counts(run, posted),
        errors=data.locate(content.errors, content.row_shift), rows=[
            {"row": r.row.row, "key": r.row.key, "name": f"{r.sheet.name}: {r.label}"
             if r.label else r.sheet.name, "status": r.status_text,
             "ok": r.state != "invalid"} for r in run.rows[:500]],
        layout_label=layout, record_label="Record",
        reconciliation=run.reconciliation, measures=MEASURES,
        approve_hint="each valid row is posted whole or not at all; the others wait for "
                     "corrections."),
        report_path(ctx, name, submission.id, f"{suffix}.html", stem))
    return xlsx, html


def _template_data(session: Session, found: _Identified, name: str) -> SetupTemplateData:
    kind = found.book.kind
    return SetupTemplateData(kind, f"{kind.title}: report on {name}",
                             _lists(session, _office_ids(session, found.office_id)), 0,
                             variant=FINERACT if found.book.layout == FINERACT else None)


# ---------------------------------------------------------------- process

def process_setup_import(ctx: AppContext, raw: RawWorkbook, stored: Any, *, name: str,
                         received: dt.datetime, metadata: WorkbookMetadata | None,
                         actor_id: int | None, sender_email: str | None,
                         loan_officer_id: int | None = None) -> dict[str, Any]:
    """Dry-run a setup workbook, record the submission and write its reports.

    ``loan_officer_id`` is the loan officer the file was handed in for, if any (recorded so
    that the officer finds it in their queue).

    Returns the fields of :class:`services.processing.ProcessResult`.
    """
    with ctx.unit_of_work(actor_id) as trial:  # never committed: the dry run
        found = _identify(trial.session, raw, metadata, name)
        workbook_id = found.workbook.id if found.workbook else None
        run = run_rows(ctx, trial, found.book, file_name=name, workbook_id=workbook_id,
                       submission_id=None)
        trial.session.rollback()
    with ctx.unit_of_work(actor_id) as uow:
        s = uow.session
        found.workbook = s.get(GeneratedWorkbook, workbook_id) if workbook_id else None
        errors = _errors(run)
        valid = run.count("valid")
        if not run.rows and not [e for e in errors if not e.get("row")]:
            errors.insert(0, error_json(Problem(SETUP_NO_ROWS, f"{name} holds no row to "
                                                "import.", Location(file=name))))
        status = (SubmissionStatus.AWAITING_APPROVAL if not errors and valid
                  else SubmissionStatus.INVALID)
        data = _template_data(s, found, name)
        signed = _signature(ctx, s, found, actor_id, name, uow.now, data)
        # A Fineract file's identity is its report's signed workbook (recorded just now):
        # what it posts names that workbook, and so does its submission.
        original = found.workbook.id if found.workbook else None
        kind = found.book.kind
        sub = Submission(
            kind=kind.name, workbook_id=original, file_sha256=stored.sha256,
            original_name=name[:255], archive_path=str(stored.path), received_at=received,
            submitted_by_id=actor_id, loan_officer_id=loan_officer_id,
            sender_email=sender_email, office_id=found.office_id,
            status=SubmissionStatus.RECEIVED, error_count=len(errors),
            content={"errors": errors, "import": {
                "kind": kind.key, "layout": found.book.layout, "valid": valid,
                "invalid": run.count("invalid"), "already": run.count("already"),
                "report_workbook_id": signed.metadata.workbook_id},
                "reconciliation": _recon_json(run.reconciliation)})
        s.add(sub)
        set_status(uow, sub, SubmissionStatus.RECEIVED, note=name)
        set_status(uow, sub, status, note=f"{valid} valid row(s), {len(errors)} error(s)")
        message = preview_message(name, "row", valid, run.count("invalid"),
                                  run.count("already"), bool(errors))
        xlsx, html = _write_reports(ctx, s, found, run, name=name, submission=sub,
                                    message=message, signed=signed, data=data)
        sub.report_xlsx_path, sub.report_html_path = str(xlsx), str(html)
        uow.commit()
        return {"submission_id": sub.id, "status": status.value, "duplicate_of": None,
                "error_count": len(errors), "report_xlsx": xlsx, "report_html": html,
                "message": message, "errors": tuple(errors)}


# ---------------------------------------------------------------- approve and post

def _decider(session: Session, by: str, sub: Submission) -> Staff | None:
    """The approving supervisor (maker-checker); None for the bootstrap approval of a new
    institution's offices or staff while it has no active supervisor yet."""
    if not has_active_supervisor(session) and sub.kind in BOOTSTRAP_KINDS:
        return None
    return check_decider(session, by, sub, "approve")


def approve_setup_import(ctx: AppContext, *, submission_id: int, by: str) -> dict[str, Any]:
    """Approve a setup workbook: post its valid rows (each whole or not at all), record which
    row became which record; the invalid rows wait for corrections."""
    with ctx.unit_of_work(None) as uow:
        s = uow.session
        sub = lock_submission(s, submission_id)
        approver = _decider(s, by, sub)
        uow.actor_id = approver.id if approver else None
        check_approvable(sub)
        raw = read_archived(ctx, sub)
        kind = kind_of(sub.kind)
        assert kind is not None
        metadata = archived_metadata(ctx, raw, sub.original_name, kind.workbook.metadata_sheet)
        found = _identify(s, raw, metadata, sub.original_name)
        report_id = (sub.content or {}).get("import", {}).get("report_workbook_id")
        if found.workbook is None and report_id:
            found.workbook = s.get(GeneratedWorkbook, report_id)
        set_status(uow, sub, SubmissionStatus.APPROVED,
                   note=None if approver else f"bootstrap approval by '{by}': the institution "
                   "had no active supervisor yet")
        run = run_rows(ctx, uow, found.book, file_name=sub.original_name,
                       workbook_id=found.workbook.id if found.workbook else None,
                       submission_id=sub.id)
        valid = [r for r in run.rows if r.state == "valid"]
        if not valid:
            raise EngineError(SETUP_NO_VALID_ROWS, nothing_to_post(
                sub.id, run.count("invalid"), run.count("already")))
        _record(s, valid, sub.id, found.workbook.id if found.workbook else None, kind.name)
        sub.decided_by_id = approver.id if approver else None
        sub.decided_at = sub.posted_at = uow.now
        content = dict(sub.content or {})
        content["posting"] = {"imported": len(valid), "not_imported": run.count("invalid"),
                              "already": run.count("already"),
                              "records": [[r.entity_type, r.entity_id] for r in valid]}
        content["reconciliation_posted"] = _recon_json(run.reconciliation)
        message = (f"{len(valid)} row(s) posted; {run.count('invalid')} row(s) not posted "
                   f"(errors), {run.count('already')} already imported.")
        set_status(uow, sub, SubmissionStatus.POSTED, note=message)
        data = _template_data(s, found, sub.original_name)
        signed = _signature(ctx, s, found, uow.actor_id, sub.original_name, uow.now, data)
        xlsx, html = _write_reports(ctx, s, found, run, name=sub.original_name,
                                    submission=sub, message=message, signed=signed,
                                    data=data, suffix="-posted", posted=len(valid))
        sub.report_xlsx_path, sub.report_html_path = str(xlsx), str(html)
        sub.content = content
        uow.commit()
    return show_submission(ctx, submission_id)


def _record(session: Session, rows: Sequence[RowResult], submission_id: int,
            workbook_id: str | None, kind: str) -> None:
    """Which row became which record (a re-upload recognises them)."""
    for row in rows:
        row.posted = True
    session.execute(insert(SetupImportRow), [
        {"submission_id": submission_id, "workbook_id": workbook_id, "kind": kind,
         "sheet": r.sheet.name[:40], "sheet_row": r.row.row, "row_key": r.row.key[:40],
         "content_hash": r.content_hash, "entity_type": r.entity_type,
         "entity_id": r.entity_id} for r in rows])


__all__ = ["RECONCILIATION_MEASURES", "SETUP_KINDS", "RowResult", "RunResult",
           "SetupTemplateResult", "approve_setup_import", "generate_setup_template",
           "is_fineract_setup", "process_setup_import", "reconciliation", "run_rows",
           "setup_kind"]
