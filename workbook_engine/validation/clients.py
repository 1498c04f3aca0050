"""Validators of a client's details, shared by the single-client service and bulk import.

Everything here is pure: a validator takes a plain mapping of field values (as typed by a
person or read from a workbook cell), the rules of ``rules/clients.yaml`` and a lookup
context (code lists, uniqueness, additional fields), and returns the cleaned values and a
list of :class:`FieldProblem`. Nothing touches the database directly, so a bulk import can
preload its lookups once and validate thousands of rows with the same functions.

A client's details are validated column by column (:func:`validate_client_columns`): each
rule runs once per distinct value of a column (100,000 rows of a bulk import name a handful of
offices, genders and dates), and text columns are cleaned with C-level passes (``map`` over
``str`` methods) rather than one Python call per cell. :func:`validate_client`, used by
create and edit, is the same function on a single row, so both paths apply the same rules.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import repeat
from typing import Any, Protocol

from workbook_engine.bulk import all_text, each_distinct, per_value
from workbook_engine.validation.values import DEFAULT_LOCALE, Locale, ValueProblem
from workbook_engine.validation.values import parse_date as parse_text_date
from workbook_engine.errors import EngineError, ErrorType
from workbook_engine.errors.clients import (
    CLIENT_DUPLICATE,
    CLIENT_FIELD_INVALID,
    CLIENT_FIELD_MISSING,
)
from workbook_engine.errors.general import CONFIGURATION
from workbook_engine.money import whole_as_written

PERSON_FIELDS = ("first_name", "middle_name", "last_name", "date_of_birth", "gender")
ENTITY_FIELDS = ("full_name", "incorporation_date", "incorporation_valid_till",
                 "incorporation_number", "constitution", "main_business_line", "remarks")
COMMON_FIELDS = ("mobile_no", "email", "external_id", "client_type", "client_classification")
CLIENT_FIELDS = PERSON_FIELDS + ENTITY_FIELDS + COMMON_FIELDS
"""Every built-in client detail a person may enter (codes by name or id)."""


def other_form_problem(values: Mapping[str, Any], legal_form: str) -> FieldProblem | None:
    """A detail given that only the other legal form has (an entity's incorporation date for
    a person, a person's date of birth for an entity): refused, never silently dropped."""
    entity = legal_form == "entity"
    others = PERSON_FIELDS if entity else tuple(f for f in ENTITY_FIELDS if f != "remarks")
    for name in others:
        if not _is_blank(values.get(name)):
            what, other = ("an entity", "a person") if entity else ("a person", "an entity")
            return FieldProblem(name, values[name], f"The {label(name)} is a detail of "
                                f"{other}, and this client is {what}; leave it out (or "
                                "create the client with the other legal form).")
    return None

CODE_FIELDS = {"gender": "gender", "client_type": "client_type",
               "client_classification": "client_classification",
               "constitution": "constitution", "main_business_line": "main_business_line"}
"""Client detail -> the code list its value comes from; stored as ``<detail>_id``."""

LABELS = {"first_name": "first name", "middle_name": "middle name", "last_name": "last name",
          "full_name": "name", "mobile_no": "mobile number", "email": "e-mail address",
          "date_of_birth": "date of birth", "external_id": "external id",
          "client_type": "client type", "client_classification": "client classification",
          "incorporation_date": "incorporation date",
          "incorporation_valid_till": "incorporation valid till",
          "incorporation_number": "incorporation number", "main_business_line":
          "main business line", "relationship": "relationship", "marital_status":
          "marital status", "address_type": "address type", "state_province":
          "state/province", "postal_code": "postal code", "line_1": "address line 1",
          "line_2": "address line 2", "line_3": "address line 3", "is_dependent": "dependent",
          "is_contact": "contact person"}


def label(name: str) -> str:
    """The words a person reads for a field name."""
    return LABELS.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class ClientRules:
    """The section ``rules/clients.yaml`` as typed settings."""

    min_age: int = 18
    max_age: int = 100
    name_max_length: int = 50
    entity_name_max_length: int = 160
    mobile_strip_characters: str = " -.()"
    mobile_pattern: str = r"^\+?[0-9]{9,15}$"
    mandatory_person: tuple[str, ...] = ("first_name", "last_name")
    mandatory_entity: tuple[str, ...] = ("full_name",)
    document_max_bytes: int = 10 * 1024 * 1024
    document_types: tuple[str, ...] = ("pdf", "png", "jpeg", "gif", "tiff", "docx", "xlsx",
                                       "text")
    dates: Locale = DEFAULT_LOCALE
    """The date order of text dates: the institution's locale (``rules/locales.yaml``), set
    by ``services.clients.lifecycle.client_rules``."""

    @classmethod
    def from_section(cls, section: Mapping[str, Any]) -> ClientRules:
        """Parse the YAML section; a wrong setting is reported in one sentence."""
        defaults = cls()
        mandatory = section.get("mandatory") or {}
        try:
            rules = cls(
                min_age=int(section.get("min_age", defaults.min_age)),
                max_age=int(section.get("max_age", defaults.max_age)),
                name_max_length=int(section.get("name_max_length", defaults.name_max_length)),
                entity_name_max_length=int(section.get("entity_name_max_length",
                                                       defaults.entity_name_max_length)),
                mobile_strip_characters=str(section.get("mobile_strip_characters",
                                                        defaults.mobile_strip_characters)),
                mobile_pattern=str(section.get("mobile_pattern", defaults.mobile_pattern)),
                mandatory_person=tuple(mandatory.get("person", defaults.mandatory_person)),
                mandatory_entity=tuple(mandatory.get("entity", defaults.mandatory_entity)),
                document_max_bytes=int(section.get("document_max_bytes",
                                                   defaults.document_max_bytes)),
                document_types=tuple(section.get("document_types", defaults.document_types)),
            )
            re.compile(rules.mobile_pattern)
        except (TypeError, ValueError, re.error) as exc:
            raise EngineError(CONFIGURATION, f"rules/clients.yaml has a wrong setting "
                              f"({exc}); correct it.") from None
        unknown = [f for f in rules.mandatory_person + rules.mandatory_entity
                   if f not in CLIENT_FIELDS]
        if unknown or rules.min_age < 0 or rules.max_age < rules.min_age:
            raise EngineError(CONFIGURATION, "rules/clients.yaml: the age range or the "
                              f"mandatory details are wrong ({', '.join(unknown) or 'ages'}).")
        return rules

    def mandatory_for(self, legal_form: str) -> tuple[str, ...]:
        return self.mandatory_entity if legal_form == "entity" else self.mandatory_person


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field: its name, the value given, one sentence."""

    field: str
    value: Any
    message: str
    error: ErrorType = CLIENT_FIELD_INVALID

    def as_error(self) -> EngineError:
        return EngineError(self.error, self.message, field=self.field,
                           value=None if self.value is None else str(self.value))


@dataclass(frozen=True)
class CodeChoice:
    """One value of a code list."""

    id: int
    name: str
    active: bool = True


@dataclass(frozen=True)
class AdditionalField:
    """An additional client detail defined by the MFI (see ``CustomField``)."""

    id: int
    name: str
    label: str
    data_type: str  # text | number | date | code
    code_name: str | None = None
    mandatory: bool = False


class ClientLookups(Protocol):
    """What validation needs to know about the database; a bulk import preloads it."""

    def code_values(self, code_name: str) -> Sequence[CodeChoice]: ...

    def mobiles_taken(self, mobiles: Collection[str],
                      exclude_client_id: int | None) -> set[str]:
        """Those of ``mobiles`` that belong to a client not closed (other than the one given)."""

    def external_ids_taken(self, external_ids: Collection[str],
                           exclude_client_id: int | None) -> set[str]:
        """Those of ``external_ids`` that another client already has."""

    def additional_fields(self) -> Sequence[AdditionalField]: ...


@dataclass
class StaticLookups:
    """Lookups held in memory: code lists, used mobiles and external ids (for bulk import)."""

    codes: dict[str, list[CodeChoice]] = field(default_factory=dict)
    mobiles: dict[str, int] = field(default_factory=dict)  # mobile -> client id
    external_ids: dict[str, int] = field(default_factory=dict)
    fields: list[AdditionalField] = field(default_factory=list)

    def code_values(self, code_name: str) -> Sequence[CodeChoice]:
        return self.codes.get(code_name, [])

    def mobiles_taken(self, mobiles: Collection[str],
                      exclude_client_id: int | None) -> set[str]:
        return {m for m in self.mobiles.keys() & mobiles
                if self.mobiles[m] != exclude_client_id}

    def external_ids_taken(self, external_ids: Collection[str],
                           exclude_client_id: int | None) -> set[str]:
        return {e for e in self.external_ids.keys() & external_ids
                if self.external_ids[e] != exclude_client_id}

    def additional_fields(self) -> Sequence[AdditionalField]:
        return self.fields


# ---------------------------------------------------------------- single values

def clean_text(value: Any) -> str | None:
    """Trim and collapse white space; blank becomes None."""
    if value is None:
        return None
    text = " ".join(str(value).split())
    return text or None


def check_name(name: str, value: Any, max_length: int,
               problems: list[FieldProblem]) -> str | None:
    """A trimmed name within the length limit."""
    text = clean_text(value)
    if text is not None and len(text) > max_length:
        problems.append(FieldProblem(name, text, f"The {label(name)} '{text[:40]}...' is "
                                     f"{len(text)} characters long; at most {max_length} are "
                                     "allowed."))
        return None
    return text


def normalise_mobile(value: Any, rules: ClientRules) -> str | None:
    """A mobile number without spaces, dashes, dots or brackets; leading zeros kept."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("a mobile number must be text, so that its leading zeros are kept: "
                         "type it again with its leading zero (a number pasted from another "
                         "sheet loses it; paste values only, or type an apostrophe first: "
                         "'0722...)")
    return str(value).strip().translate(_strip_table(rules)) or None


