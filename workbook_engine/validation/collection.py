"""Validating a returned collection sheet: its cells read as their declared types, then the
business rules.

1. **Structure and types**: every input cell read by its column's reader (:func:`_parsers`,
   from the declaration :data:`COLLECTION_SHEET`: the tolerant reader of
   :mod:`validation.values` for its :class:`CellType`, money, date or choice; what a value
   reads as is kept for the next sheets); a cell that does not read is a catalogue error with
   its precise code, and a missing column was reported by the reader. The same contract as a
   pandera ``DataFrameSchema`` of the grid (:func:`build_schema`: every input column present,
   every cell read by the same readers, in two checks) finds the same cells (tests); it is
   not run on each sheet, whose cells are read once in the pass below: building the
   DataFrame and pandera's machinery cost about 1 ms a sheet, a ninth of reading, validating
   and reporting a 40-row sheet, for problems the pass reports anyway.
2. **Business rules** (:func:`validate_sheet`), their tunable parts in
   ``rules/collection.yaml``: repayment zero or exactly the (clubbed) amount due (or, with
   ``allow_partial_repayments``, not more than it), charges zero or exact (both within
   ``amount_tolerance``), disbursal zero or exactly the principal (no tolerance), withdrawal
   not above the balance, payment type, receipt number and receipt date present when money
   moved, receipt date neither before the meeting nor in the future, no sheet processed
   before its meeting date, attendance one of the codes.
3. **The posting plan** (:func:`domain.posting_plan.plan_posting`): what each valid cell will
   do to which account; a cell the plan cannot post (an excess the rules refuse, up-front
   interest without its disbursal) is an error on that cell. Processing then rehearses the
   plan against the database (``services/collection/posting.py``): stale accounts and
   anything posting would refuse are found there.
4. A cell is reported once: the first problem found for it wins.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    import pandera.pandas as pa

from workbook_engine.errors import ErrorType, Location, Problem
from workbook_engine.errors.returned import (
    BAD_ATTENDANCE,
    BAD_PAYMENT_TYPE,
    BEFORE_MEETING,
    DISBURSAL_NOT_EXACT,
    FEE_NOT_EXACT,
    RECEIPT_DATE_INVALID,
    RECEIPT_MISSING,
    REPAYMENT_NOT_EXACT,
    WITHDRAWAL_OVER_BALANCE,
)
from workbook_engine.domain.posting_plan import PostingPlan, SheetEntries, plan_posting
from workbook_engine.services.collection.rules import CollectionRules
from workbook_engine.validation.values import (
    DEFAULT_LOCALE,
    Locale,
    ValueProblem,
    parse_amount,
    parse_date,
    parse_text,
)
from workbook_engine.workbooks.collection_reader import InputCell, ReturnedSheet
from workbook_engine.workbooks.declaration import CellType, WorkbookKind

ZERO = Decimal(0)


@dataclass(slots=True)
class CellView:
    """One input cell for the preview: what was typed, what was due, how to show it."""

    row_key: str
    column_key: str
    address: str
    amount: Decimal | None
    text: str | None
    due: Decimal | None
    red_text: bool = False
    error: str | None = None


@dataclass
class Validation:
    """The outcome: errors, the entries and the plan of what to post, the preview of each
    cell, and totals."""

    problems: list[Problem]
    entries: SheetEntries | None
    plan: PostingPlan | None = None
    cells: dict[tuple[str, str], CellView] = field(default_factory=dict)
    collected: Decimal = ZERO
    paid_out: Decimal = ZERO

    @property
    def cash_to_hand_over(self) -> Decimal:
        return self.collected - self.paid_out


def attendance_code(value: Any, codes: Mapping[str, str]) -> str | None:
    """The code typed (``p``, ``Present``, ``AA``...), or None when blank; ValueProblem else."""
    text = parse_text(value)
    if text is None:
        return None
    for code, meaning in codes.items():
        if text.casefold() in (code.casefold(), meaning.casefold(),
                               f"{meaning} ({code})".casefold()):
            return code
    raise ValueProblem(BAD_ATTENDANCE, f"'{text[:20]}' is not an attendance code; use "
                       + ", ".join(f"{c} ({m})" for c, m in codes.items()))


def _checker(cell_type: CellType, digits: int, locale: Locale,
             codes: Mapping[str, str]) -> Any:
    """The reader of one column's cells: the value as its declared type (None for a blank
    cell), or :class:`ValueProblem`. What a value typed without a formula reads as is kept
    (:func:`_kept_readings`: the same 0, 100 or "P" on every row and every sheet), unless
    it is long text."""
    kept = _kept_readings(cell_type, digits, locale, tuple(codes.items()))

    def parse(cell: InputCell | None) -> Any:
        if cell is None:
            return None
        value = cell.value
        if cell.formula is not None or (isinstance(value, str) and len(value) > _KEPT_TEXT):
            return _read(cell_type, digits, locale, codes, value, cell.formula)
        key = (type(value), value)  # the type keeps 1, 1.0 and True apart
        reading = kept.get(key)
        if reading is None:
            try:
                reading = (_read(cell_type, digits, locale, codes, value, None), None)
            except ValueProblem as problem:
                reading = (None, (problem.error, problem.message))
            if len(kept) < _KEPT_VALUES:
                kept[key] = reading
        if reading[1] is not None:
            raise ValueProblem(*reading[1])
        return reading[0]
    return parse


def _read(cell_type: CellType, digits: int, locale: Locale, codes: Mapping[str, str],
          value: Any, formula: str | None) -> Any:
    if cell_type is CellType.MONEY:
        return parse_amount(value, digits=digits, locale=locale, formula=formula)
    if cell_type is CellType.DATE:
        return parse_date(value, locale=locale)
    if cell_type is CellType.CHOICE:
        return attendance_code(value, codes)
    return parse_text(value)


_KEPT_TEXT = 40  # longer text is read anew each time
_KEPT_VALUES = 4096  # values kept per kind of column


@functools.lru_cache(maxsize=64)
def _kept_readings(cell_type: CellType, digits: int, locale: Locale,
                   codes: tuple[tuple[str, str], ...]
                   ) -> dict[tuple[type, Any], tuple[Any, tuple[ErrorType, str] | None]]:
    """What values typed without a formula read as in one kind of column, kept per process:
    (type, value) -> (what it reads as, None) or (None, the problem). Every reading is
    immutable (Decimal, date, str), so one is shared by every cell that holds the value."""
    return {}


def build_schema(kind: WorkbookKind, expected: Mapping[str, Any], *, digits: int,
                 locale: Locale, codes: Mapping[str, str]) -> pa.DataFrameSchema:
    """The pandera schema of one sheet's input grid, from the declaration's column specs.

    Each input column must be present (one check over the columns) and every cell must
    read as its declared type (one check over the whole grid); the columns and their
    headers are in the schema's ``metadata["columns"]``. Schemas are cached: every sheet of
    the same columns, currency, locale and attendance codes shares one.
    """
    columns = tuple((c["key"], c["header"]) for c in expected["columns"] if c["input"])
    return _schema(kind, columns, digits, locale, tuple(codes.items()))


@functools.lru_cache(maxsize=64)
def _schema(kind: WorkbookKind, columns: tuple[tuple[str, str], ...], digits: int,
            locale: Locale, codes: tuple[tuple[str, str], ...]) -> pa.DataFrameSchema:
    import pandera.pandas as pa  # the contract's tests build it; validation does not

    readers: dict[str, Any] = {}
    for key, _ in columns:
        parse = _checker(kind.column_spec(key).type, digits, locale, dict(codes))

        def ok(cell: Any, parse: Any = parse) -> bool:
            try:
                parse(cell)
            except ValueProblem:
                return False
            return True

        readers[key] = ok

    def cells_read(frame: pd.DataFrame) -> bool | pd.DataFrame:
        # One check over the whole grid: pandera's machinery costs ~1 ms per check and
        # column, more than a 40-row sheet's cells. True when every cell reads; else which
        # cells do not (pandera's failure cases: each row with its failing cells).
        grid = frame.to_numpy()
        read = {key: list(map(readers[key], grid[:, j]))
                for j, key in enumerate(frame.columns) if key in readers}
        if all(map(all, read.values())):
            return True
        return pd.DataFrame(read, index=frame.index)

    keys = [key for key, _ in columns]

    def columns_present(frame: pd.DataFrame) -> bool:
        # The structure as one check too: a pandera Column per input column costs its
        # machinery per column (~0.07 ms each: together twice the cells' check on a 40-row
        # sheet). The reader reports which column is missing (column-missing).
        return all(key in frame.columns for key in keys)

    # No dtype: the grid holds raw cells as objects by construction; the cell's declared
    # type is what the check reads (and a dtype check would cost more than the cells).
    return pa.DataFrameSchema(
        checks=[pa.Check(columns_present, name="input columns present"),
                pa.Check(cells_read, name="cells read as their declared types")],
        name=kind.name, strict=False, metadata={"columns": dict(columns)})


@functools.lru_cache(maxsize=64)
def _parsers(kind: WorkbookKind, keys: tuple[str, ...], digits: int, locale: Locale,
             codes: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The reader of each input column (:func:`_checker`), made once per kind of sheet."""
    return {key: _checker(kind.column_spec(key).type, digits, locale, dict(codes))
            for key in keys}


