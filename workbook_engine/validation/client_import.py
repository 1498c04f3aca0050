"""Validating the rows of a client import, with the client validators of single-client create.

Pure functions over what the reader found (:class:`ImportFile`) and a preloaded
:class:`ImportReference` (offices, staff, groups, code lists, the mobile numbers and external
ids already used, the rows imported before): no database access, so 100,000 rows are checked
with a fixed number of queries made beforehand.

Each client row gets a :class:`RowOutcome`: ``valid`` (will be posted on approval),
``invalid`` (its problems, each on a cell), or ``already`` (imported before: recognised by its
content hash, its external id, or its status cell "Imported: client N" on the same workbook
and row key; it is skipped, never duplicated). A client is valid only with all of its family
members and addresses valid (each row all or nothing). One bad cell never stops the file: every
row is checked.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.errors.client_import import (
    IMPORT_BAD_YES_NO,
    IMPORT_DUPLICATE_IN_FILE,
    IMPORT_OFFICE_NOT_ALLOWED,
    IMPORT_RELATED_INVALID,
    IMPORT_ROW_KEY_UNKNOWN,
    IMPORT_UNKNOWN_NAME,
    IMPORT_WRONG_LEGAL_FORM,
)
from workbook_engine.errors.clients import (
    CLIENT_DATE_NOT_ALLOWED,
    CLIENT_FIELD_MISSING,
    STAFF_NOT_ASSIGNABLE,
)
from workbook_engine.validation.clients import (
    CODE_FIELDS,
    ClientRules,
    FieldProblem,
    StaticLookups,
    clean_text,
    lifecycle_date_problem,
    parse_date,
    validate_address,
    validate_client,
    validate_family_member,
)
from workbook_engine.workbooks.grid import GridRow, GridSheet
from workbook_engine.workbooks.client_import_sheet import (
    ADDRESS_SHEET,
    ENTITY,
    FAMILY_SHEET,
    NO,
    PERSON,
    ROW_KEY,
    STATUS_KEY,
    YES,
)

IMPORTED_PREFIX = "Imported: client "
_NAME_ID = re.compile(r"^(.*\S)\s*-\s*(\d+)$")
_IMPORTED = re.compile(r"^\s*(?:Imported|Already imported): client (\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class OfficeRef:
    """An office a row may name."""

    id: int
    name: str
    opening_date: dt.date


@dataclass(frozen=True)
class StaffRef:
    """A member of staff a row may name."""

    id: int
    name: str
    office_id: int
    active: bool


@dataclass(frozen=True)
class GroupRef:
    """A group a row may name."""

    id: int
    name: str
    office_id: int
    active: bool


@dataclass
class ImportReference:
    """Everything validation needs from the database, loaded once per file."""

    legal_form: str | None  # None: a Fineract workbook (the form comes from its layout)
    offices: list[OfficeRef]
    staff: list[StaffRef]
    groups: list[GroupRef]
    lookups: StaticLookups
    rules: ClientRules
    today: dt.date
    workbook_id: str | None = None
    imported_hashes: dict[str, int] = field(default_factory=dict)  # content hash -> client
    imported_external_ids: dict[str, int] = field(default_factory=dict)
    imported_keys: dict[tuple[str, str], int] = field(default_factory=dict)  # (wb, key)

    def __post_init__(self) -> None:
        self._offices = _index((o.name, o) for o in self.offices)
        self._office_ids = {o.id: o for o in self.offices}
        self._staff = _index((s.name, s) for s in self.staff)
        self._groups = _index((g.name, g) for g in self.groups)

    def office_named(self, text: str) -> OfficeRef | None:
        return _find(self._offices, text, self._office_ids)

    def staff_named(self, text: str) -> list[StaffRef]:
        return _find_all(self._staff, text)

    def groups_named(self, text: str) -> list[GroupRef]:
        return _find_all(self._groups, text)


def _index(pairs: Iterable[tuple[str, Any]]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for name, item in pairs:
        out.setdefault(name.casefold().strip(), []).append(item)
    return out


def _find_all(index: Mapping[str, list[Any]], text: str) -> list[Any]:
    """By exact name (case-insensitive); else Fineract's "Name-Id" with the id matching or
    the name alone (Fineract's ids are not ours)."""
    key = text.casefold().strip()
    if key in index:
        return index[key]
    match = _NAME_ID.match(text.strip())
    if match:
        return index.get(match.group(1).casefold(), [])
    return []


def _find(index: Mapping[str, list[Any]], text: str, by_id: Mapping[int, Any]) -> Any:
    found = _find_all(index, text)
    if found:
        return found[0]
    return by_id.get(int(text)) if text.strip().isdigit() else None


@dataclass
class ImportFile:
    """A client-import workbook as read: our template, or a Fineract workbook."""

    layout: str  # "template" | "fineract"
    legal_form: str
    clients: GridSheet
    family: GridSheet | None
    addresses: GridSheet | None
    problems: list[Problem] = field(default_factory=list)  # about the file as a whole


@dataclass
class RowOutcome:
    """What became of one client row."""

    row: GridRow
    state: str  # valid | invalid | already
    content_hash: str
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, Any] = field(default_factory=dict)
    additional: dict[int, str | None] = field(default_factory=dict)
    family: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    client_id: int | None = None  # for "already", and after posting

    @property
    def status_text(self) -> str:
        """The report's status cell for the row."""
        if self.state == "already":
            return f"Already imported: client {self.client_id}"
        if self.client_id is not None:
            return f"{IMPORTED_PREFIX}{self.client_id}"
        if self.state == "valid":
            return "Valid: imported when a supervisor approves"
        return "Not imported: " + " ".join(p.message for p in self.problems)