def _strip_table(rules: ClientRules) -> dict[int, None]:
    """The characters a mobile number loses (spaces, dashes, dots, brackets)."""
    return dict.fromkeys(map(ord, rules.mobile_strip_characters))


def check_mobile(name: str, value: Any, rules: ClientRules,
                 problems: list[FieldProblem]) -> str | None:
    """A normalised mobile number matching the pattern of the rules."""
    try:
        mobile = normalise_mobile(value, rules)
    except ValueError as exc:
        problems.append(FieldProblem(name, value, f"The {label(name)} {value} is a number; "
                                     f"{exc}."))
        return None
    if mobile is not None and not re.fullmatch(rules.mobile_pattern, mobile):
        problems.append(FieldProblem(name, value, f"The {label(name)} '{value}' is not a "
                                     "valid mobile number (digits only, 9 to 15 of them, "
                                     "optionally starting with +)."))
        return None
    return mobile


def parse_date(name: str, value: Any, problems: list[FieldProblem],
               dates: Locale = DEFAULT_LOCALE) -> dt.date | None:
    """A date given as a date, a datetime or text: YYYY-MM-DD, or any text date the
    collection sheets read, numbers in the date order of ``dates`` (the institution's:
    ``ClientRules.dates``; :mod:`workbook_engine.validation.values`)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        if not isinstance(value, str | dt.time):  # a number is no date here
            raise ValueError(value)
        return parse_text_date(value, locale=dates)
    except ValueProblem as problem:
        problems.append(FieldProblem(name, value, f"The {label(name)} {problem.message}."))
        return None
    except ValueError:
        problems.append(FieldProblem(name, value, f"The {label(name)} '{value}' is not a "
                                     "date; write it YYYY-MM-DD."))
        return None


def check_not_future(name: str, value: dt.date | None, today: dt.date,
                     problems: list[FieldProblem]) -> None:
    if value is not None and value > today:
        problems.append(FieldProblem(name, value, f"The {label(name)} {value} is in the "
                                     f"future (today is {today})."))


def lifecycle_date_problem(name: str, value: dt.date, today: dt.date,
                           not_before: Sequence[tuple[dt.date | None, str]]) -> str | None:
    """What is wrong with a lifecycle date (submission, activation, closure, ...), or None.

    The date may not be in the future nor before any earlier step given as (date, what).
    The sentence starts in lower case so callers can prefix where it is ("Row 4: ...").
    """
    if value > today:
        return f"the {name} {value} is in the future (today is {today})."
    for earlier, what in not_before:
        if earlier is not None and value < earlier:
            return f"the {name} {value} is before {what} ({earlier})."
    return None


def age_on(born: dt.date, today: dt.date) -> int:
    """Whole years from a birth date to a day."""
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def check_birth_date(name: str, born: dt.date | None, today: dt.date, rules: ClientRules,
                     problems: list[FieldProblem]) -> None:
    """A date of birth in the past, within the age range of the rules."""
    if born is None:
        return
    if born >= today:
        problems.append(FieldProblem(name, born, f"The {label(name)} {born} is not in the "
                                     f"past (today is {today})."))
        return
    age = age_on(born, today)
    if not rules.min_age <= age <= rules.max_age:
        problems.append(FieldProblem(name, born, f"The {label(name)} {born} makes the client "
                                     f"{age} years old; clients must be {rules.min_age} to "
                                     f"{rules.max_age}."))


def resolve_code(name: str, value: Any, code_name: str, lookups: ClientLookups,
                 problems: list[FieldProblem]) -> int | None:
    """The id of an active code value given by id or by name (case-insensitive)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    choices = lookups.code_values(code_name)
    text = str(value).strip()
    found = None
    if isinstance(value, int) or text.isdigit():
        found = next((c for c in choices if c.id == int(text)), None)
    if found is None:
        found = next((c for c in choices if c.name.casefold() == text.casefold()), None)
    if found is None or not found.active:
        names = ", ".join(c.name for c in choices if c.active) or "none defined"
        state = "no longer in use" if found is not None else "not one of its values"
        problems.append(FieldProblem(name, value, f"The {label(name)} '{value}' is {state} "
                                     f"(choose one of: {names})."))
        return None
    return found.id


