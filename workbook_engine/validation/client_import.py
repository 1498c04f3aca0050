"""Validating the rows of a client import, with the client validators of single-client create.

Pure functions over what the reader found (:class:`ImportFile`) and a preloaded
:class:`ImportReference` (offices, staff, groups, code lists, the mobile numbers and external
ids already used, the rows imported before): no database access, so 100,000 rows are checked
with a fixed number of queries made beforehand.

Each client row ends ``valid`` (will be posted on approval), ``invalid`` (its problems, each
on a cell), or ``already`` (imported before: recognised by its content hash, its external id,
or its status cell "Imported: client N" on the same workbook and row key; it is skipped, never
duplicated). A client is valid only with all of its family members and addresses valid (each
row all or nothing). One bad cell never stops the file: every row is checked.

The client rows are checked column by column (:class:`GridSheet`, :class:`ImportValidation`):
every rule runs once per distinct value of its column, or distinct combination of columns
(office and staff, the lifecycle dates), with the validators of single-client create
(:func:`validation.clients.validate_client_columns`); a problem object is made only for a row
that has one. Family members and addresses are checked row by row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import methodcaller
from typing import Any

from workbook_engine.bulk import all_text, each_distinct, paused_gc, per_value
from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.errors.client_import import (
    IMPORT_AMBIGUOUS_NAME,
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
    clean_texts,
    lifecycle_date_problem,
    parse_date,
    spaces_collapsed,
    validate_address,
    validate_client_columns,
    validate_family_member,
)
from workbook_engine.validation.values import Locale
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
from workbook_engine.workbooks.fineract_names import spellings
from workbook_engine.workbooks.grid import GridSheet

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
    """A member of staff a row may name: by their name, or as the drop-down lists them
    (``label``, one of ``spellings``: "Name (staff 7)" when two share a name)."""

    id: int
    name: str
    office_id: int
    active: bool
    label: str = ""
    spellings: tuple[str, ...] = ()


@dataclass(frozen=True)
class GroupRef:
    """A group a row may name: by its name, or as the drop-down lists it (``label``, one of
    ``spellings``: "Group (Center)", with the office or the id when still not unique)."""

    id: int
    name: str
    office_id: int
    active: bool
    label: str = ""
    spellings: tuple[str, ...] = ()


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
        self._staff = _index((name, s) for s in self.staff
                             for name in dict.fromkeys((s.name, s.label or s.name,
                                                        *s.spellings)))
        self._groups = _index((name, g) for g in self.groups
                              for name in dict.fromkeys((g.name, g.label or g.name,
                                                         *g.spellings)))

    def office(self, office_id: int | None) -> OfficeRef | None:
        return self._office_ids.get(office_id) if office_id is not None else None

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
    """By exact name (case-insensitive); else as a Mifos X / Fineract workbook writes it
    ("Name-Id" or "Name(Id)" by the name alone, since Fineract's ids are not ours,
    "Head_Office", staff as "Doe, Michael")."""
    for name in spellings(text):
        if name in index:
            return index[name]
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


VALID, INVALID, ALREADY = "valid", "invalid", "already"


@dataclass
class ImportValidation:
    """What became of each client row (by its position ``i`` in ``clients``), column by column.

    ``states[i]`` is ``valid`` (will be posted on approval), ``invalid`` (its problems are
    ``row_problems[i]``, each on a cell) or ``already`` (imported before as client
    ``client_ids[i]``; skipped). ``clean`` holds the validated client columns (ids for codes,
    office, staff and group), ``additional`` the additional details by field id, ``family``
    and ``addresses`` the validated related rows of each client row that has some.
    """

    clients: GridSheet
    legal_form: str
    states: list[str]
    hashes: list[str]
    client_ids: list[int | None]
    row_problems: dict[int, list[Problem]]
    clean: dict[str, list[Any]]
    additional: dict[int, list[str | None]]
    family: dict[int, list[dict[str, Any]]]
    addresses: dict[int, list[dict[str, Any]]]
    related: dict[tuple[str, int], list[Problem]]  # (sheet, row) -> problems
    related_status: dict[tuple[str, int], str]
    file_problems: list[Problem]

    @property
    def problems(self) -> list[Problem]:
        out = list(self.file_problems)
        for i in sorted(self.row_problems):
            out.extend(self.row_problems[i])
        for problems in self.related.values():
            out.extend(problems)
        return out

    def count(self, state: str) -> int:
        return self.states.count(state)

    def indices(self, state: str) -> list[int]:
        """The client rows in a state, in sheet order."""
        return [i for i, s in enumerate(self.states) if s == state]

    def status_text(self, i: int) -> str:
        """The report's status cell for client row ``i``."""
        state, client_id = self.states[i], self.client_ids[i]
        if state == ALREADY:
            return f"Already imported: client {client_id}"
        if client_id is not None:
            return f"{IMPORTED_PREFIX}{client_id}"
        if state == VALID:
            return "Valid: imported when a supervisor approves"
        return "Not imported: " + " ".join(p.message for p in self.row_problems.get(i, []))


