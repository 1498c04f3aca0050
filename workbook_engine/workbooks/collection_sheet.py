"""The collection sheet, declared once: layout, input cells, and what the engine expects back.

``COLLECTION_SHEET`` (a :class:`~workbook_engine.workbooks.declaration.WorkbookKind`) drives
the writer (``collection_writer``), the reader and validation of returned sheets, and the
reports. :func:`layout` places a :class:`~workbook_engine.services.collection.due.DueSheet`
on the grid (columns with letters, rows with numbers); :func:`cell_due` says what one cell
holds; :func:`expected_payload` is what is stored in ``GeneratedWorkbook.expected``.

Sheet "Collection sheet" (rows as in Excel)::

    1      title
    2-5    header block: B label, C:E value  |  F:G label, H:I value (input)
           Branch / Payment type (dropdown), Loan officer / Receipt number,
           Center (or Group) / Receipt date, Meeting date
    7      section row: Due | Issues/Withdrawals | Other collections | Attendance | Totals
    8      column headers (product names under Due and Issues/Withdrawals)
    9      column keys (hidden), e.g. repayment:1
    10...  one row per center, group, client: column A (hidden) holds the row key
    then   "Total" row (SUM formulas), and "Cash to hand over" (collected - paid out)

The expected payload (JSON, ``GeneratedWorkbook.expected``), format 1::

    {
      "format": 1, "kind": "collection_sheet", "template_version": 1,
      "sheet": "Collection sheet", "workbook_id": "<uuid>",
      "meeting_date": "2026-03-03", "computed_on": "2026-03-03",
      "office_id": 2, "staff_id": 1, "center_id": 1, "group_id": null,
      "currency_digits": 2,
      "header": {"payment_type": {"cell": "H2", "choices": {"Cash": 1, "M-Pesa": 2}},
                 "receipt_number": {"cell": "H3"}, "receipt_date": {"cell": "H4"}},
      "labels": {"center": {"cell": "C4", "label": "Center", "text": "Kilimani"}, ...},
                                                # locked header values (tamper checks)
      "columns": [{"key": "repayment:1", "family": "repayment", "letter": "D",
                   "header": "Biashara", "product_id": 1, "input": true,
                   "flow": "collected"}, ...],      # every column, hidden ones included
      "key_row": 9, "first_data_row": 10,
      "rows": [
        {"key": "client:12", "kind": "client", "entity_id": 12, "group_id": 3, "row": 12,
         "name": "Amina Wanjiku", "id": 12,     # name and id as written (tamper checks)
         "cells": {
           "repayment:1": {"cell": "D12", "due": "1851.28", "days_in_arrears": 14,
                           "loans": [{"loan_id": 1, "account_no": "L000000001",
                                      "amount": "1851.28", "at_disbursal": false}]},
           "deposit:1": {"cell": "E12", "due": "100.00", "savings_account_id": 1,
                         "account_no": "S000000001", "deposit_type": "mandatory",
                         "deposit_unit": "per_group"},
           "disbursal:1": {"cell": "I12", "due": "8000.00", "loans": [...]},
           "withdrawal:1": {"cell": "J12", "due": "0", "savings_account_id": 1,
                            "account_no": "S000000001", "limit": "150.00",
                            "deposit_unit": "per_group"},
           "charges": {"cell": "N12", "due": "200.00",
                       "charges": [{"charge_id": 1, "name": "Membership fee",
                                    "amount": "200.00", "due_date": "2026-02-17"}]},
           "attendance": {"cell": "O12", "due": null, "previous": "P"}},
         "posted": {"deposit:2": {"cell": "F12", "account_no": "S000000002",
                                  "submission_id": 7}}}, ...],
                                                # only on a sheet generated again for a
                                                # meeting: cells a sheet already posted
      "totals": {"row": 16, "collected": "3769.74", "paid_out": "8000.00",
                 "cash_cell": "P18", "cash_to_hand_over": "-4230.26"},
      "accounts": {"loan:1": {"status": "active", "last_transaction_id": 3,
                              "amount": "9256.41"},          # outstanding
                   "savings:1": {..., "amount": "150.00"},   # balance
                   "charge:1": {..., "amount": "200.00"}}    # outstanding
    }

Only cells that apply to a row are listed in its ``cells`` (all other cells of the grid are
locked and blank). Amounts are strings of Decimals. ``at_disbursal`` marks the interest
deducted at disbursement of a loan disbursed at this meeting (post it after the disbursal).
A group or center account with a "per client" recommended amount takes its deposits on its
members' rows: each member's row has a cell of that account (``share_of``: the owner's row key,
``owner_name``: its name) due with the member's share (a member who joined after the meeting
owes nothing for it), so the sheet records which member paid; the owner's row keeps the
withdrawal cell, which lists the ``members`` a withdrawal is logged for, split evenly. (When a
member also has an account of that product of its own, the owner's row takes the deposits, due
the amount times the active members, split evenly when posted.) A cell a sheet already
posted for this meeting (one meeting, one posting per account and kind) is left off its
row's ``cells`` and listed in the row's ``posted``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple

from workbook_engine.domain.due import DueRow, DueSheet, RowKind
from workbook_engine.domain.enums import AttendanceCode, DepositUnit, SavingsDepositType
from workbook_engine.workbooks.declaration import (
    CellType,
    Column,
    ColumnSpec,
    Flow,
    HeaderField,
    WorkbookKind,
    column_letter,
)

EXPECTED_FORMAT = 1

COLLECTION_SHEET = WorkbookKind(
    name="collection_sheet",
    title="Collection sheet",
    template_version=1,
    data_sheet="Collection sheet",
    metadata_sheet="_workbook",
    header_fields=(
        HeaderField("branch", "Branch", "B2", "C2:E2"),
        HeaderField("loan_officer", "Loan officer", "B3", "C3:E3"),
        HeaderField("center", "Center", "B4", "C4:E4"),
        HeaderField("meeting_date", "Meeting date", "B5", "C5:E5", CellType.DATE),
        HeaderField("payment_type", "Payment type", "F2:G2", "H2:I2", CellType.CHOICE,
                    input=True, choices="payment_types",
                    help="How the money moved; applies to every amount of the sheet."),
        HeaderField("receipt_number", "Receipt number", "F3:G3", "H3:I3", CellType.TEXT,
                    input=True, help="The receipt number for the whole sheet."),
        HeaderField("receipt_date", "Receipt date", "F4:G4", "H4:I4", CellType.DATE,
                    input=True, help="The date of the receipt (YYYY-MM-DD)."),
    ),
    columns=(
        ColumnSpec("row_key", "Row key", CellType.TEXT, width=12, hidden=True),
        ColumnSpec("name", "Client / group", CellType.TEXT, width=24,
                   help="First and last name only."),
        ColumnSpec("id", "Id", CellType.INTEGER, width=7),
        ColumnSpec("repayment", "Loan repayment", CellType.MONEY, input=True, section="Due",
                   per="loan", flow=Flow.COLLECTED,
                   help="Loan repayment due (all loans of this product, clubbed)."),
        ColumnSpec("deposit", "Savings deposit", CellType.MONEY, input=True, section="Due",
                   per="savings", flow=Flow.COLLECTED, help="Savings deposit due."),
        ColumnSpec("disbursal", "Loan disbursal", CellType.MONEY, input=True,
                   section="Issues/Withdrawals", per="loan", flow=Flow.PAID_OUT,
                   help="Loan amount to disburse."),
        ColumnSpec("withdrawal", "Savings withdrawal", CellType.MONEY, input=True,
                   section="Issues/Withdrawals", per="savings", flow=Flow.PAID_OUT,
                   help="Withdrawal made in the field, at most the balance."),
        ColumnSpec("charges", "Charges", CellType.MONEY, input=True,
                   section="Other collections", flow=Flow.COLLECTED, width=17,
                   help="Fees and penalties due."),
        ColumnSpec("attendance", "Attendance", CellType.CHOICE, input=True,
                   section="Attendance", choices="attendance", width=11,
                   help="P, L, A or AA."),
        ColumnSpec("collected", "Collected", CellType.MONEY, section="Totals",
                   total_of=Flow.COLLECTED, width=13),
        ColumnSpec("paid_out", "Paid out", CellType.MONEY, section="Totals",
                   total_of=Flow.PAID_OUT, width=13),
    ),
    metadata_fields=("workbook_id", "kind", "template_version", "center_id", "group_id",
                     "meeting_date", "generated_at", "key_id"),
    section_row=7,
    header_row=8,
    key_row=9,
    first_data_row=10,
)
"""The collection sheet kind (template version 1)."""

TOTAL_LABEL = "Total"
CASH_LABEL = "Cash to hand over (collected - paid out)"


@dataclass(frozen=True)
class SheetLayout:
    """Where everything of one collection sheet goes."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[int, DueRow], ...]  # (Excel row number, row)
    totals_row: int
    cash_row: int
    # For each row, each input column and what its cell holds (None: does not apply).
    cells: tuple[tuple[tuple[Column, CellDue | None], ...], ...] = ()

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    @property
    def last_column(self) -> Column:
        return self.columns[-1]

    @property
    def cash_cell(self) -> str:
        return f"{self.column('collected').letter}{self.cash_row}"