def check_mandatory(values: Mapping[str, Any], names: Sequence[str], what: str,
                    problems: list[FieldProblem]) -> None:
    for name in names:
        if values.get(name) in (None, ""):
            problems.append(FieldProblem(name, None, f"The {label(name)} of {what} is "
                                         "mandatory and is missing.", CLIENT_FIELD_MISSING))


# ---------------------------------------------------------------- the client

@dataclass(frozen=True)
class CleanClient:
    """A client's validated details: column values and additional-field values."""

    columns: dict[str, Any]
    additional: dict[int, str | None]


def validate_client(values: Mapping[str, Any], *, legal_form: str, rules: ClientRules,
                    lookups: ClientLookups, today: dt.date, client_id: int | None = None,
                    check_unique: bool = True) -> tuple[CleanClient, list[FieldProblem]]:
    """Validate every detail of a client (create, edit and bulk import alike).

    ``values`` holds the details by their names in :data:`CLIENT_FIELDS` (codes by name or
    id, dates as dates or YYYY-MM-DD) and ``additional``: a mapping of additional field name
    to value. ``client_id`` is the client being edited, so its own mobile number and external
    id do not count as taken. Returns the column values (codes as ``<name>_id``) and every
    problem found, in field order. It is :func:`validate_client_columns` on one row.
    """
    result = validate_client_columns(
        {name: [values.get(name)] for name in CLIENT_FIELDS}, 1, legal_form=legal_form,
        rules=rules, lookups=lookups, today=today, client_id=client_id,
        check_unique=check_unique,
        additional={name: [value] for name, value in (values.get("additional") or {}).items()})
    return (CleanClient({name: column[0] for name, column in result.columns.items()},
                        {field_id: column[0] for field_id, column in result.additional.items()}),
            result.problems.get(0, []))