def input_frame(sheet: ReturnedSheet, expected: Mapping[str, Any]) -> pd.DataFrame:
    """The input grid as :func:`build_schema`'s schema validates it: a row per generated row
    found (by row key), a column per input column found, each cell its ``InputCell``."""
    keys = [c["key"] for c in expected["columns"] if c["input"]]
    present = [k for k in keys if k in sheet.column_numbers]
    index = [r["key"] for r in expected["rows"] if r["key"] in sheet.row_numbers]
    cells = sheet.cells
    # fromiter: each cell one object (an InputCell is a tuple, which a list would unpack)
    grid = np.fromiter((cells.get((row_key, k)) for row_key in index for k in present),
                       dtype=object, count=len(index) * len(present)
                       ).reshape(len(index), len(present))
    return pd.DataFrame(grid, index=pd.Index(index, dtype=object), columns=present,
                        copy=False)


class _Collector:
    """Problems, one per cell (the first wins), with their locations."""

    def __init__(self, sheet_name: str, file_name: str | None,
                 rows: Mapping[str, Mapping[str, Any]]) -> None:
        self.sheet_name = sheet_name
        self.file_name = file_name
        self.rows = rows
        self.problems: list[Problem] = []
        self.seen: set[tuple[str | None, str | None]] = set()

    def add(self, error: ErrorType, message: str, *, row_key: str | None = None,
            column_key: str | None = None, row: int | None = None, cell: str | None = None,
            account: str | None = None) -> None:
        where = (row_key, column_key)
        if (row_key or column_key) and where in self.seen:
            return
        self.seen.add(where)
        expected_row = self.rows.get(row_key or "", {})
        client_id = expected_row.get("entity_id") if expected_row.get("kind") == "client" \
            else None
        self.problems.append(Problem(
            error, message, Location(file=self.file_name, sheet=self.sheet_name, row=row,
                                     column=column_key, cell=cell, client_id=client_id,
                                     account=account),
            {"row_key": row_key, "client": expected_row.get("name")}))