def content_hashes(prefix: str, columns: Mapping[str, Sequence[Any]],
                   rows: int) -> list[str]:
    """A fingerprint of what each row says (not its row key or status), to recognise a row
    imported before whatever file or row it comes back in: SHA-256 of ``prefix`` (a client
    row's legal form; a setup row's kind and sheet) and each filled ``key=value`` (keys
    sorted, text trimmed and case-folded)."""
    parts: list[Sequence[str]] = [[prefix] * rows]
    for key in sorted(columns):
        column = columns[key]
        if key in (ROW_KEY, STATUS_KEY) or column.count(None) == rows:
            continue
        parts.append(_tagged(f"{key}=", column))
    joined = map("\x1f".join, map(filter, repeat(None), zip(*parts)))
    return list(map(methodcaller("hexdigest"), map(hashlib.sha256, map(str.encode, joined))))


def _tagged(prefix: str, values: Sequence[Any]) -> list[str]:
    """``prefix`` + :func:`_canonical` of each value, "" for an empty one."""
    distinct = dict.fromkeys(values)
    if len(distinct) * 4 <= len(values) or not all_text(distinct):
        return each_distinct(values, lambda v: prefix + text if (text := _canonical(v))
                             else "")
    tagged = list(map(prefix.__add__, map(str.casefold, spaces_collapsed(values))))
    return list(map({prefix: ""}.get, tagged, tagged))


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


Finding = tuple[ErrorType, str, str, Any]
"""A problem of one value before it is placed on its rows: error, column key, the sentence
after "Row N of <sheet>: ", the value."""


class _Placer:
    """Turns findings into problems on their cells."""

    def __init__(self, sheet: GridSheet, file_name: str) -> None:
        self.sheet, self.file_name = sheet, file_name

    def where(self, i: int) -> str:
        return f"Row {self.sheet.rows[i]} of {self.sheet.name}: "

    def problem(self, i: int, finding: Finding) -> Problem:
        error, key, message, value = finding
        sheet, row = self.sheet, self.sheet.rows[i]
        letter = sheet.letters.get(key) or sheet.letters.get(ROW_KEY)
        return Problem(error, self.where(i) + message, Location(
            file=self.file_name, sheet=sheet.name, row=row, column=key,
            cell=f"{letter}{row}" if letter else None),
            {"row_key": sheet.keys[i], "column_header": sheet.headers.get(key, key),
             "value": None if value is None else str(value)})


def _field(problem: FieldProblem, key: str | None = None) -> Finding:
    text = problem.message
    return (problem.error, key or problem.field, text, problem.value)


def _text(value: Any) -> str | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return clean_text(value)


_BAD = object()  # a yes/no cell that is neither


def _yes_no(key: str, header: str) -> Callable[[Any], tuple[Any, list[Finding]]]:
    def check(value: Any) -> tuple[Any, list[Finding]]:
        if value is None or isinstance(value, bool):
            return value, []
        text = str(value).strip().casefold()
        if isinstance(value, int | float):
            text = "1" if value else "0"
        if text in YES:
            return True, []
        if text in NO:
            return (False if text else None), []
        return _BAD, [(IMPORT_BAD_YES_NO, key, f"'{value}' in column '{header}' is not Yes or "
                       "No.", value)]
    return check