# ---------------------------------------------------------------- many rows at once

RowProblems = dict[int, list[FieldProblem]]
"""Problems by row index (0-based position in the columns), each row's in field order."""

Check = Callable[[Any], tuple[Any, list[FieldProblem]]]
"""A rule on one value: the cleaned value and what is wrong with it."""

_NONE_AS_EMPTY: dict[Any, str] = {None: ""}
_EMPTY_AS_NONE: dict[Any, None] = {"": None}


@dataclass
class CleanColumns:
    """Many clients' validated details, column by column."""

    columns: dict[str, list[Any]]  # column name (codes as <name>_id) -> value per row
    additional: dict[int, list[str | None]]  # additional field id -> value per row (given ones)
    problems: RowProblems


def _add(problems: dict[int, list[Any]], row: int, found: Iterable[Any]) -> None:
    problems.setdefault(row, []).extend(found)


def _few(values: Sequence[Any]) -> bool:
    """Whether a column repeats its values enough that a rule is cheaper run once per
    distinct value than as a pass over every cell (or holds more than text)."""
    distinct = dict.fromkeys(values)
    return len(distinct) * 4 <= len(values) or not all_text(distinct)


def checking(rule: Callable[[Any, list[FieldProblem]], Any]) -> Check:
    """A :data:`Check` from a validator that appends its problems to a list."""
    def check(value: Any) -> tuple[Any, list[FieldProblem]]:
        found: list[FieldProblem] = []
        return rule(value, found), found
    return check