def validate_sheet(sheet: ReturnedSheet, expected: Mapping[str, Any], *,
                   kind: WorkbookKind, rules: CollectionRules, today: dt.date,
                   locale: Locale = DEFAULT_LOCALE,
                   file_name: str | None = None) -> Validation:
    """Every problem of a returned sheet that shows without the database, and the plan of
    what it would post."""
    digits = int(expected.get("currency_digits", 2))
    rows = {r["key"]: r for r in expected["rows"]}
    out = _Collector(sheet.sheet_name, file_name, rows)
    for p in sheet.problems:
        out.add(p.error, p.message, row_key=p.row_key, column_key=p.column_key, row=p.row,
                cell=p.cell, account=p.account)
    if not sheet.grid_found:
        return Validation(out.problems, None)
    codes = rules.attendance_codes
    parsers = _parsers(kind, tuple(c["key"] for c in expected["columns"] if c["input"]),
                       digits, locale, tuple(codes.items()))
    views: dict[tuple[str, str], CellView] = {}
    amounts: dict[str, dict[str, Decimal]] = {}
    attendance: dict[str, str] = {}
    families = {key: key.split(":", 1)[0] for key in parsers}
    dues: dict[Any, Decimal] = {}  # the amounts due as written in ``expected``, read once
    for (row_key, column_key), cell in sheet.cells.items():
        spec = rows[row_key]["cells"][column_key]
        due = spec.get("due")
        if due is not None:
            due = dues.get(due) or dues.setdefault(due, Decimal(due))
        view = CellView(row_key, column_key, cell.address, None, None, due)
        views[(row_key, column_key)] = view
        try:
            value = parsers[column_key](cell)
        except ValueProblem as problem:
            view.error = problem.error.code
            out.add(problem.error, f"{rows[row_key]['name']}, cell {cell.address}: "
                    f"{problem.message}.", row_key=row_key, column_key=column_key,
                    row=cell.row, cell=cell.address)
            continue
        family = families[column_key]
        if family == "attendance":
            view.text = value
            view.red_text = value != "P"
            if value:
                attendance[row_key] = value
            continue
        view.amount = value
        rule = _business_rule(family, value, due, spec, rules)
        view.red_text = _red(family, value, due, spec)
        if rule is not None:
            error, why = rule
            view.error = error.code
            out.add(error, f"{rows[row_key]['name']}, cell {cell.address}: {why}.",
                    row_key=row_key, column_key=column_key, row=cell.row, cell=cell.address)
            continue
        if value:
            amounts.setdefault(row_key, {})[column_key] = value
    meeting = dt.date.fromisoformat(expected["meeting_date"])
    header = _header(sheet, expected, out, locale, today, meeting, amounts)
    entries = SheetEntries(payment_type_id=header[0], receipt_number=header[1],
                           receipt_date=header[2], amounts=amounts, attendance=attendance)
    if today < meeting:
        out.add(BEFORE_MEETING, f"The sheet is for the meeting of {meeting}, which has not "
                f"happened yet (today is {today}); send it on or after the meeting day.",
                column_key="meeting_date")
    plan = plan_posting(expected, entries, excess=rules.excess)
    for problem in plan.problems:
        view = views[(problem.row_key, problem.column_key)]
        view.error = problem.error.code
        out.add(problem.error, problem.message, row_key=problem.row_key,
                column_key=problem.column_key, row=sheet.row_numbers.get(problem.row_key),
                cell=view.address)
    entries = entries.without((p.row_key, p.column_key) for p in plan.problems)
    # The summary counts every amount typed, valid or not: it is the cash the loan officer
    # holds; the entries and the plan (what would be posted) hold the valid amounts only.
    typed = SheetEntries(None, None, None, _typed_amounts(views))
    collected, paid_out = typed.totals(expected)
    return Validation(out.problems, entries, plan, views, collected, paid_out)