def _code_name_fix(lookups: StaticLookups, code_name: str) -> Callable[[Any], Any]:
    """Fineract writes code values as "Name-Id"; keep the name when the whole text is not
    itself a value of the list (ids in such files are Fineract's, not ours)."""
    names = {c.name.casefold() for c in lookups.code_values(code_name)}

    def fix(raw: Any) -> Any:
        if not isinstance(raw, str):
            return raw
        match = _NAME_ID.match(raw.strip())
        if match is None or raw.strip().casefold() in names:
            return raw
        return match.group(1)
    return fix


def _as_text(value: Any) -> Any:
    return _text(value) if isinstance(value, int | float) and not isinstance(value, bool) \
        else value


_TEXT_DETAILS = ("first_name", "middle_name", "last_name", "full_name", "external_id",
                 "incorporation_number", "remarks", "email")


def validate_import(book: ImportFile, ref: ImportReference, *, file_name: str,
                    ) -> ImportValidation:
    """Check every row of the file; never stops at the first problem.

    Column by column: each rule runs once per distinct value (or distinct combination, such
    as office and staff), so 100,000 rows cost a few passes over each column; problems are
    made only for the rows that have some.
    """
    with paused_gc():
        return _validate(book, ref, file_name)


def _validate(book: ImportFile, ref: ImportReference, file_name: str) -> ImportValidation:
    sheet = book.clients
    n = len(sheet)
    place = _Placer(sheet, file_name)
    notes: dict[int, list[Finding]] = {}
    by_key: dict[str, int] = {}
    duplicate_keys: set[int] = set()
    for i, key in enumerate(sheet.keys):
        if key in by_key:
            duplicate_keys.add(i)
            notes[i] = [(IMPORT_DUPLICATE_IN_FILE, ROW_KEY, f"the row key '{key}' is also on "
                         f"row {sheet.rows[by_key[key]]}; give each client its own row key.",
                         key)]
        else:
            by_key[key] = i
    blank: list[Any] = [None] * n
    hashes = content_hashes(book.legal_form, sheet.columns, n)
    externals = sheet.columns.get("external_id", blank)
    externals = clean_texts(externals if all_text(externals) else
                            each_distinct(externals, _as_text))
    already: dict[int, int] = {}
    if ref.imported_hashes or ref.imported_external_ids or ref.imported_keys:
        for i in range(n):
            if i in duplicate_keys:
                continue
            earlier = _already_imported(ref, sheet.keys[i], sheet.statuses[i], hashes[i],
                                        externals[i])
            if earlier is not None:
                already[i] = earlier
    clean, additional = _check_rows(sheet, book.legal_form, ref, notes)
    for what, column, key in (("mobile number", clean["mobile_no"], "mobile_no"),
                              ("external id", externals, "external_id")):
        seen: dict[str, int] = {}
        for i, value in enumerate(column):
            if not value or i in already:
                continue
            if value in seen:
                notes.setdefault(i, []).append((
                    IMPORT_DUPLICATE_IN_FILE, key, f"the {what} {value} is also on row "
                    f"{seen[value]}; each client needs their own {what}.", value))
            else:
                seen[value] = sheet.rows[i]
    row_problems = {i: [place.problem(i, f) for f in found] for i, found in notes.items()
                    if found and i not in already}
    states = [VALID] * n
    for i in row_problems:
        states[i] = INVALID
    client_ids: list[int | None] = [None] * n
    for i, client_id in already.items():
        states[i], client_ids[i] = ALREADY, client_id
    validation = ImportValidation(sheet, book.legal_form, states, hashes, client_ids,
                                  row_problems, clean,
                                  additional, {}, {}, {}, {}, list(book.problems))
    _check_related(book, ref, by_key, validation, file_name)
    return validation


def _already_imported(ref: ImportReference, key: str, status: str | None, digest: str,
                      external: str | None) -> int | None:
    if digest in ref.imported_hashes:
        return ref.imported_hashes[digest]
    if external and external in ref.imported_external_ids:
        return ref.imported_external_ids[external]
    match = _IMPORTED.match(status or "")
    if match and ref.workbook_id is not None:
        client = ref.imported_keys.get((ref.workbook_id, key))
        if client == int(match.group(1)):
            return client
    return None