def clean_texts(values: Sequence[Any]) -> list[str | None]:
    """:func:`clean_text` of each value (C-level passes over a column of many texts)."""
    if _few(values):
        return each_distinct(values, clean_text)
    texts = spaces_collapsed(values)
    return list(map(_EMPTY_AS_NONE.get, texts, texts))


def spaces_collapsed(values: Sequence[str | None]) -> list[str]:
    """Each text trimmed, inner white space collapsed to one space; None becomes ""."""
    return list(map(" ".join, map(str.split, map(_NONE_AS_EMPTY.get, values, values))))


def check_names(name: str, values: Sequence[Any], max_length: int,
                problems: RowProblems) -> list[str | None]:
    """:func:`check_name` of each value."""
    if _few(values):
        return per_value(values, checking(lambda v, found: check_name(name, v, max_length,
                                                                      found)), problems)
    texts = spaces_collapsed(values)
    if texts and max(map(len, texts)) > max_length:
        for row, text in enumerate(texts):
            if len(text) > max_length:
                found: list[FieldProblem] = []
                check_name(name, values[row], max_length, found)
                _add(problems, row, found)
                texts[row] = ""
    return list(map(_EMPTY_AS_NONE.get, texts, texts))


def check_mobiles(name: str, values: Sequence[Any], rules: ClientRules,
                  problems: RowProblems) -> list[str | None]:
    """:func:`check_mobile` of each value."""
    if _few(values):
        return per_value(values, checking(lambda v, found: check_mobile(name, v, rules, found)),
                         problems)
    table = _strip_table(rules)
    mobiles = list(map(str.translate, map(str.strip, map(_NONE_AS_EMPTY.get, values, values)),
                       repeat(table)))
    pattern = re.compile(rules.mobile_pattern)
    matched = list(map(pattern.fullmatch, mobiles))
    empty_fails = mobiles.count("") if pattern.fullmatch("") is None else 0
    if matched.count(None) > empty_fails:  # some filled mobile does not match
        for row, (mobile, match) in enumerate(zip(mobiles, matched)):
            if match is None and mobile:
                found: list[FieldProblem] = []
                check_mobile(name, values[row], rules, found)
                _add(problems, row, found)
                mobiles[row] = ""
    return list(map(_EMPTY_AS_NONE.get, mobiles, mobiles))