def _typed_amounts(views: Mapping[tuple[str, str], CellView]) -> dict[str, dict[str, Decimal]]:
    typed: dict[str, dict[str, Decimal]] = {}
    for (row_key, column_key), view in views.items():
        if view.amount:
            typed.setdefault(row_key, {})[column_key] = view.amount
    return typed


def _business_rule(family: str, value: Decimal, due: Decimal | None,
                   spec: Mapping[str, Any],
                   rules: CollectionRules) -> tuple[ErrorType, str] | None:
    """The seed's exactness rules. Within the tolerance an amount counts as exact; what is
    typed above the amount due is then the posting plan's to place (or refuse)."""
    due = due or ZERO
    exact = value == 0 or abs(value - due) <= rules.amount_tolerance
    if family == "repayment" and not exact:
        if rules.allow_partial_repayments and value <= due:
            return None
        what = "the clubbed amount due" if len(spec.get("loans", [])) > 1 else "the amount due"
        return (REPAYMENT_NOT_EXACT, f"{value} is neither 0 nor {what} ({due}); partial "
                "repayments are not accepted on the sheet")
    if family == "disbursal" and value not in (0, due):
        # A loan's principal is what it is: no tolerance (the cash paid out must be it).
        return (DISBURSAL_NOT_EXACT, f"{value} is neither 0 nor the amount to disburse ({due})")
    if family == "charges" and not exact:
        return (FEE_NOT_EXACT, f"{value} is neither 0 nor the charges due ({due})")
    if family == "withdrawal":
        limit = Decimal(spec.get("limit", "0"))
        if value > limit:
            return (WITHDRAWAL_OVER_BALANCE, f"the withdrawal of {value} is more than the "
                    f"balance of {limit} (account {spec.get('account_no', '')})")
    return None