def _check_rows(sheet: GridSheet, form: str, ref: ImportReference,
                notes: dict[int, list[Finding]]) -> tuple[dict[str, list[Any]],
                                                          dict[int, list[str | None]]]:
    """Every rule of a client row, column by column; findings go to ``notes`` in the order
    a person reads them (office, legal form, details, staff, group, dates, flags)."""
    n = len(sheet)
    blank: list[Any] = [None] * n
    cols = sheet.columns

    def given(key: str) -> list[Any]:
        return cols.get(key, blank)

    # Office: mandatory, one the template allows.
    allowed = ", ".join(o.name for o in ref.offices)

    def office(value: Any) -> tuple[int | None, list[Finding]]:
        text = _text(value)
        if text is None:
            return None, [(CLIENT_FIELD_MISSING, "office", "the office is mandatory and is "
                           "missing; choose it from the list.", None)]
        found = ref.office_named(text)
        if found is None:
            return None, [(IMPORT_OFFICE_NOT_ALLOWED, "office", f"the office '{text}' is not "
                           f"one this import allows ({allowed}).", text)]
        return found.id, []

    office_ids = per_value(given("office"), office, notes)

    def legal_form(value: Any) -> tuple[None, list[Finding]]:
        text = _text(value)
        if text is None or text.casefold() == form:
            return None, []
        return None, [(IMPORT_WRONG_LEGAL_FORM, "legal_form", f"the legal form is '{text}' "
                       f"but this template is for {form}s; leave it blank or use a template "
                       f"for {text.casefold()}s.", text)]

    per_value(given("legal_form"), legal_form, notes)
    # The client's own details: the validators of single-client create.
    details: dict[str, list[Any]] = {}
    for key, column in cols.items():
        if key.startswith("additional:"):
            continue
        if key in CODE_FIELDS:
            column = each_distinct(column, _code_name_fix(ref.lookups, CODE_FIELDS[key]))
        elif key in _TEXT_DETAILS and not all_text(column):
            column = each_distinct(column, _as_text)
        details[key] = column
    additional_names = {f"additional:{f.id}": f.name for f in ref.lookups.additional_fields()}
    field_keys = {name: key for key, name in additional_names.items()}
    result = validate_client_columns(
        details, n, legal_form=form, rules=ref.rules, lookups=ref.lookups, today=ref.today,
        additional={additional_names[k]: v for k, v in cols.items() if k in additional_names})
    for i, problems in result.problems.items():
        notes.setdefault(i, []).extend(_field(p, field_keys.get(p.field, p.field))
                                       for p in problems)
    clean = dict(result.columns)
    # Staff and group: of the client's office, active.
    staff_ids = per_value(list(zip(office_ids, each_distinct(given("staff"), _text))),
                          lambda pair: _staff(pair[1], ref.office(pair[0]), ref),
                          notes)
    group_ids = per_value(list(zip(office_ids, each_distinct(given("group"), _text))),
                          lambda pair: _group(pair[1], ref.office(pair[0]), ref),
                          notes)
    # Lifecycle dates and flags.
    submitted = per_value(given("submitted_on"), _date("submitted_on", ref.rules.dates), notes)
    activation = per_value(given("activation_date"), _date("activation_date", ref.rules.dates),
                           notes)
    headers = sheet.headers
    active = per_value(given("active"), _yes_no("active", headers.get("active", "active")),
                       notes)
    for i, value in enumerate(active):
        if value is None:
            notes.setdefault(i, []).append((CLIENT_FIELD_MISSING, "active", "Active is "
                                            "mandatory and is missing; choose Yes or No.",
                                            None))
    is_staff = (per_value(given("is_staff"), _yes_no("is_staff", headers.get("is_staff",
                                                                            "is_staff")), notes)
                if form == PERSON else blank)
    # No submission date (the Mifos X data import tool has no such column): the client was
    # submitted when activated, else today.
    typed = [s is not None for s in submitted]
    submitted = [s if s is not None else a if isinstance(a, dt.date) else ref.today
                 for s, a in zip(submitted, activation)]
    active_flags = [value is True for value in active]
    per_value(list(zip(submitted, active_flags, activation, office_ids, typed)),
              lambda dates: (None, _check_dates(dates[0], dates[1], dates[2],
                                                ref.office(dates[3]), ref.today,
                                                submitted_typed=dates[4])),
              notes)
    clean.update(
        office_id=office_ids, staff_id=staff_ids, group_id=group_ids, submitted_on=submitted,
        is_staff=[value is True for value in is_staff], active=active_flags,
        activation_date=[(a or s) if on else None
                         for a, s, on in zip(activation, submitted, active_flags)])
    return clean, result.additional