@dataclass
class ImportValidation:
    """Every client row's outcome, and the problems of the related sheets by row."""

    outcomes: list[RowOutcome]
    related: dict[tuple[str, int], list[Problem]]  # (sheet, row) -> problems
    related_status: dict[tuple[str, int], str]
    file_problems: list[Problem]

    @property
    def problems(self) -> list[Problem]:
        out = list(self.file_problems)
        for outcome in self.outcomes:
            out.extend(outcome.problems)
        for problems in self.related.values():
            out.extend(problems)
        return out

    def count(self, state: str) -> int:
        return sum(1 for o in self.outcomes if o.state == state)


def content_hash(legal_form: str, values: Mapping[str, Any]) -> str:
    """A fingerprint of what a client row says (not its row key or status), to recognise a
    row imported before whatever file or row it comes back in."""
    parts = [legal_form]
    for key in sorted(values):
        if key in (ROW_KEY, STATUS_KEY):
            continue
        text = _canonical(values[key])
        if text:
            parts.append(f"{key}={text}")
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _canonical(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return (value.date() if value.time() == dt.time() else value).isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split()).casefold()


class _Cells:
    """Problems of one row, each placed on its cell."""

    def __init__(self, sheet: GridSheet, row: GridRow, file_name: str) -> None:
        self.sheet, self.row, self.file_name = sheet, row, file_name
        self.problems: list[Problem] = []

    def add(self, error: ErrorType, key: str, message: str, value: Any = None) -> None:
        letter = self.sheet.letters.get(key) or self.sheet.letters.get(ROW_KEY)
        header = self.sheet.headers.get(key, key)
        self.problems.append(Problem(error, message, Location(
            file=self.file_name, sheet=self.sheet.name, row=self.row.row, column=key,
            cell=f"{letter}{self.row.row}" if letter else None),
            {"row_key": self.row.key, "column_header": header,
             "value": None if value is None else str(value)}))

    def field(self, problem: FieldProblem, key: str | None = None) -> None:
        where = f"Row {self.row.row} of {self.sheet.name}: "
        self.add(problem.error, key or problem.field, where + problem.message, problem.value)


def _text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


def _yes_no(cells: _Cells, key: str, value: Any) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if isinstance(value, int | float):
        text = "1" if value else "0"
    if text in YES:
        return True
    if text in NO:
        return False if text else None
    cells.add(IMPORT_BAD_YES_NO, key, f"Row {cells.row.row} of {cells.sheet.name}: "
              f"'{value}' in column '{cells.sheet.headers.get(key, key)}' is not Yes or No.",
              value)
    return None