def _email(value: str | None, found: list[FieldProblem]) -> str | None:
    if value and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        found.append(FieldProblem("email", value, f"The e-mail address '{value}' is not "
                                  "valid."))
    return value


def _is_blank(value: Any) -> bool:
    return value in (None, "") or isinstance(value, str) and clean_text(value) is None


def validate_client_columns(values: Mapping[str, Sequence[Any]], rows: int, *,
                            legal_form: str, rules: ClientRules, lookups: ClientLookups,
                            today: dt.date, additional: Mapping[str, Sequence[Any]] | None = None,
                            client_id: int | None = None,
                            check_unique: bool = True) -> CleanColumns:
    """Validate the details of ``rows`` clients given column by column.

    ``values`` maps a detail of :data:`CLIENT_FIELDS` to its values (one per row; a missing
    detail is blank on every row), ``additional`` an additional field's name (or label) to its
    values. The rules are :func:`validate_client`'s, each run once per distinct value; each
    row's problems come in the same order as there.
    """
    problems: RowProblems = {}
    blank: list[Any] = [None] * rows
    entity = legal_form == "entity"

    def given(name: str) -> Sequence[Any]:
        return values.get(name, blank)

    def each(name: str, rule: Callable[[Any, list[FieldProblem]], Any],
             column: Sequence[Any] | None = None) -> list[Any]:
        return per_value(given(name) if column is None else column, checking(rule), problems)

    cols: dict[str, list[Any]] = {}
    for name in ("first_name", "middle_name", "last_name"):
        cols[name] = blank if entity else check_names(name, given(name),
                                                      rules.name_max_length, problems)
    cols["full_name"] = (check_names("full_name", given("full_name"),
                                     rules.entity_name_max_length, problems)
                         if entity else blank)
    for name in ("incorporation_number", "remarks", "email", "external_id"):
        limit = {"remarks": 500, "email": 254}.get(name, 100)
        cols[name] = check_names(name, given(name), limit, problems)
    cols["email"] = each("email", _email, cols["email"])
    cols["mobile_no"] = check_mobiles("mobile_no", given("mobile_no"), rules, problems)

    def birth(value: Any, found: list[FieldProblem]) -> dt.date | None:
        born = parse_date("date_of_birth", value, found, rules.dates)
        if not entity:
            check_birth_date("date_of_birth", born, today, rules, found)
        return born

    born = each("date_of_birth", birth)
    cols["date_of_birth"] = blank if entity else born
    inc = each("incorporation_date",
               lambda v, found: parse_date("incorporation_date", v, found, rules.dates))
    till = each("incorporation_valid_till",
                lambda v, found: parse_date("incorporation_valid_till", v, found, rules.dates))
    if inc.count(None) < rows:
        each("incorporation_date", lambda v, found: check_not_future("incorporation_date", v,
                                                                      today, found), inc)
        for row, (start, end) in enumerate(zip(inc, till)):
            if start and end and end < start:
                _add(problems, row, [FieldProblem(
                    "incorporation_valid_till", end, f"The incorporation valid till date "
                    f"{end} is before the incorporation date {start}.")])
    cols["incorporation_date"] = inc if entity else blank
    cols["incorporation_valid_till"] = till if entity else blank
    if not entity:
        cols["incorporation_number"] = blank
    for name, code_name in CODE_FIELDS.items():
        if entity and name == "gender" or not entity and name in ("constitution",
                                                                   "main_business_line"):
            cols[f"{name}_id"] = blank
            continue
        cols[f"{name}_id"] = each(name, lambda v, found, name=name, code_name=code_name:
                                  resolve_code(name, v, code_name, lookups, found))
    what = "an entity" if entity else "a person"
    for name in rules.mandatory_for(legal_form):
        clean = cols.get(name, blank)
        if clean.count(None) == 0:
            continue
        empty = per_value(given(name), lambda v: (_is_blank(v), []), problems)
        for row, (value, is_empty) in enumerate(zip(clean, empty)):
            if value is None and is_empty:
                _add(problems, row, [FieldProblem(name, None, f"The {label(name)} of {what} "
                                                  "is mandatory and is missing.",
                                                  CLIENT_FIELD_MISSING)])
    if check_unique:
        for name, taken, sentence in (
                ("mobile_no", lookups.mobiles_taken,
                 "The mobile number {} already belongs to another client who is not closed."),
                ("external_id", lookups.external_ids_taken,
                 "The external id '{}' is already used by another client.")):
            column = cols[name]
            used = taken(set(column) - {None}, client_id)
            for row, value in enumerate(column if used else ()):
                if value in used:
                    _add(problems, row, [FieldProblem(name, value, sentence.format(value),
                                                      CLIENT_DUPLICATE)])
    extra = validate_additional_columns(additional or {}, rows, lookups, today, problems,
                                        rules.dates)
    return CleanColumns(cols, extra, problems)