def _red(family: str, value: Decimal, due: Decimal | None, spec: Mapping[str, Any]) -> bool:
    """The seed's red text: repayment zero or partial, mandatory savings or charges off due."""
    due = due or ZERO
    if family == "repayment":
        return value < due or value == 0
    if family == "deposit":
        return spec.get("deposit_type") == "mandatory" and value != due
    if family == "charges":
        return value != due
    return False


def _header(sheet: ReturnedSheet, expected: Mapping[str, Any], out: _Collector,
            locale: Locale, today: dt.date, meeting: dt.date,
            amounts: Mapping[str, Any]) -> tuple[int | None, str | None, dt.date | None]:
    specs = expected.get("header", {})
    cells = sheet.header

    def where(key: str) -> dict[str, Any]:
        cell = cells.get(key)
        return {"column_key": key, "cell": cell.address if cell else None,
                "row": cell.row if cell else None}

    payment_type_id = receipt_number = receipt_date = None
    pt_cell = cells.get("payment_type")
    pt_text = parse_text(pt_cell.value) if pt_cell else None
    if pt_text is not None:
        choices = {str(k).casefold(): v for k, v in
                   specs.get("payment_type", {}).get("choices", {}).items()}
        payment_type_id = choices.get(pt_text.casefold())
        if payment_type_id is None:
            out.add(BAD_PAYMENT_TYPE, f"Payment type '{pt_text[:30]}' is not one of "
                    + ", ".join(specs.get("payment_type", {}).get("choices", {})) + ".",
                    **where("payment_type"))
    rn_cell = cells.get("receipt_number")
    receipt_number = parse_text(rn_cell.value) if rn_cell else None
    rd_cell = cells.get("receipt_date")
    try:
        receipt_date = parse_date(rd_cell.value, locale=locale) if rd_cell else None
    except ValueProblem as problem:
        out.add(problem.error, f"Receipt date: {problem.message}.", **where("receipt_date"))
    if receipt_date is not None and receipt_date > today:
        out.add(RECEIPT_DATE_INVALID, f"The receipt date {receipt_date} is in the future "
                f"(today is {today}); enter the date the money was received.",
                **where("receipt_date"))
    elif receipt_date is not None and receipt_date < meeting:
        out.add(RECEIPT_DATE_INVALID, f"The receipt date {receipt_date} is before the meeting "
                f"of {meeting}, where the money was received; enter the meeting day or the "
                "day the money was received after it.", **where("receipt_date"))
    if amounts:
        missing = [label for label, value in (("payment type", pt_text),
                                              ("receipt number", receipt_number),
                                              ("receipt date", rd_cell and rd_cell.value))
                   if not value]
        if missing:
            out.add(RECEIPT_MISSING, "Money moved on this sheet but the "
                    + " and ".join(missing) + (" are" if len(missing) > 1 else " is")
                    + " missing; fill them in at the top of the sheet.", column_key="receipt")
    return payment_type_id, receipt_number, receipt_date