def _code_names(values: Mapping[str, Any], keys: Iterable[str],
                lookups: StaticLookups, codes: Mapping[str, str]) -> dict[str, Any]:
    """Fineract writes code values as "Name-Id"; keep the name when the whole text is not
    itself a value of the list (ids in such files are Fineract's, not ours)."""
    out = dict(values)
    for key in keys:
        raw = out.get(key)
        if not isinstance(raw, str):
            continue
        match = _NAME_ID.match(raw.strip())
        if match is None:
            continue
        names = {c.name.casefold() for c in lookups.code_values(codes[key])}
        if raw.strip().casefold() not in names:
            out[key] = match.group(1)
    return out


def validate_import(book: ImportFile, ref: ImportReference, *, file_name: str,
                    ) -> ImportValidation:
    """Check every row of the file; never stops at the first problem."""
    form = book.legal_form
    rules, lookups, today = ref.rules, ref.lookups, ref.today
    sheet = book.clients
    additional_names = {f"additional:{f.id}": f.name for f in lookups.additional_fields()}
    outcomes: list[RowOutcome] = []
    by_key: dict[str, RowOutcome] = {}
    seen_mobile: dict[str, int] = {}
    seen_external: dict[str, int] = {}
    for row in sheet.rows:
        cells = _Cells(sheet, row, file_name)
        values = row.values
        digest = content_hash(form, values)
        outcome = RowOutcome(row, "invalid", digest)
        outcomes.append(outcome)
        if row.key in by_key:
            cells.add(IMPORT_DUPLICATE_IN_FILE, ROW_KEY, f"Row {row.row} of {sheet.name}: "
                      f"the row key '{row.key}' is also on row {by_key[row.key].row.row}; "
                      "give each client its own row key.", row.key)
        else:
            by_key[row.key] = outcome
        external = _text(values.get("external_id"))
        earlier = _already_imported(ref, row, digest, external)
        if earlier is not None and not cells.problems:
            outcome.state, outcome.client_id = "already", earlier
            continue
        _check_row(cells, outcome, values, form, ref, additional_names)
        mobile = outcome.columns.get("mobile_no")
        for what, value, seen, key in (("mobile number", mobile, seen_mobile, "mobile_no"),
                                       ("external id", external, seen_external,
                                        "external_id")):
            if not value:
                continue
            if value in seen:
                cells.add(IMPORT_DUPLICATE_IN_FILE, key, f"Row {row.row} of {sheet.name}: "
                          f"the {what} {value} is also on row {seen[value]}; each client "
                          f"needs their own {what}.", value)
            else:
                seen[value] = row.row
        outcome.problems = cells.problems
        outcome.state = "invalid" if cells.problems else "valid"
    related, related_status = _check_related(book, ref, by_key, file_name)
    return ImportValidation(outcomes, related, related_status, list(book.problems))


def _already_imported(ref: ImportReference, row: GridRow, digest: str,
                      external: str | None) -> int | None:
    if digest in ref.imported_hashes:
        return ref.imported_hashes[digest]
    if external and external in ref.imported_external_ids:
        return ref.imported_external_ids[external]
    match = _IMPORTED.match(row.status or "")
    if match and ref.workbook_id is not None:
        client = ref.imported_keys.get((ref.workbook_id, row.key))
        if client == int(match.group(1)):
            return client
    return None