def _date(key: str, dates: Locale) -> Callable[[Any], tuple[dt.date | None, list[Finding]]]:
    def check(value: Any) -> tuple[dt.date | None, list[Finding]]:
        problems: list[FieldProblem] = []
        parsed = parse_date(key, value, problems, dates)
        return parsed, [_field(p) for p in problems]
    return check


def _staff(text: str | None, office: OfficeRef | None,
           ref: ImportReference) -> tuple[int | None, list[Finding]]:
    if text is None:
        return None, []
    found = ref.staff_named(text)
    if not found:
        return None, [(IMPORT_UNKNOWN_NAME, "staff", f"no member of staff is called "
                       f"'{text}'; choose the staff from the list.", text)]
    mine = [s for s in found if office is None or s.office_id == office.id]
    if not mine:
        return None, [(STAFF_NOT_ASSIGNABLE, "staff", f"{text} does not work in office "
                       f"{office.name if office else ''}; choose a member of staff of the "
                       "client's office.", text)]
    if len(mine) > 1:
        return None, [_ambiguous(mine, "members of staff", text)]
    if not mine[0].active:
        return None, [(STAFF_NOT_ASSIGNABLE, "staff", f"{text} is not active and cannot be "
                       "assigned to a client.", text)]
    return mine[0].id, []


def _group(text: str | None, office: OfficeRef | None,
           ref: ImportReference) -> tuple[int | None, list[Finding]]:
    if text is None:
        return None, []
    found = [g for g in ref.groups_named(text) if office is None or g.office_id == office.id]
    if not found:
        return None, [(IMPORT_UNKNOWN_NAME, "group", f"there is no group '{text}' in office "
                       f"{office.name if office else ''}; choose the group from the list.",
                       text)]
    if len(found) > 1:
        return None, [_ambiguous(found, "groups", text)]
    if not found[0].active:
        return None, [(IMPORT_UNKNOWN_NAME, "group", f"group '{text}' is not active; a client "
                       "can only join an active group.", text)]
    return found[0].id, []


def _ambiguous(found: Sequence[StaffRef | GroupRef], what: str, text: str) -> Finding:
    """Several records answer to a name: refused with each of them named, never guessed."""
    key = "group" if isinstance(found[0], GroupRef) else "staff"
    return (IMPORT_AMBIGUOUS_NAME, key, f"{len(found)} {what} of the office answer to "
            f"'{text}' (" + "; ".join(r.label or r.name for r in found[:5])
            + ("; ..." if len(found) > 5 else "") + "); choose the one meant from the list, "
            "which tells them apart.", text)


def _check_dates(submitted: dt.date, active: bool, activation: Any,
                 office: OfficeRef | None, today: dt.date, *,
                 submitted_typed: bool = True) -> list[Finding]:
    """The lifecycle rules of create_client: submission and activation not in the future,
    not before the office opened; activation not before submission, and only when active.
    A submission date taken from the activation date (none typed) is not checked apart:
    what is wrong with it is said once, on the activation date's cell."""
    found: list[Finding] = []
    checks: list[tuple[str, str, dt.date | None]] = []
    if submitted_typed or activation is None:
        checks.append(("submitted_on", "submission date", submitted))
    if active:
        checks.append(("activation_date", "activation date", activation or submitted))
    elif activation is not None:
        found.append((CLIENT_DATE_NOT_ALLOWED, "activation_date", f"an activation date "
                      f"({activation}) is given but Active is No; set Active to Yes or clear "
                      "the date.", activation))
    opened = (office.opening_date if office else None,
              f"office {office.name} opened" if office else "")
    for key, name, value in checks:
        if value is None:
            continue
        earlier = [opened] + ([(submitted, "the submission date")]
                              if key == "activation_date" else [])
        problem = lifecycle_date_problem(name, value, today, earlier)
        if problem is not None:
            found.append((CLIENT_DATE_NOT_ALLOWED, key, problem, value))
    return found