def layout(sheet: DueSheet, kind: WorkbookKind = COLLECTION_SHEET) -> SheetLayout:
    """Place a due sheet on the grid: concrete columns and row numbers."""
    columns = kind.expand({
        "loan": [(p.id, p.name) for p in sheet.loan_products],
        "savings": [(p.id, p.name) for p in sheet.savings_products],
    })
    rows = tuple((kind.first_data_row + i, row) for i, row in enumerate(sheet.rows))
    totals_row = kind.first_data_row + len(sheet.rows)
    digits = sheet.currency_digits
    inputs = [c for c in columns if c.spec.input and c.spec.key in _MAKERS]
    # Each of a row's cells is made by its column's maker; the row's other input columns
    # stay (column, None). A row has cells in a few of them: they are found from the row's
    # own accounts, not by asking every column's maker.
    at: dict[str, dict[int | None, int]] = {}
    for i, column in enumerate(inputs):
        at.setdefault(column.spec.key, {})[column.item_id] = i
    per_product = [(owned, [(at[key], _MAKERS[key]) for key in keys if key in at])
                   for owned, keys in _PER_PRODUCT]
    blank = [(c, None) for c in inputs]
    charges = at.get("charges", {}).get(None)
    attendance = at.get("attendance", {}).get(None)
    letters = [c.letter for c in inputs]
    cells: list[tuple[tuple[Column, CellDue | None], ...]] = []
    for number, row in rows:
        r = str(number)
        made: list[tuple[Column, CellDue | None]] = blank.copy()
        for owned, makers in per_product:
            for pid in getattr(row, owned):
                for where, make in makers:
                    i = where.get(pid)
                    if i is not None:
                        made[i] = (inputs[i], make(row, pid, digits, letters[i] + r))
        if charges is not None and row.charges is not None:
            made[charges] = (inputs[charges],
                             _charges(row, None, digits, letters[charges] + r))
        if attendance is not None and row.kind is RowKind.CLIENT:
            made[attendance] = (inputs[attendance],
                                _attendance(row, None, digits, letters[attendance] + r))
        cells.append(tuple(made))
    return SheetLayout(columns=columns, rows=rows, totals_row=totals_row,
                       cash_row=totals_row + 2, cells=tuple(cells))