def validate_additional(given: Mapping[str, Any], lookups: ClientLookups, today: dt.date,
                        problems: list[FieldProblem], dates: Locale = DEFAULT_LOCALE
                        ) -> dict[int, str | None]:
    """The additional details in their canonical text form, by field id."""
    by_row: RowProblems = {}
    out = validate_additional_columns({key: [value] for key, value in given.items()}, 1,
                                      lookups, today, by_row, dates)
    problems.extend(by_row.get(0, []))
    return {field_id: column[0] for field_id, column in out.items()}


def validate_additional_columns(given: Mapping[str, Sequence[Any]], rows: int,
                                lookups: ClientLookups, today: dt.date,
                                problems: RowProblems, dates: Locale = DEFAULT_LOCALE
                                ) -> dict[int, list[str | None]]:
    """Additional details given column by column (by field name or label): their canonical
    text per row, by field id; unknown fields and missing mandatory ones are problems."""
    fields = {f.name: f for f in lookups.additional_fields()}
    by_label = {f.label.casefold(): f for f in fields.values()}
    out: dict[int, list[str | None]] = {}
    for key, column in given.items():
        spec = fields.get(key) or by_label.get(str(key).casefold())
        if spec is None:
            names = ", ".join(fields) or "none are defined"
            for row, raw in enumerate(column):
                _add(problems, row, [FieldProblem(str(key), raw, f"'{key}' is not an "
                                                  "additional client detail (defined: "
                                                  f"{names}).")])
            continue
        out[spec.id] = per_value(column, checking(
            lambda raw, found, spec=spec: additional_value(spec, raw, lookups, today, found,
                                                           dates)),
            problems)
    for spec in fields.values():
        if not spec.mandatory:
            continue
        for row, value in enumerate(out.get(spec.id, [None] * rows)):
            if value is None:
                _add(problems, row, [FieldProblem(spec.name, None, f"The {spec.label} (an "
                                                  "additional detail) is mandatory and is "
                                                  "missing.", CLIENT_FIELD_MISSING)])
    return out