def _check_row(cells: _Cells, outcome: RowOutcome, values: Mapping[str, Any], form: str,
               ref: ImportReference, additional_names: Mapping[str, str]) -> None:
    row = cells.row
    where = f"Row {row.row} of {cells.sheet.name}: "
    # Office: mandatory, one the template allows.
    office = None
    office_text = _text(values.get("office"))
    if office_text is None:
        cells.add(CLIENT_FIELD_MISSING, "office", where + "the office is mandatory and is "
                  "missing; choose it from the list.")
    else:
        office = ref.office_named(office_text)
        if office is None:
            allowed = ", ".join(o.name for o in ref.offices)
            cells.add(IMPORT_OFFICE_NOT_ALLOWED, "office", where + f"the office "
                      f"'{office_text}' is not one this import allows ({allowed}).",
                      office_text)
    given_form = _text(values.get("legal_form"))
    if given_form is not None and given_form.casefold() != form:
        cells.add(IMPORT_WRONG_LEGAL_FORM, "legal_form", where + f"the legal form is "
                  f"'{given_form}' but this template is for {form}s; leave it blank or use "
                  f"a template for {given_form.casefold()}s.", given_form)
    # The client's own details: the validators of single-client create.
    details = _code_names({k: v for k, v in values.items() if not k.startswith("additional:")},
                          CODE_FIELDS, ref.lookups, CODE_FIELDS)
    for key in ("first_name", "middle_name", "last_name", "full_name", "external_id",
                "incorporation_number", "remarks", "email"):
        if isinstance(details.get(key), int | float):
            details[key] = _text(details[key])
    details["additional"] = {additional_names[k]: v for k, v in values.items()
                             if k in additional_names}
    clean, problems = validate_client(details, legal_form=form, rules=ref.rules,
                                      lookups=ref.lookups, today=ref.today)
    field_keys = {name: key for key, name in additional_names.items()}
    for problem in problems:
        cells.field(problem, field_keys.get(problem.field, problem.field))
    outcome.columns = dict(clean.columns)
    outcome.additional = dict(clean.additional)
    # Staff and group: of the client's office, active.
    staff_id = _staff(cells, _text(values.get("staff")), office, ref)
    group_id = _group(cells, _text(values.get("group")), office, ref)
    # Lifecycle dates and flags.
    date_problems: list[FieldProblem] = []
    submitted = parse_date("submitted_on", values.get("submitted_on"), date_problems)
    activation = parse_date("activation_date", values.get("activation_date"), date_problems)
    for problem in date_problems:
        cells.field(problem)
    active = _yes_no(cells, "active", values.get("active"))
    if active is None and "active" not in {p.location.column for p in cells.problems}:
        cells.add(CLIENT_FIELD_MISSING, "active", where + "Active is mandatory and is "
                  "missing; choose Yes or No.")
    is_staff = _yes_no(cells, "is_staff", values.get("is_staff")) if form == PERSON else None
    submitted = submitted or ref.today
    _check_dates(cells, submitted, bool(active), activation, office, ref.today)
    outcome.columns.update(
        office_id=office.id if office else None, legal_form=form, staff_id=staff_id,
        submitted_on=submitted, is_staff=bool(is_staff),
        activation_date=(activation or submitted) if active else None,
        group_id=group_id, active=bool(active))


def _staff(cells: _Cells, text: str | None, office: OfficeRef | None,
           ref: ImportReference) -> int | None:
    if text is None:
        return None
    where = f"Row {cells.row.row} of {cells.sheet.name}: "
    found = ref.staff_named(text)
    if not found:
        cells.add(IMPORT_UNKNOWN_NAME, "staff", where + f"no member of staff is called "
                  f"'{text}'; choose the staff from the list.", text)
        return None
    mine = [s for s in found if office is None or s.office_id == office.id]
    if not mine:
        cells.add(STAFF_NOT_ASSIGNABLE, "staff", where + f"{text} does not work in office "
                  f"{office.name if office else ''}; choose a member of staff of the "
                  "client's office.", text)
        return None
    staff = mine[0]
    if not staff.active:
        cells.add(STAFF_NOT_ASSIGNABLE, "staff", where + f"{text} is not active and cannot "
                  "be assigned to a client.", text)
        return None
    return staff.id


def _group(cells: _Cells, text: str | None, office: OfficeRef | None,
           ref: ImportReference) -> int | None:
    if text is None:
        return None
    where = f"Row {cells.row.row} of {cells.sheet.name}: "
    found = [g for g in ref.groups_named(text) if office is None or g.office_id == office.id]
    if not found:
        cells.add(IMPORT_UNKNOWN_NAME, "group", where + f"there is no group '{text}' in "
                  f"office {office.name if office else ''}; choose the group from the list.",
                  text)
        return None
    if not found[0].active:
        cells.add(IMPORT_UNKNOWN_NAME, "group", where + f"group '{text}' is not active; a "
                  "client can only join an active group.", text)
        return None
    return found[0].id