class CellDue(NamedTuple):
    """What one input cell of a row holds (a named tuple: a sheet has hundreds).

    ``due`` is the amount due (zero for withdrawals, None for attendance); ``prefill`` is what
    the writer puts in the cell; ``expected`` is the cell's entry in the expected payload
    (``cell``, ``due`` and the JSON-ready accounts behind it), made once with the cell.
    """

    due: Decimal | None
    prefill: Decimal | str | None
    expected: dict[str, Any]
    message: str


_MONEY_TEXT: dict[tuple[Decimal, int], str] = {}
_TEXT: dict[Enum, str] = {member: member.value for enum in (
    RowKind, SavingsDepositType, DepositUnit, AttendanceCode) for member in enum}
"""The values of the enums a sheet's cells show (a dictionary is several times quicker
than an enum member's ``value``, read hundreds of times a sheet)."""


def _money(value: Decimal, digits: int) -> str:
    """An amount as the input messages show it (1,851.28); a sheet repeats a few amounts,
    so each is formatted once (equal amounts format alike at a given precision)."""
    key = (value, digits)
    found = _MONEY_TEXT.get(key)
    if found is None:
        if len(_MONEY_TEXT) > 50_000:
            _MONEY_TEXT.clear()
        found = _MONEY_TEXT[key] = f"{value:,.{digits}f}"
    return found