def additional_value(spec: AdditionalField, raw: Any, lookups: ClientLookups,
                     today: dt.date, problems: list[FieldProblem],
                     dates: Locale = DEFAULT_LOCALE) -> str | None:
    """One additional detail's value as canonical text (number, ISO date, code value id)."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if spec.data_type == "number":
        if isinstance(raw, float):
            raw = repr(raw)
        try:
            number = Decimal(str(raw).strip().replace(",", ""))
            if not number.is_finite():
                raise InvalidOperation
        except InvalidOperation:
            problems.append(FieldProblem(spec.name, raw, f"The {spec.label} '{raw}' is not a "
                                         "number."))
            return None
        return str(whole_as_written(number))
    if spec.data_type == "date":
        parsed = parse_date(spec.name, raw, problems, dates)
        return parsed.isoformat() if parsed else None
    if spec.data_type == "code":
        found = resolve_code(spec.name, raw, spec.code_name or "", lookups, problems)
        return None if found is None else str(found)
    text = clean_text(raw)
    if text is not None and len(text) > 500:
        problems.append(FieldProblem(spec.name, text[:40], f"The {spec.label} is longer than "
                                     "500 characters."))
        return None
    return text


# ---------------------------------------------------------------- family and addresses

FAMILY_CODES = {"relationship": "family_relationship", "gender": "gender",
                "marital_status": "marital_status", "profession": "profession"}


def validate_family_member(values: Mapping[str, Any], *, rules: ClientRules,
                           lookups: ClientLookups, today: dt.date,
                           ) -> tuple[dict[str, Any], list[FieldProblem]]:
    """A family member's details: a first name, names bounded, codes, a past birth date."""
    problems: list[FieldProblem] = []
    cols: dict[str, Any] = {}
    for name in ("first_name", "middle_name", "last_name"):
        cols[name] = check_name(name, values.get(name), rules.name_max_length, problems)
    check_mandatory(cols, ["first_name"], "a family member", problems)
    for name, code_name in FAMILY_CODES.items():
        cols[f"{name}_id"] = resolve_code(name, values.get(name), code_name, lookups,
                                          problems)
    born = parse_date("date_of_birth", values.get("date_of_birth"), problems, rules.dates)
    if born is not None and born >= today:
        problems.append(FieldProblem("date_of_birth", born, f"The date of birth {born} is not "
                                     f"in the past (today is {today})."))
    cols["date_of_birth"] = born
    age = values.get("age")
    if age is not None:
        try:
            age = int(age)
            if not 0 <= age <= 150:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(FieldProblem("age", values.get("age"), f"The age "
                                         f"'{values.get('age')}' is not a whole number of "
                                         "years from 0 to 150."))
            age = None
    elif born is not None and born < today:
        age = age_on(born, today)
    cols["age"] = age
    cols["mobile_no"] = check_mobile("mobile_no", values.get("mobile_no"), rules, problems)
    cols["is_dependent"] = bool(values.get("is_dependent") or False)
    cols["is_contact"] = bool(values.get("is_contact") or False)
    return cols, problems


ADDRESS_TEXT = {"street": 200, "line_1": 200, "line_2": 200, "line_3": 200, "city": 100,
                "state_province": 100, "country": 100, "postal_code": 20}


def validate_address(values: Mapping[str, Any], *, lookups: ClientLookups,
                     ) -> tuple[dict[str, Any], list[FieldProblem]]:
    """An address: its type from the code list, text bounded, at least one line filled."""
    problems: list[FieldProblem] = []
    cols: dict[str, Any] = {name: check_name(name, values.get(name), limit, problems)
                            for name, limit in ADDRESS_TEXT.items()}
    if not any(cols.values()) and not problems:
        problems.append(FieldProblem("street", None, "An address needs at least a street, a "
                                     "line, a city or a postal code.", CLIENT_FIELD_MISSING))
    cols["address_type_id"] = resolve_code("address_type", values.get("address_type"),
                                           "address_type", lookups, problems)
    cols["active"] = True if values.get("active") is None else bool(values.get("active"))
    return cols, problems


def raise_first(problems: Sequence[FieldProblem]) -> None:
    """Raise the first problem as the service's refusal (the others are in its details)."""
    if problems:
        first = problems[0]
        error = first.as_error()
        if len(problems) > 1:
            error.details["other_problems"] = [p.message for p in problems[1:]]
        raise error