def _check_dates(cells: _Cells, submitted: dt.date, active: bool,
                 activation: dt.date | None, office: OfficeRef | None,
                 today: dt.date) -> None:
    """The lifecycle rules of create_client: submission and activation not in the future,
    not before the office opened; activation not before submission, and only when active."""
    where = f"Row {cells.row.row} of {cells.sheet.name}: "
    checks: list[tuple[str, str, dt.date | None]] = [
        ("submitted_on", "submission date", submitted)]
    if active:
        checks.append(("activation_date", "activation date", activation or submitted))
    elif activation is not None:
        cells.add(CLIENT_DATE_NOT_ALLOWED, "activation_date", where + f"an activation date "
                  f"({activation}) is given but Active is No; set Active to Yes or clear the "
                  "date.", activation)
    opened = (office.opening_date if office else None,
              f"office {office.name} opened" if office else "")
    for key, name, value in checks:
        if value is None:
            continue
        earlier = [opened] + ([(submitted, "the submission date")]
                              if key == "activation_date" else [])
        problem = lifecycle_date_problem(name, value, today, earlier)
        if problem is not None:
            cells.add(CLIENT_DATE_NOT_ALLOWED, key, where + problem, value)


def _check_related(book: ImportFile, ref: ImportReference, by_key: Mapping[str, RowOutcome],
                   file_name: str) -> tuple[dict[tuple[str, int], list[Problem]],
                                            dict[tuple[str, int], str]]:
    related: dict[tuple[str, int], list[Problem]] = {}
    status: dict[tuple[str, int], str] = {}
    for sheet in (book.family, book.addresses):
        if sheet is None:
            continue
        is_family = sheet.name == FAMILY_SHEET
        for row in sheet.rows:
            cells = _Cells(sheet, row, file_name)
            where = f"Row {row.row} of {sheet.name}: "
            owner = by_key.get(row.key)
            values = dict(row.values)
            if is_family:
                codes = {"relationship": "family_relationship", "gender": "gender",
                         "marital_status": "marital_status", "profession": "profession"}
                values = _code_names(values, codes, ref.lookups, codes)
                for key in ("is_dependent", "is_contact"):
                    values[key] = _yes_no(cells, key, values.get(key))
                if isinstance(values.get("first_name"), int | float):
                    values["first_name"] = _text(values["first_name"])
                cols, problems = validate_family_member(values, rules=ref.rules,
                                                        lookups=ref.lookups, today=ref.today)
            else:
                values = _code_names(values, ["address_type"], ref.lookups,
                                     {"address_type": "address_type"})
                active = _yes_no(cells, "active", values.get("active"))
                values["active"] = True if active is None else active
                if isinstance(values.get("postal_code"), int | float):
                    values["postal_code"] = _text(values["postal_code"])
                cols, problems = validate_address(values, lookups=ref.lookups)
            for problem in problems:
                cells.field(problem)
            if owner is None:
                cells.add(IMPORT_ROW_KEY_UNKNOWN, ROW_KEY, where + f"the client row key "
                          f"'{row.key}' is not on the Clients sheet; choose it from the list.",
                          row.key)
                related[(sheet.name, row.row)] = cells.problems
                status[(sheet.name, row.row)] = "Not imported: " + " ".join(
                    p.message for p in cells.problems)
                continue
            if owner.state == "already":
                status[(sheet.name, row.row)] = f"Already imported with client " \
                                                f"{owner.client_id}"
                continue
            (owner.family if is_family else owner.addresses).append(cols)
            if cells.problems:
                related[(sheet.name, row.row)] = cells.problems
                status[(sheet.name, row.row)] = "Not imported: " + " ".join(
                    p.message for p in cells.problems)
                if not any(p.error is IMPORT_RELATED_INVALID for p in owner.problems):
                    owner_cells = _Cells(book.clients, owner.row, file_name)
                    owner_cells.add(IMPORT_RELATED_INVALID, ROW_KEY,
                                    f"Row {owner.row.row} of {book.clients.name}: the "
                                    f"client's {'family member' if is_family else 'address'}"
                                    f" on row {row.row} of {sheet.name} has errors; the "
                                    "client is imported together with it or not at all.")
                    owner.problems.extend(owner_cells.problems)
                owner.state = "invalid"
            else:
                status[(sheet.name, row.row)] = f"With client row {row.key}"
    return related, status


LEGAL_FORMS = {"person": PERSON, "entity": ENTITY}


def legal_form_of(text: str | None) -> str:
    """The legal form of a template (person when not said)."""
    return LEGAL_FORMS.get((text or PERSON).strip().casefold(), PERSON)


__all__ = ["ADDRESS_SHEET", "GridRow", "GridSheet", "GroupRef", "ImportFile",
           "ImportReference", "ImportValidation", "OfficeRef", "RowOutcome", "StaffRef",
           "content_hash", "legal_form_of", "validate_import"]