def _loan_cell(cells: Mapping[int, Any], pid: int | None, digits: int, ref: str,
               repayment: bool) -> CellDue | None:
    cell = cells.get(pid)  # type: ignore[arg-type]
    if cell is None:
        return None
    details: dict[str, Any] = {"cell": ref, "due": str(cell.amount), "loans": [
        {"loan_id": s.loan_id, "account_no": s.account_no, "amount": str(s.amount),
         "at_disbursal": s.at_disbursal} for s in cell.loans]}
    if repayment:
        details["days_in_arrears"] = arrears = cell.days_in_arrears
        what = f"Repayment due ({arrears} days in arrears)" if arrears else "Repayment due"
    else:
        what = "To disburse"
    accounts = cell.loans[0].account_no if len(cell.loans) == 1 else \
        ", ".join(s.account_no for s in cell.loans)
    return CellDue(cell.amount, cell.amount, details,
                   f"{what}: {_money(cell.amount, digits)} (loan {accounts}). "
                   "Enter the whole amount or 0.")


def _repayment(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    return _loan_cell(row.repayments, pid, digits, ref, True) if row.repayments else None


def _disbursal(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    return _loan_cell(row.disbursals, pid, digits, ref, False) if row.disbursals else None


def _deposit(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    account = row.savings.get(pid) if row.savings else None  # type: ignore[arg-type]
    if account is None or account.by_member or "deposit" in account.posted:
        return None
    deposit_type = _TEXT[account.deposit_type]
    details = {"cell": ref, "due": str(account.amount), "savings_account_id": account.account_id,
               "account_no": account.account_no, "deposit_type": deposit_type,
               "deposit_unit": _TEXT[account.deposit_unit]}
    whose = ""
    if account.share_of is not None:
        details["share_of"], details["owner_name"] = account.share_of
        whose = f"{row.name}'s share, {account.share_of[1]}'s "
    return CellDue(account.amount, account.amount, details,
                   f"Deposit due: {_money(account.amount, digits)} "
                   f"({deposit_type}, {whose}account {account.account_no}).")


_ZERO = Decimal(0)
_ZERO_TEXT = str(_ZERO)


def _withdrawal(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    account = row.savings.get(pid) if row.savings else None  # type: ignore[arg-type]
    if account is None or account.share_of is not None or "withdrawal" in account.posted:
        return None
    details = {"cell": ref, "due": _ZERO_TEXT, "savings_account_id": account.account_id,
               "account_no": account.account_no,
               "limit": str(account.balance), "deposit_unit": _TEXT[account.deposit_unit]}
    if account.members:
        details["members"] = list(account.members)
    return CellDue(_ZERO, None, details,
                   f"Balance {_money(account.balance, digits)}: a withdrawal may not "
                   "be more.")


def _charges(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    charges = row.charges
    if charges is None:
        return None
    names = ", ".join(c.name for c in charges.charges)
    return CellDue(charges.amount, charges.amount, {
        "cell": ref, "due": str(charges.amount), "charges": [
        {"charge_id": c.charge_id, "name": c.name, "amount": str(c.amount),
         "due_date": c.due_date.isoformat()} for c in charges.charges]},
        f"Charges due: {_money(charges.amount, digits)} ({names}). "
        "Enter the whole amount or 0.")


_ATTENDANCE_HELP = "P present, L late, A absent, AA approved absence."


def _attendance(row: DueRow, pid: int | None, digits: int, ref: str) -> CellDue | None:
    if row.kind is not RowKind.CLIENT:
        return None
    previous = None if row.attendance is None else _TEXT[row.attendance]
    return CellDue(None, previous, {"cell": ref, "due": None, "previous": previous},
                   _ATTENDANCE_HELP)


_MAKERS = {"repayment": _repayment, "disbursal": _disbursal, "deposit": _deposit,
           "withdrawal": _withdrawal, "charges": _charges, "attendance": _attendance}


_PER_PRODUCT = (("repayments", ("repayment",)), ("disbursals", ("disbursal",)),
                ("savings", ("deposit", "withdrawal")))
"""A row's accounts by product (its attribute), and the families of columns they fill."""


def cell_due(row: DueRow, column: Column, digits: int = 2, number: int = 0) -> CellDue | None:
    """The content of an input cell (in row ``number``), or None when the column does not
    apply to the row."""
    make = _MAKERS.get(column.spec.key)
    return None if make is None else make(row, column.item_id, digits,
                                          f"{column.letter}{number}")


def _posted_cells(row: DueRow, number: int, grid: SheetLayout) -> dict[str, Any]:
    """The cells of a row left off the sheet because they were posted for this meeting:
    column key -> where, which account, by which submission."""
    out: dict[str, Any] = {}
    for mark in row.posted:
        for column in grid.columns:
            if column.spec.key == mark.family and column.item_id == mark.product_id:
                out[column.key] = {"cell": f"{column.letter}{number}",
                                   "account_no": mark.account_no,
                                   "submission_id": mark.submission_id}
    return out


def expected_payload(sheet: DueSheet, grid: SheetLayout, *, workbook_id: str,
                     payment_types: Mapping[str, int],
                     kind: WorkbookKind = COLLECTION_SHEET) -> dict[str, Any]:
    """The JSON stored with a generated workbook (format documented in the module)."""
    header = {f.key: {"cell": f.anchor} for f in kind.header_fields if f.input}
    header["payment_type"]["choices"] = dict(payment_types)
    shown = {"branch": sheet.office_name, "loan_officer": sheet.staff_name or "",
             "center": sheet.title, "meeting_date": sheet.meeting_date.isoformat()}
    labels = {f.key: {"cell": f.anchor, "text": shown[f.key],
                      "label": "Group" if f.key == "center" and sheet.center_id is None
                      else f.label}
              for f in kind.header_fields if not f.input and f.key in shown}
    rows = []
    for (number, row), row_cells in zip(grid.rows, grid.cells, strict=True):
        cells = {column.key: due.expected for column, due in row_cells if due is not None}
        item = {"key": row.key, "kind": _TEXT[row.kind], "entity_id": row.entity_id,
                "group_id": row.group_id, "row": number, "name": row.name,
                "id": row.entity_id, "cells": cells}
        if row.posted:
            item["posted"] = _posted_cells(row, number, grid)
        rows.append(item)
    return {
        "format": EXPECTED_FORMAT, "kind": kind.name, "template_version": kind.template_version,
        "sheet": kind.data_sheet, "workbook_id": workbook_id,
        "meeting_date": sheet.meeting_date.isoformat(),
        "computed_on": sheet.computed_on.isoformat(), "office_id": sheet.office_id,
        "staff_id": sheet.staff_id, "center_id": sheet.center_id, "group_id": sheet.group_id,
        "currency_digits": sheet.currency_digits, "header": header, "labels": labels,
        "columns": [{"key": c.key, "family": c.spec.key, "letter": c.letter,
                     "header": c.header, "product_id": c.item_id, "input": c.spec.input,
                     "flow": c.spec.flow.value} for c in grid.columns],
        "key_row": kind.key_row, "first_data_row": kind.first_data_row, "rows": rows,
        "totals": {"row": grid.totals_row, "collected": str(sheet.total_collected),
                   "paid_out": str(sheet.total_paid_out), "cash_cell": grid.cash_cell,
                   "cash_to_hand_over": str(sheet.cash_to_hand_over)},
        "accounts": {a.key: {"status": a.status, "last_transaction_id": a.last_transaction_id,
                             "amount": str(a.amount)} for a in sheet.accounts},
    }


__all__ = [
    "CASH_LABEL", "COLLECTION_SHEET", "CellDue", "ColumnSpec", "EXPECTED_FORMAT",
    "SheetLayout", "TOTAL_LABEL", "cell_due", "column_letter", "expected_payload", "layout",
]