_FAMILY_CODES = {"relationship": "family_relationship", "gender": "gender",
                 "marital_status": "marital_status", "profession": "profession"}


def _check_related(book: ImportFile, ref: ImportReference, by_key: Mapping[str, int],
                   validation: ImportValidation, file_name: str) -> None:
    """Family members and addresses, row by row; a client is valid only with all of its own."""
    states = validation.states
    owners = _Placer(book.clients, file_name)
    for sheet in (book.family, book.addresses):
        if sheet is None:
            continue
        is_family = sheet.name == FAMILY_SHEET
        place = _Placer(sheet, file_name)
        fixes = {key: _code_name_fix(ref.lookups, code) for key, code in
                 (_FAMILY_CODES if is_family else {"address_type": "address_type"}).items()}
        yes_no = {key: _yes_no(key, sheet.headers.get(key, key))
                  for key in ("is_dependent", "is_contact", "active")}
        attached = validation.family if is_family else validation.addresses
        for i in range(len(sheet)):
            row, key = sheet.rows[i], sheet.keys[i]
            found: list[Finding] = []
            values = sheet.values(i)
            for name, fix in fixes.items():
                if name in values:
                    values[name] = fix(values[name])
            flags = ("is_dependent", "is_contact") if is_family else ("active",)
            for name in flags:
                flag, bad = yes_no[name](values.get(name))
                found.extend(bad)
                values[name] = None if flag is _BAD else flag
            if is_family:
                if isinstance(values.get("first_name"), int | float):
                    values["first_name"] = _text(values["first_name"])
                cols, problems = validate_family_member(values, rules=ref.rules,
                                                        lookups=ref.lookups, today=ref.today)
            else:
                values["active"] = True if values["active"] is None else values["active"]
                if isinstance(values.get("postal_code"), int | float):
                    values["postal_code"] = _text(values["postal_code"])
                cols, problems = validate_address(values, lookups=ref.lookups)
            found.extend(_field(p) for p in problems)
            owner = by_key.get(key)
            if owner is None:
                found.append((IMPORT_ROW_KEY_UNKNOWN, ROW_KEY, f"the client row key '{key}' "
                              "is not on the Clients sheet; choose it from the list.", key))
            problems_here = [place.problem(i, f) for f in found]
            if problems_here:
                validation.related[(sheet.name, row)] = problems_here
                validation.related_status[(sheet.name, row)] = "Not imported: " + " ".join(
                    p.message for p in problems_here)
            if owner is None:
                continue
            if states[owner] == ALREADY:
                validation.related_status[(sheet.name, row)] = (
                    f"Already imported with client {validation.client_ids[owner]}")
                validation.related.pop((sheet.name, row), None)
                continue
            attached.setdefault(owner, []).append(cols)
            if not problems_here:
                validation.related_status[(sheet.name, row)] = f"With client row {key}"
                continue
            mine = validation.row_problems.setdefault(owner, [])
            if not any(p.error is IMPORT_RELATED_INVALID for p in mine):
                mine.append(owners.problem(owner, (
                    IMPORT_RELATED_INVALID, ROW_KEY, f"the client's "
                    f"{'family member' if is_family else 'address'} on row {row} of "
                    f"{sheet.name} has errors; the client is imported together with it or "
                    "not at all.", None)))
            states[owner] = INVALID


LEGAL_FORMS = {"person": PERSON, "entity": ENTITY}


def legal_form_of(text: str | None) -> str:
    """The legal form of a template (person when not said)."""
    return LEGAL_FORMS.get((text or PERSON).strip().casefold(), PERSON)


__all__ = ["ADDRESS_SHEET", "ALREADY", "INVALID", "VALID", "GridSheet", "GroupRef",
           "ImportFile", "ImportReference", "ImportValidation", "OfficeRef", "StaffRef",
           "content_hashes", "legal_form_of", "validate_import"]
